import { assert, assertBytes, assertEquals, assertThrows } from "../../../../tests/util/assert.ts";
import { fuzzDecoder } from "../../../../tests/util/fuzz.ts";
import { logBig, n1Sdus } from "../../../../tests/util/frames.ts";
import { DecodeError } from "../../../lib/errors.ts";
import { decodeLsu, encodeLsu, LSU_LEN } from "./lsu.ts";

const CAPTURES = [
  "udp4-unicast.pcap",
  "udp4-data-qos.pcap",
  "eth-dix-unicast.pcap",
  "eth-llc-unicast.pcap",
];

function lsuSdus(capture: string) {
  return n1Sdus(capture).filter((s) => s.log.text.includes("link-state LSA"));
}

for (const capture of CAPTURES) {
  Deno.test(`lsu: decodes and re-encodes the LSAs of ${capture}`, () => {
    const sdus = lsuSdus(capture);
    assertEquals(sdus.length, 2);
    for (const { frame, log, sdu } of sdus) {
      const m = decodeLsu(sdu);
      assertEquals(m.dAddr, logBig(log.text, "d_addr"), `frame ${frame.no}`);
      assertEquals(m.sAddr, logBig(log.text, "s_addr"));
      assertEquals(m.seqno, logBig(log.text, "seqno"));
      assertBytes(encodeLsu(m), sdu);
    }
    // Each side advertises the link towards the other.
    const [x, y] = sdus.map((s) => decodeLsu(s.sdu));
    assertEquals([x!.dAddr, x!.sAddr], [y!.sAddr, y!.dAddr]);
  });
}

Deno.test("lsu: byte layout, destination first", () => {
  const b = encodeLsu({
    dAddr: 0x0102030405060708n,
    sAddr: 0x976d40fbn,
    seqno: 0xffffffffffffffffn,
  });
  assertBytes(
    b,
    new Uint8Array([
      ...[1, 2, 3, 4, 5, 6, 7, 8],
      ...[0, 0, 0, 0, 0x97, 0x6d, 0x40, 0xfb],
      ...[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    ]),
  );
  assertEquals(decodeLsu(b), {
    dAddr: 0x0102030405060708n,
    sAddr: 0x976d40fbn,
    seqno: (1n << 64n) - 1n,
  });
});

Deno.test("lsu: rejects every length but 24 and out-of-range fields", () => {
  for (const n of [0, 1, 23, 25, 48]) {
    const e = assertThrows(() => decodeLsu(new Uint8Array(n)), DecodeError) as DecodeError;
    assertEquals(e.reason, n < LSU_LEN ? "lsu-truncated" : "lsu-oversized");
  }
  assertThrows(() => encodeLsu({ dAddr: -1n, sAddr: 0n, seqno: 0n }), RangeError);
  assertThrows(() => encodeLsu({ dAddr: 0n, sAddr: 0n, seqno: 1n << 64n }), RangeError);
});

Deno.test("lsu: fuzzed decoder only throws DecodeError", () => {
  const seeds = CAPTURES.flatMap((c) => lsuSdus(c).map((s) => s.sdu));
  const r = fuzzDecoder((b) => decodeLsu(b), seeds, 20000);
  assert(r.ok > 0 && r.rejected > 0);
});
