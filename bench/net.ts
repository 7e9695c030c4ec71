/**
 * Two-host benchmarks (issues: many hosts, raw Ethernet): two namespaces
 * on a veth pair, one `ouro irmd` each. Measured over (a) the lower layer
 * itself (udp4 or eth-dix: the app's flow goes straight over that IPCP)
 * and (b) a unicast layer enrolled over it — ping RTT with the library
 * (back to back and paced), and `ouro perf` throughput at 1400 B flooded
 * and at fixed rates. Baselines from the same run: kernel ICMP ping over
 * the same veth, a bare Deno UDP echo/flood, iperf3 UDP; and the
 * reference's figures from the issues (spec README).
 * @module
 */
import type { TestDaemon } from "../tests/util/daemon.ts";
import type { Link, Topology } from "../tests/util/netns.ts";
import {
  floodUdp,
  iperfUdp,
  irm,
  kernelPing,
  kill,
  perf,
  type PerfResult,
  pingOuro,
  pingUdp,
  started,
  stopAll,
  udpServer,
  withTopology,
} from "./netns.ts";
import type { FloodResult, PingerResult } from "./pinger.ts";
import { printTable } from "./util.ts";

/** The reference's figures (µs, Mb/s at 1400 B before loss) and the issues' goals. */
export const NET_REFERENCE = {
  udp: { pingUs: 549, floodUs: 229, mbps: 80 },
  eth: { pingUs: 671, floodUs: NaN, mbps: 33 },
  goal: { pingUs: 250, mbps: 800 },
} as const;

type Kind = "udp" | "eth";
type Row = (string | number)[];

const f1 = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : "-");
const f2 = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : "-");

/** Figures of one run of a section, kept for the summary. */
interface Collected {
  ping: Row[];
  tput: Row[];
  best: { path: string; mbps: number; rate: string }[];
}

function pingRows(
  path: string,
  r: PingerResult,
  refs: { paced?: number; flood?: number },
  kernel?: number,
): Row[] {
  const goal = NET_REFERENCE.goal.pingUs;
  return r.sizes.flatMap((s) => [
    [
      path,
      s.size,
      "back-to-back",
      f1(s.flood.medianUs),
      f1(s.flood.p99Us),
      s.flood.rtPerS.toFixed(0),
      s.flood.lost,
      s.size === 64 && refs.flood ? f2(refs.flood / s.flood.medianUs) : "-",
      "-",
      "-",
    ],
    [
      path,
      s.size,
      "every 5 ms",
      f1(s.paced.medianUs),
      f1(s.paced.p99Us),
      "-",
      s.paced.lost,
      s.size === 64 && refs.paced ? f2(refs.paced / s.paced.medianUs) : "-",
      s.size === 64 ? f2(goal / s.paced.medianUs) : "-",
      s.size === 64 && kernel ? f2(s.paced.medianUs / kernel) : "-",
    ],
  ]);
}

/** Rates to try (bit/s; 0 = flood). */
function rates(quick: boolean): number[] {
  return quick ? [0, 200e6, 1e9] : [0, 100e6, 200e6, 500e6, 1e9];
}

const rateName = (r: number) => (r === 0 ? "flood" : r >= 1e9 ? `${r / 1e9}G` : `${r / 1e6}M`);

function tputRows(
  path: string,
  runs: [number, PerfResult | FloodResult][],
  ref: number | undefined,
  c: Collected,
): Row[] {
  // the best receive rate among runs that lost < 1%
  let best = { mbps: 0, rate: "-" };
  for (const [rate, r] of runs) {
    if ((r.lossPercent ?? 100) < 1 && (r.receivedMbps ?? 0) > best.mbps) {
      best = { mbps: r.receivedMbps!, rate: rateName(rate) };
    }
  }
  c.best.push({ path, ...best });
  return runs.map(([rate, r]) => [
    path,
    rateName(rate),
    f1(r.sentMbps),
    f1(r.receivedMbps ?? NaN),
    r.lossPercent ?? "?",
    ref && (r.lossPercent ?? 100) < 1 ? f2((r.receivedMbps ?? 0) / ref) : "-",
    (r.lossPercent ?? 100) < 1 ? f2((r.receivedMbps ?? 0) / NET_REFERENCE.goal.mbps) : "-",
  ]);
}

