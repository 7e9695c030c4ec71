import { assertBytes, assertEquals, assertThrows } from "../../tests/util/assert.ts";
import { fuzzDecoder } from "../../tests/util/fuzz.ts";
import { DecodeError } from "./errors.ts";
import { fromHex, toHex } from "./hash.ts";
import { Reader, required, Writer } from "./pb.ts";

/** Decode every field of a message generically (used for fuzzing). */
function walk(r: Reader, out: unknown[] = []): unknown[] {
  while (r.next()) {
    switch (r.wireType) {
      case 0:
        out.push(r.uint64());
        break;
      case 1:
        out.push(r.fixed64());
        break;
      case 5:
        out.push(r.fixed32());
        break;
      default:
        // try it as a sub-message, else as bytes
        if (r.field % 2) walk(r.message(), out);
        else out.push(r.bytes());
    }
  }
  return out;
}

Deno.test("pb: varint encodings match the protobuf reference vectors", () => {
  assertEquals(toHex(new Writer().uint32(1, 150).finish()), "089601");
  assertEquals(toHex(new Writer().uint32(1, 0).finish()), "0800");
  assertEquals(toHex(new Writer().uint32(1, 0xffffffff).finish()), "08ffffffff0f");
  assertEquals(toHex(new Writer().int32(1, -1).finish()), "08ffffffffffffffffff01");
  assertEquals(toHex(new Writer().int64(1, -2n).finish()), "08feffffffffffffffff01");
  assertEquals(toHex(new Writer().sint32(1, -1).finish()), "0801");
  assertEquals(toHex(new Writer().sint32(1, 1).finish()), "0802");
  assertEquals(toHex(new Writer().sint32(1, -0x80000000).finish()), "08ffffffff0f");
  assertEquals(toHex(new Writer().sint64(1, -3n).finish()), "0805");
  assertEquals(
    toHex(new Writer().uint64(1, 0xffffffffffffffffn).finish()),
    "08ffffffffffffffffff01",
  );
  assertEquals(toHex(new Writer().uint64(16, 2540519675n).finish()), "8001fb81b5bb09");
  assertEquals(toHex(new Writer().string(2, "testing").finish()), "120774657374696e67");
  assertEquals(
    toHex(new Writer().fixed32(3, 1).fixed64(4, 2n).finish()),
    "1d0100000021" + "0200000000000000",
  );
  assertEquals(toHex(new Writer().bool(5, true).finish()), "2801");
});

Deno.test("pb: every scalar kind round-trips", () => {
  const w = new Writer()
    .uint32(1, 4294967295).int32(2, -123456).sint32(3, -77).bool(4, true)
    .uint64(5, 18446744073709551615n).int64(6, -9223372036854775808n).sint64(7, -5n)
    .fixed32(8, 0xdeadbeef).sfixed32(9, -2).float(10, 1.5).fixed64(11, 1n << 63n)
    .sfixed64(12, -9n).double(13, Math.PI).bytes(14, new Uint8Array([1, 2])).string(15, "ü€")
    .message(16, (s) => s.uint32(1, 7));
  const r = new Reader(w.finish());
  const got: unknown[] = [];
  while (r.next()) {
    switch (r.field) {
      case 1:
        got.push(r.uint32());
        break;
      case 2:
        got.push(r.int32());
        break;
      case 3:
        got.push(r.sint32());
        break;
      case 4:
        got.push(r.bool());
        break;
      case 5:
        got.push(r.uint64());
        break;
      case 6:
        got.push(r.int64());
        break;
      case 7:
        got.push(r.sint64());
        break;
      case 8:
        got.push(r.fixed32());
        break;
      case 9:
        got.push(r.sfixed32());
        break;
      case 10:
        got.push(r.float());
        break;
      case 11:
        got.push(r.fixed64());
        break;
      case 12:
        got.push(r.sfixed64());
        break;
      case 13:
        got.push(r.double());
        break;
      case 14:
        got.push(Array.from(r.bytes()));
        break;
      case 15:
        got.push(r.string());
        break;
      case 16: {
        const s = r.message();
        s.next();
        got.push(s.uint32());
        break;
      }
    }
  }
  assertEquals(got, [
    4294967295,
    -123456,
    -77,
    true,
    18446744073709551615n,
    -9223372036854775808n,
    -5n,
    0xdeadbeef,
    -2,
    1.5,
    1n << 63n,
    -9n,
    Math.PI,
    [1, 2],
    "ü€",
    7,
  ]);
});

Deno.test("pb: 32-bit reads keep the low 32 bits of a wide varint", () => {
  const r = new Reader(fromHex("08ffffffffffffffffff01")); // int64 -1
  r.next();
  assertEquals(r.int32(), -1);
  const r2 = new Reader(fromHex("0880808080f0ffffffff01")); // 0xffffffff_f0000000 as int64
  r2.next();
  assertEquals(r2.uint32(), 0);
});

