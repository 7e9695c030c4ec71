/**
 * `ouro tunnel` across hosts on real kernels: one `ouro irmd` per network
 * namespace, namespaces joined by veths, a udp4 layer between them (static
 * peer tables, from daemon config files so a restarted daemon comes back
 * the same), and `ouro tunnel up` in every namespace, encrypted (the
 * default). Two hosts: ping both ways over IPv4 and IPv6, a 50 MB TCP
 * transfer with matching hashes, `show`, and a peer's IRMd killed and
 * restarted with traffic resuming by itself. Three hosts in a line: the
 * tunnels run over a unicast layer on top of udp4, so a ↔ c crosses b's
 * forwarding. Pinned keys: a host whose key the server's IRMd does not
 * pin gets no flow, and gets in once given its key. Figures (RTT,
 * throughput, resume time) are printed.
 */
import { fastestAead } from "../src/crypto/evp.ts";
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./util/assert.ts";
import { Proc, TestDaemon } from "./util/daemon.ts";
import { ping, pingUntil, sh, transfer } from "./util/ipnet.ts";
import { type Link, netnsUnavailable, Topology } from "./util/netns.ts";

const CLI = new URL("../src/tunnel/cli.ts", import.meta.url).pathname;
const ignore = await netnsUnavailable() !== undefined;

const tunnelArgs = (args: string[]) => [Deno.execPath(), "run", "-A", "--quiet", CLI, ...args];

/** `ouro tunnel up` in a namespace, waited for. */
async function tunnelUp(
  ns: string,
  config: string,
  rundir: string,
  env?: Record<string, string>,
  wrap: string[] = [],
): Promise<Proc> {
  const [cmd, ...rest] = ["ip", "netns", "exec", ns, ...wrap, ...tunnelArgs(["up", config, "--rundir", rundir, "-v"])];
  const p = new Proc(new Deno.Command(cmd!, { args: rest, env, stdin: "null", stdout: "piped", stderr: "piped" }).spawn());
  await p.waitFor(/up: device/, 20000);
  return p;
}



async function show(ns: string, rundir: string, name: string, json = true): Promise<string> {
  const r = await sh(tunnelArgs(["show", name, ...(json ? ["--json"] : []), "--rundir", rundir]), ns);
  assertEquals(r.code, 0, r.err);
  return r.out;
}

/** A tunnel config: inner address `10.9.0.<n>` and `fd00:9::<n>`, peers by their number. */
function tunnelConfig(n: number, layer: string, peers: number[]): string {
  const lines = [
    `[interface]`,
    `name = "ouro${n}"`,
    `address = ["10.9.0.${n}/24", "fd00:9::${n}/64"]`,
    `listen = "tun.${n}"`,
    `layer = "${layer}"`,
    `keepalive = 1`,
  ];
  for (const p of peers) lines.push(`[[peer]]`, `name = "tun.${p}"`, `allowed-ips = ["10.9.0.${p}/32", "fd00:9::${p}/128"]`);
  return lines.join("\n") + "\n";
}

/** Two namespaces over one veth, an IRMd in each and `ouro tunnel up` on each (tunnel 1 in a, 2 in b). */
interface TwoHosts {
  topo: Topology;
  dir: string;
  l: Link;
  ns: { a: string; b: string };
  da: TestDaemon;
  db: TestDaemon;
  /** b's tunnel process. */
  tb: Proc;
  procs: Proc[];
  daemons: TestDaemon[];
}

/**
 * Run `fn` on {@link TwoHosts} whose IRMds read `irmdConf(me, link)` and
 * whose tunnels use `layer`; everything is stopped and removed afterwards.
 */