/** Bootstrap the lower layer "low" on both ends, naming the given peers for udp4. */
async function lowerLayer(
  kind: Kind,
  a: TestDaemon,
  b: TestDaemon,
  l: Link,
  names: string[],
): Promise<void> {
  if (kind === "udp") {
    const peersOf = (ip: string, ns: string[]) => ns.flatMap((n) => ["peer", `${n}=${ip}`]);
    // a reaches b's names, b reaches a's (uni.a and the layer name for enrollment)
    await irm(
      a,
      "ipcp",
      "bootstrap",
      "name",
      "low.a",
      "type",
      "udp4",
      "layer",
      "low",
      "ip",
      l.ipA,
      ...peersOf(l.ipB, [...names, "uni.b"]),
    );
    await irm(
      b,
      "ipcp",
      "bootstrap",
      "name",
      "low.b",
      "type",
      "udp4",
      "layer",
      "low",
      "ip",
      l.ipB,
      ...peersOf(l.ipA, ["uni.a", "net"]),
    );
  } else {
    await irm(
      a,
      "ipcp",
      "bootstrap",
      "name",
      "low.a",
      "type",
      "eth-dix",
      "layer",
      "low",
      "dev",
      l.devA,
    );
    await irm(
      b,
      "ipcp",
      "bootstrap",
      "name",
      "low.b",
      "type",
      "eth-dix",
      "layer",
      "low",
      "dev",
      l.devB,
    );
  }
}

/** A unicast layer "net" over "low": a bootstraps, b enrolls and connects. */
async function unicastLayer(a: TestDaemon, b: TestDaemon): Promise<void> {
  await irm(a, "ipcp", "bootstrap", "name", "uni.a", "type", "unicast", "layer", "net", "autobind");
  await irm(a, "name", "register", "uni.a", "layer", "low");
  await irm(a, "name", "register", "net", "layer", "low");
  await irm(b, "ipcp", "enroll", "name", "uni.b", "dst", "uni.a", "autobind");
  await irm(b, "name", "register", "uni.b", "layer", "low");
  await irm(b, "ipcp", "connect", "name", "uni.b", "dst", "uni.a", "component", "mgmt");
  await irm(b, "ipcp", "connect", "name", "uni.b", "dst", "uni.a", "component", "dt");
}

/** Ping and perf over `layer` from a to servers on b. */
async function overLayer(
  topo: Topology,
  a: TestDaemon,
  b: TestDaemon,
  layer: string,
  quick: boolean,
): Promise<{ ping: PingerResult; tput: [number, PerfResult][] }> {
  const ps = await started(b.spawn(["ping", "-l", "--name", `ping.${layer}`, "--layer", layer]));
  const pf = await started(b.spawn(["perf", "-l", "--name", `perf.${layer}`, "--layer", layer]));
  try {
    const ping = await pingOuro(topo.nsOf("a"), a.rundir, `ping.${layer}`, {
      count: quick ? 300 : 2000,
      paced: quick ? 100 : 400,
      warm: 200,
    });
    const tput: [number, PerfResult][] = [];
    for (const r of rates(quick)) {
      tput.push([r, await perf(a, `perf.${layer}`, 1400, quick ? 1000 : 3000, r || undefined)]);
    }
    return { ping, tput };
  } finally {
    await stopAll(ps, pf);
  }
}

