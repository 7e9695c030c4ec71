import { assert, assertEquals, assertThrows } from "../../../../tests/util/assert.ts";
import { Liveness, livenessTimeoutMs } from "./liveness.ts";

Deno.test("liveness: a silent neighbour goes down after the timeout, up at the next packet", () => {
  const lv = new Liveness({ timeoutMs: 3000 });
  assertEquals(lv.checkPeriodMs, 300);
  lv.watch(7, 0);
  lv.watch(7, 2000); // already watched: keeps its stamp
  assertEquals(lv.check(1000), []);
  assertEquals(lv.check(3000), []); // exactly the timeout: not yet (strict >)
  assertEquals(lv.check(3001), [{ addr: 7, up: false, silentMs: 3001 }]);
  assert(!lv.isUp(7));
  assertEquals(lv.check(9000), []); // one transition per change
  lv.heard(7);
  lv.heard(7);
  assertEquals(lv.check(9300), [{ addr: 7, up: true, silentMs: 9300 }]);
  assert(lv.isUp(7));
  assertEquals(lv.neighbours(), [{ addr: 7, up: true, rxPkts: 2, silentMs: 0, downs: 1, ups: 1 }]);
});

Deno.test("liveness: traffic keeps a neighbour up; stamps are taken at checks", () => {
  const lv = new Liveness({ timeoutMs: 3000 });
  lv.watch(1, 0);
  lv.watch(2, 0);
  for (let t = 1000; t <= 10_000; t += 1000) {
    lv.heard(1); // one LSU per t_update
    const evs = lv.check(t);
    if (t < 4000) assertEquals(evs, []);
    if (t === 4000) assertEquals(evs, [{ addr: 2, up: false, silentMs: 4000 }]);
  }
  assertEquals(lv.neighbours().map((n) => [n.addr, n.up, n.downs]), [[1, true, 0], [2, false, 1]]);
  // heard() on an address nobody watches is ignored
  lv.heard(99);
  assert(!lv.watched(99) && lv.isUp(99));
  // unwatch tells whether it was down
  assert(lv.unwatch(2));
  assert(!lv.unwatch(1));
  assert(!lv.unwatch(1));
  assertEquals(lv.neighbours(), []);
});

Deno.test("liveness: timeout is t_timeo but at least two updates; check period bounded", () => {
  assertEquals(livenessTimeoutMs(3, 1), 3000);
  assertEquals(livenessTimeoutMs(60, 15), 60_000);
  assertEquals(livenessTimeoutMs(2, 5), 10_000);
  assertEquals(new Liveness({ timeoutMs: 60_000 }).checkPeriodMs, 1000);
  assertEquals(new Liveness({ timeoutMs: 500 }).checkPeriodMs, 100);
  assertThrows(() => new Liveness({ timeoutMs: 0 }), RangeError);
});
