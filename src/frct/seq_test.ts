import { assert, assertEquals } from "../../tests/util/assert.ts";
import { after, before, seqAdd, unwrapWindow } from "./seq.ts";

Deno.test("frct seq: before/after wrap modulo 2^32", () => {
  assert(before(1, 2));
  assert(!before(2, 1));
  assert(!before(5, 5) && !after(5, 5));
  assert(before(0xffffffff, 0));
  assert(after(0, 0xffffffff));
  assert(before(0x7fffffff, 0xfffffffe)); // distance 2^31 - 1
  assert(before(3, 0x80000002) && after(0x80000002, 3)); // distance 2^31 - 1
  assertEquals(seqAdd(0xffffffff, 2), 1);
});

Deno.test("frct seq: 24-bit window unwrap", () => {
  // Capture udp4-data-qos frame 28: rwe 2454495519 sent as 5021983.
  assertEquals(unwrapWindow(5021983, 2454495262 + 64), 2454495519);
  // Crossing a 2^24 boundary forward.
  assertEquals(unwrapWindow(0x000010, 0x12fffff0), 0x13000010);
  // Slightly backwards stays backwards.
  assertEquals(unwrapWindow(0xfffff0, 0x12fffff8), 0x12fffff0);
  // Wrap of the whole 32-bit space.
  assertEquals(unwrapWindow(0x000005, 0xfffffff0), 0x00000005);
});
