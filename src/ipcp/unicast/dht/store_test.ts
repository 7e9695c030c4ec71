import { assert, assertEquals } from "../../../../tests/util/assert.ts";
import { DHT_MAX_VALS } from "./constants.ts";
import { randomId } from "./id.ts";
import { DhtStore } from "./store.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const NOW = 1_700_000_000;

Deno.test("dht store: spec 13 §6.2 — stored values only ever extend their expiry", () => {
  const s = new DhtStore();
  const key = randomId(32);
  assertEquals(s.put(key, enc("test_value"), NOW + 10, NOW), "added");
  const got = s.get(key);
  assertEquals(got.length, 1);
  assertEquals(got[0], enc("test_value"));
  assert(!s.get(key).some((v) => v.length === enc("test_value_2").length));
  assertEquals(s.put(key, enc("test_value"), NOW + 15, NOW), "extended");
  assertEquals(s.inspect(key)!.stored[0]!.expS, NOW + 15);
  assertEquals(s.put(key, enc("test_value"), NOW + 5, NOW), "unchanged");
  assertEquals(s.inspect(key)!.stored[0]!.expS, NOW + 15);
  assertEquals(s.put(key, enc("late"), NOW - 1, NOW), "expired");
  assertEquals(s.get(key).length, 1);
});

Deno.test("dht store: spec 13 §6.3 — own values", () => {
  const s = new DhtStore();
  const key = randomId(32);
  assert(s.putOwn(key, enc("lval"), NOW + 100, NOW));
  assert(!s.putOwn(key, enc("lval"), NOW + 200, NOW), "re-adding is a no-op");
  assertEquals(s.inspect(key)!.own[0]!.expS, NOW + 100);
  assert(s.hasOwn(key, enc("lval")) && !s.hasOwn(key, enc("other")));
  assertEquals(s.put(key, enc("lval"), NOW + 500, NOW), "own", "own values never become stored");
  assert(!s.delOwn(key, enc("other")));
  assert(s.delOwn(key, enc("lval")));
  assertEquals(s.size, 0);
});

Deno.test("dht store: spec 13 §6.6 — at most 8 values, stored first then own", () => {
  const s = new DhtStore();
  const key = randomId(32);
  s.putOwn(key, enc("own-1"), NOW + 100, NOW);
  for (let i = 0; i < 3; i++) s.put(key, randomId(8), NOW + 100, NOW);
  const three = s.get(key);
  assertEquals(three.length, 4);
  assertEquals(three[3], enc("own-1"));
  for (let i = 0; i < 20; i++) s.put(key, randomId(8), NOW + 100, NOW);
  assertEquals(s.get(key).length, DHT_MAX_VALS);
  assert(s.get(key).every((v) => v.length === 8), "own value comes after all stored ones");
});

Deno.test("dht store: expiry removes stored values and empty keys", () => {
  const s = new DhtStore();
  const a = randomId(32), b = randomId(32);
  s.put(a, enc("x"), NOW + 10, NOW);
  s.put(b, enc("y"), NOW + 100, NOW);
  s.putOwn(a, enc("mine"), NOW + 5, NOW);
  assertEquals(s.removeExpired(NOW + 10), 0); // expiry is inclusive
  assertEquals(s.removeExpired(NOW + 11), 1);
  assertEquals(s.size, 2, "own value keeps key a (own values are not aged here)");
  assertEquals(s.removeExpired(NOW + 101), 1);
  assertEquals(s.keys().length, 1);
});

Deno.test("dht store: replicate and republish work list", () => {
  const R = 900, E = 86400;
  const s = new DhtStore();
  const key = randomId(32);
  s.put(key, enc("theirs"), NOW + 3000, NOW);
  s.putOwn(key, enc("mine"), NOW + E, NOW);
  // Stored value: t_repl = 0, so due at once; own value only near its expiry.
  let due = s.replicationDue(NOW, R, E);
  assertEquals(due.map((d) => [d.own, d.expS]), [[false, NOW + 3000]]);
  s.replicated(due[0]!, NOW);
  assertEquals(s.replicationDue(NOW + R, R, E), []);
  assertEquals(s.replicationDue(NOW + R + 1, R, E).length, 1);
  // Own value: republished once expS − now < 5·t_replicate.
  const late = NOW + E - 5 * R + 1;
  due = s.replicationDue(late, R, E).filter((d) => d.own);
  assertEquals(due.map((d) => d.expS), [late + E]);
  s.replicated(due[0]!, late);
  assertEquals(s.inspect(key)!.own[0]!.expS, late + E);
  assertEquals(s.replicationDue(late + R + 1, R, E).filter((d) => d.own), []);
});
