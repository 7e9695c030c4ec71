/**
 * The unicast IPCP inside a real IRMd (in this process, real control
 * socket): two unicast IPCPs in one daemon over its local layer — uni.a
 * bootstraps, uni.b enrolls through the local layer, they connect, and an
 * application flow runs through the unicast layer (recursion, no network).
 */
import { assert, assertEquals } from "../../../tests/util/assert.ts";
import { Irmd } from "../../irmd/daemon.ts";
import { applyConfig } from "../../cli/irmd.ts";
import { setLogLevel } from "../../lib/log.ts";
import { Ouro } from "../../../mod.ts";
import type { UnicastIpcp } from "./unicast.ts";
import { waitFor } from "./_fabric.ts";

setLogLevel("error");

const CONFIG = `
[local.loc]
bootstrap = "low"
reg = ["net", "uni.a", "uni.b"]

[unicast."uni.a"]
bootstrap = "net"
autobind = true
ls_t_recalc = 1

[unicast."uni.b"]
enrol = "net"
autobind = true
conn = ["uni.a"]
`;

Deno.test("daemon: unicast over the local layer — enroll, connect, DHT, ping through the layer", async () => {
  const rundir = await Deno.makeTempDir({ prefix: "ouro-uni-" });
  const d = await Irmd.start({ rundir, direct: false });
  try {
    await applyConfig(d, CONFIG, "test");
    const byName = (n: string) => [...d.ipcps.values()].find((i) => i.name === n) as UnicastIpcp;
    const a = byName("uni.a"), b = byName("uni.b");
    assertEquals(b.state, "OPERATIONAL");
    assertEquals(b.layer?.name, "net");
    await waitFor(
      () => b.components!.dir.node.buckets.get(a.components!.addr) !== undefined,
      5000,
      "b's DHT knows a",
    );

    const server = await Ouro.connect({ rundir, prog: "server" });
    await server.bind("oping.srv");
    await server.request({ op: "name.reg", name: "oping.srv", ipcp: "uni.b" });
    const client = await Ouro.connect({ rundir, prog: "client" });
    const acc = server.flowAccept({ timeoutMs: 10000 });
    const cf = await client.flowAlloc("oping.srv", { timeoutMs: 10000 });
    const sf = await acc;
    const flows = await client.request({ op: "flow.list" });
    const mine = (flows.flows as { id: number; via: string }[]).find((f) => f.id === cf.fd);
    assertEquals(mine?.via, "uni.a");
    for (let i = 0; i < 5; i++) {
      await cf.write(new TextEncoder().encode(`ping ${i}`));
      assertEquals(new TextDecoder().decode((await sf.read({ timeoutMs: 2000 }))!), `ping ${i}`);
      await sf.write(new TextEncoder().encode(`pong ${i}`));
      assertEquals(new TextDecoder().decode((await cf.read({ timeoutMs: 2000 }))!), `pong ${i}`);
    }
    assert(a.components!.dt.counters.lclW >= 5 && b.components!.dt.counters.lclR >= 5);

    // the listing shows address, neighbours, routes and the DHT
    const list = (await client.request({ op: "ipcp.list" })).ipcps as {
      name: string;
      detail?: Record<string, unknown>;
    }[];
    const da = list.find((i) => i.name === "uni.a")!.detail!;
    assertEquals(da.address, a.components!.addr);
    assertEquals((da.routes as { dst: number }[])[0]!.dst, b.components!.addr);
    assert((da.neighbours as unknown[]).length === 2);
    assert((da.dht as { contacts: unknown[] }).contacts.length >= 1);

    await cf.close();
    await client.close();
    await server.close();
  } finally {
    await d.stop();
    await Deno.remove(rundir, { recursive: true });
  }
});