async function withTwoHosts(
  prefix: string,
  layer: string,
  irmdConf: (me: "a" | "b", l: Link) => string,
  fn: (h: TwoHosts) => Promise<void>,
  b: { env?: Record<string, string>; wrap?: string[]; peerExtra?: string } = {},
): Promise<void> {
  const topo = await Topology.create(prefix, ["a", "b"]);
  const dir = await Deno.makeTempDir({ prefix: `ouro-tunnel-${prefix}-` });
  const procs: Proc[] = [];
  const daemons: TestDaemon[] = [];
  try {
    const l = await topo.link("a", "b");
    const ns = { a: topo.nsOf("a"), b: topo.nsOf("b") };
    for (const me of ["a", "b"] as const) await Deno.writeTextFile(`${dir}/irmd-${me}.toml`, irmdConf(me, l));
    await Deno.writeTextFile(`${dir}/1.toml`, tunnelConfig(1, layer, [2]) + (b.peerExtra ?? ""));
    await Deno.writeTextFile(`${dir}/2.toml`, tunnelConfig(2, layer, [1]) + (b.peerExtra ?? ""));
    const da = await TestDaemon.start({ netns: ns.a, args: ["--config", `${dir}/irmd-a.toml`] });
    daemons.push(da);
    const db = await TestDaemon.start({ netns: ns.b, args: ["--config", `${dir}/irmd-b.toml`] });
    daemons.push(db);
    procs.push(await tunnelUp(ns.a, `${dir}/1.toml`, da.rundir));
    const tb = await tunnelUp(ns.b, `${dir}/2.toml`, db.rundir, b.env, b.wrap);
    procs.push(tb);
    await fn({ topo, dir, l, ns, da, db, tb, procs, daemons });
  } finally {
    for (const p of procs) p.kill("SIGTERM");
    for (const p of procs) await p.done();
    for (const d of daemons) await d.stop().catch(() => {});
    await topo.destroy();
    await Deno.remove(dir, { recursive: true });
  }
}

/** The udp4 IRMd config of a two-host test: tunnel `n`'s peer is reachable at the other end. */
const udpConf = (me: "a" | "b", l: Link) =>
  me === "a"
    ? `[udp4."udp.a"]\nbootstrap = "wan"\nip = "${l.ipA}"\npeers = "tun.2=${l.ipB}"\n`
    : `[udp4."udp.b"]\nbootstrap = "wan"\nip = "${l.ipB}"\npeers = "tun.1=${l.ipA}"\n`;