async function benchTwoHosts(kind: Kind, quick: boolean): Promise<void> {
  const lower = kind === "udp" ? "udp4" : "eth-dix";
  const ref = NET_REFERENCE[kind];
  const c: Collected = { ping: [], tput: [], best: [] };
  await withTopology(`b${kind}`, ["a", "b"], async (topo) => {
    const l = await topo.link("a", "b");
    const [a, b] = await Promise.all([topo.daemon("a"), topo.daemon("b")]);
    const t0 = performance.now();
    await lowerLayer(kind, a, b, l, ["ping.low", "perf.low"]);
    const low = await overLayer(topo, a, b, "low", quick);
    const t1 = performance.now();
    await unicastLayer(a, b);
    const setupMs = performance.now() - t1;
    const uni = await overLayer(topo, a, b, "net", quick);
    console.log(
      `setup: ${lower} layer + measurements ${
        ((t1 - t0) / 1000).toFixed(1)
      } s; unicast bootstrap + enroll + connect ${
        setupMs.toFixed(0)
      } ms; first flow allocation: ${lower} ${low.ping.allocMs.toFixed(1)} ms, unicast ${
        uni.ping.allocMs.toFixed(1)
      } ms`,
    );

    // baselines over the same veth
    const n = quick ? 300 : 2000, paced = quick ? 100 : 400;
    const k64 = await kernelPing(topo.nsOf("a"), l.ipB, 64, n, paced, 5);
    const k1400 = await kernelPing(topo.nsOf("a"), l.ipB, 1400, n, paced, 5);
    const srv = await udpServer(topo.nsOf("b"), l.ipB, 7777);
    let udpPing: PingerResult;
    const udpTput: [number, FloodResult][] = [];
    try {
      udpPing = await pingUdp(topo.nsOf("a"), `${l.ipB}:7777`, { count: n, paced, warm: 200 });
      for (const r of rates(quick)) {
        udpTput.push([
          r,
          await floodUdp(
            topo.nsOf("a"),
            `${l.ipB}:7777`,
            1400,
            quick ? 1000 : 3000,
            r || undefined,
          ),
        ]);
      }
    } finally {
      await kill(srv);
    }
    const iperf: [number, FloodResult][] = [];
    for (const r of rates(quick)) {
      const x = await iperfUdp(
        topo.nsOf("a"),
        topo.nsOf("b"),
        l.ipB,
        1400,
        quick ? 1000 : 3000,
        String(r),
      );
      if (x) iperf.push([r, x]);
    }

    c.ping.push(...pingRows(`${lower} (app over the IPCP)`, low.ping, {}, k64.paced.medianUs));
    c.ping.push(
      ...pingRows(
        `unicast over ${lower}`,
        uni.ping,
        { paced: ref.pingUs, flood: ref.floodUs },
        k64.paced.medianUs,
      ),
    );
    for (const [size, k] of [[64, k64], [1400, k1400]] as const) {
      c.ping.push([
        "baseline: kernel ICMP ping",
        size,
        "flood (-f), avg",
        f1(k.flood.avgUs),
        "-",
        k.flood.rtPerS.toFixed(0),
        "-",
        "-",
        "-",
        "-",
      ]);
      c.ping.push([
        "baseline: kernel ICMP ping",
        size,
        "every 5 ms",
        f1(k.paced.medianUs),
        f1(k.paced.p99Us),
        "-",
        "-",
        "-",
        "-",
        "-",
      ]);
    }
    c.ping.push(...pingRows("baseline: bare Deno UDP echo", udpPing, {}, k64.paced.medianUs));

    c.tput.push(...tputRows(`${lower} (app over the IPCP)`, low.tput, undefined, c));
    c.tput.push(...tputRows(`unicast over ${lower}`, uni.tput, ref.mbps, c));
    c.tput.push(...tputRows("baseline: bare Deno UDP", udpTput, undefined, c));
    if (iperf.length) c.tput.push(...tputRows("baseline: iperf3 -u (kernel)", iperf, undefined, c));
  });
  if (!c.ping.length) return;
  printTable(
    `Ping RTT, 2 namespaces on a veth (library pinger; compare the reference's median with "every 5 ms": oping paces its pings). ` +
      `Reference ${lower}: ${ref.pingUs} µs median${
        Number.isFinite(ref.floodUs) ? `, ${ref.floodUs} µs flooded` : ""
      }; goal ≤ ${NET_REFERENCE.goal.pingUs} µs.`,
    [
      "path",
      "bytes",
      "mode",
      "median µs",
      "p99 µs",
      "rt/s",
      "lost",
      "ref/ours",
      "goal/ours",
      "ours/kernel",
    ],
    c.ping,
  );
  printTable(
    `Throughput at 1400 B (ouro perf, received at the server). Reference ${lower}: ~${ref.mbps} Mb/s before loss; goal ≥ ${NET_REFERENCE.goal.mbps} Mb/s. Ratios only where loss < 1%.`,
    ["path", "rate", "sent Mb/s", "recv Mb/s", "loss %", "ours/ref", "ours/goal"],
    c.tput,
  );
  printTable(
    "Best rate received with < 1% loss",
    ["path", "at rate", "Mb/s", "ours/ref", "ours/goal"],
    c.best.map((b) => [
      b.path,
      b.rate === "-" ? "none < 1% loss" : b.rate,
      f1(b.mbps),
      b.path.startsWith("unicast") ? f2(b.mbps / ref.mbps) : "-",
      f2(b.mbps / NET_REFERENCE.goal.mbps),
    ]),
  );
}

/** `udp` section: udp4 and a unicast layer over udp4 between two namespaces. */
export function benchUdp(quick: boolean): Promise<void> {
  return benchTwoHosts("udp", quick);
}

/** `eth` section: eth-dix and a unicast layer over eth-dix between two namespaces. */
export function benchEth(quick: boolean): Promise<void> {
  return benchTwoHosts("eth", quick);
}

if (import.meta.main) {
  const quick = Deno.args.includes("--quick");
  if (!Deno.args.includes("eth")) await benchUdp(quick);
  if (!Deno.args.includes("udp")) await benchEth(quick);
}
