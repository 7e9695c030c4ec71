/**
 * `ouro perf` — throughput over a flow (operf, spec 06 §2.2, with the
 * reference's inverted loop fixed so the client really sends).
 *
 * Protocol: a 4-byte test type (0 uni, 1 bi, little-endian), then packets of
 * `size` bytes starting with a u32 LE sequence number; at the end the client
 * sends the 8-byte marker `PERF-END` and the server answers `PERF-RES` +
 * u64 LE packets + u64 LE bytes it received.
 * @module
 */
import type { Ouro } from "../client/api.ts";
import type { Flow } from "../client/flow.ts";
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
  { short: "l", long: "listen", type: "flag", help: "run the perf server" },
  { short: "n", long: "server-name", type: "string", arg: "NAME", help: "name of the server" },
  {
    short: "t",
    long: "test",
    type: "string",
    arg: "uni|bi",
    default: "uni",
    help: "one-way, or echoed back",
  },
  { short: "d", long: "duration", type: "time", arg: "T", default: 10000, help: "test duration" },
  {
    short: "r",
    long: "rate",
    type: "rate",
    arg: "R",
    help: "send rate in bit/s (k, M, G suffixes); default flood",
  },
  {
    short: "s",
    long: "size",
    type: "int",
    arg: "B",
    default: 1400,
    help: "packet size, 64 B to 1 MiB",
  },
  {
    short: "f",
    long: "flood",
    type: "flag",
    help: "send as fast as possible (default without --rate)",
  },
  QOS_OPT,
  ENCRYPT_OPT,
  { long: "json", type: "flag", help: "print the summary as JSON" },
  ...LISTEN_OPTS,
  ...COMMON_OPTS,
];

const te = new TextEncoder();
const END = te.encode("PERF-END");
const RES = te.encode("PERF-RES");

function isMarker(p: Uint8Array, m: Uint8Array): boolean {
  return p.length >= m.length && m.every((b, i) => p[i] === b);
}

/** Mb/s from bytes over ms. */
export function mbps(bytes: number, ms: number): number {
  return ms > 0 ? (bytes * 8) / (ms * 1000) : 0;
}

async function serveFlow(flow: Flow): Promise<void> {
  const cfg = await flow.read({ timeoutMs: 5000 });
  if (cfg === null || cfg.length !== 4) {
    out(`Flow ${flow.fd}: bad test configuration, closing.`);
    return;
  }
  const bi = new DataView(cfg.buffer, cfg.byteOffset).getUint32(0, true) === 1;
  out(`New ${bi ? "bi" : "uni"}directional test on flow ${flow.fd}.`);
  let pkts = 0, bytes = 0, lastPkts = 0, lastBytes = 0;
  const t0 = performance.now();
  let tl = t0;
  let ended = false;
  for (;;) {
    // after the end marker, linger a second to answer repeats (a lost answer)
    const p = await flow.read({ timeoutMs: ended ? 1000 : 10000 }).catch((e) => {
      if (ended) return null;
      throw e;
    });
    if (p === null) break;
    if (p.length === END.length && isMarker(p, END)) {
      const r = new Uint8Array(24);
      r.set(RES);
      const dv = new DataView(r.buffer);
      dv.setBigUint64(8, BigInt(pkts), true);
      dv.setBigUint64(16, BigInt(bytes), true);
      await flow.write(r);
      ended = true;
      continue;
    }
    if (ended) continue;
    pkts++;
    bytes += p.length;
    if (bi) await flow.write(p);
    const now = performance.now();
    if (now - tl >= 1000) {
      out(
        `flow ${flow.fd}: ${((now - t0) / 1000).toFixed(0)} s: ${pkts - lastPkts} pkts, ${
          mbps(bytes - lastBytes, now - tl).toFixed(1)
        } Mb/s`,
      );
      lastPkts = pkts;
      lastBytes = bytes;
      tl = now;
    }
  }
  const ms = performance.now() - t0;
  out(
    `Flow ${flow.fd} done: ${pkts} packets, ${bytes} bytes in ${ms.toFixed(0)} ms = ${
      mbps(bytes, ms).toFixed(1)
    } Mb/s.`,
  );
}

async function server(
  ouro: Ouro,
  opts: Record<string, unknown>,
  signal: AbortSignal,
): Promise<number> {
  const name = await listen(ouro, opts, "operf");
  out(`Ouroboros perf server started (name ${name}).`);
  await acceptLoop(ouro, signal, (flow) => {
    serveFlow(flow).catch((e) => out(`Flow ${flow.fd}: ${(e as Error).message}`)).finally(() =>
      flow.close().catch(() => {})
    );
  });
  return 0;
}

