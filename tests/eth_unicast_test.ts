/**
 * A unicast layer enrolled over raw Ethernet (eth-dix) between two network
 * namespaces: no IP anywhere under the flows. Enrollment, ping both ways,
 * and a 50 MB `ouro cat` over a reliable flow with matching hashes.
 */
import { assertEquals, assertMatch, assertStringIncludes } from "./util/assert.ts";
import { sha256, type TestDaemon } from "./util/daemon.ts";
import { netnsUnavailable, Topology } from "./util/netns.ts";

const ignore = (await netnsUnavailable()) !== undefined;

async function ok(d: TestDaemon, ...args: string[]): Promise<string> {
  const r = await d.irm(...args);
  if (r.code !== 0) throw new Error(`irm ${args.join(" ")} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

async function until(what: string, ms: number, fn: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function bound(d: TestDaemon, name: string): Promise<void> {
  await until(`${name} bound`, 15000, async () => {
    const names = JSON.parse(await ok(d, "--json", "name", "list")) as { name: string; pids: number[] }[];
    return names.some((n) => n.name === name && n.pids.length > 0);
  });
}

Deno.test({
  name: "eth-unicast: a unicast layer enrolled over eth-dix carries pings and 50 MB byte-exact",
  ignore,
  fn: async () => {
    const topo = await Topology.create("ethu", ["a", "b"]);
    try {
      const l = await topo.link("a", "b");
      const a = await topo.daemon("a");
      const b = await topo.daemon("b");
      await ok(a, "ipcp", "bootstrap", "name", "eth.a", "type", "eth-dix", "layer", "lan", "dev", l.devA);
      await ok(b, "ipcp", "bootstrap", "name", "eth.b", "type", "eth-dix", "layer", "lan", "dev", l.devB);
      await ok(a, "ipcp", "bootstrap", "name", "uni.a", "type", "unicast", "layer", "net", "autobind");
      await ok(a, "name", "register", "uni.a", "layer", "lan");
      await ok(a, "name", "register", "net", "layer", "lan");
      const enrolled = await ok(b, "ipcp", "enroll", "name", "uni.b", "layer", "net", "autobind");
      assertStringIncludes(enrolled, "Enrolled IPCP uni.b in layer net");
      await ok(b, "name", "register", "uni.b", "layer", "lan");
      await ok(b, "ipcp", "connect", "name", "uni.b", "dst", "uni.a");
      const list = JSON.parse(await ok(b, "--json", "ipcp", "list")) as { name: string; layer: string; state: string }[];
      assertEquals(list.find((i) => i.name === "uni.b")?.layer, "net");

      // ping both ways through the unicast layer (names found through its DHT)
      for (const [srv, cli, name] of [[b, a, "ping.b"], [a, b, "ping.a"]] as const) {
        const p = srv.spawn(["ping", "-l", "--name", name, "--layer", "net"]);
        await p.waitFor(/server started/, 15000);
        let r = await cli.run(["ping", "-n", name, "-c", "5", "-i", "50"]);
        for (let i = 0; i < 20 && r.code !== 0; i++) { // the DHT may need a moment to publish
          await new Promise((res) => setTimeout(res, 250));
          r = await cli.run(["ping", "-n", name, "-c", "5", "-i", "50"]);
        }
        assertMatch(r.stdout, /5 packets transmitted, 5 received/, r.stdout + r.stderr);
        p.kill();
        await p.done();
      }
      // the flow really crossed the unicast layer over Ethernet
      const rib = JSON.parse(await ok(a, "--json", "ipcp", "list")) as { name: string; detail: Record<string, unknown> }[];
      const eth = rib.find((i) => i.name === "eth.a")!.detail;
      const counters = (eth.counters ?? eth) as Record<string, number>;
      assertEquals((counters.rxPackets ?? 0) > 10, true, JSON.stringify(eth));

      // 50 MB over a reliable flow
      const data = new Uint8Array(50 << 20);
      for (let i = 0; i < data.length; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
      const rx = b.spawn(["cat", "-l", "--name", "files.b", "--layer", "net"]);
      await bound(b, "files.b");
      const tx = await a.run(["cat", "files.b", "-q", "data"], data);
      assertEquals(tx.code, 0, tx.stderr);
      const st = await rx.done();
      assertEquals(st.code, 0, rx.stderr);
      assertEquals(await sha256(rx.stdoutBytes()), await sha256(data));
    } finally {
      await topo.destroy();
    }
  },
});
