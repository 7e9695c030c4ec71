import { assert, assertEquals } from "../../../../tests/util/assert.ts";
import { LinkState } from "./link_state.ts";
import type { LinkUpdate } from "./lsdb.ts";

Deno.test("routing: link state builds PFFs and recalculates on tick", () => {
  const sent: Array<[number, LinkUpdate]> = [];
  let now = 0;
  const ls = new LinkState({
    self: 1,
    pol: 0,
    send: (fd, l) => sent.push([fd, l]),
    clock: () => now,
  });
  ls.mgmtConnAdd(2, 20);
  ls.dtConnAdd(2, 10);
  ls.mgmtConnAdd(3, 30);
  ls.dtConnAdd(3, 11);
  ls.receiveLsu(20, { src: 2, dst: 1, seqno: 0n });
  ls.receiveLsu(30, { src: 3, dst: 1, seqno: 0n });
  ls.receiveLsu(20, { src: 2, dst: 4, seqno: 0n });
  ls.receiveLsu(20, { src: 4, dst: 2, seqno: 0n });
  // New links recalculate immediately, on every cube.
  for (const qc of [0, 1, 2]) {
    assertEquals([ls.pff(qc).nextHop(2), ls.pff(qc).nextHop(3), ls.pff(qc).nextHop(4)], [
      10,
      11,
      10,
    ]);
  }
  assertEquals(ls.table(), [{ dst: 2, nhops: [2] }, { dst: 3, nhops: [3] }, {
    dst: 4,
    nhops: [2],
  }]);
  // A deletion waits for the next recalculation tick.
  ls.lsdb.delLink(4, 2);
  assertEquals(ls.pff(0).nextHop(4), 10);
  now = 1000;
  ls.tick(); // first tick runs the LSDB pass; recalc not due before 4 s
  assertEquals(ls.pff(0).nextHop(4), 10);
  now = 4000;
  ls.tick();
  assertEquals(ls.pff(0).nextHop(4), undefined);
  assertEquals(ls.nextTickAtMs(), 8000);
  // Next hops without a DT connection are skipped.
  ls.dtConnDel(3, 11);
  now = 8000;
  ls.tick();
  assertEquals(ls.pff(0).nextHop(3), undefined);
});

Deno.test("routing: LFA policy switches to the alternate on DT_CONN_DOWN", () => {
  const ls = new LinkState({ self: 1, pol: 1, send: () => {}, clock: () => 0 });
  assertEquals(ls.policy.name, "lfa");
  assertEquals(ls.pff(0).policy, "alternate");
  ls.dtConnAdd(2, 10);
  ls.dtConnAdd(3, 11);
  for (const [s, d] of [[2, 1], [3, 1], [2, 3], [3, 2]]) {
    ls.receiveLsu(99, { src: s!, dst: d!, seqno: 0n });
  }
  assertEquals(ls.pff(0).nextHops(2), [10, 11]);
  ls.dtConnDown(10);
  assertEquals(ls.pff(2).nextHop(2), 11);
  ls.dtConnUp(10);
  assertEquals(ls.pff(2).nextHop(2), 10);
});

Deno.test("routing: ECMP policy spreads over multipath PFFs; unknown policy is EINVAL", () => {
  const ls = new LinkState({ self: 1, pol: 2, send: () => {}, clock: () => 0 });
  ls.dtConnAdd(2, 10);
  ls.dtConnAdd(3, 11);
  for (const [s, d] of [[2, 1], [3, 1], [2, 4], [4, 2], [3, 4], [4, 3]]) {
    ls.receiveLsu(99, { src: s!, dst: d!, seqno: 0n });
  }
  const p = ls.pff(0);
  assertEquals([p.nextHop(4), p.nextHop(4), p.nextHop(4)], [11, 10, 11]);
  let threw = false;
  try {
    new LinkState({ self: 1, pol: 7, send: () => {} });
  } catch (e) {
    threw = (e as { name?: string }).name === "EINVAL";
  }
  assert(threw);
});
