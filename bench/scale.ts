/**
 * Many-hosts benchmark (issue: many hosts): N nodes in namespaces on a ring
 * with chords (node i linked to i+1 and i+4 mod N), one `ouro irmd` each, a
 * udp4 layer per link (`l<k>`, its peer table naming the neighbour), and a
 * unicast layer "net" enrolled hop by hop with fast link-state timers.
 * Measured: setup and enrolment times, time until every node's routing
 * table reaches every other node, re-convergence after a link is cut, the
 * first DHT lookup of a name on the farthest node (flow allocation time),
 * ping RTT over that path, and each irmd's memory and idle CPU — against
 * the same daemons with no IPCPs (memory) and one hop (RTT) in the same run.
 * @module
 */
import { Ouro } from "../mod.ts";
import type { TestDaemon } from "../tests/util/daemon.ts";
import type { Topology } from "../tests/util/netns.ts";
import { irm, pingOuro, rssMiB, sleep, started, stopAll, withTopology } from "./netns.ts";
import { printTable, quantile } from "./util.ts";

/** Link-state timers (s) at the low ends of their ranges. */
const FAST_LS = ["ls_t_update", "1", "ls_t_timeo", "3", "ls_t_recalc", "1"];

const uni = (i: number) => `uni.${i}`;
const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : "-");

/** Ring plus chords: i–i+1 and i–i+4 (mod n), each link once. */
export function ringChords(n: number, chord = 4): [number, number][] {
  const out: [number, number][] = [];
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    for (const j of [(i + 1) % n, (i + chord) % n]) {
      const key = [Math.min(i, j), Math.max(i, j)].join("-");
      if (i === j || seen.has(key)) continue;
      seen.add(key);
      out.push([i, j]);
    }
  }
  return out;
}

/** Hop counts from `src` (BFS). */
export function hops(n: number, links: [number, number][], src: number): number[] {
  const d = new Array<number>(n).fill(Infinity);
  d[src] = 0;
  const q = [src];
  while (q.length) {
    const x = q.shift()!;
    for (const [a, b] of links) {
      const y = a === x ? b : b === x ? a : -1;
      if (y >= 0 && d[y] === Infinity) (d[y] = d[x]! + 1, q.push(y));
    }
  }
  return d;
}

interface UniDetail {
  address: number;
  routes: { dst: number; nhops: number[] }[];
}

/** The unicast IPCP's details, asked over a control connection (no CLI process per poll). */
async function detailOf(o: Ouro, i: number): Promise<UniDetail | undefined> {
  const r = await o.request({ op: "ipcp.list" }).catch(() => undefined);
  const row = (r?.ipcps as { name: string; detail?: UniDetail }[] | undefined)?.find((x) =>
    x.name === uni(i)
  );
  return row?.detail;
}

