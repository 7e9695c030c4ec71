import { assert, assertEquals } from "../../../../tests/util/assert.ts";
import { Buckets } from "./buckets.ts";
import { DHT_CONTACT_MAX_FAILS, DHT_K, dhtWorkerIntervalS } from "./constants.ts";
import { compareDistance, distance, randomId } from "./id.ts";

const OWN_ADDR = 0x12345678;

function table(nowMs = 0) {
  return new Buckets({ self: { id: randomId(32), addr: OWN_ADDR }, tRefreshMs: 900_000, nowMs });
}

Deno.test("dht id: distance is the first 8 bytes of the XOR, big-endian", () => {
  const a = new Uint8Array(32), b = new Uint8Array(32);
  b[0] = 0x80;
  b[7] = 1;
  b[8] = 0xff; // beyond 8 bytes: ignored by distance, used by compareDistance
  assertEquals(distance(a, b), 0x8000000000000001n);
  assertEquals(distance(a, a), 0n);
  const c = b.slice();
  c[8] = 0;
  assert(compareDistance(a, c, b) < 0);
  assertEquals(dhtWorkerIntervalS(86400, 900, 900), 90);
  assertEquals(dhtWorkerIntervalS(10, 2, 2), 1);
});

Deno.test("dht buckets: spec 13 §6.4 — 1000 random contacts split the tree", () => {
  const t = table();
  for (let i = 0; i < 1000; i++) t.insert({ id: randomId(32), addr: 1000 + i }, i);
  assert(t.depth >= 1, "own bucket split");
  // Every contact kept is findable; no bucket exceeds k (closest caps at k anyway).
  assert(t.size >= DHT_K && t.size <= 1000);
  for (const c of t.all()) assertEquals(t.get(c.addr)?.addr, c.addr);
});

Deno.test("dht buckets: spec 13 §6.5 — contact lists", () => {
  const t = table();
  for (let i = 0; i < 5; i++) t.insert({ id: randomId(32), addr: 100 + i }, 0);
  assertEquals(t.closest(t.self.id, DHT_K).length, 5);
  for (let i = 0; i < 100; i++) t.insert({ id: randomId(32), addr: 200 + i }, 0);
  const l = t.closest(t.self.id, 100);
  assertEquals(l.length, DHT_K); // ≥ k in the spec; capped at k here
  assert(l.every((c) => c.addr !== OWN_ADDR));
  // Sorted by XOR distance to the key, and truly the closest of all.
  const key = randomId(32);
  const best = t.closest(key, DHT_K);
  const all = t.all().sort((a, b) => compareDistance(key, a.id, b.id));
  assertEquals(best.map((c) => c.addr), all.slice(0, DHT_K).map((c) => c.addr));
});

Deno.test("dht buckets: full foreign buckets fill the replacement list, never split", () => {
  const t = table();
  const own0 = t.self.id[0]!;
  const idWith = (b0: number) => {
    const id = randomId(32);
    id[0] = b0;
    return id;
  };
  // Force one split with ids far from ours, then overfill that foreign child.
  const far = own0 ^ 0x80;
  for (let i = 0; i < DHT_K; i++) {
    assertEquals(t.insert({ id: idWith(far), addr: 10 + i }, 0), "contact");
  }
  assertEquals(t.depth, 1, "root (own contact + 7) split when the 8th arrived");
  for (let i = 0; i < DHT_K + 3; i++) {
    assertEquals(t.insert({ id: idWith(far), addr: 50 + i }, 0), "alt");
  }
  assertEquals(t.size, DHT_K);
  // Re-insert of a known address refreshes it (most recently seen) instead of duplicating.
  assertEquals(t.insert({ id: idWith(far), addr: 10 }, 5), "contact");
  assertEquals(t.size, DHT_K);
  assertEquals(t.get(10)?.seenMs, 5);
});

Deno.test("dht buckets: own id and address are never contacts", () => {
  const t = table();
  assertEquals(t.insert({ id: t.self.id, addr: 99 }, 0), "self");
  assertEquals(t.insert({ id: randomId(32), addr: OWN_ADDR }, 0), "self");
  assertEquals(t.size, 0);
  assertEquals(t.closest(t.self.id, 8), []);
});

Deno.test("dht buckets: unanswered contacts are dropped and a replacement promoted", () => {
  const t = table();
  const own0 = t.self.id[0]!;
  const idWith = (b0: number) => {
    const id = randomId(32);
    id[0] = b0;
    return id;
  };
  const far = own0 ^ 0x40;
  for (let i = 0; i <= DHT_K; i++) t.insert({ id: idWith(far), addr: 10 + i }, 0); // splits
  t.insert({ id: idWith(far), addr: 77 }, 0); // alt
  for (let i = 1; i < DHT_CONTACT_MAX_FAILS; i++) assert(!t.failed(10));
  t.insert({ id: t.get(10)!.id, addr: 10 }, 1); // heard from again: failures reset
  for (let i = 1; i < DHT_CONTACT_MAX_FAILS; i++) assert(!t.failed(10));
  assert(t.failed(10));
  assertEquals(t.get(10), undefined);
  assert(t.get(77) !== undefined, "replacement promoted");
  assert(!t.failed(OWN_ADDR));
});

Deno.test("dht buckets: refresh picks buckets whose oldest contact is stale", () => {
  const t = table(0);
  t.insert({ id: randomId(32), addr: 5 }, 0);
  assertEquals(t.dueRefreshes(899_999), []);
  assertEquals(t.dueRefreshes(900_000), []); // deadline reached, contact seen exactly t_refresh ago
  t.insert({ id: randomId(32), addr: 6 }, 1_000_000);
  const ids = t.dueRefreshes(1_800_001);
  assertEquals(ids.length, 1);
  assertEquals(ids[0], t.get(5)!.id);
  assertEquals(t.dueRefreshes(1_800_002), [], "deadline pushed back");
  t.closest(randomId(32), 8, 5_000_000); // a lookup through a bucket touches it
});
