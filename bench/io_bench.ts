/**
 * Packet I/O benchmark: the Worker-served {@link UdpSocket} against
 * `Deno.listenDatagram` on loopback, in the same run, plus the ring alone.
 *
 *   deno run -A bench/io_bench.ts [--seconds=1] [--only=ring|ping|flood]
 *
 * Everything runs in one process on the main thread, as an IPCP would:
 * ping-pong (one packet in flight: RTT) and a one-way flood (receiver
 * counts what reaches its handler; the figure compared is packets received
 * per second), at 64 and 1400 bytes.
 * `Deno.listenDatagram` needs --unstable-net; the script re-runs itself
 * with it when needed.
 * @module
 */

import { UdpSocket } from "../src/io/udp.ts";
import { PacketRing } from "../src/io/ring.ts";

if (typeof Deno.listenDatagram !== "function") {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-net", new URL(import.meta.url).pathname, ...Deno.args],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  Deno.exit(r.code);
}

const seconds = Number(Deno.args.find((a) => a.startsWith("--seconds="))?.slice(10) ?? 1);
const durationMs = seconds * 1000;
const only = Deno.args.find((a) => a.startsWith("--only="))?.slice(7); // ring | ping | flood
const HOST = "127.0.0.1";

interface Result {
  pps: number;
  sentPps?: number;
  rttUs?: number;
  lossPct?: number;
}

function fmt(r: Result): string {
  const parts = [`${(r.pps / 1000).toFixed(1).padStart(7)} kpps`];
  if (r.rttUs !== undefined) parts.push(`rtt ${r.rttUs.toFixed(1).padStart(6)} µs`);
  if (r.sentPps !== undefined) parts.push(`(sent ${(r.sentPps / 1000).toFixed(1)} kpps)`);
  if (r.lossPct !== undefined) parts.push(`loss ${r.lossPct.toFixed(1)}%`);
  return parts.join("  ");
}

// ---- ours -------------------------------------------------------------------

async function oursPingPong(size: number): Promise<Result> {
  await using a = await UdpSocket.open({ hostname: HOST });
  await using b = await UdpSocket.open({ hostname: HOST });
  const echo = b.onReceive((d, r) => b.send(r, d), { copy: false });
  const pkt = new Uint8Array(size);
  for (let i = 0; i < 200; i++) { // warm up
    a.send(b.addr, pkt);
    await a.receive();
  }
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < durationMs) {
    a.send(b.addr, pkt);
    await a.receive();
    n++;
  }
  const ms = performance.now() - t0;
  await b.close();
  await echo;
  return { pps: n / ms * 1000, rttUs: ms * 1000 / n };
}

// ---- baseline: Deno.listenDatagram ------------------------------------------

function listen(): Deno.DatagramConn {
  return Deno.listenDatagram({ transport: "udp", hostname: HOST, port: 0 });
}

async function denoPingPong(size: number): Promise<Result> {
  const a = listen(), b = listen();
  const echo = (async () => {
    try {
      for (;;) {
        const [d, r] = await b.receive();
        await b.send(d, r);
      }
    } catch { /* closed */ }
  })();
  const pkt = new Uint8Array(size);
  for (let i = 0; i < 200; i++) {
    await a.send(pkt, b.addr);
    await a.receive();
  }
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < durationMs) {
    await a.send(pkt, b.addr);
    await a.receive();
    n++;
  }
  const ms = performance.now() - t0;
  a.close();
  b.close();
  await echo;
  return { pps: n / ms * 1000, rttUs: ms * 1000 / n };
}

// ---- one-way flood: any sender into any receiver ---------------------------

interface Receiver {
  port: number;
  count(): number;
  close(): Promise<void>;
}

async function oursReceiver(): Promise<Receiver> {
  const b = await UdpSocket.open({ hostname: HOST });
  let got = 0;
  const sink = b.onReceive(() => got++, { copy: false });
  return { port: b.addr.port, count: () => got, close: async () => (await b.close(), await sink) };
}

function denoReceiver(): Promise<Receiver> {
  const b = listen();
  let got = 0;
  const sink = (async () => {
    try {
      for (;;) {
        await b.receive();
        got++;
      }
    } catch { /* closed */ }
  })();
  return Promise.resolve({
    port: (b.addr as Deno.NetAddr).port,
    count: () => got,
    close: async () => (b.close(), await sink),
  });
}

