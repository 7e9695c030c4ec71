/**
 * What the tools share: connecting, binding a listener, QoS by name.
 * @module
 */
import { Ouro } from "../client/api.ts";
import { qosByName, type QosSpec } from "../lib/qos.ts";
import { type OptSpec, UsageError } from "../cli/args.ts";

/** Options every tool takes. */
export const COMMON_OPTS: OptSpec[] = [
  { long: "rundir", type: "string", arg: "DIR", help: "run directory of the IRMd ($OURO_RUNDIR)" },
];

/** Options of listening tools. */
export const LISTEN_OPTS: OptSpec[] = [
  { long: "name", type: "string", arg: "NAME", help: "name to bind to (and register with --layer)" },
  { long: "layer", type: "string", arg: "LAYER", help: "layer to register the name in" },
];

/** QoS option. */
export const QOS_OPT: OptSpec = {
  short: "q",
  long: "qos",
  type: "string",
  arg: "QOS",
  default: "raw",
  help: "QoS: raw, best, video, voice or data",
};

/** Encryption option of allocating tools. */
export const ENCRYPT_OPT: OptSpec = {
  short: "e",
  long: "encrypt",
  type: "flag",
  help: "require an encrypted flow (X25519 + ChaCha20-Poly1305)",
};

/** Resolve a QoS name or fail with a usage error. */
export function qosArg(name: unknown): QosSpec {
  const q = qosByName(String(name));
  if (!q) throw new UsageError(`unknown QoS "${name}" (raw, best, video, voice, data)`);
  return q;
}

/** Connect to the IRMd of `--rundir`. */
export function connect(opts: Record<string, unknown>, prog: string): Promise<Ouro> {
  return Ouro.connect({ rundir: opts.rundir as string | undefined, prog });
}

/** Bind a listener to its name (and register it in a layer). */
export async function listen(ouro: Ouro, opts: Record<string, unknown>, dflt: string): Promise<string> {
  const name = (opts.name as string | undefined) ?? dflt;
  await ouro.bind(name, { layer: opts.layer as string | undefined });
  return name;
}

/** An AbortSignal fired by SIGINT/SIGTERM. */
export function interrupted(): { signal: AbortSignal; dispose: () => void } {
  const ac = new AbortController();
  const h = () => ac.abort();
  Deno.addSignalListener("SIGINT", h);
  Deno.addSignalListener("SIGTERM", h);
  return {
    signal: ac.signal,
    dispose: () => {
      Deno.removeSignalListener("SIGINT", h);
      Deno.removeSignalListener("SIGTERM", h);
    },
  };
}

/** Print a line to stdout without console's formatting cost. */
const te = new TextEncoder();
export function out(line: string): void {
  Deno.stdout.writeSync(te.encode(line + "\n"));
}
