/**
 * The measuring end of the network benchmarks, run inside a namespace
 * (`ip netns exec NS deno run -A --unstable-net bench/pinger.ts …`); prints
 * one JSON line.
 *
 * - `ouro RUNDIR NAME [opts]`: allocate a flow to an `ouro ping -l` server
 *   with the library and time back-to-back and paced pings.
 * - `udp HOST:PORT [opts]`: the same against `udp-server` over a bare UDP
 *   socket (the same-runtime floor).
 * - `udp-server HOST PORT`: echo every datagram whose first byte is 0; count
 *   datagrams whose first byte is 1; answer a lone 0xff with the count.
 * - `udp-flood HOST:PORT SIZE MS [RATE_BPS]`: send to `udp-server` for MS
 *   ms (paced when RATE_BPS is given), then ask it what arrived.
 *
 * Options: `--sizes 64,1400`, `--count N` (back-to-back), `--paced N`,
 * `--gap MS` (between paced pings), `--warm N`.
 * @module
 */
import { Ouro } from "../mod.ts";
import { summary } from "./util.ts";

/** One size's figures (µs; round trips per second back to back). */
export interface PingFigures {
  size: number;
  flood: { medianUs: number; p99Us: number; n: number; rtPerS: number; lost: number };
  paced: { medianUs: number; p99Us: number; n: number; lost: number };
}

/** What `ouro` and `udp` modes print. */
export interface PingerResult {
  allocMs: number;
  sizes: PingFigures[];
}

/** What `udp-flood` prints. */
export interface FloodResult {
  size: number;
  durationMs: number;
  sentPackets: number;
  sentMbps: number;
  receivedPackets: number;
  receivedMbps: number;
  lossPercent: number;
}

/** One round trip of `buf` with sequence number `seq`; false if lost. */
type RoundTrip = (buf: Uint8Array, seq: number) => Promise<boolean>;

async function series(rt: RoundTrip, size: number, n: number, gapMs: number, seq0: number) {
  const buf = new Uint8Array(size);
  const ms: number[] = [];
  let lost = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    if (await rt(buf, seq0 + i)) ms.push(performance.now() - t);
    else lost++;
    if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
  }
  return { ms, lost, totalMs: performance.now() - t0 };
}

async function measure(rt: RoundTrip, opts: Opts): Promise<PingFigures[]> {
  const out: PingFigures[] = [];
  let seq = 1;
  for (const size of opts.sizes) {
    await series(rt, size, opts.warm, 0, seq);
    seq += opts.warm;
    const f = await series(rt, size, opts.count, 0, seq);
    seq += opts.count;
    const p = await series(rt, size, opts.paced, opts.gap, seq);
    seq += opts.paced;
    out.push({
      size,
      flood: { ...summary(f.ms), rtPerS: f.ms.length / (f.totalMs / 1000), lost: f.lost },
      paced: { ...summary(p.ms), lost: p.lost },
    });
  }
  return out;
}

interface Opts {
  sizes: number[];
  count: number;
  paced: number;
  gap: number;
  warm: number;
}

function parseOpts(args: string[]): Opts {
  const o: Opts = { sizes: [64, 1400], count: 1000, paced: 100, gap: 5, warm: 20 };
  for (let i = 0; i < args.length; i += 2) {
    const v = args[i + 1] ?? "";
    switch (args[i]) {
      case "--sizes":
        o.sizes = v.split(",").map(Number);
        break;
      case "--count":
        o.count = Number(v);
        break;
      case "--paced":
        o.paced = Number(v);
        break;
      case "--gap":
        o.gap = Number(v);
        break;
      case "--warm":
        o.warm = Number(v);
        break;
      default:
        throw new Error(`pinger: unknown option ${args[i]}`);
    }
  }
  return o;
}

const TIMEOUT_MS = 1000;

async function ouroMode(rundir: string, name: string, opts: Opts): Promise<PingerResult> {
  const ouro = await Ouro.connect({ rundir, prog: "bench-pinger" });
  try {
    const t = performance.now();
    const flow = await ouro.flowAlloc(name, { timeoutMs: 20000 });
    const allocMs = performance.now() - t;
    // oping's layout: u32 type (0 request, 1 reply), u32 id; the server echoes the rest
    const rt: RoundTrip = async (buf, seq) => {
      const dv = new DataView(buf.buffer);
      dv.setUint32(0, 0);
      dv.setUint32(4, seq);
      await flow.write(buf);
      for (;;) {
        const r = await flow.read({ timeoutMs: TIMEOUT_MS }).catch(() => null);
        if (!r) return false;
        if (r.length >= 8 && new DataView(r.buffer, r.byteOffset).getUint32(4) === seq) return true;
      }
    };
    const sizes = opts.count + opts.paced > 0 ? await measure(rt, opts) : [];
    await flow.close().catch(() => {});
    return { allocMs, sizes };
  } finally {
    await ouro.close();
  }
}

