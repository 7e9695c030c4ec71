/**
 * Hostile input on every component of a unicast IPCP: connection manager,
 * enrollment, DT, FA, DHT and link-state. Everything must be counted and
 * dropped, nothing thrown.
 */
import { assert, assertEquals, assertRejects } from "../../../tests/util/assert.ts";
import { setLogLevel } from "../../lib/log.ts";
import { qosRaw } from "../../lib/qos.ts";
import type { N1Flow } from "../../irmd/n1.ts";
import { Fabric, type FakeN1, type Node, waitFor } from "./_fabric.ts";
import { type Cep, CepSyntax, decodeCep, encodeCep } from "./wire/cep.ts";
import { encodeDt } from "./wire/dt.ts";
import { encodeLsu } from "./wire/lsu.ts";

setLogLevel("error");

const EVIL_ADDR = 777n;
const dtCep: Cep = {
  compName: "Data Transfer",
  protocol: "dtp",
  prefVersion: 1,
  prefSyntax: CepSyntax.FIXED,
  address: EVIL_ADDR,
};
const mgmtCep: Cep = {
  compName: "Management",
  protocol: "LSP",
  prefVersion: 1,
  prefSyntax: CepSyntax.GPB,
  address: EVIL_ADDR,
};
const enrollCep: Cep = {
  compName: "Enrollment",
  protocol: "OEP",
  prefVersion: 1,
  prefSyntax: CepSyntax.GPB,
  address: 0n,
};

/** Open a raw flow to `dst`, send `first`, collect what comes back. */
async function raw(evil: FakeN1, dst: string, first: Uint8Array) {
  const flow = await evil.alloc(dst, qosRaw);
  const rx: Uint8Array[] = [];
  let gone = false;
  flow.onPacket = (b) => rx.push(b.slice());
  flow.onDealloc = () => (gone = true);
  flow.write(first);
  return { flow, rx, gone: () => gone };
}

async function operational(): Promise<{ fab: Fabric; a: Node; evil: FakeN1 }> {
  const fab = new Fabric();
  const a = fab.node("uni.a");
  await a.ipcp.bootstrap({ layer: "net" });
  const evil = fab.endpoint("evil");
  return { fab, a, evil };
}

Deno.test("garbage: connection manager counts bad and unknown CEPs and releases the flows", async () => {
  const { fab, a, evil } = await operational();
  try {
    const cm = a.ipcp.cm.counters;
    const junk = await raw(evil, "uni.a", new Uint8Array([0xff, 0xff, 0xff]));
    await waitFor(() => cm.cepBad === 1 && junk.gone(), 2000, "bad CEP");
    const big = await raw(evil, "uni.a", new Uint8Array(200).fill(0x0a));
    await waitFor(() => cm.cepBad === 2 && big.gone(), 2000, "oversized CEP");
    const unknown = await raw(evil, "uni.a", encodeCep({ ...dtCep, compName: "Nope" }));
    await waitFor(() => cm.cepUnknown === 1 && unknown.gone(), 2000, "unknown component");
    assertEquals(decodeCep(unknown.rx[0]!), {
      compName: "",
      protocol: "",
      prefVersion: 0,
      prefSyntax: 0,
      address: 0n,
    });
    const zero = await raw(evil, "uni.a", encodeCep({ ...dtCep, address: 0n }));
    await waitFor(
      () => a.ipcp.components!.counters.badAddress === 1 && zero.gone(),
      2000,
      "address 0",
    );
    // initiator side: a peer that answers with another protocol is refused
    evil.bind("evil");
    const served = (async () => {
      const f: N1Flow = await evil.accept();
      f.onPacket = () => f.write(encodeCep({ ...dtCep, protocol: "xyz" }));
    })();
    await assertRejects(() => a.ipcp.connect("evil", "dt", qosRaw));
    await served;
    assertEquals(cm.cepRejected, 1);
    // silence: the CEP read times out
    const mute = fab.endpoint("mute");
    mute.bind("mute");
    await assertRejects(() => a.ipcp.connect("mute", "mgmt", qosRaw));
    assertEquals(cm.cepTimeout, 1);
  } finally {
    await fab.stop();
  }
});

