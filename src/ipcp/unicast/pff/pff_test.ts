import { assert, assertEquals, assertThrows } from "../../../../tests/util/assert.ts";
import { createPff } from "./factory.ts";
import type { PffPolicy } from "./pff.ts";
import { Pft, PFT_SIZE } from "./pft.ts";

Deno.test("pft: spec 14 §3.2 pft_test scenario", () => {
  const t = new Pft();
  for (let k = 0; k < PFT_SIZE + 4 + 2; k++) assert(t.insert(k, [k]), `insert ${k}`);
  assertEquals(t.lookup(4), [4]);
  assertEquals(t.lookup(260), [260]); // same reference bucket as 4
  assert(t.delete(4));
  assertEquals(t.lookup(4), undefined);
  assertEquals(t.lookup(260), [260]);
  assert(!t.delete(4));
  assert(!t.insert(5, [9]), "duplicate destination refused");
  assertEquals(t.lookup(5), [5]);
  assertThrows(() => t.insert(999, []), RangeError);
  t.flush();
  assertEquals(t.size, 0);
});

Deno.test("pff: every policy forwards, misses and flushes alike", () => {
  for (const pol of ["simple", "alternate", "multipath"] as PffPolicy[]) {
    const p = createPff(pol);
    assertEquals(p.policy, pol);
    assertEquals(p.nextHop(1), undefined);
    p.update([{ dst: 1, fds: [10] }, { dst: 2, fds: [] }, { dst: 1, fds: [11] }]);
    assertEquals(p.nextHop(1), 10, pol);
    assertEquals(p.nextHop(2), undefined, pol);
    assertEquals(p.entries(), [{ dst: 1, fds: [10] }], pol);
    p.update([{ dst: 3, fds: [12] }]); // update replaces the whole table
    assertEquals(p.nextHop(1), undefined, pol);
    assertEquals(p.nextHop(3), 12, pol);
    p.flush();
    assertEquals(p.nextHop(3), undefined, pol);
  }
});

Deno.test("pff: simple keeps only the first next hop and ignores flow state", () => {
  const p = createPff("simple");
  p.update([{ dst: 7, fds: [3, 4] }]);
  assertEquals(p.nextHops(7), [3]);
  p.flowDown(3);
  assertEquals(p.nextHop(7), 3);
});

Deno.test("pff: multipath rotates round robin over the next hops", () => {
  const p = createPff("multipath");
  const fds = [3, 4, 5];
  p.update([{ dst: 7, fds }, { dst: 8, fds: [6] }]);
  assertEquals([1, 2, 3, 4, 5].map(() => p.nextHop(7)), [3, 4, 5, 3, 4]);
  assertEquals(p.nextHops(7), [5, 3, 4]);
  assertEquals(fds, [3, 4, 5], "caller's array is copied, not rotated");
  assertEquals([p.nextHop(8), p.nextHop(8)], [6, 6]);
});

Deno.test("pff: alternate switches to the first live alternate and back", () => {
  const p = createPff("alternate");
  p.update([{ dst: 7, fds: [3, 4, 5] }, { dst: 8, fds: [4, 3] }, { dst: 9, fds: [3] }]);
  p.flowDown(3);
  assertEquals([p.nextHop(7), p.nextHop(8), p.nextHop(9)], [4, 4, 3]); // 9 has no alternate
  p.flowDown(4);
  assertEquals([p.nextHop(7), p.nextHop(8)], [5, 4]); // 8: its only alternate 3 is down too → stays
  p.flowUp(3);
  assertEquals([p.nextHop(7), p.nextHop(8), p.nextHop(9)], [3, 4, 3]);
  p.flowUp(4);
  assertEquals([p.nextHop(7), p.nextHop(8)], [3, 4]);
  // A recalculation forgets the down set.
  p.flowDown(3);
  p.update([{ dst: 7, fds: [3, 4] }]);
  assertEquals(p.nextHop(7), 3);
  p.flowDown(4);
  assertEquals(p.nextHop(7), 3);
});
