import { assert, assertEquals } from "../../tests/util/assert.ts";
import { toHex } from "../lib/hash.ts";
import { appendCrc, checkCrc, crc32, crc32Table } from "./crc.ts";

Deno.test("crc: check value of CRC-32/IEEE", () => {
  assertEquals(crc32(new TextEncoder().encode("123456789")), 0xcbf43926);
  assertEquals(crc32(new Uint8Array(0)), 0);
  // python3: zlib.crc32(bytes(range(256))) = 0x29058c73
  assertEquals(crc32(Uint8Array.from({ length: 256 }, (_, i) => i)), 0x29058c73);
});

Deno.test("crc: trailer is big-endian and verified", () => {
  const p = appendCrc(new TextEncoder().encode("123456789"));
  assertEquals(toHex(p.subarray(9)), "cbf43926");
  assertEquals(checkCrc(p)!.length, 9);
  p[3]! ^= 1;
  assertEquals(checkCrc(p), undefined);
  assertEquals(checkCrc(new Uint8Array(3)), undefined);
  assert(checkCrc(appendCrc(new Uint8Array(0)))!.length === 0);
});

Deno.test("crc: native and table implementations agree", () => {
  assertEquals(crc32Table(new TextEncoder().encode("123456789")), 0xcbf43926);
  let x = 1;
  for (let n = 0; n < 300; n += 7) {
    const b = Uint8Array.from({ length: n }, () => (x = (x * 1103515245 + 12345) >>> 0) >>> 24);
    assertEquals(crc32(b), crc32Table(b), `length ${n}`);
  }
});
