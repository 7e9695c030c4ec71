/**
 * `trust` section (issue "Trustworthy flows"): what encryption and
 * reliability cost. Throughput of a reliable (`data`) flow, clear and
 * encrypted, with the CPU every process spent per byte (daemons and apps,
 * user + system time from /proc), on a local layer and across two
 * namespaces over udp4 — directly on a veth, and through the user-space
 * wire of tests/util/impair.ts at 0% and 1% loss (the kernel here has no
 * netem). Then the OAP handshake time per flow allocation for each key
 * exchange, and (full run only) 20 MB through 10% loss, 5% duplicates,
 * 50 ± 20 ms delay.
 * @module
 */
import { Ouro, qosRaw } from "../mod.ts";
import type { TestDaemon } from "../tests/util/daemon.ts";
import { MAIN, sha256 } from "../tests/util/daemon.ts";
import { Relay } from "../tests/util/impair.ts";
import type { Topology } from "../tests/util/netns.ts";
import { irm, withTopology } from "./netns.ts";
import { ouroRun, ouroSpawn, printTable, stop, summary, waitFile, waitOutput } from "./util.ts";

/** Goals of the issue. */
export const TRUST_GOALS = { encryptedOverClear: 0.7, lossyOverClean: 0.7 };

const CLK_TCK = 100;
const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);

/** user + system CPU seconds of a live process (own, or children reaped: `children`). */
async function cpuS(pid: number, children = false): Promise<number> {
  const s = await Deno.readTextFile(`/proc/${pid}/stat`);
  const f = s.slice(s.lastIndexOf(")") + 2).split(" "); // f[0] is field 3 (state)
  const [u, k] = children ? [13, 14] : [11, 12]; // utime 14, stime 15, cutime 16, cstime 17
  return (Number(f[u]) + Number(f[k])) / CLK_TCK;
}

/** One throughput measurement. */
interface Tput {
  mbps: number;
  cpuS: number;
  bytes: number;
  lossPercent: number;
}

/** How a run reaches its daemons: one (local layer) or two. */
interface Env {
  /** Where the client runs: its rundir and netns. */
  client: { rundir: string; netns?: string; pid: number };
  /** Daemon pids whose CPU counts. */
  daemons: number[];
  /** Perf server pids (alive through the runs). */
  servers: number[];
}

/**
 * `ouro perf -q data` from the client for `ms`; CPU of the client (reaped by
 * a wrapping shell), the daemons and the servers over the run.
 */
async function perfRun(env: Env, name: string, ms: number, encrypt: boolean): Promise<Tput> {
  const q = (x: string) => `'${x}'`;
  const args = [Deno.execPath(), "run", "-A", "--quiet", MAIN, "perf", "--rundir", env.client.rundir];
  args.push("-n", name, "-q", "data", "-s", "1400", "-d", `${ms}`, "--json", ...(encrypt ? ["-e"] : []));
  const sh = `${args.map(q).join(" ")}; cat /proc/$$/stat >&2`;
  const cmd = env.client.netns ? ["ip", "netns", "exec", env.client.netns, "sh", "-c", sh] : ["sh", "-c", sh];
  const pids = [...env.daemons, ...env.servers];
  const before = await Promise.all(pids.map((p) => cpuS(p)));
  const o = await new Deno.Command(cmd[0]!, { args: cmd.slice(1), stdout: "piped", stderr: "piped" }).output();
  const after = await Promise.all(pids.map((p) => cpuS(p)));
  const out = new TextDecoder().decode(o.stdout), err = new TextDecoder().decode(o.stderr);
  const line = out.trim().split("\n").pop() ?? "";
  if (!line.startsWith("{")) throw new Error(`perf to ${name} failed: ${err}${out}`);
  const r = JSON.parse(line);
  const stat = err.trim().split("\n").pop()!;
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const clientCpu = (Number(f[13]) + Number(f[14])) / CLK_TCK;
  const others = after.reduce((a, x, i) => a + x - before[i]!, 0);
  const bytes = (r.receivedMbps ?? 0) * 1e6 / 8 * (r.durationMs / 1000);
  return { mbps: r.receivedMbps ?? 0, cpuS: clientCpu + others, bytes, lossPercent: r.lossPercent ?? NaN };
}

type Row = (string | number)[];

function tputRow(path: string, loss: string, enc: string, t: Tput, clear?: Tput): Row {
  const usPerKB = t.bytes > 0 ? t.cpuS * 1e6 / (t.bytes / 1000) : NaN;
  return [path, loss, enc, f1(t.mbps), f2(t.cpuS), f1(usPerKB), clear ? f2(t.mbps / clear.mbps) : "-"];
}

/** clear, chacha20-poly1305 (-e) and aes-256-gcm (the name's enc.conf) on one environment. */
async function tputSet(env: Env, path: string, loss: string, ms: number, rows: Row[]): Promise<{ clear: Tput; enc: Tput }> {
  const clear = await perfRun(env, "tp", ms, false);
  const enc = await perfRun(env, "tp", ms, true);
  const aes = await perfRun(env, "tp.aes", ms, false);
  rows.push(tputRow(path, loss, "none", clear));
  rows.push(tputRow(path, loss, "X25519 + chacha20-poly1305", enc, clear));
  rows.push(tputRow(path, loss, "X25519 + aes-256-gcm", aes, clear));
  return { clear, enc };
}

