/**
 * EthIpcp instances on an in-memory hub (`link_fake.ts`) with a fake IRMd
 * each: bootstrap errors, name queries, allocation, data, refusals,
 * dealloc, MTU, SAP exhaustion and hostile frames — for both framings.
 */
import {
  assert,
  assertBytes,
  assertEquals,
  assertMatch,
  assertRejects,
} from "../../../tests/util/assert.ts";
import { mutate, rng } from "../../../tests/util/fuzz.ts";
import { Errno, OuroError } from "../../lib/errors.ts";
import { HashAlgo, hashName } from "../../lib/hash.ts";
import { logger, setLogLevel } from "../../lib/log.ts";
import { qosRaw, type QosSpec, qosVoice } from "../../lib/qos.ts";
import type { Ipcp, IpcpHost } from "../types.ts";
import { EthIpcp, type EthIpcpType, parseEthertype } from "./eth.ts";
import { FakeEthHub } from "./link_fake.ts";
import { dixFraming, llcFraming } from "./framing.ts";
import { encodeEthDix, encodeEthLlc, ETH_BROADCAST_MAC, EthMgmtCode } from "./wire.ts";

setLogLevel("error");

const sha = (s: string) => hashName(HashAlgo.SHA3_256, s);
const te = new TextEncoder();
const td = new TextDecoder();
const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

/** An IRMd stand-in that records every call. */
class FakeHost implements IpcpHost {
  nextFlowId = 100;
  refuse: OuroError | undefined;
  reqs: { hash: Uint8Array; qos: QosSpec; mpl: number; data: Uint8Array }[] = [];
  replies: { flowId: number; response: number; mpl: number; data: Uint8Array }[] = [];
  delivered = new Map<number, Uint8Array[]>();
  deallocated: number[] = [];

  flowReqArr(_i: Ipcp, hash: Uint8Array, qos: QosSpec, mpl: number, data: Uint8Array) {
    this.reqs.push({ hash: hash.slice(), qos, mpl, data: data.slice() });
    if (this.refuse) return Promise.reject(this.refuse);
    return Promise.resolve({ flowId: this.nextFlowId++, data: te.encode("oap-resp") });
  }
  flowAllocReply(flowId: number, response: number, mpl: number, data: Uint8Array): void {
    this.replies.push({ flowId, response, mpl, data: data.slice() });
  }
  flowDeallocated(flowId: number): void {
    this.deallocated.push(flowId);
  }
  deliver(flowId: number, sdu: Uint8Array): void {
    let l = this.delivered.get(flowId);
    if (!l) this.delivered.set(flowId, l = []);
    l.push(sdu.slice());
  }
  backpressure(): undefined {
    return undefined;
  }
  got(flowId: number): Uint8Array[] {
    return this.delivered.get(flowId) ?? [];
  }
}

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await tick(2);
  }
}

interface Host {
  ipcp: EthIpcp;
  host: FakeHost;
}

interface Lan {
  hub: FakeEthHub;
  hosts: Host[];
  [Symbol.asyncDispose](): Promise<void>;
}

/** `n` IPCPs of `type` on one hub, bootstrapped on interfaces e0, e1, …. */
async function lan(type: EthIpcpType, n = 2, mtu = 1500): Promise<Lan> {
  const hub = new FakeEthHub();
  const hosts: Host[] = [];
  for (let i = 0; i < n; i++) {
    hub.define({ ifname: `e${i}`, mtu });
    const host = new FakeHost();
    host.nextFlowId = 100 * (i + 1);
    const ipcp = new EthIpcp(i + 1, `e${i}`, type, host, logger(`test/e${i}`), {
      open: hub.opener,
      queryTimeoutMs: 150,
    });
    await ipcp.bootstrap({ layer: "lan", options: { dev: `e${i}` } });
    hosts.push({ ipcp, host });
  }
  return {
    hub,
    hosts,
    [Symbol.asyncDispose]: async () => void await Promise.all(hosts.map((h) => h.ipcp.stop())),
  };
}

/** A (hosts[0]) allocates flow `aId` to `name` served by `b`; returns b's flow id. */
async function alloc(
  a: Host,
  b: Host,
  aId: number,
  name = "srv",
  qos: QosSpec = qosRaw,
): Promise<number> {
  assert(await a.ipcp.query(sha(name)), "query");
  const n = a.host.replies.length;
  await a.ipcp.flowAlloc(aId, sha(name), qos, te.encode("oap-req"));
  await until(() => a.host.replies.length > n);
  const r = a.host.replies.at(-1)!;
  assertEquals([r.flowId, r.response, r.mpl], [aId, 0, 100]);
  return b.host.nextFlowId - 1;
}

