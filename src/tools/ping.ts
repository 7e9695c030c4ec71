/**
 * `ouro ping` — oping (spec 06 §2.1): RTT to a name, and the echo server.
 * @module
 */
import type { Flow } from "../client/flow.ts";
import type { Ouro } from "../client/api.ts";
import { Errno, isErrno, OuroError } from "../lib/errors.ts";
import { type OptSpec, UsageError } from "../cli/args.ts";
import {
  acceptLoop,
  COMMON_OPTS,
  ENCRYPT_OPT,
  listen,
  LISTEN_OPTS,
  out,
  QOS_OPT,
  qosArg,
  runTool,
} from "./common.ts";

const SPECS: OptSpec[] = [
  { short: "l", long: "listen", type: "flag", help: "run the ping server" },
  {
    short: "n",
    long: "server-name",
    type: "string",
    arg: "NAME",
    help: "name of the server to ping",
  },
  {
    short: "c",
    long: "count",
    type: "int",
    arg: "N",
    help: "stop after N pings (default unlimited)",
  },
  {
    short: "i",
    long: "interval",
    type: "time",
    arg: "T",
    default: 1000,
    help: "time between pings (ms, or 1s, max 10s)",
  },
  { short: "d", long: "duration", type: "time", arg: "T", help: "stop after this time" },
  {
    short: "s",
    long: "size",
    type: "int",
    arg: "B",
    default: 64,
    help: "packet size, 64 to 1500 bytes",
  },
  {
    short: "f",
    long: "flood",
    type: "flag",
    help: "send the next ping as soon as the reply arrives",
  },
  QOS_OPT,
  ENCRYPT_OPT,
  { short: "Q", long: "quiet", type: "flag", help: "print only the summary" },
  { short: "D", long: "timeofday", type: "flag", help: "prefix lines with the time of day" },
  ...LISTEN_OPTS,
  ...COMMON_OPTS,
];

/** Ping message header size. */
export const PING_HDR = 24;
const ECHO_REQUEST = 0;
const ECHO_REPLY = 1;
/** Server: flows silent this long are deallocated. */
export const SERVER_FLOW_TIMEOUT_MS = 10000;
/** Server: most flows at once. */
export const SERVER_MAX_FLOWS = 256;

/** Format an RTT in ms the reference's way (µs below 0.1 ms). */
export function fmtRtt(ms: number): string {
  return ms < 0.1 ? `${(ms * 1000).toFixed(3)} µs` : `${ms.toFixed(3)} ms`;
}

/** Summary statistics of RTT samples (mdev is the sample standard deviation). */
export function rttStats(rtts: number[]): { min: number; avg: number; max: number; mdev: number } {
  const n = rtts.length;
  const avg = rtts.reduce((a, b) => a + b, 0) / n;
  const mdev = n > 1 ? Math.sqrt(rtts.reduce((a, b) => a + (b - avg) ** 2, 0) / (n - 1)) : NaN;
  return { min: Math.min(...rtts), avg, max: Math.max(...rtts), mdev };
}

async function server(
  ouro: Ouro,
  opts: Record<string, unknown>,
  signal: AbortSignal,
): Promise<number> {
  const name = await listen(ouro, opts, "oping");
  out(`Ouroboros ping server started (name ${name}).`);
  const flows = new Set<Flow>();
  await acceptLoop(ouro, signal, async (flow) => {
    if (flows.size >= SERVER_MAX_FLOWS) {
      await flow.close();
      return;
    }
    flows.add(flow);
    out(`New flow ${flow.fd}.`);
    (async () => {
      try {
        for (;;) {
          const p = await flow.read({ timeoutMs: SERVER_FLOW_TIMEOUT_MS });
          if (p === null) break;
          if (p.length < PING_HDR) continue;
          new DataView(p.buffer, p.byteOffset).setUint32(0, ECHO_REPLY);
          await flow.write(p);
        }
      } catch (e) {
        if (isErrno(e, Errno.ETIMEDOUT)) out(`Flow ${flow.fd} timed out.`);
      } finally {
        flows.delete(flow);
        await flow.close().catch(() => {});
      }
    })();
  });
  for (const f of flows) await f.close().catch(() => {});
  return 0;
}

