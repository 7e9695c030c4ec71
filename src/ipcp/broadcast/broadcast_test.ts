/**
 * Whole broadcast IPCPs in one process over the in-memory fabric of N−1
 * flows (src/ipcp/unicast/_fabric.ts): enrollment, DT links, joins,
 * flooding over a triangle, a ring, a full mesh and a line, members
 * leaving, reference-style (raw) links and junk on a link.
 */
import { assert, assertEquals, assertRejects } from "../../../tests/util/assert.ts";
import { Errno, OuroError } from "../../lib/errors.ts";
import { hashName, toHex } from "../../lib/hash.ts";
import { logger, setLogLevel } from "../../lib/log.ts";
import { qosRaw } from "../../lib/qos.ts";
import { encodeCep } from "../unicast/wire/cep.ts";
import { type AppFlow, Fabric, FakeHost, FakeN1, waitFor } from "../unicast/_fabric.ts";
import { type BroadcastDeps, BroadcastIpcp } from "./broadcast.ts";
import { bcastDtCep, BROADCAST_MTU, encodeFrame } from "./wire.ts";

setLogLevel("error");

const LAYER = "chat";
const te = new TextEncoder();
const td = new TextDecoder();

interface Member {
  ipcp: BroadcastIpcp;
  host: FakeHost;
  n1: FakeN1;
}

class Net {
  readonly fab = new Fabric();
  readonly members: Member[] = [];
  #flowId = 1;

  member(name: string, deps: BroadcastDeps = {}): Member {
    const n1 = new FakeN1(this.fab, name, 1 << 23);
    const host = new FakeHost();
    const ipcp = new BroadcastIpcp(this.members.length + 1, name, {
      host,
      log: logger(`test/${name}`),
      n1,
    }, deps);
    n1.bind(name);
    const m = { ipcp, host, n1 };
    this.members.push(m);
    return m;
  }

  /** `n` members bc.0 … bc.(n−1): the first bootstraps, the rest enroll with it. */
  async layer(n: number, deps: (i: number) => BroadcastDeps = () => ({})): Promise<Member[]> {
    const ms = Array.from({ length: n }, (_, i) => this.member(`bc.${i}`, deps(i)));
    await ms[0]!.ipcp.bootstrap({ layer: LAYER });
    for (const m of ms.slice(1)) await m.ipcp.enroll("bc.0");
    return ms;
  }

