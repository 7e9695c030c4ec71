/**
 * `ouro cbr` — constant bit rate sender and receiver (ocbr, spec 06 §2.3).
 * @module
 */
import type { Ouro } from "../client/api.ts";
import type { Flow } from "../client/flow.ts";
import { Errno, isErrno } from "../lib/errors.ts";
import { type OptSpec, UsageError } from "../cli/args.ts";
import {
  acceptLoop,
  COMMON_OPTS,
  listen,
  LISTEN_OPTS,
  out,
  QOS_OPT,
  qosArg,
  runTool,
} from "./common.ts";

const SPECS: OptSpec[] = [
  { short: "l", long: "listen", type: "flag", help: "run the receiver" },
  { short: "n", long: "server-name", type: "string", arg: "NAME", help: "name of the receiver" },
  {
    short: "d",
    long: "duration",
    type: "time",
    arg: "T",
    default: 60000,
    help: "how long to send",
  },
  {
    short: "s",
    long: "size",
    type: "int",
    arg: "B",
    default: 1000,
    help: "packet size (max 524288)",
  },
  {
    short: "r",
    long: "rate",
    type: "rate",
    arg: "R",
    default: 1000000,
    help: "bit/s (k, M, G suffixes)",
  },
  { short: "f", long: "flood", type: "flag", help: "ignore the rate, send as fast as possible" },
  {
    short: "i",
    long: "interval",
    type: "time",
    arg: "T",
    default: 1000,
    help: "receiver: report interval",
  },
  {
    short: "t",
    long: "timeout",
    type: "time",
    arg: "T",
    default: 1000,
    help: "receiver: end a test after this silence",
  },
  QOS_OPT,
  ...LISTEN_OPTS,
  ...COMMON_OPTS,
];

/** The receiver's per-interval line. */
export function cbrLine(fd: number, pkts: number, bytes: number, ms: number): string {
  const pps = ms > 0 ? pkts / (ms / 1000) : 0;
  const mbps = ms > 0 ? (bytes * 8) / (ms * 1000) : 0;
  return `Flow ${String(fd).padStart(4)}: ${String(pkts).padStart(9)} packets (${
    String(bytes).padStart(12)
  } bytes) in ${String(Math.round(ms)).padStart(9)} ms => ${pps.toFixed(4).padStart(9)} pps, ${
    mbps.toFixed(4).padStart(9)
  } Mbps`;
}

async function receive(flow: Flow, intervalMs: number, timeoutMs: number): Promise<void> {
  let pkts = 0, bytes = 0;
  let t = performance.now();
  for (;;) {
    let p: Uint8Array | null;
    try {
      p = await flow.read({ timeoutMs: Math.min(intervalMs, timeoutMs) });
    } catch (e) {
      if (!isErrno(e, Errno.ETIMEDOUT)) throw e;
      if (performance.now() - t >= timeoutMs && pkts === 0) {
        out(`Test on flow ${flow.fd} timed out`);
        return;
      }
      p = undefined as unknown as null;
    }
    if (p === null) return;
    if (p) {
      pkts++;
      bytes += p.length;
    }
    const now = performance.now();
    if (now - t >= intervalMs) {
      out(cbrLine(flow.fd, pkts, bytes, now - t));
      if (pkts === 0 && now - t >= timeoutMs) {
        out(`Test on flow ${flow.fd} timed out`);
        return;
      }
      pkts = bytes = 0;
      t = now;
    }
  }
}

async function receiver(
  ouro: Ouro,
  opts: Record<string, unknown>,
  signal: AbortSignal,
): Promise<number> {
  await listen(ouro, opts, "ocbr");
  const flows = new Set<Promise<void>>();
  await acceptLoop(ouro, signal, async (flow) => {
    if (flows.size >= 10) {
      out("Can't accept any more flows, waiting.");
      await flow.close();
      return;
    }
    const p: Promise<void> = receive(flow, opts.interval as number, opts.timeout as number)
      .finally(() => (flows.delete(p), flow.close().catch(() => {})));
    flows.add(p);
  });
  return 0;
}

async function sender(
  ouro: Ouro,
  opts: Record<string, unknown>,
  signal: AbortSignal,
): Promise<number> {
  const name = opts["server-name"] as string | undefined;
  if (!name) throw new UsageError("the sender needs -n NAME (or -l to listen)");
  const size = opts.size as number;
  if (size < 8 || size > 524288) throw new UsageError("size must be 8 to 524288 bytes");
  const flow = await ouro.flowAlloc(name, { qos: qosArg(opts.qos) });
  const buf = new Uint8Array(size);
  const dv = new DataView(buf.buffer);
  const gap = (size * 8 * 1000) / (opts.rate as number);
  const t0 = performance.now();
  let n = 0;
  while (!signal.aborted) {
    const el = performance.now() - t0;
    if (el >= (opts.duration as number)) break;
    const due = opts.flood ? n + 64 : Math.floor(el / gap) + 1;
    while (n < due) {
      dv.setBigInt64(0, BigInt(n), true);
      await flow.write(buf);
      n++;
    }
    await new Promise((r) => setTimeout(r, opts.flood ? 0 : 1));
  }
  const ms = performance.now() - t0;
  out(
    `sent statistics: ${n} packets, ${n * size} bytes in ${Math.round(ms)} ms, ${
      ((n * size * 8) / (ms * 1000)).toFixed(4)
    } Mb/s`,
  );
  await flow.close();
  return 0;
}

/** Entry point. */
export function cbrMain(argv: string[]): Promise<number> {
  return runTool({
    usage: "ouro cbr -n NAME [options] | ouro cbr -l [--name NAME]",
    about: "Send or receive a constant bit rate (ocbr).",
    specs: SPECS,
    prog: "ocbr",
    run: (ouro, opts, _rest, signal) =>
      opts.listen ? receiver(ouro, opts, signal) : sender(ouro, opts, signal),
  }, argv);
}