/** CPU seconds (user + system) a process has used. */
async function cpuS(pid: number): Promise<number> {
  const s = await Deno.readTextFile(`/proc/${pid}/stat`).catch(() => "");
  const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

/** Poll every node until `done(node, detail)` holds for all; ms per node since `t0`. */
async function pollAll(
  ds: Ouro[],
  t0: number,
  done: (i: number, d: UniDetail) => boolean,
  timeoutMs: number,
): Promise<number[]> {
  const at = new Array<number>(ds.length).fill(NaN);
  const end = performance.now() + timeoutMs;
  while (at.some((x) => Number.isNaN(x)) && performance.now() < end) {
    await Promise.all(ds.map(async (d, i) => {
      if (!Number.isNaN(at[i]!)) return;
      const det = await detailOf(d, i);
      if (det && done(i, det)) at[i] = performance.now() - t0;
    }));
    await sleep(100);
  }
  return at;
}

/** Run `fn` on items with at most `k` at a time. */
async function limited<T>(items: T[], k: number, fn: (x: T) => Promise<void>): Promise<void> {
  const q = [...items];
  await Promise.all(Array.from({ length: k }, async () => {
    for (let x = q.shift(); x !== undefined; x = q.shift()) await fn(x);
  }));
}

/** `scale` section. */
export async function benchScale(quick: boolean): Promise<void> {
  const n = 16;
  const links = ringChords(n);
  const nodes = Array.from({ length: n }, (_, i) => String(i));
  const rows: (string | number)[][] = [];
  const mem: (string | number)[][] = [];
  await withTopology("bscale", nodes, async (topo: Topology) => {
    const t = performance.now();
    for (const [a, b] of links) await topo.link(String(a), String(b));
    const ds: TestDaemon[] = [];
    await limited(nodes, 4, async (x) => void (ds[Number(x)] = await topo.daemon(x)));
    rows.push([
      "namespaces, veths, daemons",
      `${n} nodes, ${links.length} links`,
      f1((performance.now() - t) / 1000) + " s",
    ]);
    const rssIdle = await Promise.all(ds.map((d) => rssMiB(d.proc.pid)));
    // control connections from here (the sockets are files: no namespace in the way)
    const os: Ouro[] = [];
    try {
      for (const d of ds) os.push(await Ouro.connect({ rundir: d.rundir, prog: "bench-scale" }));
      await measure(topo, ds, os, links, quick, rows, mem, rssIdle);
    } finally {
      await Promise.all(os.map((o) => o.close().catch(() => {})));
    }
  });
  if (!rows.length) return;
  printTable(
    `Unicast layer over udp4, ${n} nodes on a ring with chords (i–i+1, i–i+4), link-state timers update 1 s / timeout 3 s / recalc 1 s`,
    ["step", "what", "time"],
    rows,
  );
  printTable(`Per irmd (${n} daemons)`, ["figure", "min", "median", "max", "sum"], mem);
}

async function measure(
  topo: Topology,
  ds: TestDaemon[],
  os: Ouro[],
  links: [number, number][],
  quick: boolean,
  rows: (string | number)[][],
  mem: (string | number)[][],
  rssIdle: number[],
): Promise<void> {
  const n = ds.length;
  const nodes = Array.from({ length: n }, (_, i) => String(i));
  // what one `ouro irm` run costs here: the CLI's share of the enrol/connect times below
  let t = performance.now();
  await irm(ds[0]!, "ipcp", "list");
  const cliMs = performance.now() - t;

  // one udp4 IPCP per link end, its peer table naming the neighbour's unicast IPCP
  t = performance.now();
  await limited(nodes.map(Number), 2, async (i) => {
    for (const [k, l] of topo.links.entries()) {
      const mine = l.a === String(i)
        ? { ip: l.ipA, peer: l.b, peerIp: l.ipB }
        : l.b === String(i)
        ? { ip: l.ipB, peer: l.a, peerIp: l.ipA }
        : undefined;
      if (!mine) continue;
      const name = `low${k}.${i}`;
      await os[i]!.request({ op: "ipcp.create", name, type: "udp4" });
      await os[i]!.request({
        op: "ipcp.bootstrap",
        name,
        conf: {
          layer: `l${k}`,
          options: { ip: mine.ip, peers: `${uni(Number(mine.peer))}=${mine.peerIp}` },
        },
      });
    }
  });
  rows.push([
    `udp4 lower layers`,
    `${2 * links.length} IPCPs`,
    f1((performance.now() - t) / 1000) + " s",
  ]);

  // the unicast layer: 0 bootstraps, i enrols via i-1, then connects to its neighbours below i
  t = performance.now();
  await irm(
    ds[0]!,
    "ipcp",
    "bootstrap",
    "name",
    uni(0),
    "type",
    "unicast",
    "layer",
    "net",
    ...FAST_LS,
    "autobind",
  );
  await irm(ds[0]!, "name", "register", uni(0), "layer", "l*");
  const enrolMs: number[] = [];
  const connMs: number[] = [];
  for (let i = 1; i < n; i++) {
    const te = performance.now();
    await irm(ds[i]!, "ipcp", "enroll", "name", uni(i), "dst", uni(i - 1), "autobind");
    enrolMs.push(performance.now() - te);
    await irm(ds[i]!, "name", "register", uni(i), "layer", "l*");
    for (const [a, b] of links) {
      const j = a === i ? b : b === i ? a : -1;
      if (j < 0 || j > i) continue;
      for (const comp of ["mgmt", "dt"]) {
        const tc = performance.now();
        await irm(ds[i]!, "ipcp", "connect", "name", uni(i), "dst", uni(j), "component", comp);
        connMs.push(performance.now() - tc);
      }
    }
  }
  const tLast = performance.now();
  rows.push([
    "unicast layer: enrol + connect all",
    `${n - 1} enrolments, ${connMs.length} connects`,
    f1((tLast - t) / 1000) + " s",
  ]);
  const es = enrolMs.sort((a, b) => a - b), cs = connMs.sort((a, b) => a - b);
  rows.push([
    "  one enrolment, `ouro irm ipcp enroll` (median / max)",
    "",
    `${f1(quantile(es, 0.5))} / ${f1(es.at(-1)!)} ms`,
  ]);
  rows.push([
    "  one connect, `ouro irm ipcp connect` (median / max)",
    "",
    `${f1(quantile(cs, 0.5))} / ${f1(cs.at(-1)!)} ms`,
  ]);
  rows.push(["  baseline: `ouro irm ipcp list`", "", `${f1(cliMs)} ms`]);

  // routing convergence: every node has a route to every other address
  const addrs = new Map<number, number>();
  for (let i = 0; i < n; i++) addrs.set(i, (await detailOf(os[i]!, i))!.address);
  const all = [...addrs.values()];
  const complete = (i: number, d: UniDetail) => {
    const dst = new Set(d.routes.filter((r) => r.nhops.length).map((r) => r.dst));
    return all.every((a) => a === addrs.get(i) || dst.has(a));
  };
  const conv = await pollAll(os, tLast, complete, 60000);
  const cv = [...conv].sort((a, b) => a - b);
  rows.push([
    "routing converged after the last connect (median / all nodes)",
    "",
    `${f1(quantile(cv, 0.5))} / ${f1(cv.at(-1)!)} ms`,
  ]);

  // a name on the farthest node from node 0: first allocation = DHT lookup + flow allocation over 3 hops
  const d0 = hops(n, links, 0);
  const far = d0.indexOf(Math.max(...d0));
  const srv = await started(ds[far]!.spawn(["ping", "-l", "--name", "far.ping", "--layer", "net"]));
  try {
    const tr = performance.now();
    let first: number | undefined, tries = 0;
    while (first === undefined && performance.now() - tr < 20000) {
      tries++;
      const r = await pingOuro(topo.nsOf("0"), ds[0]!.rundir, "far.ping", { count: 0, paced: 0 })
        .catch(() => undefined);
      if (r) first = r.allocMs;
      else await sleep(200);
    }
    rows.push([
      `first flow allocation 0 → ${far} (${d0[far]} hops)`,
      `${tries} tries`,
      `${f1(first ?? NaN)} ms (${f1(performance.now() - tr)} ms after the server started)`,
    ]);
    const fromFar = hops(n, links, far);
    for (const h of [1, 2, 3]) {
      const src = fromFar.findIndex((x, i) => x === h && i !== 0);
      if (src < 0) continue;
      const r = await pingOuro(topo.nsOf(String(src)), ds[src]!.rundir, "far.ping", {
        count: 0,
        paced: 0,
      }).catch(() => undefined);
      rows.push([
        `first flow allocation ${src} → ${far} (${h} hops)`,
        "",
        `${f1(r?.allocMs ?? NaN)} ms`,
      ]);
    }
    // RTT over the longest path against one hop
    const opts = { sizes: [64], count: quick ? 200 : 1000, paced: quick ? 50 : 200, warm: 50 };
    const long = await pingOuro(topo.nsOf("0"), ds[0]!.rundir, "far.ping", opts);
    const near = fromFar.findIndex((x) => x === 1);
    const short = await pingOuro(topo.nsOf(String(near)), ds[near]!.rundir, "far.ping", opts);
    for (const [label, r] of [[`${d0[far]} hops`, long], ["1 hop (baseline)", short]] as const) {
      const s = r.sizes[0]!;
      rows.push([
        `ping 64 B over ${label}, back-to-back / every 5 ms (median)`,
        `p99 ${f1(s.flood.p99Us)} / ${f1(s.paced.p99Us)} µs`,
        `${f1(s.flood.medianUs)} / ${f1(s.paced.medianUs)} µs`,
      ]);
    }
    const ratio = long.sizes[0]!.paced.medianUs / short.sizes[0]!.paced.medianUs;
    rows.push(["  longest path / one hop (paced median)", "", ratio.toFixed(2) + "x"]);
  } finally {
    await stopAll(srv);
  }

  // memory and idle CPU of each irmd with its 4 udp4 IPCPs and its unicast IPCP
  const idleS = quick ? 3 : 10;
  const cpu0 = await Promise.all(ds.map((d) => cpuS(d.proc.pid)));
  await sleep(idleS * 1000);
  const cpu1 = await Promise.all(ds.map((d) => cpuS(d.proc.pid)));
  const rss = await Promise.all(ds.map((d) => rssMiB(d.proc.pid)));
  const cpuPct = cpu1.map((c, i) => (c - cpu0[i]!) / idleS * 100);
  const stat = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return [f1(s[0]!), f1(quantile(s, 0.5)), f1(s.at(-1)!), f1(s.reduce((a, b) => a + b, 0))];
  };
  mem.push(["VmRSS MiB, fresh irmd (no IPCPs)", ...stat(rssIdle)]);
  mem.push(["VmRSS MiB, converged (5 IPCPs)", ...stat(rss)]);
  mem.push([`CPU % of a core, idle ${idleS} s, converged`, ...stat(cpuPct)]);

  // cut one ring link and wait until both ends route around it. Nothing
  // below the layer reports a dead veth (N-1 flows carry no keepalive), so
  // the end that made the DT connection releases it as a peer timeout would;
  // the other end ages the link out (ls_t_timeo).
  const [ca, cb] = links[0]!;
  const addrB = addrs.get(cb)!, addrA = addrs.get(ca)!;
  const tc = performance.now();
  await topo.setLink(String(ca), String(cb), false);
  await irm(ds[cb]!, "ipcp", "disconnect", "name", uni(cb), "dst", uni(ca), "component", "dt");
  const around = (k: number, d: UniDetail) => {
    const peer = k === 0 ? addrB : addrA;
    return d.routes.some((r) => r.dst === peer && r.nhops.length > 0 && !r.nhops.includes(peer));
  };
  const re = await pollAll([os[ca]!, os[cb]!], tc, around, 30000);
  rows.push([
    `link ${ca}–${cb} cut, ${cb} disconnects: ${cb} / ${ca} route around it after`,
    "",
    `${f1(re[1]!)} / ${f1(re[0]!)} ms`,
  ]);
}

if (import.meta.main) await benchScale(Deno.args.includes("--quick"));
