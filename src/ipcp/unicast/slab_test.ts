import { assert, assertEquals } from "../../../tests/util/assert.ts";
import { Slab } from "./slab.ts";

Deno.test("slab: buffers do not overlap, copies keep room, big ones stand alone", () => {
  const s = new Slab(1024);
  const a = s.copy(new Uint8Array([1, 2, 3]), 2);
  const b = s.copy(new Uint8Array([4, 5]));
  assertEquals([...a], [0, 0, 1, 2, 3]);
  assertEquals([...b], [4, 5]);
  a.fill(9);
  assertEquals([...b], [4, 5]);
  assert(a.buffer === b.buffer);
  // past the end of the slab: a fresh one
  const many = Array.from({ length: 20 }, () => s.alloc(100));
  assert(many[0]!.buffer !== many[19]!.buffer);
  for (const m of many) assertEquals(m.length, 100);
  const big = s.alloc(500);
  assertEquals(big.byteOffset, 0);
  assertEquals(big.buffer.byteLength, 500);
});