for (const type of ["eth-dix", "eth-llc"] as const) {
  Deno.test(`eth ipcp: ${type} resolves, allocates, moves data both ways, deallocates`, async () => {
    await using l = await lan(type);
    const [a, b] = l.hosts as [Host, Host];
    assertEquals(a.ipcp.layer, { name: "lan", hashAlgo: HashAlgo.SHA3_256 });
    await b.ipcp.reg(sha("srv"));
    assertEquals(await a.ipcp.query(sha("nobody")), false);
    const bId = await alloc(a, b, 7, "srv", qosVoice);
    const req = b.host.reqs[0]!;
    assertBytes(req.hash, sha("srv"));
    assertEquals(req.qos, qosVoice);
    assertEquals(req.mpl, 100);
    assertEquals(td.decode(req.data), "oap-req");
    assertEquals(td.decode(a.host.replies[0]!.data), "oap-resp");

    assertEquals(a.ipcp.write(7, te.encode("hello")), undefined);
    b.ipcp.write(bId, te.encode("world"));
    await until(() => b.host.got(bId).length === 1 && a.host.got(7).length === 1);
    assertEquals(td.decode(b.host.got(bId)[0]!), "hello");
    assertEquals(td.decode(a.host.got(7)[0]!), "world");

    // a burst, in order; short SDUs come back without Ethernet padding
    for (let i = 0; i < 500; i++) a.ipcp.write(7, new Uint8Array([i >> 8, i & 255]));
    await until(() => b.host.got(bId).length === 501);
    assert(
      b.host.got(bId).slice(1).every((s, i) => s.length === 2 && ((s[0]! << 8) | s[1]!) === i),
    );

    // the largest SDU goes; one byte more is dropped and counted
    const max = a.ipcp.maxSdu;
    assertEquals(max, type === "eth-dix" ? 1496 : 1497);
    a.ipcp.write(7, new Uint8Array(max).fill(9));
    a.ipcp.write(7, new Uint8Array(max + 1));
    await until(() => b.host.got(bId).length === 502);
    assertEquals(b.host.got(bId).at(-1)!.length, max);
    assertEquals(a.ipcp.counters.txOversize, 1);

    const d = a.ipcp.info().detail!;
    assertEquals(d.dev, "e0");
    assertMatch(String(d.mac), /^02:00:00:00:00:01$/);
    assertEquals(d.ethertype, type === "eth-dix" ? "0xa000" : undefined);
    assertEquals([d.flows, d.txPackets, d.directory], [1, 502, 1]);

    // dealloc is local: B still sends, A drops and counts
    a.ipcp.flowDealloc(7);
    assertEquals(a.ipcp.write(7, te.encode("late")), undefined);
    assertEquals(a.ipcp.counters.txNoFlow, 1);
    b.ipcp.write(bId, te.encode("late"));
    await until(() => a.ipcp.counters.rxNoFlow === 1);
    assertEquals(a.host.got(7).length, 1);
  });

  Deno.test(`eth ipcp: ${type} refusals and requests for names not here`, async () => {
    await using l = await lan(type);
    const [a, b] = l.hosts as [Host, Host];
    await b.ipcp.reg(sha("srv"));
    assert(await a.ipcp.query(sha("srv")));
    b.host.refuse = new OuroError(Errno.ENAME, "nobody accepting");
    await a.ipcp.flowAlloc(5, sha("srv"), qosRaw, new Uint8Array(0));
    await until(() => a.host.replies.length === 1);
    assertEquals(a.host.replies[0]!.response, -Errno.ENAME);
    assertEquals(a.ipcp.info().detail!.flows, 0);
    // B unregistered meanwhile: the cached MAC still gets the request, B stays silent
    b.host.refuse = undefined;
    await b.ipcp.unreg(sha("srv"));
    await a.ipcp.flowAlloc(6, sha("srv"), qosRaw, new Uint8Array(0));
    await until(() => b.ipcp.counters.rxUnknownName === 1);
    assertEquals(b.host.reqs.length, 1);
    assertEquals(a.host.replies.length, 1);
    // and a name nobody has cannot be allocated
    await assertRejects(
      () => a.ipcp.flowAlloc(8, sha("nobody"), qosRaw, new Uint8Array(0)),
      OuroError,
      "name query",
    );
  });

  Deno.test(`eth ipcp: ${type} ignores other protocols, other MACs and hostile frames`, async () => {
    await using l = await lan(type);
    const [a, b] = l.hosts as [Host, Host];
    await b.ipcp.reg(sha("srv"));
    const bId = await alloc(a, b, 3);
    const probe = l.hub.open({ ifname: "probe", mac: new Uint8Array([2, 9, 9, 9, 9, 9]) });
    const bMac = b.ipcp.mac;
    // IPv4 and ARP frames, and a DIX frame of another Ethertype
    const other = new Uint8Array(60);
    other.set(bMac, 0);
    other.set(probe.mac, 6);
    for (const t of [0x0800, 0x0806, 0xa001]) {
      other[12] = t >> 8;
      other[13] = t & 255;
      probe.send(other);
    }
    // our protocol, but addressed to a third MAC
    const stranger = new Uint8Array([2, 7, 7, 7, 7, 7]);
    probe.send(
      type === "eth-dix"
        ? encodeEthDix({
          dst: stranger,
          src: probe.mac,
          ethertype: 0xa000,
          eid: bId,
          payload: te.encode("x"),
        })
        : encodeEthLlc({
          dst: stranger,
          src: probe.mac,
          dsap: 2,
          ssap: 2,
          payload: te.encode("x"),
        }),
    );
    // data for B's flow, but from a MAC that is not the peer's
    probe.send(
      type === "eth-dix"
        ? encodeEthDix({
          dst: bMac,
          src: probe.mac,
          ethertype: 0xa000,
          eid: bId,
          payload: te.encode("spoof"),
        })
        : encodeEthLlc({
          dst: bMac,
          src: probe.mac,
          dsap: 2,
          ssap: 2,
          payload: te.encode("spoof"),
        }),
    );
    await until(() => b.ipcp.counters.rxNoFlow === 1);
    const c = b.ipcp.counters;
    assertEquals(c.rxIgnored, 3);
    assertEquals(c.rxNotForUs, 1);
    assertEquals(b.host.got(bId).length, 0);

    // mutated valid frames (data, management of every code) never throw
    const fr = type === "eth-dix" ? dixFraming(0xa000) : llcFraming();
    const seeds = [
      type === "eth-dix"
        ? encodeEthDix({
          dst: bMac,
          src: a.ipcp.mac,
          ethertype: 0xa000,
          eid: bId,
          payload: te.encode("data"),
        })
        : encodeEthLlc({
          dst: bMac,
          src: a.ipcp.mac,
          dsap: 2,
          ssap: 2,
          payload: te.encode("data"),
        }),
      ...[0, 1, 2, 3].map((code) =>
        fr.mgmtFrame(ETH_BROADCAST_MAC as Uint8Array, probe.mac, {
          code: code as EthMgmtCode,
          sId: 2,
          dId: 3,
          response: 0,
          qos: qosRaw,
          hash: code === EthMgmtCode.FLOW_REPLY ? new Uint8Array(0) : sha("zzz"),
          payload: new Uint8Array(3),
        })
      ),
    ];
    const r = rng(7);
    for (let i = 0; i < 3000; i++) {
      const s = seeds[i % seeds.length]!;
      const m = mutate(s, r);
      if (m.length >= 12) m.set(bMac, 0); // most reach the decoder
      probe.send(m);
      if (i % 200 === 0) await tick(1);
    }
    await tick(20);
    // the layer still works
    a.ipcp.write(3, te.encode("still here"));
    await until(() => b.host.got(bId).some((s) => td.decode(s) === "still here"));
    assert(b.ipcp.counters.rxMalformed > 0);
    assertEquals(b.ipcp.state, "OPERATIONAL");
    await probe.close();
  });
}

