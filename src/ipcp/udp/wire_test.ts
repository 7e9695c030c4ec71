import { assert, assertBytes, assertEquals, assertThrows } from "../../../tests/util/assert.ts";
import { fuzzDecoder } from "../../../tests/util/fuzz.ts";
import { loadCapture, udpPayload } from "../../../tests/util/pcap.ts";
import { loadFramesLog, logNum, logQos } from "../../../tests/util/frames.ts";
import { DecodeError } from "../../lib/errors.ts";
import { HashAlgo, hashName } from "../../lib/hash.ts";
import { qosRaw } from "../../lib/qos.ts";
import {
  decodeUdpData,
  decodeUdpMgmt,
  encodeUdpData,
  encodeUdpMgmt,
  UDP4_MAX_PACKET_SIZE,
  UDP6_MAX_PACKET_SIZE,
  UDP_MGMT_LEN,
  udpDatagramEid,
  type UdpMgmt,
  UdpMgmtCode,
} from "./wire.ts";

const ZERO_QOS = {
  delay: 0,
  bandwidth: 0n,
  availability: 0,
  loss: 0,
  ber: 0,
  inOrder: 0,
  maxGap: 0,
  timeout: 0,
};

function fromHex(h: string): Uint8Array {
  return new Uint8Array(h.replace(/\s+/g, "").match(/../g)!.map((x) => parseInt(x, 16)));
}

for (const capture of ["udp4-unicast.pcap", "udp4-data-qos.pcap"]) {
  Deno.test(`udp wire: decodes and re-encodes every frame of ${capture}`, () => {
    const log = loadFramesLog(capture);
    let mgmt = 0, data = 0, arp = 0;
    for (const f of loadCapture(capture)) {
      const l = log.get(f.no)!;
      const u = udpPayload(f.data);
      if (!u) {
        assert(l.text.startsWith("ARP"), `frame ${f.no} is neither udp nor ARP`);
        arp++;
        continue;
      }
      assertEquals(u.sport, 3435);
      assertEquals(u.dport, 3435);
      const eid = udpDatagramEid(u.payload);
      if (l.text.startsWith("udp4 mgmt")) {
        mgmt++;
        assertEquals(eid, 0);
        const m = decodeUdpMgmt(u.payload);
        const isReq = l.text.includes("FLOW_REQ");
        assertEquals(m.code, isReq ? UdpMgmtCode.FLOW_REQ : UdpMgmtCode.FLOW_REPLY);
        assertEquals(m.sEid, logNum(l.text, "s_eid"));
        assertEquals(m.dEid, isReq ? 0 : logNum(l.text, "d_eid"));
        assertEquals(m.response, isReq ? 0 : logNum(l.text, "response"));
        assertEquals(m.qos, logQos(l.text) ?? ZERO_QOS);
        if (isReq) {
          const name = /dst=md5\(([^)]+)\)/.exec(l.text)![1]!;
          assertBytes(m.hash, hashName(HashAlgo.MD5, name));
        } else assertEquals(m.hash.length, 0);
        const oap = Number(/OAP hdr (\d+)B/.exec(l.text)![1]);
        assertEquals(m.payload.length, oap);
        assertBytes(encodeUdpMgmt(m), u.payload);
      } else {
        data++;
        assert(l.text.startsWith("udp4 data"), `frame ${f.no}: ${l.text}`);
        const d = decodeUdpData(u.payload);
        assertEquals(d.eid, logNum(l.text, "eid"));
        assertEquals(d.payload.length, u.payload.length - 4);
        // Where the log gives the SDU size ("(23B)"), check it.
        const sz = /\((\d+)B\)/.exec(l.text);
        if (sz && !l.text.includes("DT[")) assertEquals(d.payload.length, Number(sz[1]));
        assertBytes(encodeUdpData(d), u.payload);
      }
    }
    assertEquals(arp, 2);
    assertEquals(mgmt, 6);
    assert(data > 25);
  });
}

Deno.test("udp wire: decoded payloads are views, not copies", () => {
  const f = loadCapture("udp4-unicast.pcap")[2]!;
  const u = udpPayload(f.data)!;
  const m = decodeUdpMgmt(u.payload);
  assert(m.payload.buffer === f.data.buffer);
  assert(m.hash.buffer === f.data.buffer);
});

Deno.test("udp wire: FLOW_REQ byte layout", () => {
  const m: UdpMgmt = {
    code: UdpMgmtCode.FLOW_REQ,
    sEid: 64,
    dEid: 0,
    response: 0,
    qos: qosRaw,
    hash: hashName(HashAlgo.MD5, "net"),
    payload: new Uint8Array([0xaa]),
  };
  const b = encodeUdpMgmt(m);
  assertEquals(b.length, UDP_MGMT_LEN + 16 + 1);
  assertBytes(
    b,
    fromHex(
      "00000000 00000040 00000000 00000000 0000000000000000 ffffffff 00000001 00000001 ffffffff" +
        "0001d4c0 01 00 00 40fa73c9d0083043c6576dd2b40511e4 aa",
    ),
  );
  assertEquals(decodeUdpMgmt(b), m);
});