Deno.test("pb: repeated scalars are read packed and unpacked", () => {
  const out: number[] = [];
  const r = new Reader(fromHex("2001" + "2002" + "2203037f01" + "2a0401000000"));
  while (r.next()) {
    if (r.field === 4) r.repeated("int32", out);
    else if (r.field === 5) r.repeated("fixed32", out);
  }
  assertEquals(out, [1, 2, 3, 127, 1, 1]);
  const big: bigint[] = [];
  const r2 = new Reader(fromHex("0a020102" + "0803"));
  while (r2.next()) r2.repeatedBig("uint64", big);
  assertEquals(big, [1n, 2n, 3n]);
  // a packed run with a truncated element is rejected
  const r3 = new Reader(fromHex("0a0180"));
  r3.next();
  assertThrows(() => r3.repeated("uint32", []), DecodeError, "truncated");
});

Deno.test("pb: unknown fields of every wire type are skipped", () => {
  const bytes = fromHex("08ac02" + "110102030405060708" + "1a03abcdef" + "2d01020304" + "3007");
  const r = new Reader(bytes);
  let six: number | undefined;
  while (r.next()) {
    if (r.field === 6) six = r.uint32();
    else r.skip();
  }
  assertEquals(six, 7);
});

Deno.test("pb: malformed input throws DecodeError with a reason", () => {
  const cases: [string, string][] = [
    ["08", "pb-truncated"], // varint missing
    ["0880", "pb-truncated"], // truncated varint
    ["08ffffffffffffffffffff01", "pb-varint"], // 11-byte varint
    ["0a05abcd", "pb-length"], // length past end
    ["0affffffffff01", "pb-length"], // huge length
    ["0b", "pb-wire-type"], // start group
    ["0c", "pb-wire-type"], // end group
    ["0e", "pb-wire-type"], // wire type 6
    ["0f", "pb-wire-type"], // wire type 7
    ["0001", "pb-field-zero"], // field 0
    ["80808080800108", "pb-bad-tag"], // tag over 5 bytes
    ["8d", "pb-bad-tag"], // truncated tag
    ["0d0102", "pb-truncated"], // fixed32 short
    ["09010203", "pb-truncated"], // fixed64 short
  ];
  for (const [hex, reason] of cases) {
    const e = assertThrows(() => walk(new Reader(fromHex(hex))), DecodeError) as DecodeError;
    assertEquals(e.reason, reason, hex);
  }
  // wrong wire type for a known field
  const r = new Reader(fromHex("0a00"));
  r.next();
  assertThrows(() => r.uint32(), DecodeError, "wire type");
  // invalid UTF-8
  const r2 = new Reader(fromHex("0a02c328"));
  r2.next();
  assertThrows(() => r2.string(), DecodeError, "UTF-8");
  // size limit
  assertThrows(() => new Reader(new Uint8Array(11), { maxBytes: 10 }), DecodeError, "> 10");
});

Deno.test("pb: nesting deeper than maxDepth is rejected", () => {
  let inner = new Uint8Array(0);
  for (let i = 0; i < 20; i++) inner = new Writer().bytes(1, inner).finish();
  const deep = (r: Reader): void => {
    while (r.next()) deep(r.message());
  };
  deep(new Reader(inner, { maxDepth: 20 }));
  const e = assertThrows(
    () => deep(new Reader(inner, { maxDepth: 19 })),
    DecodeError,
  ) as DecodeError;
  assertEquals(e.reason, "pb-too-deep");
});

Deno.test("pb: required() reports the missing field", () => {
  assertEquals(required(0, "m", "f"), 0);
  const e = assertThrows(
    () => required(undefined, "cep_msg", "address"),
    DecodeError,
  ) as DecodeError;
  assertEquals(e.reason, "pb-missing");
  assertEquals(e.message, "Cannot decode cep_msg: required field address missing");
});

Deno.test("pb: the writer rejects out-of-range values", () => {
  assertThrows(() => new Writer().uint32(1, -1), RangeError);
  assertThrows(() => new Writer().uint32(1, 2 ** 32), RangeError);
  assertThrows(() => new Writer().uint32(1, 1.5), RangeError);
  assertThrows(() => new Writer().int32(1, 2 ** 31), RangeError);
  assertThrows(() => new Writer().uint64(1, -1n), RangeError);
  assertThrows(() => new Writer().uint64(1, 1n << 64n), RangeError);
  assertThrows(() => new Writer().uint32(0, 1), RangeError);
  assertThrows(() => new Writer().uint32(2 ** 29, 1), RangeError);
});

Deno.test("pb: the writer grows its buffer", () => {
  const big = new Uint8Array(1000).fill(7);
  const out = new Writer().uint32(1, 1).bytes(2, big).finish();
  assertEquals(out.length, 2 + 3 + 1000);
  const r = new Reader(out);
  r.next();
  r.skip();
  r.next();
  assertBytes(r.bytes(), big);
});

Deno.test("pb: fuzzed input only ever throws DecodeError", () => {
  const seeds = [
    fromHex("0a0a456e726f6c6c6d656e7412034f4550180128004000"),
    new Writer().uint32(1, 1).message(2, (w) => w.bytes(1, new Uint8Array(32)).uint64(2, 5n))
      .finish(),
    fromHex("08ac02110102030405060708" + "1a03abcdef2d01020304"),
  ];
  const res = fuzzDecoder((b) => walk(new Reader(b, { maxBytes: 256, maxDepth: 4 })), seeds, 20000);
  assertEquals(res.ok + res.rejected, 20000);
});