async function client(
  ouro: Ouro,
  opts: Record<string, unknown>,
  signal: AbortSignal,
): Promise<number> {
  const name = opts["server-name"] as string | undefined;
  if (!name) throw new UsageError("the client needs -n NAME (or -l to listen)");
  const size = opts.size as number;
  if (size < 64 || size > 1 << 20) throw new UsageError("size must be 64 B to 1 MiB");
  const test = opts.test as string;
  if (test !== "uni" && test !== "bi") throw new UsageError(`test must be uni or bi`);
  const duration = opts.duration as number;
  const rate = opts.flood ? undefined : opts.rate as number | undefined;
  const flow = await ouro.flowAlloc(name, {
    qos: qosArg(opts.qos),
    encryption: opts.encrypt ? true : undefined,
  });
  const cfg = new Uint8Array(4);
  new DataView(cfg.buffer).setUint32(0, test === "bi" ? 1 : 0, true);
  await flow.write(cfg);
  const json = !!opts.json;
  if (!json) {
    out(
      `Perf test to ${name}: ${test}, ${size} B packets, ${
        rate ? `${(rate / 1e6).toFixed(1)} Mb/s` : "flood"
      }, ${(duration / 1000).toFixed(1)} s.`,
    );
  }

  let rxPkts = 0, rxBytes = 0;
  let receiving = true;
  const reader = test === "bi"
    ? (async () => {
      while (receiving) {
        const p = await flow.read().catch(() => null);
        if (p === null) return;
        if (isMarker(p, RES)) return p;
        rxPkts++;
        rxBytes += p.length;
      }
    })()
    : undefined;

  const buf = new Uint8Array(size);
  const dv = new DataView(buf.buffer);
  let seq = 0, bytes = 0, lastBytes = 0;
  const t0 = performance.now();
  let tl = t0;
  const gapMs = rate ? (size * 8 * 1000) / rate : 0;
  while (!signal.aborted) {
    const now = performance.now();
    if (now - t0 >= duration) break;
    // in rate mode send what is due, then sleep a millisecond
    const due = rate ? Math.floor((now - t0) / gapMs) + 1 : seq + 256;
    while (seq < due) {
      dv.setUint32(0, seq, true);
      await flow.write(buf);
      seq++;
      bytes += size;
    }
    if (rate) await new Promise((r) => setTimeout(r, 1));
    else if ((seq & 0xfff) === 0) await new Promise((r) => setTimeout(r, 0));
    const t = performance.now();
    if (t - tl >= 1000 && !json) {
      out(
        `${((t - t0) / 1000).toFixed(0).padStart(3)} s: sent ${
          mbps(bytes - lastBytes, t - tl).toFixed(1).padStart(9)
        } Mb/s${test === "bi" ? `, received ${rxPkts} pkts` : ""}`,
      );
      lastBytes = bytes;
      tl = t;
    }
  }
  const sendMs = performance.now() - t0;
  await flow.write(END);
  // wait for the server's count (uni) or the echoes to finish (bi)
  let res: Uint8Array | null | undefined;
  const deadline = Date.now() + 3000;
  if (reader) {
    res = await Promise.race([
      reader,
      new Promise<undefined>((r) => setTimeout(() => r(undefined), 3000)),
    ]);
    receiving = false;
  } else {
    // the marker or its answer can be lost on a raw flow: repeat it
    let nextEnd = Date.now() + 300;
    while (Date.now() < deadline) {
      res = await flow.read({ timeoutMs: Math.max(1, Math.min(nextEnd, deadline) - Date.now()) })
        .catch(() => undefined);
      if (res === null || (res && isMarker(res, RES))) break;
      if (Date.now() >= nextEnd) {
        await flow.write(END);
        nextEnd = Date.now() + 300;
      }
    }
  }
  let srvPkts: number | undefined, srvBytes: number | undefined;
  if (res && isMarker(res, RES) && res.length >= 24) {
    const rdv = new DataView(res.buffer, res.byteOffset);
    srvPkts = Number(rdv.getBigUint64(8, true));
    srvBytes = Number(rdv.getBigUint64(16, true));
  }
  const gotPkts = test === "bi" ? rxPkts : srvPkts;
  const loss = gotPkts === undefined ? undefined : Math.max(0, (seq - gotPkts) / seq * 100);
  const summary = {
    name,
    test,
    size,
    durationMs: Math.round(sendMs),
    sentPackets: seq,
    sentMbps: +mbps(bytes, sendMs).toFixed(1),
    receivedPackets: gotPkts ?? null,
    receivedMbps: gotPkts === undefined
      ? null
      : +mbps(test === "bi" ? rxBytes : srvBytes!, sendMs).toFixed(1),
    lossPercent: loss === undefined ? null : +loss.toFixed(3),
  };
  if (json) out(JSON.stringify(summary));
  else {
    out(`--- ${name} perf statistics ---`);
    out(
      `${seq} packets transmitted, ${gotPkts ?? "?"} received, ${
        loss === undefined ? "?" : loss.toFixed(2)
      }% packet loss, time: ${sendMs.toFixed(0)} ms`,
    );
    out(`bandwidth: sent ${summary.sentMbps} Mb/s, received ${summary.receivedMbps ?? "?"} Mb/s.`);
  }
  await flow.close().catch(() => {});
  return gotPkts === undefined ? 1 : 0;
}

/** Entry point. */
export function perfMain(argv: string[]): Promise<number> {
  return runTool({
    usage: "ouro perf -n NAME [options] | ouro perf -l [--name NAME]",
    about: "Measure throughput over a flow (operf).",
    specs: SPECS,
    prog: "operf",
    run: (ouro, opts, _rest, signal) =>
      opts.listen ? server(ouro, opts, signal) : client(ouro, opts, signal),
  }, argv);
}