Deno.test("eth ipcp: a name query on three hosts reaches the one that has the name", async () => {
  await using l = await lan("eth-dix", 3);
  const [a, b, c] = l.hosts as [Host, Host, Host];
  await c.ipcp.reg(sha("far"));
  await b.ipcp.reg(sha("near"));
  const far = await alloc(a, c, 11, "far");
  const near = await alloc(a, b, 12, "near");
  a.ipcp.write(11, te.encode("to c"));
  a.ipcp.write(12, te.encode("to b"));
  await until(() => c.host.got(far).length === 1 && b.host.got(near).length === 1);
  assertEquals(td.decode(c.host.got(far)[0]!), "to c");
  assertEquals(td.decode(b.host.got(near)[0]!), "to b");
  assertEquals(b.host.reqs.length, 1);
  // the hub carries frames to every port: the third host filtered the unicast ones
  assert(b.ipcp.counters.rxNotForUs > 0);
  assertEquals(b.ipcp.counters.rxNoFlow, 0);
});

Deno.test("eth ipcp: eth-llc runs out of SAPs at 62 flows and checks the peer's SAP", async () => {
  await using l = await lan("eth-llc");
  const [a, b] = l.hosts as [Host, Host];
  await b.ipcp.reg(sha("srv"));
  for (let i = 0; i < 62; i++) await alloc(a, b, 1000 + i);
  await assertRejects(
    () => a.ipcp.flowAlloc(2000, sha("srv"), qosRaw, new Uint8Array(0)),
    OuroError,
    "SAPs",
  );
  // no teardown message: both ends release their SAP
  a.ipcp.flowDealloc(1000);
  b.ipcp.flowDealloc(200);
  const bId = await alloc(a, b, 2000); // the freed SAP is reused
  // a frame on the right DSAP but from another SSAP of the peer is dropped
  const bad = encodeEthLlc({
    dst: b.ipcp.mac,
    src: a.ipcp.mac,
    dsap: 2,
    ssap: 40,
    payload: te.encode("x"),
  });
  l.hub.open({ ifname: "x", mac: a.ipcp.mac }).send(bad);
  await until(() => b.ipcp.counters.rxNoFlow === 1);
  a.ipcp.write(2000, te.encode("ok"));
  await until(() => b.host.got(bId).length === 1);
});

