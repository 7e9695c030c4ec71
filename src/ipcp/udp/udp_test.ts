/**
 * Two UdpIpcp instances on loopback with a fake IRMd each: allocation,
 * data both ways, refusals, dealloc, MTU and hostile datagrams.
 */
import { assert, assertBytes, assertEquals, assertRejects } from "../../../tests/util/assert.ts";
import { mutate, rng } from "../../../tests/util/fuzz.ts";
import { Errno, OuroError } from "../../lib/errors.ts";
import { HashAlgo, hashName } from "../../lib/hash.ts";
import { logger, setLogLevel } from "../../lib/log.ts";
import { qosRaw, type QosSpec, qosVoice } from "../../lib/qos.ts";
import { UdpSocket } from "../../io/udp.ts";
import type { IpEndpoint } from "../../io/sockaddr.ts";
import type { Ipcp, IpcpHost } from "../types.ts";
import { UdpIpcp, type UdpIpcpOptions, type UdpIpcpType } from "./udp.ts";
import {
  decodeUdpMgmt,
  encodeUdpData,
  encodeUdpMgmt,
  UDP4_MAX_PACKET_SIZE,
  UdpMgmtCode,
} from "./wire.ts";

setLogLevel("error");

const md5 = (s: string) => hashName(HashAlgo.MD5, s);
const te = new TextEncoder();
const td = new TextDecoder();

/** An IRMd stand-in that records every call. */
class FakeHost implements IpcpHost {
  nextFlowId = 100;
  refuse: OuroError | undefined;
  reqs: { hash: Uint8Array; qos: QosSpec; mpl: number; data: Uint8Array }[] = [];
  replies: { flowId: number; response: number; mpl: number; data: Uint8Array }[] = [];
  delivered = new Map<number, Uint8Array[]>();
  deallocated: number[] = [];
  #waiters: (() => void)[] = [];

  flowReqArr(_i: Ipcp, hash: Uint8Array, qos: QosSpec, mpl: number, data: Uint8Array) {
    this.reqs.push({ hash: hash.slice(), qos, mpl, data: data.slice() });
    this.#wake();
    if (this.refuse) return Promise.reject(this.refuse);
    return Promise.resolve({ flowId: this.nextFlowId++, data: te.encode("oap-resp") });
  }
  flowAllocReply(flowId: number, response: number, mpl: number, data: Uint8Array): void {
    this.replies.push({ flowId, response, mpl, data: data.slice() });
    this.#wake();
  }
  flowDeallocated(flowId: number): void {
    this.deallocated.push(flowId);
  }
  deliver(flowId: number, sdu: Uint8Array): void {
    let l = this.delivered.get(flowId);
    if (!l) this.delivered.set(flowId, l = []);
    l.push(sdu.slice());
    this.#wake();
  }
  backpressure(): undefined {
    return undefined;
  }
  got(flowId: number): Uint8Array[] {
    return this.delivered.get(flowId) ?? [];
  }
  #wake(): void {
    for (const w of this.#waiters.splice(0)) w();
  }
  /** Wait until `cond` holds (re-checked on every host call). */
  async until(cond: () => boolean, ms = 3000): Promise<void> {
    const end = Date.now() + ms;
    while (!cond()) {
      const left = end - Date.now();
      if (left <= 0) throw new Error("timed out waiting for the fake host");
      await new Promise<void>((res) => {
        const t = setTimeout(res, Math.min(left, 50));
        this.#waiters.push(() => (clearTimeout(t), res()));
      });
    }
  }
}

/** Two free UDP ports on `host` (bound and released). */
async function freePorts(host: string, n: number): Promise<number[]> {
  const socks = await Promise.all(
    Array.from({ length: n }, () => UdpSocket.open({ hostname: host, bufferBytes: 0, slots: 2 })),
  );
  const ports = socks.map((s) => s.addr.port);
  await Promise.all(socks.map((s) => s.close()));
  return ports;
}

interface Pair {
  a: UdpIpcp;
  b: UdpIpcp;
  ha: FakeHost;
  hb: FakeHost;
  [Symbol.asyncDispose](): Promise<void>;
}

