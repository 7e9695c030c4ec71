/**
 * Where the IRMd's run directory and control socket live.
 * @module
 */

/** Control socket file name inside the run directory. */
export const SOCKET_NAME = "irm.sock";
/** Lock/pid file name inside the run directory. */
export const PIDFILE_NAME = "irmd.pid";

/** Default run directory: `$OURO_RUNDIR`, else /run/ouro as root, else /tmp/ouro-<uid>. */
export function defaultRundir(): string {
  const env = Deno.env.get("OURO_RUNDIR");
  if (env) return env;
  const uid = Deno.uid();
  return uid === 0 || uid === null ? "/run/ouro" : `/tmp/ouro-${uid}`;
}