function hostPort(s: string): { hostname: string; port: number } {
  const i = s.lastIndexOf(":");
  return { hostname: s.slice(0, i), port: Number(s.slice(i + 1)) };
}

async function recvTimeout(sock: Deno.DatagramConn, ms: number): Promise<Uint8Array | null> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const r = await Promise.race([
    sock.receive().then(([b]) => b),
    new Promise<null>((res) => timer = setTimeout(() => res(null), ms)),
  ]);
  clearTimeout(timer);
  return r;
}

async function udpMode(to: string, opts: Opts): Promise<PingerResult> {
  const peer = { transport: "udp" as const, ...hostPort(to) };
  const sock = Deno.listenDatagram({ transport: "udp", hostname: "0.0.0.0", port: 0 });
  // a timed-out receive stays pending: keep one outstanding and reuse it
  let pending: Promise<Uint8Array> | undefined;
  const rt: RoundTrip = async (buf, seq) => {
    buf[0] = 0;
    new DataView(buf.buffer).setUint32(4, seq);
    await sock.send(buf, peer);
    const end = performance.now() + TIMEOUT_MS;
    for (;;) {
      pending ??= sock.receive().then(([b]) => b);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const r = await Promise.race([
        pending,
        new Promise<null>((res) =>
          timer = setTimeout(() => res(null), Math.max(1, end - performance.now()))
        ),
      ]);
      clearTimeout(timer);
      if (!r) return false;
      pending = undefined;
      if (r.length >= 8 && new DataView(r.buffer, r.byteOffset).getUint32(4) === seq) return true;
    }
  };
  const sizes = await measure(rt, opts);
  sock.close();
  return { allocMs: 0, sizes };
}

async function udpServer(hostname: string, port: number): Promise<void> {
  const sock = Deno.listenDatagram({ transport: "udp", hostname, port });
  console.log("udp server started");
  let pkts = 0, bytes = 0;
  for (;;) {
    const [b, from] = await sock.receive();
    if (b[0] === 0) await sock.send(b, from);
    else if (b[0] === 1) (pkts++, bytes += b.length);
    else if (b[0] === 0xff && b.length === 1) {
      const r = new Uint8Array(17);
      r[0] = 0xfe;
      new DataView(r.buffer).setFloat64(1, pkts);
      new DataView(r.buffer).setFloat64(9, bytes);
      await sock.send(r, from);
      pkts = bytes = 0;
    }
  }
}

async function udpFlood(
  to: string,
  size: number,
  ms: number,
  rateBps?: number,
): Promise<FloodResult> {
  const peer = { transport: "udp" as const, ...hostPort(to) };
  const sock = Deno.listenDatagram({ transport: "udp", hostname: "0.0.0.0", port: 0 });
  const buf = new Uint8Array(size);
  buf[0] = 1;
  const gapMs = rateBps ? (size * 8 * 1000) / rateBps : 0;
  let seq = 0;
  const t0 = performance.now();
  for (;;) {
    const now = performance.now();
    if (now - t0 >= ms) break;
    const due = gapMs ? Math.floor((now - t0) / gapMs) + 1 : seq + 64;
    while (seq < due) (await sock.send(buf, peer), seq++);
    if (gapMs) await new Promise((r) => setTimeout(r, 1));
  }
  const sendMs = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 200));
  let got: Uint8Array | null = null;
  for (let i = 0; i < 5 && !got; i++) {
    await sock.send(new Uint8Array([0xff]), peer);
    got = await recvTimeout(sock, 300);
  }
  sock.close();
  const dv = got ? new DataView(got.buffer, got.byteOffset) : undefined;
  const rx = dv ? dv.getFloat64(1) : 0, rxBytes = dv ? dv.getFloat64(9) : 0;
  return {
    size,
    durationMs: Math.round(sendMs),
    sentPackets: seq,
    sentMbps: +(seq * size * 8 / sendMs / 1000).toFixed(1),
    receivedPackets: rx,
    receivedMbps: +(rxBytes * 8 / sendMs / 1000).toFixed(1),
    lossPercent: +(Math.max(0, seq - rx) / Math.max(1, seq) * 100).toFixed(3),
  };
}

if (import.meta.main) {
  const [mode, a, b, c, d, ...rest] = Deno.args;
  let res: unknown;
  if (mode === "ouro") {
    res = await ouroMode(
      a!,
      b!,
      parseOpts([c, d, ...rest].filter((x) => x !== undefined)),
    );
  } else if (mode === "udp") {
    res = await udpMode(
      a!,
      parseOpts([b, c, d, ...rest].filter((x) => x !== undefined)),
    );
  } else if (mode === "udp-server") await udpServer(a!, Number(b));
  else if (mode === "udp-flood") {
    res = await udpFlood(a!, Number(b), Number(c), d ? Number(d) : undefined);
  } else throw new Error(`pinger: unknown mode ${mode}`);
  console.log(JSON.stringify(res));
  Deno.exit(0);
}
