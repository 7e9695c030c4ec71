/**
 * Whole unicast IPCPs over the in-memory fabric: enrollment, adjacencies,
 * DHT, flow allocation and data, lines and reroutes.
 */
import { assert, assertEquals, assertRejects } from "../../../tests/util/assert.ts";
import { hashName } from "../../lib/hash.ts";
import { setLogLevel } from "../../lib/log.ts";
import { qosRaw, qosVoice } from "../../lib/qos.ts";
import type { MbEcnCtx } from "./ca/mb_ecn.ts";
import { decodeDt, encodeDt } from "./wire/dt.ts";
import {
  addrOf,
  appAlloc,
  Fabric,
  FAST_LS,
  join,
  pingThrough,
  routed,
  waitFor,
} from "./_fabric.ts";

setLogLevel("warn");

const te = new TextEncoder();
const OPTS = FAST_LS;

Deno.test("unicast: bootstrap, enroll, connect dt and mgmt, DHT name, flow and ping", async () => {
  const fab = new Fabric();
  try {
    const a = fab.node("uni.a");
    const b = fab.node("uni.b");
    const layer = await a.ipcp.bootstrap({ layer: "net", options: OPTS });
    assertEquals(layer, { name: "net", hashAlgo: 1 });
    a.n1.bind("net");
    await join(b, "net", "uni.a");
    assertEquals(b.ipcp.layer, { name: "net", hashAlgo: 1 });
    assertEquals(b.ipcp.state, "OPERATIONAL");
    // the enrollee learned the layer's timers from the enroller
    assertEquals(b.ipcp.components!.conf.unicast!.dt.routing.ls!.tRecalcS, 1);
    assertEquals(b.ipcp.components!.conf.unicast!.dir.dht!.peer, BigInt(addrOf(a)));
    await routed(b, a);
    await routed(a, b);
    const { cf, sf } = await pingThrough(a, b, "oping.srv");
    // dealloc is local: later packets for the old eid are dropped and counted
    b.ipcp.flowDealloc(sf.flowId);
    a.ipcp.write(cf.flowId, te.encode("late"));
    await waitFor(() => b.ipcp.components!.fa.counters.unknownEid > 0, 2000, "unknown eid counted");
    const info = a.ipcp.info();
    assertEquals((info.detail as { address: number }).address, addrOf(a));
    assert(JSON.stringify(info).includes("neighbours"));
  } finally {
    await fab.stop();
  }
});

Deno.test("unicast: a name that is not registered fails allocation; refused requests answer", async () => {
  const fab = new Fabric();
  try {
    const a = fab.node("uni.a");
    const b = fab.node("uni.b");
    await a.ipcp.bootstrap({ layer: "net", options: OPTS });
    a.n1.bind("net");
    await join(b, "net", "uni.a");
    await routed(a, b);
    assertEquals(await a.ipcp.query(hashName(1, "nobody")), false);
    // registered in the DHT, but nobody serves it at b: the FA answers with an error
    const h = hashName(1, "ghost");
    await waitFor(
      () => b.ipcp.components!.dir.node.buckets.get(addrOf(a)) !== undefined,
      3000,
      "b knows a",
    );
    await b.ipcp.reg(h);
    // b knows a now, so the STORE goes out at once
    await waitFor(
      () => a.ipcp.components!.dir.node.store.keys().length > 0,
      3000,
      "a stores ghost",
    );
    const f = await appAlloc(a, "ghost");
    assert(f.reply!.response < 0);
    await assertRejects(() =>
      a.ipcp.flowAlloc(77, hashName(1, "nobody"), qosRaw, new Uint8Array(0))
    );
  } finally {
    await fab.stop();
  }
});

Deno.test("unicast: enrollment fails cleanly for an unknown destination and a wrong state", async () => {
  const fab = new Fabric();
  try {
    const a = fab.node("uni.a");
    const b = fab.node("uni.b");
    await assertRejects(() => b.ipcp.enroll("net"));
    assertEquals(b.ipcp.state, "BOOT");
    await a.ipcp.bootstrap({ layer: "net" });
    await assertRejects(() => a.ipcp.bootstrap({ layer: "net" }));
    await assertRejects(() => a.ipcp.enroll("net"));
    await assertRejects(() => b.ipcp.bootstrap({ layer: "x", options: { addr: 2 } }));
    await assertRejects(() => b.ipcp.bootstrap({ layer: "x", options: { dht_k: 99 } }));
    await assertRejects(() => b.ipcp.bootstrap({ layer: "x", options: { ip: "1.2.3.4" } }));
    assertEquals(b.ipcp.state, "BOOT");
  } finally {
    await fab.stop();
  }
});