async function client(
  ouro: Ouro,
  opts: Record<string, unknown>,
  signal: AbortSignal,
): Promise<number> {
  const name = opts["server-name"] as string | undefined;
  if (!name) throw new UsageError("the client needs -n NAME (or -l to listen)");
  const interval = Math.min(opts.interval as number, 10000);
  const size = Math.max(64, Math.min(1500, opts.size as number));
  let count = (opts.count as number | undefined) ?? 0x7fffffff;
  if (opts.duration !== undefined) {
    count = Math.min(count, Math.max(1, Math.floor((opts.duration as number) / (interval || 0.1))));
  }
  const flood = !!opts.flood;
  const quiet = !!opts.quiet;
  const flow = await ouro.flowAlloc(name, {
    qos: qosArg(opts.qos),
    encryption: opts.encrypt ? true : undefined,
  });
  out(
    `Pinging ${name} with ${size} bytes of data (${
      count === 0x7fffffff ? "unlimited" : count
    } packets):\n`,
  );
  const sentAt = new Map<number, number>();
  const rtts: number[] = [];
  let sent = 0, ooo = 0, maxId = -1;
  const t0 = performance.now();
  const buf = new Uint8Array(size);
  const dv = new DataView(buf.buffer);

  const send = async () => {
    dv.setUint32(0, ECHO_REQUEST);
    dv.setUint32(4, sent);
    const now = performance.now();
    const ns = BigInt(Math.floor(now * 1e6));
    dv.setBigUint64(8, ns / 1_000_000_000n, true);
    dv.setBigUint64(16, ns % 1_000_000_000n, true);
    sentAt.set(sent, now);
    sent++;
    await flow.write(buf);
  };

  const prefix = () => {
    if (!opts.timeofday) return "";
    const t = Date.now();
    return `[${Math.floor(t / 1000)}.${String((t % 1000) * 1000).padStart(6, "0")}] `;
  };

  let writer: Promise<void> = Promise.resolve();
  if (!flood) {
    writer = (async () => {
      const start = performance.now();
      for (let i = 0; i < count && !signal.aborted; i++) {
        await send();
        const next = start + (i + 1) * interval;
        const wait = next - performance.now();
        if (i + 1 < count && wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
    })();
  } else await send();

  let timedOut = false;
  try {
    while (rtts.length < count && !signal.aborted) {
      let p: Uint8Array | null;
      try {
        p = await flow.read({ timeoutMs: interval + 2000, signal });
      } catch (e) {
        if (isErrno(e, Errno.ETIMEDOUT)) {
          timedOut = true;
          out("Server timed out.");
          break;
        }
        if (signal.aborted) break;
        throw e;
      }
      if (p === null) {
        out("Flow ended by the server.");
        break;
      }
      const now = performance.now();
      if (p.length < PING_HDR) continue;
      const pdv = new DataView(p.buffer, p.byteOffset);
      if (pdv.getUint32(0) !== ECHO_REPLY) continue;
      const id = pdv.getUint32(4);
      const at = sentAt.get(id);
      if (at === undefined || id >= count) continue;
      sentAt.delete(id);
      const rtt = now - at;
      rtts.push(rtt);
      const isOoo = id < maxId;
      if (isOoo) ooo++;
      maxId = Math.max(maxId, id);
      if (!quiet) {
        out(
          `${prefix()}${p.length} bytes from ${name}: seq=${id} time=${fmtRtt(rtt)}${
            isOoo ? " [out-of-order]" : ""
          }`,
        );
      }
      if (flood && sent < count) await send();
    }
  } finally {
    await writer.catch(() => {});
  }
  const elapsed = performance.now() - t0;
  out("");
  out(`--- ${name} ping statistics ---`);
  const loss = sent ? Math.round(((sent - rtts.length) / sent) * 100) : 0;
  out(
    `${sent} packets transmitted, ${rtts.length} received, ${ooo} out-of-order, ${loss}% packet loss, time: ${
      elapsed.toFixed(3)
    } ms`,
  );
  if (rtts.length) {
    const s = rttStats(rtts);
    out(
      `rtt min/avg/max/mdev = ${s.min.toFixed(3)}/${s.avg.toFixed(3)}/${s.max.toFixed(3)}/${
        isNaN(s.mdev) ? "NaN" : s.mdev.toFixed(3)
      } ms`,
    );
  }
  await flow.close().catch(() => {});
  return rtts.length === 0 || timedOut ? 1 : 0;
}

/** Entry point. */
export function pingMain(argv: string[]): Promise<number> {
  return runTool({
    usage: "ouro ping -n NAME [options] | ouro ping -l [--name NAME] [--layer LAYER]",
    about: "Measure round-trip times over a flow (oping).",
    specs: SPECS,
    prog: "oping",
    run: (ouro, opts, _rest, signal) =>
      opts.listen ? server(ouro, opts, signal) : client(ouro, opts, signal),
  }, argv);
}

export { OuroError };
