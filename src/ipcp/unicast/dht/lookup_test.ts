import { assert, assertEquals } from "../../../../tests/util/assert.ts";
import { type DhtId, type DhtPeer, randomId } from "./id.ts";
import { Lookup, type LookupKind } from "./lookup.ts";

/** Peer whose id differs from `key` first at byte `d`: larger d = closer. */
function peerAt(key: DhtId, d: number, addr: number): DhtPeer {
  const id = key.slice();
  id[d] = id[d]! ^ 0x80;
  return { id, addr };
}

function mk(
  kind: LookupKind,
  key: DhtId,
  opts: { alpha?: number; k?: number; sendOk?: boolean } = {},
) {
  const sent: Array<{ peer: DhtPeer; cookie: bigint }> = [];
  const failed: number[] = [];
  let c = 100n;
  const lk = new Lookup({
    key,
    kind,
    selfAddr: 1,
    alpha: opts.alpha ?? 3,
    k: opts.k ?? 8,
    send: (peer, cookie) => (sent.push({ peer, cookie }), opts.sendOk ?? true),
    onPeerFailed: (p) => failed.push(p.addr),
    cookie: () => c++,
  });
  return { lk, sent, failed };
}

Deno.test("dht lookup: sends alpha requests to the closest contacts, with fresh cookies", () => {
  const key = randomId(32);
  const { lk, sent } = mk("node", key);
  lk.start([peerAt(key, 0, 10), peerAt(key, 5, 15), peerAt(key, 3, 13), peerAt(key, 1, 11), {
    id: key,
    addr: 1,
  }], 0);
  assertEquals(sent.map((s) => s.peer.addr), [15, 13, 11]); // own address never asked
  assertEquals(sent.map((s) => s.cookie), [100n, 101n, 102n]);
  assertEquals(lk.inFlight, 3);
  assert(lk.hasCookie(101n) && !lk.hasCookie(7n) && !lk.hasCookie(0n));
  assertEquals(lk.respond(7n, [], [], 1), "unknown-cookie");
});

Deno.test("dht lookup: iterates to newly learned closer peers and terminates", async () => {
  const key = randomId(32);
  const { lk, sent } = mk("node", key, { alpha: 2, k: 3 });
  lk.start([peerAt(key, 0, 10), peerAt(key, 1, 11)], 0);
  assertEquals(sent.map((s) => s.peer.addr), [11, 10]);
  // 11 knows closer nodes 20, 21 (and the already known 10, and us).
  assertEquals(
    lk.respond(
      100n,
      [peerAt(key, 6, 20), peerAt(key, 7, 21), peerAt(key, 0, 10), { id: key, addr: 1 }],
      [],
      5,
    ),
    "accepted",
  );
  assertEquals(sent.map((s) => s.peer.addr), [11, 10, 21]); // one slot was free
  assertEquals(lk.respond(100n, [], [], 6), "duplicate");
  lk.respond(101n, [], [], 7); // 10 answers
  assertEquals(sent.at(-1)!.peer.addr, 20);
  assert(!lk.done);
  lk.respond(102n, [], [], 8); // 21
  lk.respond(103n, [], [], 9); // 20: the 3 closest (21, 20, 11) all answered
  assert(lk.done);
  await lk.finished();
  assertEquals(lk.closest().map((p) => p.addr), [21, 20, 11]);
});

Deno.test("dht lookup: a FIND_VALUE ends at the first values", () => {
  const key = randomId(32);
  const { lk, sent } = mk("value", key);
  lk.start([peerAt(key, 0, 10), peerAt(key, 1, 11)], 0);
  lk.respond(sent[0]!.cookie, [peerAt(key, 9, 30)], [], 1);
  assertEquals(sent.length, 3);
  const v = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 42]);
  assertEquals(lk.respond(sent[2]!.cookie, [], [v], 2), "accepted");
  assert(lk.done);
  assertEquals(lk.values, [v]);
  assertEquals(lk.respond(sent[1]!.cookie, [], [], 3), "accepted"); // late answers are harmless
  assertEquals(lk.values, [v]);
});

Deno.test("dht lookup: timeouts and send failures mark peers failed and move on", () => {
  const key = randomId(32);
  const { lk, sent, failed } = mk("value", key, { alpha: 1 });
  lk.start([peerAt(key, 0, 10), peerAt(key, 1, 11)], 0);
  assertEquals(sent.map((s) => s.peer.addr), [11]);
  lk.tick(1999);
  assertEquals(failed, []);
  lk.tick(2000);
  assertEquals(failed, [11]);
  assertEquals(sent.map((s) => s.peer.addr), [11, 10]);
  lk.tick(4000);
  assert(lk.done, "exhausted");
  assertEquals(lk.values, []);
  // A late answer still counts as answered (not a fresh start).
  assertEquals(lk.respond(sent[0]!.cookie, [], [], 4001), "accepted");
  // Unroutable peers fail at once.
  const b = mk("node", key, { sendOk: false });
  b.lk.start([peerAt(key, 0, 10), peerAt(key, 1, 11)], 0);
  assertEquals(b.failed, [11, 10]);
  assert(b.lk.done);
});

Deno.test("dht lookup: empty start ends at once; emergency peer uses its magic cookie", () => {
  const key = randomId(32);
  const a = mk("node", key);
  a.lk.start([], 0);
  assert(a.lk.done);
  const b = mk("node", key);
  b.lk.start([peerAt(key, 0, 10)], 0, { peer: { id: key, addr: 10 }, cookie: 0xabcn });
  assertEquals(b.sent.map((s) => [s.peer.addr, s.cookie]), [[10, 0xabcn], [10, 100n]]);
  assertEquals(b.lk.respond(0xabcn, [peerAt(key, 2, 12)], [], 1), "accepted");
  b.lk.abort();
  assert(b.lk.done);
});
