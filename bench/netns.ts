/**
 * Helpers of the network benchmarks: namespaces that are removed whatever
 * happens (also on Ctrl-C), the in-namespace pinger, `ouro perf` runs, and
 * the kernel baselines (ping, iperf3).
 * @module
 */
import type { Proc, TestDaemon } from "../tests/util/daemon.ts";
import { netnsUnavailable, Topology } from "../tests/util/netns.ts";
import type { FloodResult, PingerResult } from "./pinger.ts";
import { quantile } from "./util.ts";

const PINGER = new URL("./pinger.ts", import.meta.url).pathname;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const live = new Set<Topology>();
let sigint: (() => void) | undefined;

/**
 * Run `fn` on a fresh topology of `nodes`; its namespaces and daemons are
 * removed afterwards, on error, and on SIGINT. Returns undefined (and says
 * why) when namespaces cannot be used here.
 */
export async function withTopology<T>(
  tag: string,
  nodes: string[],
  fn: (t: Topology) => Promise<T>,
): Promise<T | undefined> {
  const why = await netnsUnavailable();
  if (why) {
    console.log(`skipped: network namespaces unavailable (${why})`);
    return undefined;
  }
  if (!sigint) {
    sigint = () => {
      console.error("\nbench: interrupted, removing namespaces");
      Promise.all([...live].map((t) => t.destroy())).finally(() => Deno.exit(130));
    };
    Deno.addSignalListener("SIGINT", sigint);
  }
  const topo = await Topology.create(tag, nodes);
  live.add(topo);
  try {
    return await fn(topo);
  } finally {
    await topo.destroy();
    live.delete(topo);
  }
}