Deno.test("garbage: enrollment requests that do not decode get no answer", async () => {
  const { fab, a, evil } = await operational();
  try {
    const e = await raw(evil, "uni.a", encodeCep(enrollCep));
    await waitFor(() => e.rx.length === 1, 2000, "CEP reply");
    e.flow.write(new Uint8Array([0x0a, 0x03, 1, 2, 3])); // id of 3 bytes
    await waitFor(
      () => a.ipcp.components!.enroller.counters.badRequests === 1 && e.gone(),
      2000,
      "bad request",
    );
    assertEquals(e.rx.length, 1);
  } finally {
    await fab.stop();
  }
});

Deno.test("garbage: DT, FA, DHT and LSU junk is counted and dropped; random packets never throw", async () => {
  const { fab, a, evil } = await operational();
  try {
    const c = a.ipcp.components!;
    const self = BigInt(c.addr);
    const dt = await raw(evil, "uni.a", encodeCep(dtCep));
    await waitFor(() => dt.rx.length === 1, 2000, "dt CEP");
    const send = (b: Uint8Array) => dt.flow.write(b);
    const pdu = (eid: bigint, payload: Uint8Array, dst = self) =>
      encodeDt({ dst, qc: 0, ttl: 60, ecn: 0, eid, payload });
    send(new Uint8Array(3));
    send(
      Uint8Array.of(...pdu(0n, new Uint8Array(0)).subarray(0, 4), 9, 60, 0, 0, 0, 0, 0, 0, 0, 0, 0),
    );
    send(pdu(5n, new Uint8Array(4)));
    send(pdu(0n, new Uint8Array(10)));
    send(pdu(0n, new Uint8Array(61).fill(7)));
    send(pdu(1n, new Uint8Array([0xff, 0x01])));
    send(pdu(0x1_0000_0040n, new Uint8Array(4)));
    send(pdu(64n, new Uint8Array(4), 12345n));
    await waitFor(() => c.dt.counters.rxPkts === 8, 2000, "dt packets in");
    await new Promise((r) => setTimeout(r, 10));
    assertEquals(c.dt.counters.badPci, 2);
    assertEquals(c.dt.counters.unknownEid, 1);
    assertEquals(c.fa.counters.badMsgs, 2);
    assertEquals(c.dir.counters.badMsgs, 1);
    assertEquals(c.fa.counters.unknownEid, 1);
    assertEquals(c.dt.counters.noRoute, 1);

    const mg = await raw(evil, "uni.a", encodeCep(mgmtCep));
    await waitFor(() => mg.rx.length >= 1, 2000, "mgmt CEP");
    mg.flow.write(new Uint8Array(10));
    mg.flow.write(encodeLsu({ dAddr: 1n << 40n, sAddr: EVIL_ADDR, seqno: 1n }));
    assertEquals(c.routing.counters.badLsus, 2);

    // random packets, a third of them addressed to a with a component eid
    for (let i = 0; i < 3000; i++) {
      const b = crypto.getRandomValues(new Uint8Array(Math.floor(Math.random() * 120)));
      if (i % 3 === 0 && b.length >= 15) {
        new DataView(b.buffer).setUint32(0, c.addr, true);
        b[4] = i % 3;
        b.fill(0, 8, 15);
        b[7] = i % 2;
      }
      send(b);
      if (i % 500 === 0) await new Promise((r) => setTimeout(r, 0));
    }
    for (let i = 0; i < 500; i++) mg.flow.write(crypto.getRandomValues(new Uint8Array(24)));
    await new Promise((r) => setTimeout(r, 50));
    assert(c.dt.counters.rxPkts >= 3000);
    assertEquals(a.ipcp.state, "OPERATIONAL");
  } finally {
    await fab.stop();
  }
});
