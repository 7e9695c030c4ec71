import { assert, assertEquals } from "../../../../tests/util/assert.ts";
import { type LinkUpdate, Lsdb } from "./lsdb.ts";

interface Sent {
  fd: number;
  lsu: LinkUpdate;
}

function mkLsdb(self = 1) {
  const sent: Sent[] = [];
  const changes: boolean[] = [];
  let now = 0;
  const db = new Lsdb({
    self,
    tTimeoMs: 60_000,
    send: (fd, lsu) => sent.push({ fd, lsu }),
    onChange: (u) => changes.push(u),
    clock: () => now,
  });
  return { db, sent, changes, setNow: (t: number) => (now = t) };
}

Deno.test("lsdb: addLink seqno rules", () => {
  const { db, changes } = mkLsdb();
  assertEquals(db.addLink(2, 3, 5n, 100), "new");
  assertEquals(changes, [true]); // new link: immediate recalculation
  assertEquals(db.addLink(2, 3, 5n, 200), "old");
  assertEquals(db.addLink(2, 3, 4n, 200), "old");
  assertEquals(db.addLink(2, 3, 6n, 300), "refreshed");
  assertEquals(changes, [true]); // refreshes do not touch the graph
  assertEquals(db.adjacencies(), [{ src: 2, dst: 3, seqno: 6n, stampMs: 300 }]);
  assert(db.delLink(2, 3));
  assert(!db.delLink(2, 3));
  assertEquals(changes, [true, false]);
  assertEquals(db.graph.size, 0);
});

Deno.test("lsdb: DT and MGMT events flood as spec 14 §1.4 says", () => {
  const { db, sent } = mkLsdb(1);
  db.mgmtConnAdd(2, 20);
  assertEquals(sent, []); // empty database
  db.dtConnAdd(2, 10);
  assertEquals(sent, [{ fd: 20, lsu: { src: 1, dst: 2, seqno: 0n } }]);
  assertEquals(db.dtFd(2), 10);
  // The neighbour's own LSU makes the link usable; it is flooded to nobody (only MGMT is the sender).
  sent.length = 0;
  assert(db.receive(20, { src: 2, dst: 1, seqno: 0n }));
  assertEquals(sent, []);
  assert(db.graph.isUsable(1, 2));
  // A second MGMT neighbour gets the whole LSDB, sorted by (dst, src).
  db.mgmtConnAdd(3, 30);
  assertEquals(sent, [
    { fd: 30, lsu: { src: 2, dst: 1, seqno: 0n } },
    { fd: 30, lsu: { src: 1, dst: 2, seqno: 0n } },
  ]);
  // New information from 3 is forwarded to 2 only; repeats are dropped.
  sent.length = 0;
  assert(db.receive(30, { src: 3, dst: 4, seqno: 7n }));
  assertEquals(sent, [{ fd: 20, lsu: { src: 3, dst: 4, seqno: 7n } }]);
  assert(!db.receive(20, { src: 3, dst: 4, seqno: 7n }));
  assert(db.receive(20, { src: 3, dst: 4, seqno: 8n }));
  assertEquals(sent.at(-1), { fd: 30, lsu: { src: 3, dst: 4, seqno: 8n } });
  // Hostile input is dropped without touching the graph.
  assert(!db.receive(20, { src: 5, dst: 5, seqno: 1n }));
  assert(!db.receive(20, { src: 0, dst: 5, seqno: 1n }));
  // DT_CONN_DEL removes the own link but sends no withdrawal.
  sent.length = 0;
  db.dtConnDel(2, 10);
  assertEquals(sent, []);
  assertEquals(db.dtFd(2), undefined);
  assert(!db.graph.isUsable(1, 2));
  db.mgmtConnDel(3, 30);
  assertEquals(db.neighbours(), [{ addr: 2, fd: 20, type: "mgmt" }]);
});