/** A security directory asking for AES-256-GCM on flows to `tp.aes`. */
async function aesSecDir(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "ouro-bench-sec-" });
  await Deno.mkdir(`${dir}/client/tp.aes`, { recursive: true });
  await Deno.writeTextFile(`${dir}/client/tp.aes/enc.conf`, "kex = X25519\ncipher = aes-256-gcm\n");
  return dir;
}

async function localLayer(ms: number, rows: Row[]): Promise<void> {
  const rundir = await Deno.makeTempDir({ prefix: "ouro-bench-" });
  const sec = await aesSecDir();
  const irmd = ouroSpawn(["irmd", "--rundir", rundir, "-q", "--no-direct", "--secdir", sec]);
  const servers: Deno.ChildProcess[] = [];
  try {
    await waitFile(`${rundir}/irm.sock`);
    await ouroRun(["irm", "--rundir", rundir, "ipcp", "bootstrap", "name", "loc", "type", "local", "layer", "L"]);
    for (const n of ["tp", "tp.aes"]) {
      const s = ouroSpawn(["perf", "-l", "--name", n, "--layer", "L", "--rundir", rundir]);
      servers.push(s);
      await waitOutput(s, /server started/);
    }
    const env: Env = { client: { rundir, pid: 0 }, daemons: [irmd.pid], servers: servers.map((s) => s.pid) };
    await tputSet(env, "local layer", "-", ms, rows);
  } finally {
    for (const s of servers) await stop(s);
    await stop(irmd);
    await Deno.remove(rundir, { recursive: true }).catch(() => {});
    await Deno.remove(sec, { recursive: true }).catch(() => {});
  }
}

/** udp4 layer "low" between a and b; perf servers tp and tp.aes on b. */
async function udpPair(topo: Topology, ipA: string, ipB: string, sec: string, extra: string[] = []) {
  const [a, b] = await Promise.all([topo.daemon("a", ["--secdir", sec]), topo.daemon("b")]);
  const boot = ["ipcp", "bootstrap", "name", "u", "type", "udp4", "layer", "low", "ip"];
  const names = ["tp", "tp.aes", "hs", ...extra];
  await irm(a, ...boot, ipA, ...names.flatMap((n) => ["peer", `${n}=${ipB}`]));
  await irm(b, ...boot, ipB);
  const servers = [b.spawn(["perf", "-l", "--name", "tp", "--layer", "low"]), b.spawn(["perf", "-l", "--name", "tp.aes", "--layer", "low"])];
  for (const s of servers) await s.waitFor(/server started/, 15000);
  await new Promise((r) => setTimeout(r, 300)); // registration in the layer
  const env: Env = { client: { rundir: a.rundir, netns: a.netns!, pid: 0 }, daemons: [a.proc.pid, b.proc.pid], servers: servers.map((s) => s.pid) };
  return { a, b, env, servers };
}

/** Median and p99 of flow allocations to "hs" on b, per key exchange. */
async function handshakes(a: TestDaemon, b: TestDaemon, n: number): Promise<Row[]> {
  const oa = await Ouro.connect({ rundir: a.rundir, prog: "bench-hs-client" });
  const ob = await Ouro.connect({ rundir: b.rundir, prog: "bench-hs-server" });
  const rows: Row[] = [];
  const ac = new AbortController();
  try {
    await ob.bind("hs", { layer: "low" });
    await new Promise((r) => setTimeout(r, 300));
    const acceptor = (async () => {
      while (!ac.signal.aborted) {
        const f = await ob.flowAccept({ signal: ac.signal }).catch(() => undefined);
        f?.close().catch(() => {});
      }
    })();
    let none = NaN;
    for (const kex of ["none", "prime256v1", "X25519", "ffdhe2048", "ML-KEM-768", "X25519MLKEM768"]) {
      const ms: number[] = [];
      let cipher: string | undefined;
      for (let i = 0; i < n + 2; i++) {
        const t = performance.now();
        const f = await oa.flowAlloc("hs", { qos: qosRaw, ...(kex === "none" ? {} : { encryption: { kex } }) });
        if (i >= 2) ms.push(performance.now() - t); // two warm-up allocations
        cipher = f.cipher;
        await f.close();
      }
      const s = summary(ms);
      if (kex === "none") none = s.medianUs;
      rows.push([kex, cipher ?? "none", n, f2(s.medianUs / 1000), f2(s.p99Us / 1000), f2(s.medianUs / none)]);
    }
    ac.abort();
    await acceptor;
  } finally {
    ac.abort();
    await oa.close();
    await ob.close();
  }
  return rows;
}

