/**
 * `ouro tunnel` on real kernels: one IRMd with a local layer, four tunnels
 * each with its TUN device in its own network namespace (the UNIX sockets
 * of the run directory work across namespaces). Ping over IPv4 and IPv6,
 * a 24 MiB TCP transfer with matching hashes, three peers with distinct
 * (nested) prefixes, a spoofed source dropped, a peer killed and restarted,
 * `show` and `down`. Figures (RTT, throughput) are printed.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./util/assert.ts";
import { Proc, TestDaemon } from "./util/daemon.ts";
import { ping, pingUntil, sh, transfer } from "./util/ipnet.ts";
import { netnsUnavailable } from "../bridges/linux/netns.ts";

const CLI = new URL("../src/tunnel/cli.ts", import.meta.url).pathname;
const skip = await netnsUnavailable();

function tunnelCmd(args: string[], ns?: string, wrapper: string[] = []): string[] {
  const base = [...wrapper, Deno.execPath(), "run", "-A", "--quiet", CLI, ...args];
  return ns ? ["ip", "netns", "exec", ns, ...base] : base;
}

function spawnTunnel(args: string[], ns: string): Proc {
  const [cmd, ...rest] = tunnelCmd(args, ns);
  return new Proc(new Deno.Command(cmd!, { args: rest, stdin: "null", stdout: "piped", stderr: "piped" }).spawn());
}

const NODES = {
  a: { addr: ["10.9.0.1/24", "fd00:9::1/64"] },
  b: { addr: ["10.9.0.2/24", "fd00:9::2/64"] },
  c: { addr: ["10.9.0.3/24", "10.30.0.1/16"] },
  d: { addr: ["10.9.0.4/24", "10.40.0.1/16"] },
} as const;

// encryption is left at its default ("required"): same-host flows are encrypted too
function configOf(n: keyof typeof NODES): string {
  const head = `[interface]\nname = "ouro${n}"\naddress = ${JSON.stringify(NODES[n].addr)}\nlisten = "tun.${n}"\nlayer = "L"\nkeepalive = 2\n`;
  if (n !== "a") return head + `[[peer]]\nname = "tun.a"\nallowed-ips = ["10.9.0.1/32", "fd00:9::1/128"]\n`;
  return head +
    `[[peer]]\nname = "tun.b"\nallowed-ips = ["10.9.0.2/32", "fd00:9::2/128"]\n` +
    `[[peer]]\nname = "tun.c"\nallowed-ips = ["10.9.0.3/32", "10.30.0.0/16"]\n` +
    `[[peer]]\nname = "tun.d"\nallowed-ips = ["10.9.0.4/32", "10.0.0.0/8"]\n`;
}


Deno.test({
  name: "tunnel (netns): four tunnels over one IRMd: ping v4/v6, TCP 24 MiB, three peers, spoofing, restart, show, down",
  ignore: skip !== undefined,
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const tag = `ouro-tt${Deno.pid}`;
  const nss = Object.fromEntries(Object.keys(NODES).map((n) => [n, `${tag}-${n}`])) as Record<keyof typeof NODES, string>;
  const d = await TestDaemon.start();
  const dir = await Deno.makeTempDir({ prefix: "ouro-tunnel-" });
  const procs = new Map<string, Proc>();
  const up = async (n: keyof typeof NODES) => {
    const p = spawnTunnel(["up", `${dir}/${n}.toml`, "--rundir", d.rundir, "-v"], nss[n]);
    procs.set(n, p);
    await p.waitFor(/up: device/, 20000);
    return p;
  };
  try {
    const r = await d.irm("ipcp", "bootstrap", "name", "loc", "type", "local", "layer", "L");
    assertEquals(r.code, 0, r.stderr);
    for (const n of Object.keys(NODES) as (keyof typeof NODES)[]) {
      await sh(["ip", "netns", "add", nss[n]]);
      await sh(["ip", "-n", nss[n], "link", "set", "lo", "up"]);
      await Deno.writeTextFile(`${dir}/${n}.toml`, configOf(n));
    }
    await Promise.all((Object.keys(NODES) as (keyof typeof NODES)[]).map(up));

    // ping both ways, IPv4 and IPv6
    const p4 = await ping(nss.a, "10.9.0.2", 20);
    assert(p4.ok, p4.out);
    assert((await ping(nss.b, "10.9.0.1")).ok);
    const p6 = await ping(nss.a, "fd00:9::2", 20);
    assert(p6.ok, p6.out);
    assert((await ping(nss.b, "fd00:9::1")).ok);
    console.log(`ping RTT through the tunnel: IPv4 ${p4.avgMs} ms, IPv6 ${p6.avgMs} ms (avg of 20)`);

    // three peers with distinct prefixes: 10.30/16 → c, 10.40.0.1 (in 10/8) → d
    assert((await ping(nss.a, "10.30.0.1")).ok, "c by its /16");
    assert((await ping(nss.a, "10.40.0.1")).ok, "d by the covering /8");
    assert((await ping(nss.a, "10.9.0.3")).ok && (await ping(nss.a, "10.9.0.4")).ok);

    // TCP transfer with matching hashes (b → a)
    const size = 24 << 20;
    const mbps = await transfer(nss.b, nss.a, "10.9.0.1", size);
    console.log(`TCP transfer of 24 MiB: ${mbps.toFixed(0)} Mbit/s (sender-side time), hashes match`);

    // iperf3 if installed
    if ((await sh(["sh", "-c", "command -v iperf3"])).code === 0) {
      const srv = new Proc(new Deno.Command("ip", { args: ["netns", "exec", nss.a, "iperf3", "-s", "-1", "-B", "10.9.0.1"], stdout: "piped", stderr: "piped" }).spawn());
      await new Promise((res) => setTimeout(res, 300));
      const ip3 = await sh(["iperf3", "-c", "10.9.0.1", "-t", "3", "-J"], nss.b);
      await srv.done();
      if (ip3.code === 0) {
        const j = JSON.parse(ip3.out);
        console.log(`iperf3 TCP b→a: ${(j.end.sum_received.bits_per_second / 1e6).toFixed(0)} Mbit/s, ${j.end.sum_sent.retransmits} retransmits`);
      }
    }

    // a spoofed source from b (10.9.0.77 is d's by 10/8) is dropped and counted at a
    await sh(["ip", "addr", "add", "10.9.0.77/32", "dev", "lo"], nss.b);
    const spoof = await sh(["ping", "-c", "3", "-i", "0.1", "-W", "1", "-I", "10.9.0.77", "10.9.0.1"], nss.b);
    assert(spoof.code !== 0, "spoofed pings must not be answered");
    const st = JSON.parse((await sh(tunnelCmd(["show", "ouroa", "--json", "--rundir", d.rundir]))).out);
    const peerB = st.peers.find((p: { name: string }) => p.name === "tun.b");
    assert(peerB.dropSpoofed >= 3, JSON.stringify(peerB));
    assertEquals(st.peers.map((p: { state: string }) => p.state), ["up", "up", "up"]);
    assert(peerB.rxBytes > size && peerB.rttMs !== undefined);

    // show (text) looks like wg show
    const text = (await sh(tunnelCmd(["show", "--rundir", d.rundir]))).out;
    assertStringIncludes(text, "interface: ouroa (tun, device ouroa)");
    assertStringIncludes(text, "peer: tun.c\n  allowed ips: 10.9.0.3/32, 10.30.0.0/16\n  state: up");
    assertMatch(text, /dropped: \d+ spoofed source/);
    assertMatch(text, /rtt: [\d.]+ ms/);

    // kill b hard; a's other peers keep working; b comes back and traffic resumes by itself
    procs.get("b")!.kill("SIGKILL");
    await procs.get("b")!.done();
    assert((await ping(nss.a, "10.30.0.1")).ok, "c unaffected");
    await up("b"); // the stale control socket is replaced
    const resumeMs = await pingUntil(nss.a, "10.9.0.2", 20000);
    console.log(`after restarting b, a reached it again in ${resumeMs} ms`);

    // down
    const dn = await sh(tunnelCmd(["down", "ourod", "--rundir", d.rundir]));
    assertEquals(dn.code, 0, dn.err);
    assertEquals((await procs.get("d")!.done()).code, 0);
    const gone = await sh(tunnelCmd(["show", "ourod", "--rundir", d.rundir]));
    assertEquals(gone.code, 1);
    assertStringIncludes(gone.err, "is it up?");
  } finally {
    for (const p of procs.values()) p.kill("SIGTERM");
    for (const p of procs.values()) await p.done();
    for (const ns of Object.values(nss)) await sh(["ip", "netns", "delete", ns]);
    await d.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "tunnel (cli): bad config names the line; no privileges gives a clear message",
  ignore: skip !== undefined,
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "ouro-tunnel-" });
  const d = await TestDaemon.start();
  try {
    await Deno.writeTextFile(`${dir}/bad.toml`, configOf("b").replace("keepalive = 2", "keepalive = 2\nmtu = 1400\nmtu2 = 1"));
    const bad = await sh(tunnelCmd(["up", `${dir}/bad.toml`, "--rundir", d.rundir]));
    assertEquals(bad.code, 1);
    assertStringIncludes(bad.err, `${dir}/bad.toml:8: unknown key "mtu2" in [interface]`);
    await Deno.writeTextFile(`${dir}/ok.toml`, configOf("a"));
    const check = await sh(tunnelCmd(["check", `${dir}/ok.toml`]));
    assertEquals(check.code, 0, check.err);
    assertStringIncludes(check.out, "peer tun.d: 10.9.0.4/32 10.0.0.0/8 [default=raw]");
    const noCaps = await sh(tunnelCmd(["up", `${dir}/ok.toml`, "--rundir", d.rundir], undefined, ["setpriv", "--bounding-set=-all", "--inh-caps=-all", "--"]));
    assertEquals(noCaps.code, 1, noCaps.err);
    assertStringIncludes(noCaps.err, "run as root or grant CAP_NET_ADMIN");
    const noDaemon = await sh(tunnelCmd(["up", `${dir}/ok.toml`, "--rundir", `${dir}/nowhere`]));
    assertEquals(noDaemon.code, 1);
    assertStringIncludes(noDaemon.err, "is \"ouro irmd\" running");
  } finally {
    await d.stop();
    await Deno.remove(dir, { recursive: true });
  }
});