Deno.test("udp wire: FLOW_REPLY with a refusal round-trips", () => {
  const m: UdpMgmt = {
    code: UdpMgmtCode.FLOW_REPLY,
    sEid: 64,
    dEid: 65,
    response: -1,
    qos: ZERO_QOS,
    hash: new Uint8Array(0),
    payload: new Uint8Array(0),
  };
  const b = encodeUdpMgmt(m);
  assertEquals(b.length, 47);
  assertBytes(b.subarray(12, 16), new Uint8Array([0xff, 0xff, 0xff, 0xff]));
  assertEquals(decodeUdpMgmt(b), m);
});

Deno.test("udp wire: data datagram layout and MTU constants", () => {
  assertBytes(
    encodeUdpData({ eid: 0x01020304, payload: new Uint8Array([9]) }),
    new Uint8Array([1, 2, 3, 4, 9]),
  );
  assertEquals(UDP4_MAX_PACKET_SIZE, 8980);
  assertEquals(UDP6_MAX_PACKET_SIZE, 8952);
  // An SDU of the maximum size is accepted, one byte more is not.
  const max = new Uint8Array(4 + UDP4_MAX_PACKET_SIZE);
  max[3] = 1;
  assertEquals(decodeUdpData(max).payload.length, UDP4_MAX_PACKET_SIZE);
  const over = new Uint8Array(5 + UDP4_MAX_PACKET_SIZE);
  over[3] = 1;
  assertThrows(() => decodeUdpData(over), DecodeError);
  assertThrows(() => decodeUdpData(max, { maxPacketSize: UDP6_MAX_PACKET_SIZE }), DecodeError);
});

Deno.test("udp wire: rejects malformed input with DecodeError", () => {
  const req = encodeUdpMgmt({
    code: UdpMgmtCode.FLOW_REQ,
    sEid: 1,
    dEid: 0,
    response: 0,
    qos: qosRaw,
    hash: new Uint8Array(16),
    payload: new Uint8Array(0),
  });
  const cases: [string, Uint8Array, (b: Uint8Array) => unknown][] = [
    ["short datagram", new Uint8Array(3), decodeUdpData],
    ["eid 0 as data", new Uint8Array(8), decodeUdpData],
    ["short mgmt", req.subarray(0, 46), decodeUdpMgmt],
    ["REQ without hash", req.subarray(0, 62), decodeUdpMgmt],
    ["data as mgmt", encodeUdpData({ eid: 5, payload: new Uint8Array(60) }), decodeUdpMgmt],
  ];
  for (const [what, b, dec] of cases) {
    const e = assertThrows(() => dec(b), DecodeError);
    assert(e instanceof DecodeError, what);
  }
  const bad = req.slice();
  bad[44] = 3;
  assertEquals(
    (assertThrows(() => decodeUdpMgmt(bad), DecodeError) as DecodeError).reason,
    "udp-code",
  );
});

Deno.test("udp wire: encoders reject out-of-range fields", () => {
  assertThrows(() => encodeUdpData({ eid: 0, payload: new Uint8Array(0) }), RangeError);
  assertThrows(() => encodeUdpData({ eid: 2 ** 32, payload: new Uint8Array(0) }), RangeError);
  const base: UdpMgmt = {
    code: UdpMgmtCode.FLOW_REPLY,
    sEid: 1,
    dEid: 2,
    response: 0,
    qos: ZERO_QOS,
    hash: new Uint8Array(0),
    payload: new Uint8Array(0),
  };
  assertThrows(() => encodeUdpMgmt({ ...base, response: 2 ** 31 }), RangeError);
  assertThrows(() => encodeUdpMgmt({ ...base, hash: new Uint8Array(16) }), RangeError);
  assertThrows(() => encodeUdpMgmt({ ...base, code: UdpMgmtCode.FLOW_REQ }), RangeError);
  assertThrows(() => encodeUdpMgmt({ ...base, qos: { ...ZERO_QOS, bandwidth: -1n } }), RangeError);
  assertThrows(
    () => encodeUdpMgmt({ ...base, qos: { ...ZERO_QOS, availability: 256 } }),
    RangeError,
  );
});

Deno.test("udp wire: fuzzed decoders only throw DecodeError", () => {
  const seeds = loadCapture("udp4-unicast.pcap").flatMap((f) => {
    const u = udpPayload(f.data);
    return u ? [u.payload] : [];
  });
  const m = fuzzDecoder((b) => decodeUdpMgmt(b), seeds, 20000);
  const d = fuzzDecoder((b) => decodeUdpData(b), seeds, 20000);
  assert(m.ok > 0 && m.rejected > 0);
  assert(d.ok > 0 && d.rejected > 0);
});
