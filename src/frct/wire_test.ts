import { assert, assertBytes, assertEquals, assertThrows } from "../../tests/util/assert.ts";
import { fuzzDecoder } from "../../tests/util/fuzz.ts";
import { loadCapture, udpPayload } from "../../tests/util/pcap.ts";
import { DecodeError } from "../lib/errors.ts";
import { fromHex } from "../lib/hash.ts";
import { FrctFlag } from "./constants.ts";
import {
  decodeFrct,
  encodeFrct,
  frctFlagsText,
  type FrctHeader,
  frctPayload,
  rewriteAckno,
  writeFrct,
} from "./wire.ts";

Deno.test("frct: encode writes rwe as u32 then overwrites byte 0 with flags", () => {
  // rwe 0x12345678: bytes 1-3 = 34 56 78, byte 0 = flags.
  const b = encodeFrct({ flags: 0x0f, window: 0x12345678, seqno: 0xdeadbeef, ackno: 1 });
  assertBytes(b, fromHex("0f345678deadbeef00000001"));
  assertEquals(decodeFrct(b), { flags: 0x0f, window: 0x345678, seqno: 0xdeadbeef, ackno: 1 });
});

Deno.test("frct: round trip of every packet kind", () => {
  const hs: FrctHeader[] = [
    { flags: FrctFlag.DATA | FrctFlag.DRF, window: 0, seqno: 2454495262, ackno: 0 },
    { flags: FrctFlag.ACK | FrctFlag.FC, window: 0xffffff, seqno: 0, ackno: 0xffffffff },
    { flags: FrctFlag.FC, window: 1, seqno: 0, ackno: 0 },
    { flags: FrctFlag.RDVS, window: 0, seqno: 0, ackno: 0 },
    { flags: FrctFlag.ACK, window: 0, seqno: 0, ackno: 42 },
    { flags: 0x7f, window: 0xabcdef, seqno: 7, ackno: 8 },
  ];
  for (const h of hs) assertEquals(decodeFrct(encodeFrct(h)), h);
});

Deno.test("frct: encoder rejects out-of-range fields", () => {
  assertThrows(() => encodeFrct({ flags: 256, window: 0, seqno: 0, ackno: 0 }), RangeError);
  assertThrows(() => encodeFrct({ flags: 1, window: 0, seqno: -1, ackno: 0 }), RangeError);
  assertThrows(() => encodeFrct({ flags: 1, window: 0, seqno: 0, ackno: 2 ** 32 }), RangeError);
  assertThrows(() => encodeFrct({ flags: 1, window: 0, seqno: 0.5, ackno: 0 }), RangeError);
  assertThrows(
    () => writeFrct(new Uint8Array(20), 9, { flags: 1, window: 0, seqno: 0, ackno: 0 }),
    RangeError,
  );
});

Deno.test("frct: writeFrct at an offset and rewriteAckno", () => {
  const buf = new Uint8Array(30);
  writeFrct(buf, 4, { flags: 5, window: 3, seqno: 9, ackno: 10 });
  const pkt = buf.subarray(4);
  assertEquals(decodeFrct(pkt), { flags: 5, window: 3, seqno: 9, ackno: 10 });
  rewriteAckno(pkt, 0x01020304);
  assertEquals(decodeFrct(pkt).ackno, 0x01020304);
  assertEquals(decodeFrct(pkt).flags, 5);
  assertEquals(frctPayload(pkt).length, 14);
});

Deno.test("frct: decoder rejects short input with DecodeError", () => {
  for (let n = 0; n < 12; n++) {
    assertThrows(() => decodeFrct(new Uint8Array(n)), DecodeError);
    assertThrows(() => frctPayload(new Uint8Array(n)), DecodeError);
  }
});

Deno.test("frct: flags text", () => {
  assertEquals(frctFlagsText(0x0f), "DATA|DRF|ACK|FC");
  assertEquals(frctFlagsText(0), "0");
});

// udp4-data-qos.pcap: udp payload = eid (4) + DT PCI (15) + FRCT (12) + SDU.
const CAPTURED: [number, FrctHeader, number][] = [
  [27, { flags: 0x03, window: 0, seqno: 2454495262, ackno: 0 }, 64],
  [28, { flags: 0x0f, window: 5021983, seqno: 1905899827, ackno: 2454495263 }, 64],
  [29, { flags: 0x0c, window: 10074676, seqno: 0, ackno: 1905899828 }, 0],
  [30, { flags: 0x0f, window: 10074676, seqno: 2454495263, ackno: 1905899828 }, 64],
  [39, { flags: 0x0f, window: 10074679, seqno: 2454495266, ackno: 1905899831 }, 64],
  [40, { flags: 0x0f, window: 5021987, seqno: 1905899831, ackno: 2454495267 }, 64],
  [41, { flags: 0x0f, window: 5021987, seqno: 1905899831, ackno: 2454495267 }, 64],
  [42, { flags: 0x04, window: 0, seqno: 0, ackno: 1905899832 }, 0],
];

Deno.test("frct: headers of udp4-data-qos.pcap decode and re-encode byte-exactly", () => {
  const frames = loadCapture("udp4-data-qos.pcap");
  for (const [no, want, sdu] of CAPTURED) {
    const u = udpPayload(frames[no - 1]!.data);
    assert(u, `frame ${no} is udp`);
    const pkt = u.payload.subarray(4 + 15);
    assertEquals(decodeFrct(pkt), want, `frame ${no}`);
    assertEquals(frctPayload(pkt).length, sdu, `frame ${no} sdu`);
    assertBytes(encodeFrct(want), pkt.subarray(0, 12), `frame ${no} bytes`);
  }
});

Deno.test("frct: fuzz decoder", () => {
  const frames = loadCapture("udp4-data-qos.pcap");
  const seeds = CAPTURED.map(([no]) => udpPayload(frames[no - 1]!.data)!.payload.slice(19));
  const r = fuzzDecoder(decodeFrct, seeds, 20000);
  assert(r.ok > 0 && r.rejected > 0);
});