/** A with peer "srv" → B, B with peer "cli" → A, both on `host`. */
async function pair(
  type: UdpIpcpType,
  host: string,
  extraPeersA = "",
  ringSlots?: number,
  optsA: UdpIpcpOptions = {},
  optsB: UdpIpcpOptions = {},
): Promise<Pair> {
  const [pa, pb] = await freePorts(host, 2);
  const ep = (p: number) => type === "udp6" ? `[${host}]:${p}` : `${host}:${p}`;
  const ha = new FakeHost(), hb = new FakeHost();
  const opts = { resolver: { useDns: false, hostsFile: "/nonexistent/hosts" }, ringSlots };
  const a = new UdpIpcp(1, "a", type, ha, logger("test/a"), { ...opts, ...optsA });
  const b = new UdpIpcp(2, "b", type, hb, logger("test/b"), { ...opts, ...optsB });
  await a.bootstrap({
    layer: "low",
    options: { ip: host, port: pa!, peers: `srv=${ep(pb!)}${extraPeersA}` },
  });
  await b.bootstrap({ layer: "low", options: { ip: host, port: pb!, peers: `cli=${ep(pa!)}` } });
  return {
    a,
    b,
    ha,
    hb,
    [Symbol.asyncDispose]: async () => void await Promise.all([a.stop(), b.stop()]),
  };
}

/** A allocates flow `aId` to "srv"; returns B's flow id. */
async function alloc(p: Pair, aId: number, qos: QosSpec = qosRaw): Promise<number> {
  assert(await p.a.query(md5("srv")));
  const n = p.ha.replies.length;
  await p.a.flowAlloc(aId, md5("srv"), qos, te.encode("oap-req"));
  await p.ha.until(() => p.ha.replies.length > n);
  const r = p.ha.replies.at(-1)!;
  assertEquals([r.flowId, r.response, r.mpl], [aId, 0, 5000]);
  return p.hb.nextFlowId - 1;
}

for (const [type, host] of [["udp4", "127.0.0.1"], ["udp6", "::1"]] as const) {
  Deno.test(`udp ipcp: ${type} allocates a flow, moves data both ways, deallocates`, async () => {
    await using p = await pair(type, host);
    const { a, b, ha, hb } = p;
    assertEquals(a.layer, { name: "low", hashAlgo: HashAlgo.MD5 });
    assertEquals(await a.query(md5("nobody")), false);
    const bId = await alloc(p, 7, qosVoice);
    // B's IRMd saw the hash, the QoS, udp's MPL and the opaque allocation data
    const req = hb.reqs[0]!;
    assertBytes(req.hash, md5("srv"));
    assertEquals(req.qos, qosVoice);
    assertEquals(req.mpl, 5000);
    assertEquals(td.decode(req.data), "oap-req");
    assertEquals(td.decode(ha.replies[0]!.data), "oap-resp");

    assertEquals(a.write(7, te.encode("hello")), undefined);
    b.write(bId, te.encode("world"));
    await hb.until(() => hb.got(bId).length === 1);
    await ha.until(() => ha.got(7).length === 1);
    assertEquals(td.decode(hb.got(bId)[0]!), "hello");
    assertEquals(td.decode(ha.got(7)[0]!), "world");

    // a burst larger than the socket ring: back-pressure, no loss, in order
    const n = 3000;
    for (let i = 0; i < n; i++) {
      const sdu = new Uint8Array(1400);
      new DataView(sdu.buffer).setUint32(0, i);
      const bp = a.write(7, sdu);
      if (bp) await bp;
    }
    await hb.until(() => hb.got(bId).length === n + 1, 10000);
    const seqs = hb.got(bId).slice(1).map((s) => new DataView(s.buffer).getUint32(0));
    assertEquals(seqs, Array.from({ length: n }, (_, i) => i));
    assertEquals(a.counters.txFull, 0);

    // largest SDU goes, one byte more is dropped and counted
    const max = a.maxSdu;
    assertEquals(max, type === "udp4" ? 8980 : 8952);
    a.write(7, new Uint8Array(max).fill(9));
    a.write(7, new Uint8Array(max + 1));
    await hb.until(() => hb.got(bId).length === n + 2);
    assertEquals(hb.got(bId).at(-1)!.length, max);
    assertEquals(a.counters.txOversize, 1);

    const info = a.info();
    assertEquals(info.type, type);
    assertEquals(info.state, "OPERATIONAL");
    assertEquals(info.detail?.ip, host);
    assertEquals(info.detail?.flows, 1);
    assertEquals(info.detail?.txPackets, n + 2);

    // dealloc is local: B still sends, A drops and counts
    a.flowDealloc(7);
    assertEquals(a.write(7, te.encode("late")), undefined);
    assertEquals(a.counters.txNoFlow, 1);
    b.write(bId, te.encode("late"));
    await new Promise((r) => setTimeout(r, 100));
    assertEquals(a.counters.rxNoFlow, 1);
    assertEquals(ha.got(7).length, 1);
  });
}

