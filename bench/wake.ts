/**
 * The `wake` section: how long a thread sleeping in poll(2) takes to run
 * again after a datagram is sent to it (idle, 20 ms apart) — the floor
 * under every paced round trip. A Deno Worker in a synchronous FFI poll,
 * as our packet loops are, against the same loop in C (compiled with `cc`
 * when there is one), with the same sender and clock (CLOCK_REALTIME).
 * @module
 */
import { printTable } from "./util.ts";

const SEND = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  sendto: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "isize" },
  clock_gettime: { parameters: ["i32", "buffer"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

type Figures = { median: number; p10: number; p90: number };

/** Run a receiver, pace `n` timestamped datagrams to it, read its figures. */
async function measure(cmd: string[], n: number): Promise<Figures> {
  const child = new Deno.Command(cmd[0]!, { args: [...cmd.slice(1), String(n)], stdout: "piped", stderr: "inherit" }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  const line = async () => {
    while (!buf.includes("\n")) {
      const r = await reader.read();
      if (r.done) throw new Error(`${cmd[0]} ended early`);
      buf += r.value;
    }
    const i = buf.indexOf("\n"), l = buf.slice(0, i);
    buf = buf.slice(i + 1);
    return l;
  };
  const port = Number((await line()).split(" ")[1]);
  const c = Deno.dlopen("libc.so.6", SEND);
  const s = c.symbols.socket(2, 2, 0);
  const sa = new Uint8Array(16), dv = new DataView(sa.buffer);
  dv.setUint16(0, 2, true);
  dv.setUint16(2, port, false);
  sa.set([127, 0, 0, 1], 4);
  const ts = new BigInt64Array(2), msg = new Float64Array(1);
  for (let i = 0; i < n; i++) {
    await new Promise((r) => setTimeout(r, 20));
    c.symbols.clock_gettime(0, new Uint8Array(ts.buffer));
    msg[0] = Number(ts[0]) * 1e6 + Number(ts[1]) / 1e3;
    c.symbols.sendto(s, new Uint8Array(msg.buffer), 8n, 0, sa, 16);
  }
  const figures = JSON.parse(await line()) as Figures;
  c.symbols.close(s);
  c.close();
  reader.releaseLock();
  await child.status;
  return figures;
}

/** `wake` section: see the module documentation. */
export async function benchWake(quick: boolean): Promise<void> {
  const n = quick ? 100 : 300;
  const rows: (string | number)[][] = [];
  const here = new URL(".", import.meta.url).pathname;
  const deno = await measure([Deno.execPath(), "run", "-A", "--quiet", `${here}wake_rx.ts`], n);
  let c: Figures | undefined;
  const exe = await Deno.makeTempFile({ prefix: "ouro-wake-" });
  try {
    const cc = await new Deno.Command("cc", { args: ["-O2", "-o", exe, `${here}wake_rx.c`], stderr: "null" })
      .output().catch(() => undefined);
    if (cc?.success) c = await measure([exe], n);
  } finally {
    await Deno.remove(exe).catch(() => {});
  }
  rows.push(["Deno Worker, synchronous FFI poll", deno.median, deno.p10, deno.p90, c ? (deno.median / c.median).toFixed(2) : "-"]);
  rows.push(c ? ["baseline: C, poll(2)", c.median, c.p10, c.p90, "1.00"] : ["baseline: C (no cc here)", "-", "-", "-", "-"]);
  printTable(
    `Wake-up after a datagram, idle, ${n} datagrams 20 ms apart over loopback (µs from the sender's timestamp)`,
    ["receiver", "median", "p10", "p90", "vs C"],
    rows,
  );
}
