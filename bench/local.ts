/**
 * Local-layer benchmarks (issue: foundation): ping RTT and perf throughput
 * between two processes on one host, direct and through the local IPCP,
 * against a same-run baseline — a bare Deno UNIX-socket ping-pong between
 * two processes, the floor of any design that crosses a process boundary —
 * and the reference's figures on these machines (spec README).
 * @module
 */
import { Ouro } from "../mod.ts";
import { MAIN, ouroRun, ouroSpawn, printTable, stop, summary, waitFile, waitOutput } from "./util.ts";

/** The reference's measurements here (spec README), µs and Gb/s. */
export const REFERENCE = { localPingUs: 361, directPingUs: 73, localFloodUs: 41.7, gbps1500: 7.0 };

async function pingSeries(flow: Awaited<ReturnType<Ouro["flowAlloc"]>>, size: number, n: number, gapMs: number): Promise<number[]> {
  const buf = new Uint8Array(size);
  const rtts: number[] = [];
  for (let i = 0; i < n; i++) {
    new DataView(buf.buffer).setUint32(4, i);
    const t = performance.now();
    await flow.write(buf);
    const r = await flow.read({ timeoutMs: 5000 });
    if (!r) throw new Error("flow ended");
    rtts.push(performance.now() - t);
    if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
  }
  return rtts;
}

/** A bare UNIX stream ping-pong between this process and a child: the floor. */
async function baselineUnix(size: number, n: number, gapMs: number): Promise<number[]> {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/echo.sock`;
  const code = `const l = Deno.listen({transport:"unix", path:${JSON.stringify(path)}});
    const c = await l.accept(); const b = new Uint8Array(65536);
    for (;;) { const k = await c.read(b); if (k === null) break; await c.write(b.subarray(0, k)); }`;
  const child = new Deno.Command(Deno.execPath(), { args: ["eval", code], stdout: "null", stderr: "inherit" }).spawn();
  await waitFile(path);
  const c = await Deno.connect({ transport: "unix", path });
  const buf = new Uint8Array(size);
  const rb = new Uint8Array(65536);
  const rtts: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await c.write(buf);
    let got = 0;
    while (got < size) got += (await c.read(rb))!;
    rtts.push(performance.now() - t);
    if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
  }
  c.close();
  await child.status;
  await Deno.remove(dir, { recursive: true });
  return rtts;
}

/** Run the local benchmarks; `quick` shortens everything. */
export async function benchLocal(quick: boolean): Promise<void> {
  const n = quick ? 300 : 2000;
  const paced = quick ? 50 : 200;
  const rows: (string | number)[][] = [];
  const tput: (string | number)[][] = [];
  for (const direct of [true, false]) {
    const rundir = await Deno.makeTempDir({ prefix: "ouro-bench-" });
    const irmd = ouroSpawn(["irmd", "--rundir", rundir, "-q", ...(direct ? [] : ["--no-direct"])]);
    await waitFile(`${rundir}/irm.sock`);
    await ouroRun(["irm", "--rundir", rundir, "ipcp", "bootstrap", "name", "loc", "type", "local", "layer", "L"]);
    const srv = ouroSpawn(["ping", "-l", "--name", "bench.ping", "--layer", "L", "--rundir", rundir]);
    await waitOutput(srv, /server started/);
    const ouro = await Ouro.connect({ rundir, prog: "bench" });
    const via = direct ? "direct" : "local IPCP";
    for (const size of [64, 1400]) {
      const flow = await ouro.flowAlloc("bench.ping");
      await pingSeries(flow, size, 50, 0); // warm up
      const flood = summary(await pingSeries(flow, size, n, 0));
      const slow = summary(await pingSeries(flow, size, paced, 5));
      await flow.close();
      const ref = direct ? REFERENCE.directPingUs : REFERENCE.localPingUs;
      rows.push([via, size, "back-to-back", flood.medianUs.toFixed(1), flood.p99Us.toFixed(1), (ref / flood.medianUs).toFixed(2)]);
      rows.push([via, size, "every 5 ms", slow.medianUs.toFixed(1), slow.p99Us.toFixed(1), (ref / slow.medianUs).toFixed(2)]);
    }
    await ouro.close();
    await stop(srv);
    const psrv = ouroSpawn(["perf", "-l", "--name", "bench.perf", "--layer", "L", "--rundir", rundir]);
    await waitOutput(psrv, /server started/);
    for (const size of [64, 1400, 8192]) {
      const out = await ouroRun(["perf", "-n", "bench.perf", "-s", String(size), "-d", quick ? "1s" : "3s", "--json", "--rundir", rundir]);
      const r = JSON.parse(out.trim().split("\n").pop()!);
      const gbps = r.receivedMbps / 1000;
      tput.push([via, size, r.sentPackets, (r.sentPackets / (r.durationMs / 1000) / 1000).toFixed(0), gbps.toFixed(2), r.lossPercent, size === 1400 ? (gbps / REFERENCE.gbps1500).toFixed(2) : "-"]);
    }
    await stop(psrv);
    await stop(irmd);
    await Deno.remove(rundir, { recursive: true }).catch(() => {});
  }
  // same-run baseline
  const b64 = summary(await baselineUnix(64, n, 0));
  const b64s = summary(await baselineUnix(64, paced, 5));
  rows.push(["baseline: bare unix socket, 2 procs", 64, "back-to-back", b64.medianUs.toFixed(1), b64.p99Us.toFixed(1), "-"]);
  rows.push(["baseline: bare unix socket, 2 procs", 64, "every 5 ms", b64s.medianUs.toFixed(1), b64s.p99Us.toFixed(1), "-"]);
  printTable(
    `Ping RTT over the local layer (${n} back-to-back, ${paced} paced). Reference: ${REFERENCE.directPingUs} µs direct, ${REFERENCE.localPingUs} µs local IPCP (median).`,
    ["path", "bytes", "mode", "median µs", "p99 µs", "ref/ours"],
    rows,
  );
  const ours = rows.find((r) => r[0] === "direct" && r[1] === 64 && r[2] === "back-to-back")!;
  console.log(`ratio ours/baseline (direct, 64 B, back-to-back): ${(Number(ours[3]) / b64.medianUs).toFixed(2)}x the bare socket RTT`);
  printTable(
    `Throughput over the local layer (ouro perf, flood, received at the server). Reference: ${REFERENCE.gbps1500} Gb/s at 1500 B.`,
    ["path", "bytes", "packets", "kpps", "Gb/s", "loss %", "ours/ref"],
    tput,
  );
}

if (import.meta.main) await benchLocal(Deno.args.includes("--quick"));
export { MAIN };