Deno.test("udp ipcp: a full send ring holds packets back and makes the writer wait", async () => {
  await using p = await pair("udp4", "127.0.0.1", "", 4);
  const bId = await alloc(p, 5);
  const n = 500;
  let waits = 0;
  for (let i = 0; i < n; i++) {
    const sdu = new Uint8Array(1000);
    new DataView(sdu.buffer).setUint32(0, i);
    const bp = p.a.write(5, sdu);
    if (bp) (waits++, await bp);
  }
  await p.hb.until(() => p.hb.got(bId).length === n, 10000);
  const seqs = p.hb.got(bId).map((s) => new DataView(s.buffer).getUint32(0));
  assertEquals(seqs, Array.from({ length: n }, (_, i) => i));
  assert(waits > 0 && (p.a.info().detail?.txRingFull as number) > 0, "the ring never filled");
  assertEquals(p.a.counters.txFull, 0);
});

Deno.test("udp ipcp: a refused request reaches the initiator as a negative response", async () => {
  await using p = await pair("udp4", "127.0.0.1");
  p.hb.refuse = new OuroError(Errno.ENAME, "nobody accepting");
  await p.a.flowAlloc(9, md5("srv"), qosRaw, new Uint8Array(0));
  await p.ha.until(() => p.ha.replies.length === 1);
  assertEquals(p.ha.replies[0]!.flowId, 9);
  assertEquals(p.ha.replies[0]!.response, -Errno.ENAME);
  // the flow is gone on A: nothing can be written
  p.a.write(9, te.encode("x"));
  assertEquals(p.a.counters.txNoFlow, 1);
  // an unresolvable name fails at once
  await assertRejects(
    () => p.a.flowAlloc(10, md5("nobody"), qosRaw, new Uint8Array(0)),
    OuroError,
    "does not resolve",
  );
});

Deno.test("udp ipcp: counts and drops malformed, unknown and misdirected datagrams", async () => {
  await using raw = await UdpSocket.open({ hostname: "127.0.0.1", maxDatagramBytes: 9100 });
  await using p = await pair("udp4", "127.0.0.1", `,fake=127.0.0.1:${raw.addr.port}`);
  const { a, b, hb } = p;
  const toB: IpEndpoint = b.addr!;
  const mgmt = (code: number, extra = 0) => {
    const m = new Uint8Array(47 + extra);
    m[44] = code;
    return m;
  };
  const junk = [
    new Uint8Array([1, 2, 3]), // shorter than an eid
    mgmt(1).subarray(0, 46), // short management header
    mgmt(3), // unknown code
    mgmt(1, 10), // FLOW_REQ without its full hash
    new Uint8Array(4 + UDP4_MAX_PACKET_SIZE + 1), // larger than the receive buffer
  ];
  for (const j of junk) raw.send(toB, j);
  raw.send(toB, encodeUdpData({ eid: 12345, payload: te.encode("stray") }));
  raw.send(
    toB,
    encodeUdpMgmt({
      code: UdpMgmtCode.FLOW_REPLY,
      sEid: 5,
      dEid: 6,
      response: 0,
      qos: qosRaw,
      hash: new Uint8Array(0),
      payload: new Uint8Array(0),
    }),
  );
  await new Promise((r) => setTimeout(r, 200));
  assertEquals(b.counters.rxMalformed, 4);
  assertEquals(b.info().detail?.rxTruncated, 1);
  assertEquals(b.counters.rxNoFlow, 1);
  assertEquals(b.counters.rxBadReply, 1);
  assertEquals(hb.reqs.length, 0);

  // A asks "fake" (the raw socket); the reply comes from another port: dropped
  assert(await a.query(md5("fake")));
  await a.flowAlloc(3, md5("fake"), qosRaw, new Uint8Array(0));
  const [req] = await raw.receive();
  const m = decodeUdpMgmt(req!.data);
  assertEquals([m.code, m.sEid, m.dEid], [UdpMgmtCode.FLOW_REQ, 3, 0]);
  assertBytes(m.hash, md5("fake"));
  const reply = encodeUdpMgmt({
    ...m,
    code: UdpMgmtCode.FLOW_REPLY,
    dEid: 77,
    hash: new Uint8Array(0),
  });
  await using other = await UdpSocket.open({ hostname: "127.0.0.1" });
  other.send(req!.remote, reply);
  await new Promise((r) => setTimeout(r, 100));
  assertEquals(a.counters.rxBadReply, 1);
  assertEquals(p.ha.replies.length, 0);
  // from the right address it is taken
  raw.send(req!.remote, reply);
  await p.ha.until(() => p.ha.replies.length === 1);
  assertEquals(p.ha.replies[0]!.response, 0);
  a.write(3, te.encode("to-fake"));
  // skip FLOW_REQs A may have resent (no reply within 300 ms on a loaded machine)
  const isMgmt = (x: Uint8Array) => x[0] === 0 && x[1] === 0 && x[2] === 0 && x[3] === 0;
  let d;
  while (!(d = (await raw.receive()).find((x) => !isMgmt(x.data))));
  assertBytes(d!.data, encodeUdpData({ eid: 77, payload: te.encode("to-fake") }));
});