async function irm(d: TestDaemon, ...args: string[]): Promise<void> {
  const r = await d.irm(...args);
  if (r.code !== 0) throw new Error(`irm ${args.join(" ")} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
}

Deno.test({
  name: "tunnel (net): two hosts over udp4: ping v4/v6 both ways, 50 MB TCP on the fast path, spoofing, show, a peer IRMd restarted",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
}, () => withTwoHosts("tn", "wan", udpConf, async (h) => {
    const { l, ns, da, tb, dir, daemons } = h;
    let db = h.db;
    const first = await pingUntil(ns.a, "10.9.0.2", 15000);
    // the device queues more than the kernel's default 500 packets for its Worker
    assertStringIncludes((await sh(["ip", "link", "show", "ouro1"], ns.a)).out, "qlen 1000");
    const p4 = await ping(ns.a, "10.9.0.2", 20);
    assert(p4.ok, p4.out);
    assert((await ping(ns.b, "10.9.0.1")).ok);
    const p6 = await ping(ns.a, "fd00:9::2", 20);
    assert(p6.ok, p6.out);
    assert((await ping(ns.b, "fd00:9::1")).ok);
    const raw = await ping(ns.a, l.ipB, 20);
    console.log(
      `udp4 tunnel: first ping after ${first} ms (flow allocation + OAP); RTT IPv4 ${p4.avgMs} ms, IPv6 ${p6.avgMs} ms; bare veth ${raw.avgMs} ms`,
    );

    const size = 50_000_000;
    const t0 = Date.now();
    const mbps = await transfer(ns.b, ns.a, "10.9.0.1", size);
    console.log(`TCP 50 MB b→a through the encrypted tunnel: ${mbps.toFixed(0)} Mbit/s, ${Date.now() - t0} ms in all, hashes match`);

    const st = JSON.parse(await show(ns.a, da.rundir, "ouro1"));
    assertEquals(st.irmd, "connected");
    assertEquals(st.peers[0].state, "up");
    assert(st.peers[0].rxBytes > size, JSON.stringify(st.peers[0]));
    assert(st.peers[0].flows.every((f: { cipher?: string }) => f.cipher === fastestAead()), JSON.stringify(st.peers[0].flows));
    const text = await show(ns.a, da.rundir, "ouro1", false);
    assertStringIncludes(text, "listening name: tun.1 (layer wan)");
    assertMatch(text, new RegExp(`flow \\d+: (out|in) class default qos raw up, rtt [\\d.]+ ms, ${fastestAead()}, fast path`));

    // the fast path carried it: a's IRMd wrote the received packets to the device in its I/O Worker
    assert(st.peers[0].flows.every((f: { fastPath: boolean }) => f.fastPath), JSON.stringify(st.peers[0].flows));
    const flows = JSON.parse((await da.irm("flow", "list", "--json")).stdout);
    const fast = flows.find((f: { fast?: { packets: number } }) => f.fast)?.fast;
    assert(fast && fast.packets > size / 1500 / 2, `fast path counters on a: ${JSON.stringify(flows)}`);
    const tbl = (await da.irm("flow", "list")).stdout;
    assertStringIncludes(tbl, "fast rx");
    const shown = tbl.split("\n").map((l) => Number(l.split("|").map((x) => x.trim()).filter(Boolean).at(-1)));
    assert(shown.some((n) => n >= fast.packets), tbl);
    // … and checked sources there: a source b has no right to is dropped and counted
    const spoofedBefore = st.peers[0].dropSpoofed as number;
    assertEquals((await sh(["ip", "addr", "add", "10.9.0.77/32", "dev", "ouro2"], ns.b)).code, 0);
    const spoof = await sh(["ping", "-c", "3", "-i", "0.2", "-W", "1", "-I", "10.9.0.77", "10.9.0.1"], ns.b);
    assert(spoof.code !== 0, "a spoofed source must not get through");
    let spoofed = 0;
    for (const end = Date.now() + 5000; spoofed < spoofedBefore + 3 && Date.now() < end;) {
      await new Promise((r) => setTimeout(r, 200));
      spoofed = JSON.parse(await show(ns.a, da.rundir, "ouro1")).peers[0].dropSpoofed;
    }
    assert(spoofed >= spoofedBefore + 3, `spoofed drops counted: ${spoofedBefore} → ${spoofed}`);

    // b's IRMd dies; its tunnel keeps the device and reconnects to the new one; a re-allocates
    db.proc.kill("SIGKILL");
    await db.proc.done();
    await tb.waitFor(/lost the IRMd/, 5000, "stderr");
    const down = await ping(ns.a, "10.9.0.2", 2);
    assert(!down.ok, "b is unreachable while its IRMd is gone");
    const t1 = Date.now();
    db = await TestDaemon.start({ netns: ns.b, rundir: db.rundir, args: ["--config", `${dir}/irmd-b.toml`] });
    daemons.push(db);
    await tb.waitFor(/reconnected to the IRMd/, 15000, "stderr");
    const back = await pingUntil(ns.a, "10.9.0.2", 30000);
    assert((await ping(ns.b, "fd00:9::1")).ok);
    console.log(`b's IRMd restarted: its tunnel reconnected and a reached b again ${Date.now() - t1} ms after the restart (last ping wait ${back} ms)`);
    let again = JSON.parse(await show(ns.b, db.rundir, "ouro2"));
    assertEquals([again.irmd, again.peers[0].state], ["connected", "up"]);
    // the new flow takes the fast path again (it is set up just after the flow comes up)
    for (const end = Date.now() + 5000; !again.peers[0].flows[0]?.fastPath && Date.now() < end;) {
      await new Promise((r) => setTimeout(r, 200));
      again = JSON.parse(await show(ns.b, db.rundir, "ouro2"));
    }
    assert(again.peers[0].flows[0]?.fastPath, JSON.stringify(again.peers[0]));
  }));