/** 20 MB with `ouro cat -q data` through 10% loss, 5% duplicates, reordering, 50 ± 20 ms. */
async function lossyCat(topo: Topology, relay: Relay, a: TestDaemon, b: TestDaemon, bytes: number): Promise<Row> {
  const input = new Uint8Array(bytes);
  for (let o = 0; o < bytes; o += 65536) input.set(crypto.getRandomValues(new Uint8Array(Math.min(65536, bytes - o))), o);
  const file = await Deno.makeTempFile({ prefix: "ouro-bench-" });
  await Deno.writeFile(file, input);
  const sink = b.spawn(["cat", "-l", "--name", "sink", "--layer", "low"]);
  try {
    await new Promise((r) => setTimeout(r, 1500));
    const line = [Deno.execPath(), "run", "-A", "--quiet", MAIN, "cat", "--rundir", a.rundir, "-q", "data", "sink"].map((x) => `'${x}'`).join(" ");
    const t0 = performance.now();
    const sending = new Deno.Command("ip", { args: ["netns", "exec", topo.nsOf("a"), "sh", "-c", `exec ${line} < '${file}'`], stdout: "null", stderr: "piped" }).output();
    await a.proc.waitFor(/allocated for \d+ to sink/, 15000, "stderr");
    relay.impair = { loss: 0.1, duplicate: 0.05, delayMs: 50, jitterMs: 20, reorder: 0.05 };
    const o = await sending;
    const ms = performance.now() - t0;
    relay.impair = {};
    await sink.done();
    const same = o.code === 0 && (await sha256(sink.stdoutBytes())) === (await sha256(input));
    return [`${bytes / 1e6} MB`, (ms / 1000).toFixed(1), f1(bytes / ms), same ? "yes" : "NO", relay.stats.dropped, relay.stats.duplicated];
  } finally {
    sink.kill();
    await sink.done();
    await Deno.remove(file).catch(() => {});
  }
}

/** Run the trust benchmarks; `quick` shortens everything and skips the 20 MB lossy transfer. */
export async function benchTrust(quick: boolean): Promise<void> {
  const ms = quick ? 2000 : 5000;
  // per-packet sealing cost, each backend against node:crypto in the same run
  const cb = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./crypto_bench.ts", import.meta.url).pathname, quick ? "10000" : "40000"],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  console.log("Per-packet sealing (1400 B): libcrypto through FFI against node:crypto, same run");
  console.log(new TextDecoder().decode(cb.stdout).trimEnd() + "\n");
  const rows: Row[] = [];
  const ratios: Row[] = [];
  await localLayer(ms, rows);
  const sec = await aesSecDir();
  let hs: Row[] = [];
  try {
    await withTopology("btv", ["a", "b"], async (topo) => {
      const l = await topo.link("a", "b");
      const p = await udpPair(topo, l.ipA, l.ipB, sec);
      await tputSet(p.env, "udp4, 2 namespaces, veth", "0%", ms, rows);
      hs = await handshakes(p.a, p.b, quick ? 5 : 30);
    });
    let lossy: Row | undefined;
    await withTopology("btr", [], async (topo) => {
      const relay = await Relay.create(topo);
      try {
        const p = await udpPair(topo, relay.ipA, relay.ipB, sec, ["sink"]);
        const clean = await tputSet(p.env, "udp4 via relay", "0%", ms, rows);
        relay.impair = { loss: 0.01 };
        const lost = await tputSet(p.env, "udp4 via relay", "1%", ms, rows);
        relay.impair = {};
        ratios.push(["1%-loss / 0%-loss, data flow, clear", f2(lost.clear.mbps / clean.clear.mbps), TRUST_GOALS.lossyOverClean]);
        ratios.push(["1%-loss / 0%-loss, data flow, chacha20", f2(lost.enc.mbps / clean.enc.mbps), TRUST_GOALS.lossyOverClean]);
        if (!quick) lossy = await lossyCat(topo, relay, p.a, p.b, 20_000_000);
      } finally {
        await relay.close();
      }
    });
    for (const r of rows) {
      if (r[2] !== "none") ratios.unshift([`encrypted / clear: ${r[0]}, loss ${r[1]}, ${r[2]}`, r[6]!, TRUST_GOALS.encryptedOverClear]);
    }
    printTable(
      `Reliable flow throughput (ouro perf -q data -s 1400, ${ms / 1000} s flood). CPU: user+sys of both daemons, perf client and server.`,
      ["path", "loss", "encryption", "Mb/s", "CPU s", "CPU µs/kB", "enc/clear"],
      rows,
    );
    printTable("Ratios against the goals", ["ratio", "ours", "goal ≥"], ratios);
    printTable(
      "OAP handshake: flow allocation time over udp4 between two namespaces (library, raw QoS, alloc until usable)",
      ["kex", "cipher", "n", "median ms", "p99 ms", "vs none"],
      hs,
    );
    if (lossy) {
      printTable(
        "ouro cat -q data through 10% loss, 5% duplicates, 5% reordered, 50 ± 20 ms one way (user-space relay)",
        ["size", "s", "kB/s", "sha256 equal", "frames dropped", "frames duplicated"],
        [lossy],
      );
    }
  } finally {
    await Deno.remove(sec, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) await benchTrust(Deno.args.includes("--quick"));
