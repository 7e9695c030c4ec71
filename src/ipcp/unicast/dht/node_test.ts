import { assert, assertEquals } from "../../../../tests/util/assert.ts";
import { decodeValidDhtMsg, DhtCode, type DhtMsg, encodeDhtMsg } from "../wire/dht.ts";
import { randomId } from "./id.ts";
import { addrToValue, type DhtClock, DhtNode, valueToAddr } from "./node.ts";

// Spec 13 §6 test config (own address shortened to 4 bytes: addresses are numbers).
const KEY_LEN = 32;
const OWN = 0x12345678;

interface Sent {
  addr: number;
  msg: DhtMsg;
}

function mkNode(extra: { peer?: number; queryTimeoutMs?: number } = {}) {
  const sent: Sent[] = [];
  let mono = 0;
  const clock: DhtClock = {
    monoMs: () => mono,
    unixS: () => 1_700_000_000 + Math.floor(mono / 1000),
  };
  const dht = new DhtNode({
    selfAddr: OWN,
    keyLen: KEY_LEN,
    send: (addr, msg) => (sent.push({ addr, msg }), true),
    clock,
    queryTimeoutMs: extra.queryTimeoutMs ?? 10,
    peer: extra.peer,
  });
  const addContacts = (n: number, base = 1000) => {
    for (let i = 0; i < n; i++) dht.buckets.insert({ id: randomId(KEY_LEN), addr: base + i }, 0);
  };
  return { dht, sent, clock, addContacts, advance: (ms: number) => (mono += ms) };
}

/** Round-trip through the real codec and the receive-side validation. */
const wire = (m: DhtMsg) => decodeValidDhtMsg(encodeDhtMsg(m), KEY_LEN);

Deno.test("dht node: address values are 8 bytes big-endian", () => {
  assertEquals(addrToValue(0x0a0b0c0d), new Uint8Array([0, 0, 0, 0, 0x0a, 0x0b, 0x0c, 0x0d]));
  assertEquals(valueToAddr(addrToValue(1234321)), 1234321);
  assertEquals(valueToAddr(new Uint8Array(7)), 0);
  assertEquals(valueToAddr(new Uint8Array(8).fill(0xff)), 0);
});

Deno.test("dht node: spec 13 §6.8 — FIND_NODE request and response", () => {
  const { dht, sent, addContacts } = mkNode();
  addContacts(1);
  const key = randomId(KEY_LEN);
  dht.findNode(key);
  assertEquals(sent.length, 1);
  const req = wire(sent[0]!.msg);
  assertEquals(req.code, DhtCode.FIND_NODE_REQ);
  assertEquals(sent[0]!.addr, 1000);
  const contacts = [0, 1].map((i) => ({ id: randomId(KEY_LEN), addr: BigInt(2000 + i) }));
  const rsp = wire({
    code: DhtCode.FIND_NODE_RSP,
    src: { id: dht.buckets.get(1000)!.id, addr: 1000n },
    node: { cookie: req.find!.cookie, key, contacts },
  });
  assert(dht.handle(rsp));
  assert(dht.buckets.get(2000) && dht.buckets.get(2001), "contacts learned");
  // The lookup iterates to the two new contacts.
  assertEquals(sent.slice(1).map((s) => s.addr).sort(), [2000, 2001]);
  // Unsolicited responses are dropped, and their sender is not learned.
  assert(
    !dht.handle({
      ...rsp,
      src: { id: randomId(KEY_LEN), addr: 3000n },
      node: { ...rsp.node!, cookie: 99n },
    }),
  );
  assertEquals(dht.buckets.get(3000), undefined);
});

Deno.test("dht node: answers FIND_NODE, FIND_VALUE and STORE", () => {
  const { dht, sent, addContacts } = mkNode();
  addContacts(3);
  const asker = { id: randomId(KEY_LEN), addr: 555n };
  const key = randomId(KEY_LEN);
  dht.handle(wire({ code: DhtCode.FIND_NODE_REQ, src: asker, find: { cookie: 5n, key } }));
  const r1 = wire(sent.at(-1)!.msg);
  assertEquals([sent.at(-1)!.addr, r1.code, r1.node!.cookie], [555, DhtCode.FIND_NODE_RSP, 5n]);
  assertEquals(r1.node!.contacts.length, 4); // 3 contacts + the asker, never ourselves
  assert(r1.node!.contacts.every((c) => c.addr !== BigInt(OWN)));
  dht.handle(
    wire({
      code: DhtCode.STORE,
      src: asker,
      store: { key, val: addrToValue(77), exp: 1_700_000_100 },
    }),
  );
  dht.handle(
    wire({
      code: DhtCode.STORE,
      src: asker,
      store: { key, val: addrToValue(78), exp: 1_600_000_000 },
    }),
  );
  dht.handle(wire({ code: DhtCode.FIND_VALUE_REQ, src: asker, find: { cookie: 6n, key } }));
  const r2 = wire(sent.at(-1)!.msg);
  assertEquals(r2.code, DhtCode.FIND_VALUE_RSP);
  assertEquals(r2.val!.values, [addrToValue(77)]); // the expired STORE was refused
});