for (
  const [what, env, wrap, bWants] of [
    ["an IRMd-path end (OURO_FAST_PATH=0)", { OURO_FAST_PATH: "0" }, [], [false, false]],
    // without ptrace rights over its IRMd, b cannot borrow the socket: it receives fast, sends the usual way
    ["an end without ptrace rights (receive-only fast path)", undefined, ["setpriv", "--bounding-set", "-sys_ptrace", "--"], [true, false]],
  ] as const
) Deno.test({
  name: `tunnel (net): a fast-path end and ${what} understand each other (same wire)`,
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
}, () => withTwoHosts("tm", "wan", udpConf, async ({ ns, da, db }) => {
    await pingUntil(ns.a, "10.9.0.2", 15000);
    assert((await ping(ns.b, "10.9.0.1", 5)).ok);
    assert((await ping(ns.a, "fd00:9::2", 5)).ok);
    const mbps = await transfer(ns.b, ns.a, "10.9.0.1", 8_000_000);
    const mbps2 = await transfer(ns.a, ns.b, "10.9.0.2", 8_000_000);
    const fast = async (n: string, rundir: string, name: string) => {
      for (let i = 0; i < 25; i++) {
        const f = JSON.parse(await show(n, rundir, name)).peers[0].flows[0];
        if (f?.fastPath || i === 24) return [f?.fastPath ?? false, f?.fastSend ?? false];
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    assertEquals(await fast(ns.a, da.rundir, "ouro1"), [true, true]);
    assertEquals(await fast(ns.b, db.rundir, "ouro2"), [...bWants]);
    console.log(`fast ↔ ${what}: 8 MB TCP b→a ${mbps.toFixed(0)} Mbit/s, a→b ${mbps2.toFixed(0)} Mbit/s, hashes match`);
  }, { env, wrap: [...wrap] }));

Deno.test({
  name: "tunnel (net): a peer with a voice class: both flows on the fast path, this thread classifies, nothing lost",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
}, () =>
  withTwoHosts("tq", "wan", udpConf, async ({ ns, da, db }) => {
    // EF traffic gets its own flow; with two classes the device Worker leaves routing to the main thread
    await pingUntil(ns.a, "10.9.0.2", 15000);
    const ef = await sh(["ping", "-c", "5", "-i", "0.2", "-Q", "0xb8", "10.9.0.2"], ns.a);
    assertEquals(ef.code, 0, ef.out + ef.err);
    const mbps = await transfer(ns.b, ns.a, "10.9.0.1", 8_000_000);
    for (const [n, d, name] of [[ns.a, da, "ouro1"], [ns.b, db, "ouro2"]] as const) {
      let flows: { class: string; fastPath: boolean; fastSend: boolean }[] = [];
      for (let i = 0; i < 25; i++) {
        flows = JSON.parse(await show(n, d.rundir, name)).peers[0].flows;
        if (flows.length === 2 && flows.every((f) => f.fastSend)) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      assertEquals(flows.map((f) => [f.class, f.fastPath, f.fastSend]).sort(), [["default", true, true], ["voice", true, true]].sort(), name);
    }
    const st = JSON.parse(await show(ns.a, da.rundir, "ouro1")).peers[0];
    assertEquals(st.dropFast, 0, JSON.stringify(st));
    console.log(`voice class on the fast path: EF ping ok, 8 MB TCP ${mbps.toFixed(0)} Mbit/s through the main-thread classifier`);
  }, { peerExtra: `[[peer.class]]\nname = "voice"\nqos = "voice"\ndscp = [46]\n` }));

for (const type of ["eth-dix", "eth-llc"]) Deno.test({
  name: `tunnel (net): two hosts straight over ${type} (raw Ethernet): fast path, ping, TCP both ways`,
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
}, () => {
  const conf = (me: "a" | "b", l: Link) => `[${type}."eth.${me}"]\nbootstrap = "lan"\ndev = "${me === "a" ? l.devA : l.devB}"\n`;
  return withTwoHosts(type === "eth-dix" ? "te" : "tl", "lan", conf, async ({ ns, da, db }) => {
    await pingUntil(ns.a, "10.9.0.2", 15000);
    const p = await ping(ns.a, "10.9.0.2", 10);
    assert(p.ok, p.out);
    assert((await ping(ns.b, "fd00:9::1", 5)).ok);
    const mbps = await transfer(ns.b, ns.a, "10.9.0.1", 8_000_000);
    const mbps2 = await transfer(ns.a, ns.b, "10.9.0.2", 8_000_000);
    for (const [n, d, name] of [[ns.a, da, "ouro1"], [ns.b, db, "ouro2"]] as const) {
      let f;
      for (let i = 0; i < 25 && !f?.fastSend; i++) {
        f = JSON.parse(await show(n, d.rundir, name)).peers[0].flows[0];
        if (!f?.fastSend) await new Promise((r) => setTimeout(r, 100));
      }
      assertEquals([f?.fastPath, f?.fastSend], [true, true], `${name}: ${JSON.stringify(f)}`);
      const flows = JSON.parse((await d.irm("flow", "list", "--json")).stdout);
      const rx = flows.map((x: { fast?: { packets: number } }) => x.fast?.packets ?? 0).reduce((x: number, y: number) => x + y, 0);
      assert(rx > 8_000_000 / 1500 / 4, `${name}: the ${type} Worker wrote ${rx} packets to the device`);
    }
    console.log(`${type}: RTT ${p.avgMs} ms, 8 MB TCP b→a ${mbps.toFixed(0)} Mbit/s, a→b ${mbps2.toFixed(0)} Mbit/s, hashes match`);
  });
});

Deno.test({
  name: "tunnel (net): three hosts in a line, tunnels over a unicast layer on udp4: a ↔ c across b on the fast path, 8 MB TCP",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const topo = await Topology.create("tu", ["a", "b", "c"]);
  const dir = await Deno.makeTempDir({ prefix: "ouro-tunnel-uni-" });
  const procs: Proc[] = [];
  try {
    const ab = await topo.link("a", "b");
    const bc = await topo.link("b", "c");
    const [a, b, c] = await Promise.all(["a", "b", "c"].map((n) => topo.daemon(n))) as [TestDaemon, TestDaemon, TestDaemon];
    const low = (d: TestDaemon, name: string, layer: string, ip: string, peer: string, peerIp: string) =>
      irm(d, "ipcp", "bootstrap", "name", name, "type", "udp4", "layer", layer, "ip", ip, "peer", `uni.${peer}=${peerIp}`, "peer", `net=${peerIp}`);
    await low(a, "low0.a", "l0", ab.ipA, "b", ab.ipB);
    await low(b, "low0.b", "l0", ab.ipB, "a", ab.ipA);
    await low(b, "low1.b", "l1", bc.ipA, "c", bc.ipB);
    await low(c, "low1.c", "l1", bc.ipB, "b", bc.ipA);
    await irm(a, "ipcp", "bootstrap", "name", "uni.a", "type", "unicast", "layer", "net", "ls_t_recalc", "1", "autobind");
    for (const [d, n] of [[a, "a"], [b, "b"], [c, "c"]] as const) {
      if (n !== "a") {
        const via = n === "b" ? "uni.a" : "uni.b";
        await irm(d, "ipcp", "enroll", "name", `uni.${n}`, "dst", via, "autobind");
        await irm(d, "ipcp", "connect", "name", `uni.${n}`, "dst", via, "component", "dt");
        await irm(d, "ipcp", "connect", "name", `uni.${n}`, "dst", via, "component", "mgmt");
      }
      await irm(d, "name", "register", `uni.${n}`, "layer", "l*");
      await irm(d, "name", "register", "net", "layer", "l*");
    }
    const nodes = [[a, "a", 1], [b, "b", 2], [c, "c", 3]] as const;
    for (const [, , n] of nodes) await Deno.writeTextFile(`${dir}/${n}.toml`, tunnelConfig(n, "net", [1, 2, 3].filter((p) => p !== n)));
    for (const [d, node, n] of nodes) procs.push(await tunnelUp(topo.nsOf(node), `${dir}/${n}.toml`, d.rundir));

    // the DHT needs a moment to learn the tunnels' names
    const first = await pingUntil(topo.nsOf("a"), "10.9.0.3", 30000);
    const p = await ping(topo.nsOf("a"), "10.9.0.3", 20);
    assert(p.ok, p.out);
    assert((await ping(topo.nsOf("c"), "fd00:9::1")).ok);
    await pingUntil(topo.nsOf("c"), "10.9.0.2", 15000);
    await pingUntil(topo.nsOf("b"), "fd00:9::1", 15000);
    const mbps = await transfer(topo.nsOf("a"), topo.nsOf("c"), "10.9.0.3", 8_000_000);
    console.log(`unicast over udp4, a → c across b: first ping after ${first} ms, RTT ${p.avgMs} ms, TCP 8 MB ${mbps.toFixed(0)} Mbit/s, hashes match`);
    const st = JSON.parse(await show(topo.nsOf("a"), a.rundir, "ouro1"));
    const toC = st.peers.find((x: { name: string }) => x.name === "tun.3");
    assertEquals(toC.state, "up");
    assertEquals(toC.flows[0].cipher, fastestAead());
    // a ↔ c is on the fast path (b forwards the DT packets as ever), and the data went that way
    assert(toC.flows[0].fastPath, JSON.stringify(toC.flows));
    const cFlows = JSON.parse((await c.irm("flow", "list", "--json")).stdout);
    const rx = cFlows.map((f: { fast?: { packets: number } }) => f.fast?.packets ?? 0).reduce((x: number, y: number) => x + y, 0);
    assert(rx > 8_000_000 / 1500 / 2, `c's fast path received ${rx} packets: ${JSON.stringify(cFlows)}`);
  } finally {
    for (const p of procs) p.kill("SIGTERM");
    for (const p of procs) await p.done();
    await topo.destroy();
    await Deno.remove(dir, { recursive: true });
  }
});

/** A self-signed EC certificate and key for `cn` (PEM). */
async function selfSigned(dir: string, cn: string): Promise<{ crt: string; key: string }> {
  const r = await sh([
    "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
    "-keyout", `${dir}/${cn}.key`, "-out", `${dir}/${cn}.crt`, "-days", "2", "-subj", `/CN=${cn}`,
  ]);
  assertEquals(r.code, 0, r.err);
  return { crt: await Deno.readTextFile(`${dir}/${cn}.crt`), key: await Deno.readTextFile(`${dir}/${cn}.key`) };
}

async function writeFiles(root: string, files: Record<string, string>): Promise<void> {
  for (const [p, text] of Object.entries(files)) {
    await Deno.mkdir(`${root}/${p.slice(0, p.lastIndexOf("/"))}`, { recursive: true });
    await Deno.writeTextFile(`${root}/${p}`, text);
  }
}

Deno.test({
  name: "tunnel (net): with pinned peer keys only the pinned host gets a flow; it gets in once it has its key",
  ignore: ignore || (await sh(["sh", "-c", "command -v openssl"])).code !== 0,
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const topo = await Topology.create("tk", ["a", "b"]);
  const dir = await Deno.makeTempDir({ prefix: "ouro-tunnel-pin-" });
  const procs: Proc[] = [];
  try {
    const l = await topo.link("a", "b");
    const ns = { a: topo.nsOf("a"), b: topo.nsOf("b") };
    const a = await selfSigned(dir, "tun.1");
    const b = await selfSigned(dir, "tun.2");
    // a serves tun.1 with its certificate and accepts only b's key; b starts with nothing
    await writeFiles(`${dir}/sec-a`, {
      "server/tun.1/crt.pem": a.crt,
      "server/tun.1/key.pem": a.key,
      "server/tun.1/peers/b.pem": b.crt,
    });
    await Deno.mkdir(`${dir}/sec-b`);
    const udp = (me: string, ip: string, peer: number, peerIp: string) =>
      `[udp4."udp.${me}"]\nbootstrap = "wan"\nip = "${ip}"\npeers = "tun.${peer}=${peerIp}"\n`;
    await Deno.writeTextFile(`${dir}/irmd-a.toml`, udp("a", l.ipA, 2, l.ipB));
    await Deno.writeTextFile(`${dir}/irmd-b.toml`, udp("b", l.ipB, 1, l.ipA));
    // b always connects; a only answers
    await Deno.writeTextFile(`${dir}/1.toml`, tunnelConfig(1, "wan", [2]) + `connect = "never"\n`);
    await Deno.writeTextFile(`${dir}/2.toml`, tunnelConfig(2, "wan", [1]) + `connect = "always"\n`);
    const da = await topo.daemon("a", ["--config", `${dir}/irmd-a.toml`, "--secdir", `${dir}/sec-a`]);
    const db = await topo.daemon("b", ["--config", `${dir}/irmd-b.toml`, "--secdir", `${dir}/sec-b`]);
    procs.push(await tunnelUp(ns.a, `${dir}/1.toml`, da.rundir));
    procs.push(await tunnelUp(ns.b, `${dir}/2.toml`, db.rundir));

    // refused by a's IRMd: b presents no certificate
    let st = { peers: [{ state: "", lastError: "" }] };
    for (let i = 0; i < 50 && !st.peers[0]!.lastError; i++) {
      await new Promise((r) => setTimeout(r, 100));
      st = JSON.parse(await show(ns.b, db.rundir, "ouro2"));
    }
    assert(st.peers[0]!.state !== "up" && st.peers[0]!.lastError !== "", JSON.stringify(st.peers[0]));
    assert(!(await ping(ns.b, "10.9.0.1", 2)).ok);
    console.log(`unpinned b refused: ${st.peers[0]!.lastError}`);

    // b gets its key (and pins a's): the tunnel's next retry goes through, authenticated both ways
    await writeFiles(`${dir}/sec-b`, {
      "client/tun.1/crt.pem": b.crt,
      "client/tun.1/key.pem": b.key,
      "client/tun.1/peers/a.pem": a.crt,
    });
    const ms = await pingUntil(ns.b, "10.9.0.1", 25000);
    assert((await ping(ns.a, "fd00:9::2")).ok);
    const up = JSON.parse(await show(ns.b, db.rundir, "ouro2"));
    assertEquals([up.peers[0].state, up.peers[0].flows[0].cipher], ["up", fastestAead()]);
    console.log(`with its key b got through ${ms} ms later`);
  } finally {
    for (const p of procs) p.kill("SIGTERM");
    for (const p of procs) await p.done();
    await topo.destroy();
    await Deno.remove(dir, { recursive: true });
  }
});