Deno.test("lsdb: duplicate neighbour only updates its fd", () => {
  const { db } = mkLsdb(1);
  db.dtConnAdd(2, 10);
  db.dtConnAdd(2, 11);
  assertEquals(db.neighbours(), [{ addr: 2, fd: 11, type: "dt" }]);
  assertEquals(db.adjacencies().length, 1);
});

Deno.test("lsdb: periodic pass refreshes own links and ages out the rest", () => {
  const { db, sent, changes, setNow } = mkLsdb(1);
  db.mgmtConnAdd(2, 20);
  db.dtConnAdd(2, 10);
  db.receive(20, { src: 2, dst: 1, seqno: 0n });
  db.receive(20, { src: 1, dst: 9, seqno: 3n }); // an "own" link without DT connection
  sent.length = 0;
  changes.length = 0;
  db.update(15_000);
  assertEquals(sent, [{ fd: 20, lsu: { src: 1, dst: 2, seqno: 1n } }]);
  db.update(60_000); // exactly t_timeo: not yet expired (strict >)
  assertEquals(db.adjacencies().length, 3);
  setNow(60_001);
  db.update(60_001);
  assertEquals(db.adjacencies().map((a) => [a.src, a.dst, a.seqno]), [[1, 2, 3n]]);
  assertEquals(changes, [false, false]); // timeouts mark the tables modified
  assert(!db.graph.isUsable(1, 2));
});

Deno.test("lsdb: a link taken down is not refreshed; keepalives reach every MGMT neighbour", () => {
  const { db, sent, changes } = mkLsdb(1);
  db.mgmtConnAdd(2, 20);
  db.dtConnAdd(2, 10);
  db.receive(20, { src: 2, dst: 1, seqno: 0n });
  db.update(1000);
  db.update(2000);
  sent.length = 0;
  changes.length = 0;
  assert(db.linkDown(2));
  assert(!db.linkDown(2));
  assert(!db.linkDown(5)); // no DT connection to 5
  assertEquals(sent, []); // no withdrawal
  assertEquals(changes, [false]);
  assertEquals(db.dtFd(2), undefined);
  assertEquals(db.dtFdAny(2), 10);
  assert(!db.graph.isUsable(1, 2));
  // nothing own to refresh: 2 gets the last own link as a keepalive (old news to it)
  db.update(3000);
  assertEquals(sent, [{ fd: 20, lsu: { src: 1, dst: 2, seqno: 2n } }]);
  // an echo of the own link from the network is not refreshed while down
  db.receive(20, { src: 1, dst: 2, seqno: 2n });
  sent.length = 0;
  db.update(4000);
  assertEquals(sent, [{ fd: 20, lsu: { src: 1, dst: 2, seqno: 2n } }]);
  // up again: announced above both
  sent.length = 0;
  assert(db.linkUp(2));
  assert(!db.linkUp(2));
  assertEquals(sent, [{ fd: 20, lsu: { src: 1, dst: 2, seqno: 3n } }]);
  assert(db.graph.isUsable(1, 2));
  assertEquals(db.dtFd(2), 10);
});

Deno.test("lsdb: keepalive without own links repeats a known adjacency; empty sends nothing", () => {
  const { db, sent } = mkLsdb(1);
  db.mgmtConnAdd(2, 20);
  db.update(1000);
  assertEquals(sent, []);
  db.receive(20, { src: 2, dst: 3, seqno: 4n });
  db.update(2000);
  assertEquals(sent, [{ fd: 20, lsu: { src: 2, dst: 3, seqno: 4n } }]);
});

Deno.test("lsdb: a new DT connection clears a down mark and resumes the seqno", () => {
  const { db, sent } = mkLsdb(1);
  db.mgmtConnAdd(2, 20);
  db.dtConnAdd(2, 10);
  db.update(1000);
  db.linkDown(2);
  sent.length = 0;
  db.dtConnAdd(2, 12);
  assertEquals(sent, [{ fd: 20, lsu: { src: 1, dst: 2, seqno: 2n } }]);
  assertEquals(db.dtFd(2), 12);
});