Deno.test("dht node: spec 13 §6.9/§6.10 — reg sends nothing alone, alpha STOREs with contacts", () => {
  const a = mkNode();
  const key = randomId(KEY_LEN);
  a.dht.reg(key);
  assertEquals(a.sent, []);
  assert(a.dht.unreg(key));
  assert(!a.dht.unreg(key));
  const b = mkNode();
  b.addContacts(4);
  b.dht.reg(key);
  const stores = b.sent.filter((s) => s.msg.code === DhtCode.STORE);
  assertEquals(stores.length, 3);
  for (const s of stores) {
    const m = wire(s.msg);
    assertEquals(m.code, DhtCode.STORE);
    assertEquals(valueToAddr(m.store!.val), OWN);
    assertEquals(m.store!.exp, 1_700_000_000 + 86400);
  }
});

Deno.test("dht node: spec 13 §6.11 — own value filtered from local query", async () => {
  const { dht } = mkNode();
  const key = dht.id;
  dht.reg(key);
  assertEquals(await dht.query(key), 0);
  const other = { id: randomId(KEY_LEN), addr: 9n };
  dht.handle({
    code: DhtCode.STORE,
    src: other,
    store: { key, val: addrToValue(1234321), exp: 1_700_000_005 },
  });
  assertEquals(await dht.query(key), 1234321);
});

Deno.test("dht node: spec 13 §6.12/§6.13 — query without contacts, query timing out", async () => {
  const a = mkNode({ peer: 4242 });
  assertEquals(await a.dht.query(randomId(KEY_LEN)), 0);
  assertEquals(a.sent, []);
  const b = mkNode();
  b.addContacts(10);
  const key = randomId(KEY_LEN);
  assertEquals(await b.dht.query(key), 0);
  const first = wire(b.sent[0]!.msg);
  assertEquals(first.code, DhtCode.FIND_VALUE_REQ);
  assertEquals(b.sent.length, 3, "alpha requests");
  assertEquals(b.dht.lookup(key), undefined, "timed-out request removed");
});

Deno.test("dht node: seed asks the bootstrap peer with the magic cookie; tasks run in turn", () => {
  const { dht, sent, advance } = mkNode({ peer: 4242 });
  assert(dht.seed());
  const m = wire(sent[0]!.msg);
  assertEquals([sent[0]!.addr, m.code, m.find!.cookie], [
    4242,
    DhtCode.FIND_NODE_REQ,
    dht.magicCookie,
  ]);
  assertEquals(m.find!.key, dht.id);
  assertEquals(dht.nextTaskAtMs(), 90_000);
  advance(90_000);
  dht.tick(); // task 1: check contacts → table empty → seed again
  assertEquals(sent.filter((s) => s.addr === 4242).length, 2);
  const nosend = new DhtNode({ selfAddr: 1, keyLen: KEY_LEN, peer: 5, send: () => false });
  assert(!nosend.seed(), "no route yet");
});

/** In-memory network: every message goes through the codec, delivered asynchronously. */
class Net {
  nodes = new Map<number, DhtNode>();
  queue: Array<{ to: number; bytes: Uint8Array }> = [];
  add(addr: number, peer: number): DhtNode {
    const n = new DhtNode({
      selfAddr: addr,
      keyLen: KEY_LEN,
      peer,
      queryTimeoutMs: 1000,
      send: (to, msg) => {
        if (!this.nodes.has(to)) return false;
        this.queue.push({ to, bytes: encodeDhtMsg(msg) });
        queueMicrotask(() => this.drain());
        return true;
      },
    });
    this.nodes.set(addr, n);
    return n;
  }
  drain(): void {
    for (let m = this.queue.shift(); m; m = this.queue.shift()) {
      this.nodes.get(m.to)!.handle(decodeValidDhtMsg(m.bytes, KEY_LEN));
    }
  }
  async settle(): Promise<void> {
    for (let i = 0; i < 20 && this.queue.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 0));
    }
    this.drain();
  }
}

Deno.test("dht node: 30 nodes bootstrap from one peer, publish and resolve a name", async () => {
  const net = new Net();
  net.add(1, 0);
  for (let a = 2; a <= 30; a++) {
    net.add(a, 1).seed();
    await net.settle();
  }
  const known = [...net.nodes.values()].map((n) => n.buckets.size);
  assert(Math.min(...known) >= 3, `every node learned peers: ${known}`);
  const key = randomId(KEY_LEN);
  net.nodes.get(17)!.reg(key);
  await net.settle();
  for (const a of [2, 9, 30]) {
    assertEquals(await net.nodes.get(a)!.query(key), 17, `query from ${a}`);
  }
  assertEquals(await net.nodes.get(5)!.query(randomId(KEY_LEN)), 0, "unknown name");
});
