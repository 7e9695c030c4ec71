import { assert, assertEquals } from "../../../tests/util/assert.ts";
import { ReqCache } from "./dedup.ts";

const r1 = { hostname: "10.0.0.1", port: 3435 };
const r2 = { hostname: "10.0.0.1", port: 3436 };
const req = new Uint8Array([0, 0, 0, 0, 1, 2, 3]);

Deno.test("udp dedup: recognises the same request, not another port, eid or bytes", () => {
  const c = new ReqCache();
  assertEquals(c.lookup(r1, 7, req), undefined);
  const e = c.begin(r1, 7, req);
  req[6] = 3; // the cache keeps its own copy
  assertEquals(c.lookup(r1, 7, req), e);
  assertEquals(e.reply, undefined); // still processing
  assertEquals(c.lookup(r2, 7, req), undefined);
  assertEquals(c.lookup(r1, 8, req), undefined);
  const reply = new Uint8Array(47);
  c.answer(e, 100, reply);
  assertEquals(c.lookup(r1, 7, req)?.reply, reply);
  // an eid reused for a new allocation (other bytes) replaces the entry
  assertEquals(c.lookup(r1, 7, new Uint8Array([0, 0, 0, 0, 9])), undefined);
  assertEquals(c.size, 0);
});

Deno.test("udp dedup: entries expire, are bounded and forgotten with their flow", () => {
  let now = 0;
  const c = new ReqCache({ ttlMs: 100, max: 3, now: () => now });
  const e = c.begin(r1, 1, req);
  c.answer(e, 100, new Uint8Array(1));
  c.begin(r1, 2, req);
  c.begin(r1, 3, req);
  c.begin(r1, 4, req); // evicts eid 1, the oldest
  assertEquals(c.size, 3);
  assertEquals(c.lookup(r1, 1, req), undefined);
  assert(c.lookup(r1, 2, req));
  now = 100;
  assertEquals(c.lookup(r1, 2, req), undefined);
  const f = c.begin(r1, 5, req);
  c.answer(f, 200, new Uint8Array(1));
  c.forgetFlow(200);
  assertEquals(c.lookup(r1, 5, req), undefined);
  const g = c.begin(r1, 6, req);
  c.forget(r1, 6, g);
  assertEquals(c.lookup(r1, 6, req), undefined);
  c.clear();
  assertEquals(c.size, 0);
});
