import { assert, assertBytes, assertEquals, assertThrows } from "../../tests/util/assert.ts";
import { fuzzDecoder } from "../../tests/util/fuzz.ts";
import { DecodeError } from "./errors.ts";
import { decodeFrameBody, encodeData, encodeJson, FrameKind, FrameStream, MAX_FRAME } from "./ctl.ts";

Deno.test("ctl: request, reply, event and data frames round-trip through a stream", () => {
  const s = new FrameStream();
  const req = encodeJson(FrameKind.REQ, { op: "flow.alloc", dst: "oping" }, 7);
  const evt = encodeJson(FrameKind.EVT, { ev: "down", flowId: 3 });
  const data = encodeData(65, new Uint8Array([1, 2, 3]));
  const all = new Uint8Array([...req, ...evt, ...data]);
  // feed one byte at a time: frames appear only when complete
  const got = [];
  for (const b of all) {
    s.push(new Uint8Array([b]));
    for (let f = s.next(); f; f = s.next()) got.push(structuredClone(f));
  }
  assertEquals(got.length, 3);
  assertEquals(got[0], { kind: 1, id: 7, msg: { op: "flow.alloc", dst: "oping" } });
  assertEquals(got[1], { kind: 3, msg: { ev: "down", flowId: 3 } });
  const d = got[2]!;
  assert(d.kind === FrameKind.DATA);
  assertEquals(d.flowId, 65);
  assertBytes(d.data, new Uint8Array([1, 2, 3]));
});

Deno.test("ctl: bodies that are not objects, bad UTF-8, unknown kinds are DecodeErrors", () => {
  assertThrows(() => decodeFrameBody(new Uint8Array([1, 0, 0, 0, 0, ...new TextEncoder().encode("[1]")])), DecodeError);
  assertThrows(() => decodeFrameBody(new Uint8Array([3, 0xff, 0xfe])), DecodeError);
  assertThrows(() => decodeFrameBody(new Uint8Array([9])), DecodeError);
  assertThrows(() => decodeFrameBody(new Uint8Array([4, 1])), DecodeError);
});

Deno.test("ctl: an oversized length poisons the stream", () => {
  const s = new FrameStream();
  const b = new Uint8Array(8);
  new DataView(b.buffer).setUint32(0, MAX_FRAME + 1, true);
  s.push(b);
  assertThrows(() => s.next(), DecodeError, "out of range");
  assertThrows(() => s.next(), DecodeError);
});

Deno.test("ctl: fuzzed frame bodies only ever raise DecodeError", () => {
  const seeds = [
    encodeJson(FrameKind.REQ, { op: "name.create", name: "x" }, 1).subarray(4),
    encodeJson(FrameKind.EVT, { ev: "dealloc", flowId: 1 }).subarray(4),
    encodeData(1, new Uint8Array(20)).subarray(4),
  ];
  const r = fuzzDecoder(decodeFrameBody, seeds, 20000);
  assert(r.rejected > 1000 && r.ok > 100, JSON.stringify(r));
});