/** `ouro irm …` that must succeed; returns stdout. */
export async function irm(d: TestDaemon, ...args: string[]): Promise<string> {
  const r = await d.irm(...args);
  if (r.code !== 0) {
    throw new Error(`irm ${args.join(" ")} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  return r.stdout;
}

/** Run a command in a namespace to completion; stdout, throws on failure. */
export async function nsRun(ns: string, cmd: string[]): Promise<string> {
  const o = await new Deno.Command("ip", {
    args: ["netns", "exec", ns, ...cmd],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(o.stdout);
  if (o.code !== 0) {
    throw new Error(
      `${cmd.join(" ")} in ${ns} failed (${o.code}): ${new TextDecoder().decode(o.stderr)}${out}`,
    );
  }
  return out;
}

/** The Deno command line of the pinger. */
function pingerCmd(args: string[]): string[] {
  return [Deno.execPath(), "run", "-A", "--quiet", "--unstable-net", PINGER, ...args];
}

/** Pinger options. */
export interface PingOpts {
  sizes?: number[];
  count: number;
  paced: number;
  gapMs?: number;
  warm?: number;
}

function pingArgs(o: PingOpts): string[] {
  return [
    ...[
      "--sizes",
      (o.sizes ?? [64, 1400]).join(","),
      "--count",
      String(o.count),
      "--paced",
      String(o.paced),
    ],
    ...["--gap", String(o.gapMs ?? 5), "--warm", String(o.warm ?? 20)],
  ];
}

/** Pings with the library from `ns` to the `ouro ping -l` server `name`. */
export async function pingOuro(
  ns: string,
  rundir: string,
  name: string,
  o: PingOpts,
): Promise<PingerResult> {
  return JSON.parse(
    await nsRun(ns, pingerCmd(["ouro", rundir, name, ...pingArgs(o)])),
  ) as PingerResult;
}

/** Pings over a bare UDP socket from `ns` to a `udpServer` at `to` (host:port). */
export async function pingUdp(ns: string, to: string, o: PingOpts): Promise<PingerResult> {
  return JSON.parse(await nsRun(ns, pingerCmd(["udp", to, ...pingArgs(o)]))) as PingerResult;
}

/** A bare-UDP echo/sink server in `ns`; kill it when done. */
export async function udpServer(
  ns: string,
  host: string,
  port: number,
): Promise<Deno.ChildProcess> {
  const child = new Deno.Command("ip", {
    args: ["netns", "exec", ns, ...pingerCmd(["udp-server", host, String(port)])],
    stdout: "piped",
    stderr: "inherit",
    stdin: "null",
  }).spawn();
  const reader = child.stdout.getReader();
  const r = await reader.read();
  reader.releaseLock();
  if (r.done || !new TextDecoder().decode(r.value).includes("udp server started")) {
    throw new Error("udp server did not start");
  }
  child.stdout.pipeTo(new WritableStream()).catch(() => {});
  return child;
}

/** Stop a child process started here and wait for it. */
export async function kill(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGTERM");
  } catch { /* gone */ }
  await child.status;
}

/** A bare-UDP flood (or paced run) from `ns` to a `udpServer`. */
export async function floodUdp(
  ns: string,
  to: string,
  size: number,
  ms: number,
  rateBps?: number,
): Promise<FloodResult> {
  const args = ["udp-flood", to, String(size), String(ms), ...(rateBps ? [String(rateBps)] : [])];
  return JSON.parse(await nsRun(ns, pingerCmd(args))) as FloodResult;
}

/** `ouro perf --json` summary. */
export interface PerfResult {
  sentMbps: number;
  receivedMbps: number | null;
  lossPercent: number | null;
  sentPackets: number;
  durationMs: number;
}

/** One `ouro perf` client run from daemon `d` (rate in bit/s, undefined = flood). */
export async function perf(
  d: TestDaemon,
  name: string,
  size: number,
  ms: number,
  rateBps?: number,
): Promise<PerfResult> {
  const args = [
    "perf",
    "-n",
    name,
    "-s",
    String(size),
    "-d",
    `${ms}`,
    "--json",
    ...(rateBps ? ["-r", String(rateBps)] : []),
  ];
  const r = await d.run(args);
  const line = r.stdout.trim().split("\n").pop() ?? "";
  if (!line.startsWith("{")) {
    throw new Error(`ouro ${args.join(" ")} failed (${r.code}): ${r.stderr}${r.stdout}`);
  }
  return JSON.parse(line) as PerfResult;
}

/** Kernel ICMP ping from `ns` to `ip`: paced per-packet median/p99 and flood average. */
export async function kernelPing(
  ns: string,
  ip: string,
  size: number,
  n: number,
  paced: number,
  gapMs: number,
) {
  const s = String(Math.max(16, size - 8)); // ICMP header 8 B: the ICMP message is `size` bytes
  const p = await nsRun(ns, ["ping", "-q", "-c", "1", "-s", s, ip]).catch(() => ""); // ARP
  void p;
  const slow = await nsRun(ns, [
    "ping",
    "-n",
    "-c",
    String(paced),
    "-i",
    String(gapMs / 1000),
    "-s",
    s,
    ip,
  ]);
  const times = [...slow.matchAll(/time=([0-9.]+) ms/g)].map((m) => Number(m[1])).sort((a, b) =>
    a - b
  );
  const fl = await nsRun(ns, ["ping", "-n", "-f", "-c", String(n), "-s", s, ip]);
  const avg = Number(/= [0-9.]+\/([0-9.]+)\//.exec(fl)?.[1] ?? NaN);
  const totalMs = Number(/time ([0-9]+)ms/.exec(fl)?.[1] ?? NaN);
  return {
    paced: {
      medianUs: quantile(times, 0.5) * 1000,
      p99Us: quantile(times, 0.99) * 1000,
      n: times.length,
    },
    flood: { avgUs: avg * 1000, rtPerS: n / (totalMs / 1000) },
  };
}

/** iperf3 UDP from `ns` to a server in `srvNs` at `ip`, or undefined without iperf3. */
export async function iperfUdp(
  ns: string,
  srvNs: string,
  ip: string,
  size: number,
  ms: number,
  rate = "0",
): Promise<FloodResult | undefined> {
  const have = await new Deno.Command("sh", {
    args: ["-c", "command -v iperf3"],
    stdout: "null",
    stderr: "null",
  }).output();
  if (!have.success) return undefined;
  const srv = new Deno.Command("ip", {
    args: ["netns", "exec", srvNs, "iperf3", "-s", "-1", "-B", ip],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    let out = "";
    for (let i = 0; i < 20 && !out; i++) {
      await sleep(100);
      out = await nsRun(ns, [
        "iperf3",
        "-c",
        ip,
        "-u",
        "-b",
        rate,
        "-l",
        String(size),
        "-t",
        String(ms / 1000),
        "--json",
      ])
        .catch(() => "");
    }
    if (!out) return undefined;
    const j = JSON.parse(out);
    const s = j.end.sum;
    return {
      size,
      durationMs: Math.round(s.seconds * 1000),
      sentPackets: s.packets,
      sentMbps: +(s.bytes * 8 / s.seconds / 1e6).toFixed(1),
      receivedPackets: s.packets - s.lost_packets,
      receivedMbps: +(s.bytes * 8 * (1 - s.lost_percent / 100) / s.seconds / 1e6).toFixed(1),
      lossPercent: +s.lost_percent.toFixed(3),
    };
  } finally {
    await kill(srv);
  }
}

/** Wait for `proc` to say its server started. */
export async function started(proc: Proc): Promise<Proc> {
  await proc.waitFor(/server started/, 20000);
  return proc;
}

/** Stop tool processes started here. */
export async function stopAll(...ps: Proc[]): Promise<void> {
  for (const p of ps) p.kill();
  await Promise.all(ps.map((p) => p.done()));
}

/** VmRSS of a process in MiB (from /proc). */
export async function rssMiB(pid: number): Promise<number> {
  const s = await Deno.readTextFile(`/proc/${pid}/status`).catch(() => "");
  const kb = Number(/VmRSS:\s+([0-9]+) kB/.exec(s)?.[1] ?? NaN);
  return kb / 1024;
}
