/** Flood header codec and the broadcast DT CEP. */
import { assert, assertBytes, assertEquals, assertThrows } from "../../../tests/util/assert.ts";
import { fuzzDecoder } from "../../../tests/util/fuzz.ts";
import { DecodeError } from "../../lib/errors.ts";
import { decodeCep, encodeCep } from "../unicast/wire/cep.ts";
import {
  bcastDtCep,
  BROADCAST_MTU,
  cepFramed,
  decodeFrame,
  encodeFrame,
  FRAME_HEADER_BYTES,
} from "./wire.ts";

const hex = (s: string) => new Uint8Array(s.match(/../g)!.map((x) => parseInt(x, 16)));

Deno.test("bcast wire: flood header layout is ttl, origin u64 BE, seq u32 BE", () => {
  const b = encodeFrame(
    { ttl: 60, origin: 0x0102030405060708n, seq: 0xa0b0c0d0 },
    new Uint8Array([0x68, 0x69]),
  );
  assertBytes(b, hex("3c0102030405060708a0b0c0d06869"));
  const f = decodeFrame(b);
  assertEquals(f.ttl, 60);
  assertEquals(f.origin, 0x0102030405060708n);
  assertEquals(f.seq, 0xa0b0c0d0);
  assertBytes(f.payload, new Uint8Array([0x68, 0x69]));
  // an empty payload is a valid SDU
  assertEquals(
    decodeFrame(encodeFrame({ ttl: 1, origin: 0n, seq: 0 }, new Uint8Array(0))).payload.length,
    0,
  );
});

Deno.test("bcast wire: short, TTL 0 and oversize frames are rejected", () => {
  assertThrows(() => decodeFrame(new Uint8Array(FRAME_HEADER_BYTES - 1)), DecodeError);
  assertThrows(() => decodeFrame(new Uint8Array(FRAME_HEADER_BYTES)), DecodeError); // ttl 0
  const big = encodeFrame({ ttl: 5, origin: 1n, seq: 1 }, new Uint8Array(BROADCAST_MTU + 1));
  assertThrows(() => decodeFrame(big), DecodeError);
  const max = encodeFrame({ ttl: 5, origin: 1n, seq: 1 }, new Uint8Array(BROADCAST_MTU));
  assertEquals(decodeFrame(max).payload.length, BROADCAST_MTU);
});

Deno.test("bcast wire: fuzzed frames only ever throw DecodeError", () => {
  const seeds = [
    encodeFrame({ ttl: 60, origin: 77n, seq: 3 }, new TextEncoder().encode("hello")),
    encodeFrame({ ttl: 1, origin: 0xffffffffffffffffn, seq: 0xffffffff }, new Uint8Array(0)),
  ];
  const r = fuzzDecoder(decodeFrame, seeds, 5000);
  assert(r.ok > 0 && r.rejected > 0);
});

Deno.test("bcast wire: raw DT CEP is the reference's; framed adds only supp_version", () => {
  const raw = encodeCep(bcastDtCep(false));
  // comp "Data Transfer", protocol "", version 0, syntax 0, address 0 (spec 10 §3.2)
  assertBytes(raw, hex("0a0d44617461205472616e73666572" + "1200" + "1800" + "2800" + "4000"));
  const framed = encodeCep(bcastDtCep(true));
  assertBytes(
    framed,
    hex("0a0d44617461205472616e73666572" + "1200" + "1800" + "2000" + "2001" + "2800" + "4000"),
  );
  const peer = decodeCep(framed);
  assertEquals([peer.protocol, peer.prefVersion, peer.prefSyntax], ["", 0, 0]);
  assert(cepFramed(peer));
  assert(!cepFramed(decodeCep(raw)));
});