/** Send for durationMs; resolves to packets sent. */
async function oursSender(port: number, size: number): Promise<number> {
  await using a = await UdpSocket.open({ hostname: HOST });
  const dst = { hostname: HOST, port }, pkt = new Uint8Array(size);
  let sent = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < durationMs) {
    while (a.send(dst, pkt)) sent++;
    await a.waitWritable();
  }
  return sent;
}

async function denoSender(port: number, size: number): Promise<number> {
  const a = listen();
  const dst: Deno.NetAddr = { transport: "udp", hostname: HOST, port }, pkt = new Uint8Array(size);
  let sent = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < durationMs) {
    // 32 sends in flight at once: the strongest easy use of this API.
    const batch: Promise<number>[] = [];
    for (let i = 0; i < 32; i++) batch.push(a.send(pkt, dst));
    await Promise.all(batch);
    sent += 32;
  }
  a.close();
  return sent;
}

async function flood(
  send: (port: number, size: number) => Promise<number>,
  recv: () => Promise<Receiver>,
  size: number,
): Promise<Result> {
  const rx = await recv();
  const t0 = performance.now();
  const sent = await send(rx.port, size);
  const ms = performance.now() - t0;
  const gotAtEnd = rx.count();
  await new Promise((r) => setTimeout(r, 100)); // let what is in flight arrive
  const got = rx.count();
  await rx.close();
  return { pps: gotAtEnd / ms * 1000, sentPps: sent / ms * 1000, lossPct: 100 * (1 - got / sent) };
}

// ---- the ring alone: Worker producer, main-thread consumer -------------------

const RING_PRODUCER = `
import { PacketRing } from ${JSON.stringify(new URL("../src/io/ring.ts", import.meta.url).href)};
self.onmessage = (e) => {
  const { buffer, count, size } = e.data;
  const ring = PacketRing.from(buffer);
  const batch = Array.from({ length: 32 }, () => new Uint8Array(size));
  for (let i = 0; i < count;) {
    if (ring.waitWritable(5000) !== "ok") break;
    i += ring.pushBatch(count - i >= 32 ? batch : batch.slice(0, count - i));
  }
  self.postMessage("done");
};`;

async function ringAlone(size: number): Promise<Result> {
  const count = 2_000_000;
  const ring = PacketRing.create({ slots: 1024, slotBytes: 2048 });
  const w = new Worker(`data:application/javascript,${encodeURIComponent(RING_PRODUCER)}`, {
    type: "module",
  });
  const done = new Promise((r) => w.onmessage = r);
  const t0 = performance.now();
  w.postMessage({ buffer: ring.buffer, count, size });
  let n = 0, bytes = 0;
  while (n < count && await ring.waitReadableAsync()) {
    n += ring.popBatch((d) => bytes += d[0]! + d.length);
  }
  const ms = performance.now() - t0;
  await done;
  w.terminate();
  return { pps: n / ms * 1000 };
}

// ---- run ----------------------------------------------------------------------

console.log(
  `io bench: ${seconds}s per case, loopback ${HOST}, deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} cpus`,
);
for (const size of only && only !== "ring" ? [] : [64, 1400]) {
  const r = await ringAlone(size);
  console.log(`ring Worker→main   ${String(size).padStart(4)} B  ${fmt(r)}`);
}
for (const size of only && only !== "ping" ? [] : [64, 1400]) {
  const ours = await oursPingPong(size);
  const base = await denoPingPong(size);
  console.log(`ping-pong ${String(size).padStart(4)} B  UdpSocket ${fmt(ours)}`);
  console.log(
    `ping-pong ${String(size).padStart(4)} B  listenDatagram ${fmt(base)}  ratio ${
      (ours.pps / base.pps).toFixed(2)
    }x`,
  );
}
for (const size of only && only !== "flood" ? [] : [64, 1400]) {
  const sz = String(size).padStart(4);
  const ours = await flood(oursSender, oursReceiver, size);
  console.log(`flood     ${sz} B  UdpSocket → UdpSocket        ${fmt(ours)}`);
  const rxBase = await flood(oursSender, denoReceiver, size);
  console.log(
    `flood     ${sz} B  UdpSocket → listenDatagram   ${fmt(rxBase)}  receive ratio ${
      (ours.pps / rxBase.pps).toFixed(2)
    }x`,
  );
  const txBase = await flood(denoSender, oursReceiver, size);
  console.log(
    `flood     ${sz} B  listenDatagram → UdpSocket   ${fmt(txBase)}  send ratio ${
      (ours.sentPps! / txBase.sentPps!).toFixed(2)
    }x`,
  );
}