Deno.test("udp ipcp: survives random datagrams (every one counted, none thrown)", async () => {
  await using raw = await UdpSocket.open({ hostname: "127.0.0.1" });
  await using p = await pair("udp4", "127.0.0.1");
  const { b, hb } = p;
  hb.refuse = new OuroError(Errno.ENAME, "no");
  const seeds = [
    encodeUdpMgmt({
      code: 1,
      sEid: 1,
      dEid: 0,
      response: 0,
      qos: qosRaw,
      hash: md5("srv"),
      payload: new Uint8Array(8),
    }),
    encodeUdpMgmt({
      code: 2,
      sEid: 1,
      dEid: 4,
      response: 0,
      qos: qosRaw,
      hash: new Uint8Array(0),
      payload: new Uint8Array(0),
    }),
    encodeUdpData({ eid: 100, payload: new Uint8Array(20) }),
  ];
  const r = rng(7);
  const n = 2000;
  for (let i = 0; i < n; i++) {
    raw.send(b.addr!, mutate(seeds[i % seeds.length]!, r));
    // paced so the kernel never overflows the socket buffer on a loaded machine (those drops are not ours to count)
    if (i % 50 === 49) await new Promise((res) => setTimeout(res, 3));
  }
  const c = b.counters;
  const total = () => c.rxMalformed + c.rxNoFlow + c.rxMgmt + c.rxPackets;
  await hb.until(() => total() + (b.info().detail?.rxTruncated as number) >= n, 5000).catch(
    () => {},
  );
  assertEquals(total() + (b.info().detail?.rxTruncated as number), n);
  // replies to the refused requests went back to the sender (again for duplicates)
  await new Promise((res) => setTimeout(res, 50));
  assertEquals(c.txMgmt, hb.reqs.length + c.txMgmtResent);
});

Deno.test("udp ipcp: bootstrap checks its options and undoes a failed bind", async () => {
  const h = new FakeHost();
  const mk = (type: UdpIpcpType = "udp4") => new UdpIpcp(1, "u", type, h, logger("test"));
  const cases: [UdpIpcpType, Record<string, string | number>, string][] = [
    ["udp4", {}, "option ip is required"],
    ["udp4", { ip: "0.0.0.0" }, "unspecified"],
    ["udp6", { ip: "::" }, "unspecified"],
    ["udp6", { ip: "127.0.0.1" }, "not an IPv6 address"],
    ["udp4", { ip: "127.0.0.1", port: 0 }, "port 0"],
    ["udp4", { ip: "127.0.0.1", port: "http" }, "port http"],
    ["udp4", { ip: "127.0.0.1", dns: "resolver" }, "dns resolver"],
    ["udp4", { ip: "127.0.0.1", peers: "x=1.2.3" }, "Cannot use peer"],
    ["udp4", { ip: "198.51.100.7" }, "EADDRNOTAVAIL"],
  ];
  for (const [type, options, msg] of cases) {
    const u = mk(type);
    await assertRejects(() => u.bootstrap({ layer: "l", options }), OuroError, msg);
    assertEquals(u.state, "BOOT");
  }
  const u = mk();
  const [port] = await freePorts("127.0.0.1", 1);
  await u.bootstrap({ layer: "l", options: { ip: "127.0.0.1", port: port!, dns: "127.0.0.53" } });
  await assertRejects(
    () => u.bootstrap({ layer: "l", options: { ip: "127.0.0.1" } }),
    OuroError,
    "BOOT",
  );
  await u.reg(md5("x")); // logs that DNS is not updated
  assertEquals(u.info().detail?.registered, 1);
  await u.unreg(md5("x"));
  await u.stop();
  assertEquals(u.state, "SHUTDOWN");
});

/** A `dropMgmtTx` seam losing the first `n` management datagrams with `code`. */
function dropFirst(code: number, n = 1): (d: Uint8Array) => boolean {
  let left = n;
  return (d) => d[44] === code && left-- > 0;
}