Deno.test("eth ipcp: bootstrap says what is wrong and what to do", async () => {
  const hub = new FakeEthHub();
  hub.define({ ifname: "up0" });
  hub.define({ ifname: "down0", down: true });
  const mk = (type: EthIpcpType = "eth-dix") =>
    new EthIpcp(1, "e", type, new FakeHost(), logger("test/boot"), { open: hub.opener });
  const boot = (options: Record<string, string | number>, type?: EthIpcpType) =>
    mk(type).bootstrap({ layer: "lan", options });
  await assertRejects(() => boot({}), OuroError, "option dev is required");
  await assertRejects(() => boot({ dev: "a-very-long-interface" }), OuroError, "at most 15");
  await assertRejects(() => boot({ dev: "nope0" }), OuroError, "ip link");
  await assertRejects(() => boot({ dev: "down0" }), OuroError, "ip link set down0 up");
  for (const bad of ["0x05ff", "0xffff", "zz", "0x10000", 100]) {
    await assertRejects(() => boot({ dev: "up0", ethertype: bad }), OuroError, "0x0600..0xFFFE");
  }
  const e = mk();
  await e.bootstrap({ layer: "lan", options: { dev: "up0", ethertype: "88b5" } });
  assertEquals(e.info().detail!.ethertype, "0x88b5");
  await assertRejects(
    () => e.bootstrap({ layer: "lan", options: { dev: "up0" } }),
    OuroError,
    "BOOT",
  );
  await e.stop();
  assertEquals([parseEthertype("0xA000"), parseEthertype("a000"), parseEthertype(0x0800)], [
    0xa000,
    0xa000,
    0x800,
  ]);
  // eth-llc: 1500-byte MTU cap; DIX: the interface's (jumbo) MTU
  hub.define({ ifname: "jumbo0", mtu: 9000 });
  const llc = mk("eth-llc"), dix = mk("eth-dix");
  await llc.bootstrap({ layer: "lan", options: { dev: "jumbo0" } });
  await dix.bootstrap({ layer: "lan", options: { dev: "jumbo0" } });
  assertEquals([llc.maxSdu, dix.maxSdu], [1497, 8996]);
  await Promise.all([llc.stop(), dix.stop()]);
});

Deno.test("eth ipcp: peer ids: DIX eid 0 is refused, LLC SAPs up to 65 (the reference's) work", async () => {
  for (const type of ["eth-dix", "eth-llc"] as const) {
    await using l = await lan(type, 1);
    const [b] = l.hosts as [Host];
    await b.ipcp.reg(sha("srv"));
    const probe = l.hub.open({ ifname: "p", mac: new Uint8Array([2, 9, 9, 9, 9, 9]) });
    const got: Uint8Array[] = [];
    const rx = probe.onReceive((f) => got.push(f));
    const fr = type === "eth-dix" ? dixFraming(0xa000) : llcFraming();
    const req = (sId: number) =>
      fr.mgmtFrame(b.ipcp.mac, probe.mac, {
        code: EthMgmtCode.FLOW_REQ,
        sId,
        dId: 0,
        response: 0,
        qos: qosRaw,
        hash: sha("srv"),
        payload: new Uint8Array(0),
      });
    probe.send(req(0));
    await until(() => b.ipcp.counters.rxMalformed === 1);
    assertEquals(b.host.reqs.length, 0);
    probe.send(req(65));
    await until(() => got.length === 1);
    const rx0 = fr.decode(got[0]!);
    if (!rx0?.mgmt) throw new Error("the answer is not a management frame");
    const reply = fr.decodeMgmt(rx0.body, 32);
    assertEquals([reply.code, reply.response, reply.dId], [EthMgmtCode.FLOW_REPLY, 0, 65]);
    const hdr = fr.dataHeader(b.ipcp.mac, probe.mac, reply.sId, 65);
    const frame = new Uint8Array(hdr.length + 2);
    frame.set(hdr);
    fr.setLength(frame, 2);
    frame.set([7, 7], hdr.length);
    probe.send(frame);
    const bId = b.host.nextFlowId - 1;
    await until(() => b.host.got(bId).length === 1);
    await probe.close();
    await rx;
  }
});
