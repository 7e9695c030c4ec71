/**
 * `ouro irmd`: run the IPC Resource Manager daemon in the foreground.
 * @module
 */
import { handleRequest } from "../irmd/ops.ts";
import { AppConn } from "../irmd/appconn.ts";
import { ConfigError, parseConfig } from "../irmd/config.ts";
import { Irmd } from "../irmd/daemon.ts";
import { defaultRundir } from "../lib/paths.ts";
import { OuroError } from "../lib/errors.ts";
import { logger, setLogLevel } from "../lib/log.ts";
import { helpText, type OptSpec, parseArgs, UsageError, wantsHelp } from "./args.ts";
import { OURO_VERSION } from "../irmd/version.ts";

const SPECS: OptSpec[] = [
  { long: "rundir", type: "string", arg: "DIR", help: "run directory for the control socket ($OURO_RUNDIR)" },
  { long: "config", type: "string", arg: "FILE", help: "TOML file: IPCPs and names to set up at start" },
  {
    long: "secdir",
    type: "string",
    arg: "DIR",
    help: "OAP security directory: server/<name>/, client/<name>/, cacert/ ($OURO_SECDIR, else /etc/ouroboros/security)",
  },
  { long: "no-direct", type: "flag", help: "route same-host flows through a layer, never pair them directly" },
  { short: "v", long: "verbose", type: "flag", help: "log debug lines too" },
  { short: "q", long: "quiet", type: "flag", help: "log warnings and errors only" },
  { long: "version", type: "flag", help: "print the version and exit" },
];

/** Apply config steps through the same handlers the control socket uses. */
export async function applyConfig(d: Irmd, text: string, source: string): Promise<void> {
  const steps = parseConfig(text);
  const self = new AppConn(0);
  self.pid = Deno.pid;
  self.ready = true;
  const log = logger("irmd/config");
  for (const s of steps) {
    try {
      await handleRequest(d, self, 0, s);
    } catch (e) {
      throw new ConfigError(`${source}: ${s.op} ${JSON.stringify(s.name ?? "")} failed: ${(e as Error).message}`);
    }
  }
  log.info(`Applied ${steps.length} steps from ${source}.`);
}

/** Entry point. */
export async function irmdMain(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) {
    console.log(helpText("ouro irmd [options]", "Run the IPC Resource Manager daemon (and every IPCP it creates) in the foreground.", SPECS));
    return 0;
  }
  const { opts, rest } = parseArgs(argv, SPECS);
  if (rest.length) throw new UsageError(`unexpected argument ${rest[0]}`);
  if (opts.version) {
    console.log(`Ouroboros version ${OURO_VERSION} (ouro)`);
    return 0;
  }
  if (opts.verbose) setLogLevel("debug");
  if (opts.quiet) setLogLevel("warn");
  const rundir = (opts.rundir as string | undefined) ?? defaultRundir();
  let text: string | undefined;
  if (opts.config) {
    try {
      text = await Deno.readTextFile(opts.config as string);
    } catch (e) {
      throw new UsageError(`cannot read config ${opts.config}: ${(e as Error).message}`);
    }
    parseConfig(text); // fail before starting anything
  }
  const secDir = opts.secdir as string | undefined;
  const d = await Irmd.start({ rundir, direct: !opts["no-direct"], ...(secDir !== undefined ? { secDir } : {}) });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await d.stop();
  };
  const done = new Promise<void>((resolve) => {
    for (const sig of ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"] as const) {
      Deno.addSignalListener(sig, () => stop().then(resolve));
    }
  });
  if (text !== undefined) {
    try {
      await applyConfig(d, text, opts.config as string);
    } catch (e) {
      logger("irmd").error((e as Error).message);
      await stop();
      return 1;
    }
  }
  await done;
  return 0;
}

export { OuroError };