Deno.test("unicast: a line of three carries traffic through the middle", async () => {
  const fab = new Fabric();
  try {
    const a = fab.node("uni.a");
    const b = fab.node("uni.b");
    const c = fab.node("uni.c");
    await a.ipcp.bootstrap({ layer: "net", options: OPTS });
    a.n1.bind("net");
    await join(b, "uni.a", "uni.a");
    await join(c, "uni.b", "uni.b");
    await routed(a, c);
    await routed(c, a);
    await pingThrough(a, c, "far.srv");
    assert(b.ipcp.components!.dt.counters.fwdPkts >= 2, "b forwarded");
    // the name at c was found by a through the DHT (a has no direct DHT contact with c at first)
    assertEquals(a.ipcp.components!.fa.flows().at(-1)!.rAddr, addrOf(c));
  } finally {
    await fab.stop();
  }
});

Deno.test("unicast: congestion marks come back as FLOW_UPDATE; voice flows carry cube 2", async () => {
  const fab = new Fabric();
  try {
    const a = fab.node("uni.a");
    const b = fab.node("uni.b");
    await a.ipcp.bootstrap({ layer: "net", options: FAST_LS });
    a.n1.bind("net");
    await join(b, "net", "uni.a");
    await routed(a, b);
    const h = hashName(1, "voice.srv");
    b.host.serve(h);
    await waitFor(
      () => b.ipcp.components!.dir.node.buckets.get(addrOf(a)) !== undefined,
      3000,
      "b knows a",
    );
    await b.ipcp.reg(h);
    const cf = await appAlloc(a, "voice.srv", { qos: qosVoice });
    assertEquals(cf.reply!.response, 0);
    fab.trace.length = 0;
    a.ipcp.write(cf.flowId, te.encode("hello"));
    await waitFor(() => fab.trace.length > 0, 1000, "data");
    assertEquals(decodeDt(fab.trace[0]!.sdu).qc, 2);
    // a packet marked on the way (ecn 5) makes b's receiver echo it to a
    const bFlow = b.ipcp.components!.fa.flows().at(-1)!;
    const fd = a.ipcp.components!.dt.fds()[0]!;
    const n1 = [...a.n1.flows].find((f) => f.id === fd)!;
    n1.write(
      encodeDt({
        dst: BigInt(addrOf(b)),
        qc: 2,
        ttl: 60,
        ecn: 5,
        eid: bFlow.sEid,
        payload: te.encode("hot"),
      }),
    );
    const aFlow = a.ipcp.components!.fa.flows().at(-1)!;
    await waitFor(() => (aFlow.ca as MbEcnCtx).txCav, 1000, "FLOW_UPDATE at a");
    assertEquals((aFlow.ca as MbEcnCtx).txEce, 5);
    assertEquals(b.ipcp.components!.fa.counters.updatesSent, 1);
  } finally {
    await fab.stop();
  }
});

Deno.test("unicast: disconnect drops the adjacency and its routes", async () => {
  const fab = new Fabric();
  try {
    const a = fab.node("uni.a");
    const b = fab.node("uni.b");
    await a.ipcp.bootstrap({ layer: "net", options: FAST_LS });
    a.n1.bind("net");
    await join(b, "net", "uni.a");
    await routed(b, a);
    await b.ipcp.disconnect("uni.a", "dt");
    await b.ipcp.disconnect("uni.a", "mgmt");
    await b.ipcp.disconnect("uni.a", "dt"); // not connected any more: fine
    await waitFor(
      () => b.ipcp.components!.routing.pff(0).nextHop(addrOf(a)) === undefined,
      3000,
      "route gone",
    );
    assertEquals(b.ipcp.components!.routing.ls.lsdb.neighbours().length, 0);
    await waitFor(
      () => a.ipcp.components!.routing.ls.lsdb.neighbours().length === 0,
      1000,
      "a sees it too",
    );
  } finally {
    await fab.stop();
  }
});
