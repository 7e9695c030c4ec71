/**
 * Receiver of the `wake` benchmark: a Worker sleeps in a synchronous FFI
 * poll(2) on a UDP socket, as the fast path's Workers do, and notes how
 * long after its sender's timestamp (CLOCK_REALTIME, in the datagram) it
 * was running again. Prints `ready PORT`, then one JSON line of µs figures.
 *
 *   deno run -A bench/wake_rx.ts COUNT
 * @module
 */
/// <reference lib="deno.worker" />

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32" },
  recv: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

function run(count: number): void {
  const c = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  const s = c.socket(2, 2, 0);
  const sa = new Uint8Array(16), dv = new DataView(sa.buffer);
  dv.setUint16(0, 2, true);
  sa.set([127, 0, 0, 1], 4);
  c.bind(s, sa, 16);
  c.getsockname(s, sa, new Uint8Array(new Uint32Array([16]).buffer));
  console.log(`ready ${dv.getUint16(2, false)}`);
  const pfd = new Uint8Array(8), pv = new DataView(pfd.buffer);
  pv.setInt32(0, s, true);
  pv.setInt16(4, 1, true); // POLLIN
  const buf = new Float64Array(1), ts = new BigInt64Array(2);
  const lat: number[] = [];
  while (lat.length < count) {
    c.poll(pfd, 1n, -1);
    c.clock_gettime(0, new Uint8Array(ts.buffer)); // CLOCK_REALTIME, as the sender
    const now = Number(ts[0]) * 1e6 + Number(ts[1]) / 1e3;
    c.recv(s, new Uint8Array(buf.buffer), 8n, 0);
    lat.push(now - buf[0]!);
  }
  lat.sort((a, b) => a - b);
  const q = (p: number) => Math.round(lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!);
  console.log(JSON.stringify({ median: q(0.5), p10: q(0.1), p90: q(0.9) }));
}

if (self.name === "wake") {
  self.onmessage = (e: MessageEvent<number>) => {
    run(e.data);
    self.postMessage("done");
  };
} else {
  // the loop runs in a Worker, like the fast paths' packet loops
  const w = new Worker(import.meta.url, { type: "module", name: "wake" });
  w.postMessage(Number(Deno.args[0] ?? 100));
  w.onmessage = () => w.terminate();
}
