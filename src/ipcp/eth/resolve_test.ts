/** Registry, directory and broadcast query waits of the Ethernet IPCPs. */
import { assertBytes, assertEquals } from "../../../tests/util/assert.ts";
import { EthNames } from "./resolve.ts";

const h = (n: number) => new Uint8Array(32).fill(n);
const mac = (n: number) => new Uint8Array([2, 0, 0, 0, 0, n]);

Deno.test("eth names: registry is a set; unreg of an absent hash is fine", () => {
  const n = new EthNames();
  n.reg(h(1));
  n.reg(h(1));
  assertEquals([n.has(h(1)), n.has(h(2)), n.sizes.registered], [true, false, 1]);
  n.unreg(h(1));
  n.unreg(h(1));
  assertEquals(n.has(h(1)), false);
});

Deno.test("eth names: a query broadcasts once, shares the wait and learns the reply", async () => {
  const n = new EthNames();
  let sent = 0;
  const q1 = n.query(h(1), () => sent++, 1000);
  const q2 = n.query(h(1), () => sent++, 1000);
  assertEquals(n.sizes.pendingQueries, 1);
  n.learn(h(1), mac(5));
  assertBytes((await q1)!, mac(5));
  assertBytes((await q2)!, mac(5));
  assertEquals(sent, 1);
  // cached now: no broadcast
  assertBytes((await n.query(h(1), () => sent++))!, mac(5));
  assertEquals(sent, 1);
  // the latest reply wins
  n.learn(h(1), mac(6));
  assertBytes(n.lookup(h(1))!, mac(6));
  assertEquals(n.counters, {
    queriesSent: 1,
    queriesAnswered: 1,
    queriesTimedOut: 0,
    unsolicited: 1,
  });
});

Deno.test("eth names: a query times out, close fails the rest", async () => {
  const n = new EthNames();
  const t0 = Date.now();
  assertEquals(await n.query(h(2), () => {}, 50), undefined);
  assertEquals(Date.now() - t0 >= 45, true);
  assertEquals(n.counters.queriesTimedOut, 1);
  const q = n.query(h(3), () => {}, 10000);
  n.close();
  assertEquals(await q, undefined);
  assertEquals(n.sizes.pendingQueries, 0);
  n.learn(h(4), mac(1));
  n.forget(h(4));
  assertEquals(n.lookup(h(4)), undefined);
});
