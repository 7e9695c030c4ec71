/**
 * What the tools share: connecting, binding a listener, QoS by name.
 * @module
 */
import { Ouro } from "../client/api.ts";
import { qosByName, type QosSpec } from "../lib/qos.ts";
import { helpText, type OptSpec, parseArgs, UsageError, wantsHelp } from "../cli/args.ts";
import type { Flow } from "../client/flow.ts";
import { Errno, isErrno } from "../lib/errors.ts";

/** Options every tool takes. */
export const COMMON_OPTS: OptSpec[] = [
  { long: "rundir", type: "string", arg: "DIR", help: "run directory of the IRMd ($OURO_RUNDIR)" },
];

/** Options of listening tools. */
export const LISTEN_OPTS: OptSpec[] = [
  {
    long: "name",
    type: "string",
    arg: "NAME",
    help: "name to bind to (and register with --layer)",
  },
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
export async function listen(
  ouro: Ouro,
  opts: Record<string, unknown>,
  dflt: string,
): Promise<string> {
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

/**
 * Accept flows until the signal fires or the IRMd goes away, handing each
 * to `onFlow` (which may return at once and serve it in the background).
 */
export async function acceptLoop(
  ouro: Ouro,
  signal: AbortSignal,
  onFlow: (flow: Flow) => Promise<void> | void,
): Promise<void> {
  while (!signal.aborted) {
    let flow: Flow;
    try {
      flow = await ouro.flowAccept({ signal });
    } catch (e) {
      if (signal.aborted || isErrno(e, Errno.EIRMD)) return;
      throw e;
    }
    await onFlow(flow);
  }
}

/** What a tool's entry point needs. */
export interface ToolSpec {
  usage: string;
  about: string;
  specs: OptSpec[];
  /** Program name announced to the IRMd. */
  prog: string;
  /** Allow positional arguments (default: none). */
  positional?: boolean;
  run(
    ouro: Ouro,
    opts: Record<string, unknown>,
    rest: string[],
    signal: AbortSignal,
  ): Promise<number>;
}

/** The common entry point: help, option parsing, connect, Ctrl-C, clean-up. */
export async function runTool(t: ToolSpec, argv: string[]): Promise<number> {
  if (wantsHelp(argv)) {
    console.log(helpText(t.usage, t.about, t.specs));
    return 0;
  }
  const { opts, rest } = parseArgs(argv, t.specs);
  if (!t.positional && rest.length) throw new UsageError(`unexpected argument ${rest[0]}`);
  const ouro = await connect(opts, t.prog);
  const { signal, dispose } = interrupted();
  try {
    return await t.run(ouro, opts, rest, signal);
  } finally {
    dispose();
    await ouro.close();
  }
}
