/**
 * Real daemons: three `ouro irmd` processes on this host, each with a udp4
 * IPCP on 127.0.0.1 (own port, static peer tables) and a unicast IPCP of
 * layer "net" in a line a – b – c, all set up with the `irm` CLI as an
 * operator would. `ouro ping` from a reaches a server on c: the name is
 * found through the DHT and the packets cross b. Loopback only.
 */
import { assert, assertMatch } from "../../../tests/util/assert.ts";
import { TestDaemon } from "../../../tests/util/daemon.ts";

async function ok(d: TestDaemon, ...args: string[]): Promise<string> {
  const r = await d.irm(...args);
  if (r.code !== 0) {
    throw new Error(`irm ${args.join(" ")} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  return r.stdout;
}

/** `n` consecutive ports in an unprivileged range, different per run. */
function ports(n: number): number[] {
  const base = 20000 + Math.floor(Math.random() * 40000);
  return Array.from({ length: n }, (_, i) => base + i);
}

Deno.test("udp line: a – b – c unicast layer over udp4 daemons, ping from a to a name on c", async () => {
  const [pa, pb, pc] = ports(3) as [number, number, number];
  const at = (p: number) => `127.0.0.1:${p}`;
  const ds: TestDaemon[] = [];
  try {
    const [a, b, c] = await Promise.all([
      TestDaemon.start(),
      TestDaemon.start(),
      TestDaemon.start(),
    ]) as [
      TestDaemon,
      TestDaemon,
      TestDaemon,
    ];
    ds.push(a, b, c);
    const udp = (d: TestDaemon, n: string, port: number, peers: string) =>
      ok(
        d,
        "ipcp",
        "bootstrap",
        "name",
        n,
        "type",
        "udp4",
        "layer",
        "low",
        "ip",
        "127.0.0.1",
        "port",
        `${port}`,
        "peer",
        peers,
      );
    await udp(a, "low.a", pa, `uni.b=${at(pb)}`);
    await udp(b, "low.b", pb, `net=${at(pa)},uni.a=${at(pa)},uni.c=${at(pc)}`);
    await udp(c, "low.c", pc, `uni.b=${at(pb)}`);

    await ok(
      a,
      "ipcp",
      "bootstrap",
      "name",
      "uni.a",
      "type",
      "unicast",
      "layer",
      "net",
      "ls_t_recalc",
      "1",
      "autobind",
    );
    await ok(a, "name", "reg", "uni.a", "layer", "low");
    await ok(a, "name", "reg", "net", "layer", "low");

    await ok(b, "ipcp", "enroll", "name", "uni.b", "layer", "net", "autobind");
    await ok(b, "name", "reg", "uni.b", "layer", "low");
    await ok(b, "ipcp", "connect", "name", "uni.b", "dst", "uni.a", "component", "dt");
    await ok(b, "ipcp", "connect", "name", "uni.b", "dst", "uni.a", "component", "mgmt");

    await ok(c, "ipcp", "enroll", "name", "uni.c", "dst", "uni.b", "autobind");
    await ok(c, "name", "reg", "uni.c", "layer", "low");
    await ok(c, "ipcp", "connect", "name", "uni.c", "dst", "uni.b", "component", "dt");
    await ok(c, "ipcp", "connect", "name", "uni.c", "dst", "uni.b", "component", "mgmt");

    const server = c.spawn(["ping", "-l", "--name", "far.pinger", "--layer", "net"]);
    try {
      await server.waitFor(/server started/, 15000);
      // give the DHT a moment to seed and the STORE to land
      let r = { code: 1, stdout: "", stderr: "" };
      for (let i = 0; i < 10 && r.code !== 0; i++) {
        await new Promise((res) => setTimeout(res, 500));
        r = await a.run(["ping", "-n", "far.pinger", "-c", "3", "-i", "100"]);
      }
      if (r.code !== 0) throw new Error(`ping failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
      assertMatch(r.stdout, /3 packets transmitted, 3 received/);
    } finally {
      server.kill();
      await server.done();
    }
    const list = JSON.parse(await ok(b, "--json", "ipcp", "list"));
    const uni = (list.ipcps ?? list).find((i: { name: string }) => i.name === "uni.b");
    assert(
      uni.detail.counters.dt.fwdPkts >= 6,
      `b forwarded ${uni.detail.counters.dt.fwdPkts} packets`,
    );
  } finally {
    await Promise.all(ds.map((d) => d.stop()));
  }
});