  async join(m: Member): Promise<AppFlow> {
    const f: AppFlow = { flowId: this.#flowId++, rx: [], deallocated: false };
    m.host.flows.set(f.flowId, f);
    await m.ipcp.flowJoin(f.flowId, hashName(1, LAYER));
    return f;
  }

  async stop(): Promise<void> {
    for (const m of this.members) {
      await m.ipcp.stop();
      m.n1.close();
    }
  }
}

const connect = (a: Member, b: Member) => a.ipcp.connect(b.ipcp.name, "dt", qosRaw);
const send = (m: Member, f: AppFlow, text: string) => m.ipcp.write(f.flowId, te.encode(text));
const texts = (f: AppFlow) => f.rx.map((b) => td.decode(b)).sort();

function expected(names: string[], k: number, except: string): string[] {
  const out: string[] = [];
  for (const n of names) {
    if (n === except) continue;
    for (let i = 0; i < k; i++) out.push(i >= k - 2 ? `${n} again` : `${n} says ${i}`);
  }
  return out.sort();
}

/**
 * Every member writes `k` messages — its last two identical on purpose —
 * and every joined flow must receive exactly the others' messages, once.
 */
async function floodAndCheck(net: Net, ms: Member[], k = 5): Promise<AppFlow[]> {
  const flows: AppFlow[] = [];
  for (const m of ms) flows.push(await net.join(m));
  for (let i = 0; i < k; i++) {
    ms.forEach((m, j) =>
      send(m, flows[j]!, i >= k - 2 ? `${m.ipcp.name} again` : `${m.ipcp.name} says ${i}`)
    );
  }
  const names = ms.map((m) => m.ipcp.name);
  const want = (j: number) => expected(names, k, names[j]!);
  await waitFor(
    () => flows.every((f, j) => f.rx.length >= want(j).length),
    2000,
    "every message everywhere",
  );
  await new Promise((r) => setTimeout(r, 20)); // late duplicates would show now
  flows.forEach((f, j) => assertEquals(texts(f), want(j), `at ${names[j]}`));
  return flows;
}

Deno.test("bcast: enroll, connect and join; bad joins, alloc and reg are refused", async () => {
  const net = new Net();
  try {
    const [a, b] = await net.layer(2);
    assertEquals(b!.ipcp.state, "OPERATIONAL");
    assertEquals(b!.ipcp.layer, { name: LAYER, hashAlgo: 1 });
    await connect(b!, a!);
    await b!.ipcp.connect("bc.0", "mgmt", qosRaw); // no such component: nothing to do
    await waitFor(() => a!.ipcp.flood!.links().length === 1, 1000, "a's link");
    assertEquals(b!.ipcp.flood!.links().map((l) => l.framed), [true]);
    await assertRejects(() => a!.ipcp.flowJoin(99, hashName(1, "other")), OuroError);
    await assertRejects(() => a!.ipcp.flowAlloc(), OuroError);
    await assertRejects(() => a!.ipcp.reg(), OuroError);
    assertEquals(await a!.ipcp.query(), false);
    const c = net.member("bc.x");
    const e = await assertRejects(() => c.ipcp.flowJoin(1, hashName(1, LAYER)), OuroError);
    assertEquals((e as OuroError).code, Errno.EIPCPSTATE);
    await assertRejects(
      () => c.ipcp.bootstrap({ layer: "x", options: { ip: "1.2.3.4" } }),
      OuroError,
    );
    const info = a!.ipcp.info();
    assertEquals(info.type, "broadcast");
    assertEquals((info.detail!.links as unknown[]).length, 1);
  } finally {
    await net.stop();
  }
});

Deno.test("bcast: a triangle (a cycle) delivers every message exactly once, identical ones twice", async () => {
  const net = new Net();
  try {
    const ms = await net.layer(3);
    const [a, b, c] = ms as [Member, Member, Member];
    await connect(b, a);
    await connect(c, b);
    await connect(c, a);
    await waitFor(() => a.ipcp.flood!.links().length === 2, 1000, "a's links");
    const flows = await floodAndCheck(net, ms, 6);
    // a second joiner at a gets everything, including a's first joiner's messages
    const a2 = await net.join(a);
    send(a, flows[0]!, "to all");
    await waitFor(() => a2.rx.length === 1 && flows[1]!.rx.length === 13, 1000, "second joiner");
    assertEquals(td.decode(a2.rx[0]!), "to all");
    const dups = ms.reduce((s, m) => s + m.ipcp.flood!.counters.duplicates, 0);
    assert(dups > 0, "the cycle produced duplicates that were suppressed");
    const fc = b.ipcp.flood!.counters;
    assertEquals(fc.delivered, 6 + 6 + 1);
    assert(fc.forwarded > 0);
  } finally {
    await net.stop();
  }
});

Deno.test("bcast: a ring of five and a full mesh of four stay exactly-once", async () => {
  for (const shape of ["ring", "mesh"] as const) {
    const net = new Net();
    try {
      const n = shape === "ring" ? 5 : 4;
      const ms = await net.layer(n);
      for (let i = 0; i < n; i++) {
        if (shape === "ring") await connect(ms[i]!, ms[(i + 1) % n]!);
        else for (let j = i + 1; j < n; j++) await connect(ms[i]!, ms[j]!);
      }
      await floodAndCheck(net, ms, 4);
      // TTL is never what stops a copy: the seen-set is
      assertEquals(ms.reduce((s, m) => s + m.ipcp.flood!.counters.ttlExpired, 0), 0);
    } finally {
      await net.stop();
    }
  }
});

Deno.test("bcast: a line forwards through the middle; members leave and links go", async () => {
  const net = new Net();
  try {
    const ms = await net.layer(3);
    const [a, b, c] = ms as [Member, Member, Member];
    await connect(b, a);
    await connect(c, b);
    const [fa, fb, fc] = await floodAndCheck(net, ms, 3) as [AppFlow, AppFlow, AppFlow];
    assertEquals(ms.reduce((s, m) => s + m.ipcp.flood!.counters.duplicates, 0), 0);

    // b's member leaves: b still forwards between a and c
    b.ipcp.flowDealloc(fb.flowId);
    const before = fb.rx.length;
    send(a, fa, "after leave");
    await waitFor(() => fc.rx.length === 7, 1000, "c gets a's message through b");
    assertEquals(fb.rx.length, before);
    assertEquals(b.ipcp.write(fb.flowId, te.encode("ghost")), undefined);

    // c disconnects from b: c is alone, a and b carry on
    await c.ipcp.disconnect("bc.1", "dt");
    await waitFor(() => b.ipcp.flood!.links().length === 1, 1000, "b drops the link");
    const fb2 = await net.join(b);
    send(a, fa, "without c");
    await waitFor(() => fb2.rx.length === 1, 1000, "b's new member");
    await new Promise((r) => setTimeout(r, 20));
    assertEquals(fc.rx.length, 7);
    assertEquals(c.ipcp.flood!.links().length, 0);
  } finally {
    await net.stop();
  }
});

Deno.test("bcast: reference-style members get raw SDUs; a tree of them keeps repeats", async () => {
  const net = new Net();
  try {
    // bc.1 acts like a reference member (no supp_version in its CEP)
    const ms = await net.layer(3, (i) => ({ framing: i !== 1 }));
    const [a, b, c] = ms as [Member, Member, Member];
    await connect(b, a);
    await connect(c, a);
    await waitFor(() => a.ipcp.flood!.links().length === 2, 1000, "a's links");
    assertEquals(a.ipcp.flood!.links().map((l) => l.framed).sort(), [false, true]);
    assertEquals(b.ipcp.flood!.links()[0]!.framed, false);
    assertEquals(c.ipcp.flood!.links()[0]!.framed, true);
    // b's CEP on the wire is exactly the reference's
    const refCep = toHex(encodeCep(bcastDtCep(false)));
    assert(net.fab.trace.some((t) => t.from === "bc.1" && toHex(t.sdu) === refCep));
    await floodAndCheck(net, ms, 4);
    // what a wrote to b is bare, what it wrote to c carries a header
    const aToB = net.fab.trace.filter((t) =>
      t.from === "bc.0" && td.decode(t.sdu) === "bc.0 again"
    );
    assertEquals(aToB.length, 2);
    assertEquals(c.ipcp.flood!.counters.duplicates, 0);
  } finally {
    await net.stop();
  }
});

Deno.test("bcast: TTL bounds forwarding; oversize and junk are counted and dropped", async () => {
  const net = new Net();
  try {
    const ms = await net.layer(3, (i) => (i === 0 ? { ttl: 2 } : {}));
    const [a, b, c] = ms as [Member, Member, Member];
    await connect(b, a);
    await connect(c, b);
    const [fa, , fc] = [await net.join(a), await net.join(b), await net.join(c)];
    send(a, fa!, "two hops");
    await waitFor(() => fc!.rx.length === 1, 1000, "c gets it");
    assertEquals(c.ipcp.flood!.counters.ttlExpired, 1);

    a.ipcp.write(fa!.flowId, new Uint8Array(BROADCAST_MTU + 1));
    assertEquals(a.ipcp.flood!.counters.oversize, 1);
    a.ipcp.write(fa!.flowId, new Uint8Array(BROADCAST_MTU));
    await waitFor(() => fc!.rx.length === 2, 1000, "an MTU-sized SDU");

    // a hostile framed peer: junk, then a valid frame, then its replay
    const ep = net.fab.endpoint("evil");
    const flow = await ep.alloc("bc.2", qosRaw);
    const got: Uint8Array[] = [];
    flow.onPacket = (s) => got.push(s.slice());
    flow.write(encodeCep(bcastDtCep(true)));
    await waitFor(() => got.length === 1 && c.ipcp.flood!.links().length === 2, 1000, "CEP reply");
    flow.write(new Uint8Array([1, 2, 3]));
    flow.write(new Uint8Array(20)); // TTL 0
    const frame = encodeFrame({ ttl: 9, origin: 42n, seq: 1 }, te.encode("hi"));
    flow.write(frame);
    flow.write(frame);
    await waitFor(() => fc!.rx.length === 3, 1000, "the valid frame");
    const k = c.ipcp.flood!.counters;
    assertEquals([k.malformed, k.duplicates], [2, 1]);
    assertEquals(td.decode(fc!.rx[2]!), "hi");
  } finally {
    await net.stop();
  }
});
