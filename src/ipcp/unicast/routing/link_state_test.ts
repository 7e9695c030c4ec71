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
  assertEquals(ls.nextTickAtMs(), 5000); // the next liveness check (every 1 s at t_timeo 60)
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

/** A square 1-2-4-3-1 seen from 1, neighbours 2 (fds 10/20) and 3 (fds 11/30), fast timers. */
function square(pol: number) {
  const sent: Array<[number, LinkUpdate]> = [];
  const evs: boolean[] = [];
  let now = 0;
  const ls = new LinkState({
    self: 1,
    pol,
    tUpdateS: 1,
    tTimeoS: 3,
    tRecalcS: 1,
    send: (fd, l) => sent.push([fd, l]),
    clock: () => now,
    onLiveness: (ev) => evs.push(ev.up),
  });
  ls.mgmtConnAdd(2, 20);
  ls.dtConnAdd(2, 10);
  ls.mgmtConnAdd(3, 30);
  ls.dtConnAdd(3, 11);
  for (const [s, d] of [[2, 1], [3, 1], [2, 4], [4, 2], [3, 4], [4, 3]]) {
    ls.receiveLsu(20, { src: s!, dst: d!, seqno: 0n });
  }
  /** What 3 says every t_update: its own LSUs, and 4's and 2's flooded through it. */
  const from3 = (t: number) => {
    ls.heard(3);
    for (const [s, d] of [[3, 1], [3, 4], [4, 3], [4, 2], [2, 4]]) {
      ls.receiveLsu(30, { src: s!, dst: d!, seqno: BigInt(t) });
    }
  };
  return { ls, sent, evs, from3, at: (t: number) => (now = t) };
}

Deno.test("routing: a silent neighbour's link goes down and routes move; heard again, it comes back", () => {
  const { ls, sent, evs, from3, at } = square(0);
  assertEquals(ls.pff(0).nextHop(4), 10); // via 2 (lower address first)
  // 3 keeps talking (its LSUs every t_update), 2 falls silent; the DT CEP
  // counts as heard at the first check (300 ms), so 2 is down at 3600 ms
  for (let t = 100; t <= 3500; t += 100) {
    at(t);
    if (t % 1000 === 0) from3(t);
    ls.tick();
  }
  assertEquals(evs, []);
  const lastSeq = sent.filter(([, l]) => l.src === 1 && l.dst === 2)
    .reduce((m, [, l]) => (l.seqno > m ? l.seqno : m), 0n);
  assert(lastSeq >= 3n);
  for (let t = 3600; t <= 3700; t += 100) {
    at(t);
    if (t % 1000 === 0) from3(t);
    ls.tick();
  }
  assertEquals(evs, [false]);
  assertEquals(ls.pff(0).nextHop(4), 11); // recalculated at once, around 2
  assertEquals(ls.pff(0).nextHop(2), 11);
  assertEquals(ls.lsdb.dtFd(2), undefined);
  assert(!ls.lsdb.adjacencies().some((a) => a.src === 1 && a.dst === 2));
  assertEquals(ls.lsdb.neighbours().find((n) => n.type === "dt" && n.addr === 2)?.down, true);
  // the periodic pass no longer refreshes (1,2) but still sends 2 the other own link
  sent.length = 0;
  at(4100);
  from3(4100);
  ls.tick();
  assert(sent.some(([fd, l]) => fd === 20 && l.src === 1 && l.dst === 3));
  assert(!sent.some(([, l]) => l.src === 1 && l.dst === 2));
  // 2 is heard again: the link comes back with a seqno above the last one sent
  sent.length = 0;
  ls.heard(2);
  at(4300);
  ls.tick();
  assertEquals(evs, [false, true]);
  const up = sent.filter(([, l]) => l.src === 1 && l.dst === 2);
  assertEquals(up.map(([fd, l]) => [fd, l.seqno]), [[20, lastSeq + 1n], [30, lastSeq + 1n]]);
  assertEquals(ls.lsdb.dtFd(2), 10);
  // the edge is usable again once 2 re-announces its half (its own link up)
  assertEquals(ls.pff(0).nextHop(2), 11);
  ls.receiveLsu(20, { src: 2, dst: 1, seqno: 4300n });
  assertEquals(ls.pff(0).nextHop(2), 10);
  assertEquals(ls.pff(0).nextHop(4), 10);
  assertEquals(ls.liveness.neighbours().map((n) => [n.addr, n.up, n.downs, n.ups]), [
    [2, true, 1, 1],
    [3, true, 0, 0],
  ]);
});

Deno.test("routing: LFA alternate takes over at the liveness check; MGMT loss trusts DT again", () => {
  const { ls, evs, from3, at } = square(1);
  assertEquals(ls.pff(0).nextHops(4), [10, 11]);
  for (let t = 100; t <= 3600; t += 100) {
    at(t);
    if (t % 1000 === 0) from3(t);
    ls.tick();
  }
  assertEquals(evs, [false]);
  assertEquals(ls.pff(0).nextHop(4), 11);
  // without a MGMT connection its liveness is unknown: the DT link is used again
  ls.mgmtConnDel(2, 20);
  assertEquals(ls.lsdb.dtFd(2), 10);
  assertEquals(ls.liveness.watched(2), false);
});
