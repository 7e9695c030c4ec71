import { assert, assertBytes, assertEquals, assertThrows } from "../../../../tests/util/assert.ts";
import { fuzzDecoder } from "../../../../tests/util/fuzz.ts";
import { logBig, logNum, logSection, n1Sdus } from "../../../../tests/util/frames.ts";
import { DecodeError } from "../../../lib/errors.ts";
import {
  decodeDt,
  DT_CONFIG_DEFAULT,
  DT_MAX_TTL_DEFAULT,
  type DtConfig,
  dtHeaderLen,
  dtOffsets,
  type DtPdu,
  encodeDt,
  writeDtPci,
} from "./dt.ts";

const CAPTURES = [
  "udp4-unicast.pcap",
  "udp4-data-qos.pcap",
  "eth-dix-unicast.pcap",
  "eth-llc-unicast.pcap",
];

for (const capture of CAPTURES) {
  Deno.test(`dt: decodes and re-encodes every DT PDU of ${capture}`, () => {
    let n = 0;
    for (const { frame, log, sdu } of n1Sdus(capture)) {
      const dt = logSection(log.text, "DT[");
      if (dt === undefined) continue;
      n++;
      const p = decodeDt(sdu);
      assertEquals(p.dst, logBig(dt, "dst"), `frame ${frame.no} dst`);
      assertEquals(p.qc, logNum(dt, "qc"));
      assertEquals(p.ttl, logNum(dt, "ttl"));
      assertEquals(p.ttl, DT_MAX_TTL_DEFAULT);
      assertEquals(p.ecn, logNum(dt, "ecn"));
      assertEquals(p.eid, logBig(dt, "eid"), `frame ${frame.no} eid`);
      assertEquals(p.payload.length, sdu.length - 15);
      assert(p.payload.buffer === frame.data.buffer, "payload is a view");
      const sz = /\((\d+)B\)$/.exec(log.text);
      if (sz) assertEquals(p.payload.length, Number(sz[1]), `frame ${frame.no} SDU size`);
      if (log.text.includes("64B payload")) {
        assertEquals(p.payload.length, log.text.includes("FRCT[") ? 76 : 64);
      }
      assertBytes(encodeDt(p), sdu, `frame ${frame.no}`);
    }
    assertEquals(
      n,
      capture === "udp4-data-qos.pcap" ? 23 : 17,
    );
  });
}

Deno.test("dt: spec example vector", () => {
  const pdu: DtPdu = {
    dst: 0x0a0b0c0dn,
    qc: 0,
    ttl: 60,
    ecn: 0,
    eid: 0x1122334400000041n,
    payload: new Uint8Array([0xee]),
  };
  const b = encodeDt(pdu);
  assertBytes(
    b,
    new Uint8Array([
      0x0d,
      0x0c,
      0x0b,
      0x0a,
      0x00,
      0x3c,
      0x00,
      0x41,
      0x00,
      0x00,
      0x00,
      0x44,
      0x33,
      0x22,
      0x11,
      0xee,
    ]),
  );
  assertEquals(decodeDt(b), pdu);
  assertEquals(dtHeaderLen(), 15);
  assertEquals(dtOffsets(), { qc: 4, ttl: 5, ecn: 6, eid: 7, len: 15 });
});

Deno.test("dt: configurable address and eid sizes", () => {
  const layouts: DtConfig[] = [
    { addrSize: 8, eidSize: 8 },
    { addrSize: 2, eidSize: 4 },
    { addrSize: 1, eidSize: 1 },
    { addrSize: 4, eidSize: 2 },
  ];
  for (const cfg of layouts) {
    const pdu: DtPdu = {
      dst: (1n << BigInt(8 * cfg.addrSize)) - 2n,
      qc: 2,
      ttl: 1,
      ecn: 0x80,
      eid: (1n << BigInt(8 * cfg.eidSize)) - 3n,
      payload: new Uint8Array([1, 2, 3]),
    };
    const b = encodeDt(pdu, cfg);
    assertEquals(b.length, cfg.addrSize + 3 + cfg.eidSize + 3);
    assertEquals(b[0], 0xfe, "address is little-endian");
    assertEquals(b[cfg.addrSize + 3], 0xfd, "eid is little-endian");
    assertEquals(decodeDt(b, cfg), pdu);
    assertThrows(() => encodeDt({ ...pdu, dst: 1n << BigInt(8 * cfg.addrSize) }, cfg), RangeError);
    assertThrows(() => encodeDt({ ...pdu, eid: 1n << BigInt(8 * cfg.eidSize) }, cfg), RangeError);
  }
  assertThrows(() => dtHeaderLen({ addrSize: 0, eidSize: 8 }), RangeError);
  assertThrows(() => dtHeaderLen({ addrSize: 4, eidSize: 9 }), RangeError);
});

Deno.test("dt: writeDtPci fills headroom in place", () => {
  const buf = new Uint8Array(20).fill(0x55);
  writeDtPci(buf, { dst: 7n, qc: 1, ttl: 60, ecn: 3, eid: 64n });
  assertBytes(buf.subarray(0, 15), new Uint8Array([7, 0, 0, 0, 1, 60, 3, 64, 0, 0, 0, 0, 0, 0, 0]));
  assertBytes(buf.subarray(15), new Uint8Array(5).fill(0x55));
  assertThrows(
    () => writeDtPci(new Uint8Array(14), { dst: 7n, qc: 0, ttl: 1, ecn: 0, eid: 0n }),
    RangeError,
  );
});

Deno.test("dt: rejects malformed input and fields", () => {
  const reason = (fn: () => unknown) => (assertThrows(fn, DecodeError) as DecodeError).reason;
  assertEquals(reason(() => decodeDt(new Uint8Array(14))), "dt-truncated");
  assertEquals(
    reason(() => decodeDt(new Uint8Array(10), { addrSize: 4, eidSize: 4 })),
    "dt-truncated",
  );
  const b = new Uint8Array(15);
  b[4] = 3;
  assertEquals(reason(() => decodeDt(b)), "dt-qc");
  const base = { dst: 1n, qc: 0, ttl: 60, ecn: 0, eid: 0n, payload: new Uint8Array(0) };
  assertThrows(() => encodeDt({ ...base, qc: 3 }), RangeError);
  assertThrows(() => encodeDt({ ...base, ttl: 256 }), RangeError);
  assertThrows(() => encodeDt({ ...base, ecn: -1 }), RangeError);
  assertThrows(() => encodeDt({ ...base, dst: -1n }), RangeError);
  assertThrows(() => encodeDt({ ...base, eid: 1n << 64n }), RangeError);
});

Deno.test("dt: fuzzed decoder only throws DecodeError", () => {
  const seeds = n1Sdus("udp4-unicast.pcap").filter((s) => s.log.text.includes("DT[")).map((s) =>
    s.sdu
  );
  for (const cfg of [DT_CONFIG_DEFAULT, { addrSize: 8, eidSize: 3 }]) {
    const r = fuzzDecoder((b) => decodeDt(b, cfg), seeds, 20000);
    assert(r.ok > 0 && r.rejected > 0);
  }
});