/** Exactly one flow on each side: one IRMd request on B, one reply on A, data both ways. */
async function assertOneFlow(p: Pair, aId: number, bId: number): Promise<void> {
  await new Promise((r) => setTimeout(r, 700)); // past further resends, were any still due
  assertEquals(p.hb.reqs.length, 1);
  assertEquals(p.ha.replies.length, 1);
  assertEquals([p.a.info().detail?.flows, p.b.info().detail?.flows], [1, 1]);
  p.a.write(aId, te.encode("ping"));
  p.b.write(bId, te.encode("pong"));
  await p.hb.until(() => p.hb.got(bId).length === 1);
  await p.ha.until(() => p.ha.got(aId).length === 1);
  assertEquals([p.a.counters.rxNoFlow, p.b.counters.rxNoFlow], [0, 0]);
}

Deno.test("udp ipcp: a lost FLOW_REQ is resent and makes one flow", async () => {
  await using p = await pair("udp4", "127.0.0.1", "", undefined, {
    dropMgmtTx: dropFirst(UdpMgmtCode.FLOW_REQ),
  });
  const t0 = Date.now();
  const bId = await alloc(p, 4);
  assert(Date.now() - t0 >= 250, "the reply came before any resend");
  assertEquals(p.a.counters.txMgmtResent, 1);
  assertEquals(p.b.counters.rxDupReq, 0);
  await assertOneFlow(p, 4, bId);
});

Deno.test("udp ipcp: a lost FLOW_REPLY is sent again for the resent request, one flow", async () => {
  await using p = await pair("udp4", "127.0.0.1", "", undefined, {}, {
    dropMgmtTx: dropFirst(UdpMgmtCode.FLOW_REPLY),
  });
  const bId = await alloc(p, 4);
  assertEquals(p.a.counters.txMgmtResent, 1);
  assertEquals(p.b.counters.rxDupReq, 1); // answered from the table, not the IRMd
  assertEquals(p.b.counters.txMgmtResent, 1);
  await assertOneFlow(p, 4, bId);
  assertEquals(p.a.counters.rxDupReply, 0);
});

Deno.test("udp ipcp: eager resends make one flow; duplicate requests and replies are counted", async () => {
  await using p = await pair("udp4", "127.0.0.1", "", undefined, { flowReqResendMs: 1 });
  // B's IRMd takes 150 ms: the resends at 1, 3, 7, 15 ms find the request in progress
  const arr = p.hb.flowReqArr.bind(p.hb);
  p.hb.flowReqArr = (...a) => new Promise((r) => setTimeout(r, 150)).then(() => arr(...a));
  const bId = await alloc(p, 6);
  assertEquals(p.a.counters.txMgmtResent, 4); // five sends in all
  await assertOneFlow(p, 6, bId);
  assertEquals(p.b.counters.rxDupReq, 4);
  assertEquals(p.b.counters.txMgmtResent, 0); // ignored while processing
  assertEquals(p.a.counters.rxDupReply, 0);

  // answered quickly now: late duplicates get the same reply again, which A ignores
  p.hb.flowReqArr = arr;
  const n = p.ha.replies.length;
  await p.a.flowAlloc(8, md5("srv"), qosRaw, te.encode("second"));
  await p.ha.until(() => p.ha.replies.length > n);
  await new Promise((r) => setTimeout(r, 300));
  assertEquals(p.ha.replies.length, n + 1);
  assertEquals(p.hb.reqs.length, 2);
  assertEquals(p.a.counters.rxDupReply, p.b.counters.txMgmtResent);
  assertEquals(p.a.counters.rxBadReply, 0);
});

Deno.test("udp ipcp: a request refused is refused again, not re-asked, when resent", async () => {
  await using p = await pair("udp4", "127.0.0.1", "", undefined, {}, {
    dropMgmtTx: dropFirst(UdpMgmtCode.FLOW_REPLY),
  });
  p.hb.refuse = new OuroError(Errno.ENAME, "nobody accepting");
  await p.a.flowAlloc(9, md5("srv"), qosRaw, new Uint8Array(0));
  await p.ha.until(() => p.ha.replies.length === 1);
  assertEquals(p.ha.replies[0]!.response, -Errno.ENAME);
  assertEquals(p.hb.reqs.length, 1);
  assertEquals(p.b.counters.rxDupReq, 1);
  await new Promise((r) => setTimeout(r, 700));
  assertEquals(p.ha.replies.length, 1);
  assertEquals(p.a.counters.txMgmtResent, 1);
});
