/**
 * Unicast paths over the in-memory fabric: reroute after a link cut (link
 * state and LFA), TTL expiry in a forwarding loop.
 */
import { assert, assertEquals } from "../../../tests/util/assert.ts";
import { setLogLevel } from "../../lib/log.ts";
import { addrOf, Fabric, FAST_LS, join, link, pingThrough, routed, waitFor } from "./_fabric.ts";

setLogLevel("error");
const te = new TextEncoder();

/** a, b, c all connected to each other. */
async function triangle(fab: Fabric, routing: string) {
  const a = fab.node("uni.a");
  const b = fab.node("uni.b");
  const c = fab.node("uni.c");
  await a.ipcp.bootstrap({ layer: "net", options: { ...FAST_LS, routing } });
  a.n1.bind("net");
  await join(b, "net", "uni.a");
  await join(c, "net", "uni.a");
  await link(c, "uni.b");
  await routed(a, c);
  await routed(c, a);
  await routed(b, c);
  return { a, b, c };
}

/** Cut the DT N−1 flow `from` opened towards `to` (both ends see it go). */
function cutDt(fab: Fabric, from: string, to: string): void {
  const conn = fab.nodes.find((n) => n.ipcp.name === from)!.ipcp.cm.connected("dt").find((x) =>
    x.dst === to
  )!;
  (conn.flow as unknown as { cut(): void }).cut();
}

for (const routing of ["link_state", "lfa", "ecmp"]) {
  Deno.test(`paths: ${routing} reroutes a flow around a cut link`, async () => {
    const fab = new Fabric();
    try {
      const { a, b, c } = await triangle(fab, routing);
      const { cf, sf } = await pingThrough(a, c, "srv");
      const fwd0 = b.ipcp.components!.dt.counters.fwdPkts;
      cutDt(fab, "uni.c", "uni.a");
      if (routing !== "lfa") {
        // simple and ecmp wait for the next recalculation (t_recalc = 1 s)
        await waitFor(
          () =>
            a.ipcp.components!.routing.pff(0).nextHops(addrOf(c)).length > 0 &&
            a.ipcp.components!.routing.ls.table().find((e) => e.dst === addrOf(c))?.nhops[0] ===
              addrOf(b),
          4000,
          "reroute",
        );
      }
      // lfa switched to its alternate at once
      a.ipcp.write(cf.flowId, te.encode("again"));
      await waitFor(() => sf.rx.length === 2, 3000, "data after the cut");
      assert(b.ipcp.components!.dt.counters.fwdPkts > fwd0, "went through b");
    } finally {
      await fab.stop();
    }
  });
}

Deno.test("paths: a forwarding loop ends when the TTL runs out, counted once", async () => {
  const fab = new Fabric();
  try {
    const a = fab.node("uni.a");
    const b = fab.node("uni.b");
    await a.ipcp.bootstrap({ layer: "net", options: { ttl: 5 } });
    a.n1.bind("net");
    await join(b, "net", "uni.a");
    await routed(a, b);
    await routed(b, a);
    const ca = a.ipcp.components!, cb = b.ipcp.components!;
    const nowhere = 0x0badf00d;
    ca.routing.pff(0).update([{ dst: nowhere, fds: ca.dt.fds() }, {
      dst: addrOf(b),
      fds: ca.dt.fds(),
    }]);
    cb.routing.pff(0).update([{ dst: nowhere, fds: cb.dt.fds() }, {
      dst: addrOf(a),
      fds: cb.dt.fds(),
    }]);
    assert(ca.dt.write(nowhere, 0, 1234n, te.encode("loop")));
    await waitFor(() => ca.dt.counters.ttlDrops + cb.dt.counters.ttlDrops === 1, 2000, "ttl drop");
    // sent with ttl 5: forwarded at ttl 4, 3, 2, 1, dropped when it reaches 0
    assertEquals(ca.dt.counters.fwdPkts + cb.dt.counters.fwdPkts, 4);
  } finally {
    await fab.stop();
  }
});
