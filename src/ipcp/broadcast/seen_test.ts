/** The duplicate window: exact within the window, bounded memory. */
import { assertEquals } from "../../../tests/util/assert.ts";
import { SeenSet } from "./seen.ts";

Deno.test("bcast seen: new, duplicate, out-of-order within the window, too old", () => {
  const s = new SeenSet({ window: 64 });
  assertEquals(s.check(1n, 10), "new");
  assertEquals(s.check(1n, 10), "dup");
  assertEquals(s.check(1n, 12), "new");
  assertEquals(s.check(1n, 11), "new"); // late but unseen
  assertEquals(s.check(1n, 11), "dup");
  assertEquals(s.check(2n, 10), "new"); // other origin, same seq
  assertEquals(s.check(1n, 12 - 63), "new"); // just inside the window
  assertEquals(s.check(1n, 12 - 64), "old");
  // a jump forward by more than the window forgets everything below
  assertEquals(s.check(1n, 1000), "new");
  assertEquals(s.check(1n, 999), "new");
  assertEquals(s.check(1n, 12), "old");
});

Deno.test("bcast seen: slots are reused as the window slides", () => {
  const s = new SeenSet({ window: 32 });
  for (let i = 0; i < 200; i++) assertEquals(s.check(5n, i), "new");
  // the window holds the 32 newest: 168…199
  for (let i = 200 - 32; i < 200; i++) assertEquals(s.check(5n, i), "dup");
  assertEquals(s.check(5n, 200 - 33), "old");
});

Deno.test("bcast seen: sequence numbers wrap around u32", () => {
  const s = new SeenSet({ window: 64 });
  assertEquals(s.check(9n, 0xfffffffe), "new");
  assertEquals(s.check(9n, 0xffffffff), "new");
  assertEquals(s.check(9n, 0), "new");
  assertEquals(s.check(9n, 1), "new");
  assertEquals(s.check(9n, 0xffffffff), "dup");
  assertEquals(s.check(9n, 0), "dup");
  assertEquals(s.check(9n, 0xfffffffd), "new");
});

Deno.test("bcast seen: origins are bounded (least recently heard go first) and expire", () => {
  let now = 0;
  const s = new SeenSet({ window: 32, maxOrigins: 3, idleMs: 1000, now: () => now });
  s.check(1n, 0);
  s.check(2n, 0);
  s.check(3n, 0);
  assertEquals(s.check(1n, 0), "dup"); // 1 is now the most recent
  s.check(4n, 0); // evicts 2
  assertEquals([s.size, s.evicted], [3, 1]);
  assertEquals(s.check(1n, 0), "dup");
  assertEquals(s.check(2n, 0), "new"); // forgotten
  now = 5000;
  assertEquals(s.check(1n, 0), "new"); // idle origins expired
  assertEquals(s.size, 1);
});
