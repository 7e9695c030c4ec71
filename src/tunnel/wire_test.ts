import { assertBytes, assertEquals, assertThrows } from "../../tests/util/assert.ts";
import { fuzzDecoder } from "../../tests/util/fuzz.ts";
import { DecodeError } from "../lib/errors.ts";
import { type ControlMsg, decodeControl, encodeControl, encodeTapFrame, sduKind } from "./wire.ts";

const SAMPLES: ControlMsg[] = [
  { type: "hello", version: 1, tap: false, traffic: "default", name: "tunnel.a" },
  { type: "hello", version: 1, tap: true, traffic: "voice", name: "ü.b" },
  { type: "welcome", version: 1, name: "tunnel.b" },
  { type: "reject", reason: "unknown peer" },
  { type: "ping", id: 0xdeadbeef },
  { type: "pong", id: 1 },
];

Deno.test("tunnel wire: control messages round-trip", () => {
  for (const m of SAMPLES) assertEquals(decodeControl(encodeControl(m)), m);
});

Deno.test("tunnel wire: byte layout of HELLO and PING", () => {
  assertBytes(
    encodeControl({ type: "hello", version: 1, tap: true, traffic: "v", name: "ab" }),
    new Uint8Array([0x01, 1, 1, 1, 0x76, 2, 0x61, 0x62]),
  );
  assertBytes(encodeControl({ type: "ping", id: 0x01020304 }), new Uint8Array([4, 1, 2, 3, 4]));
  assertBytes(encodeControl({ type: "reject", reason: "no" }), new Uint8Array([3, 2, 0x6e, 0x6f]));
});

Deno.test("tunnel wire: SDU kinds by first byte", () => {
  assertEquals(sduKind(new Uint8Array([0x45])), "ip");
  assertEquals(sduKind(new Uint8Array([0x60])), "ip");
  assertEquals(sduKind(encodeTapFrame(new Uint8Array(14))), "tap");
  assertEquals(sduKind(encodeControl({ type: "pong", id: 3 })), "control");
  assertEquals(sduKind(new Uint8Array([0x99])), "unknown");
  assertEquals(sduKind(new Uint8Array(0)), "unknown");
});

Deno.test("tunnel wire: malformed control messages are DecodeErrors", () => {
  for (const b of [[], [1], [1, 1, 0, 0, 0], [1, 1, 0, 5, 0x61], [2, 1, 3, 0x61], [4, 1, 2], [5, 1, 2, 3, 4, 5], [9], [3, 1, 0xff]]) {
    assertThrows(() => decodeControl(new Uint8Array(b)), DecodeError);
  }
});

Deno.test("tunnel wire: fuzzed control messages throw only DecodeError", () => {
  fuzzDecoder(decodeControl, SAMPLES.map(encodeControl), 20000);
});
