import { assert, assertBytes, assertEquals, assertThrows } from "../../../../tests/util/assert.ts";
import { fuzzDecoder } from "../../../../tests/util/fuzz.ts";
import { logBig, logNum, logQos, n1Sdus } from "../../../../tests/util/frames.ts";
import { DecodeError } from "../../../lib/errors.ts";
import { HashAlgo, hashName } from "../../../lib/hash.ts";
import { qosData, qosRaw, type QosSpec } from "../../../lib/qos.ts";
import { decodeDt, DT_EID_FA } from "./dt.ts";
import { decodeFaMsg, encodeFaMsg, FA_MSG_LEN, FA_MSG_MAX_LEN, FaCode, type FaMsg } from "./fa.ts";

const ZERO_QOS: QosSpec = {
  delay: 0,
  bandwidth: 0n,
  availability: 0,
  loss: 0,
  ber: 0,
  inOrder: 0,
  maxGap: 0,
  timeout: 0,
};

const CAPTURES = [
  "udp4-unicast.pcap",
  "udp4-data-qos.pcap",
  "eth-dix-unicast.pcap",
  "eth-llc-unicast.pcap",
];

/** FA messages of a capture: DT SDUs to eid 0, with their log lines. */
function faSdus(capture: string) {
  return n1Sdus(capture).flatMap(({ frame, log, sdu }) => {
    if (!log.text.includes("DT[")) return [];
    const dt = decodeDt(sdu);
    return dt.eid === DT_EID_FA ? [{ no: frame.no, text: log.text, msg: dt.payload }] : [];
  });
}

for (const capture of CAPTURES) {
  Deno.test(`fa: decodes and re-encodes the FA messages of ${capture}`, () => {
    const msgs = faSdus(capture);
    assertEquals(msgs.length, 2);
    for (const { no, text, msg } of msgs) {
      const fa = text.slice(text.indexOf("FA "));
      const m = decodeFaMsg(msg);
      const isReq = fa.startsWith("FA FLOW_REQ");
      assert(isReq || fa.startsWith("FA FLOW_REPLY"), `frame ${no}: ${fa}`);
      assertEquals(m.code, isReq ? FaCode.FLOW_REQ : FaCode.FLOW_REPLY);
      assertEquals(m.sAddr, logBig(fa, "s_addr"), `frame ${no} s_addr`);
      assertEquals(m.rEid, logBig(fa, "r_eid"));
      assertEquals(m.sEid, logBig(fa, "s_eid"));
      assertEquals(m.response, isReq ? 0 : logNum(fa, "response"));
      assertEquals(m.qos, logQos(fa) ?? ZERO_QOS);
      assertEquals(m.ece, 0);
      if (isReq) assertBytes(m.hash, hashName(HashAlgo.SHA3_256, "oping.srv"));
      else assertEquals(m.hash.length, 0);
      assertEquals(m.payload.length, Number(/OAP hdr (\d+)B/.exec(fa)![1]));
      assert(m.payload.buffer === msg.buffer, "payload is a view");
      assertBytes(encodeFaMsg(m), msg, `frame ${no}`);
    }
  });
}

Deno.test("fa: the REPLY answers the REQ's eids (udp4-unicast)", () => {
  const [req, rep] = faSdus("udp4-unicast.pcap").map((x) => decodeFaMsg(x.msg));
  assertEquals(rep!.rEid, req!.sEid);
  assertEquals(rep!.sAddr, 0n);
  assertEquals(req!.sAddr, 2540519675n);
  assertEquals(req!.qos, qosRaw);
});

Deno.test("fa: byte layout of a FLOW_UPDATE", () => {
  const m: FaMsg = {
    code: FaCode.FLOW_UPDATE,
    sAddr: 0n,
    rEid: 0x0102030405060708n,
    sEid: 0n,
    response: 0,
    qos: ZERO_QOS,
    ece: 0xabcd,
    hash: new Uint8Array(0),
    payload: new Uint8Array(0),
  };
  const b = encodeFaMsg(m);
  assertEquals(b.length, FA_MSG_LEN);
  const want = new Uint8Array(61);
  want.set([1, 2, 3, 4, 5, 6, 7, 8], 8);
  want.set([0xab, 0xcd, 2], 56);
  assertBytes(b, want);
  assertEquals(decodeFaMsg(b), m);
});

Deno.test("fa: FLOW_REQ layout with data QoS and a refusing REPLY", () => {
  const req: FaMsg = {
    code: FaCode.FLOW_REQ,
    sAddr: 0xfffffffen,
    rEid: 0n,
    sEid: 0xffffffffffffffffn,
    response: 0,
    qos: qosData,
    ece: 0,
    hash: new Uint8Array(16).fill(7),
    payload: new Uint8Array([1, 2, 3]),
  };
  const b = encodeFaMsg(req);
  assertEquals(b.length, 61 + 16 + 3);
  assertBytes(b.subarray(36, 40), new Uint8Array([0, 0, 3, 0xe8])); // delay 1000
  assertBytes(b.subarray(48, 52), new Uint8Array([0, 0, 7, 0xd0])); // max_gap 2000
  assertEquals([b[58], b[59], b[60]], [0, 0, 1]);
  assertEquals(decodeFaMsg(b, 16), req);
  const rep: FaMsg = {
    ...req,
    code: FaCode.FLOW_REPLY,
    sAddr: 0n,
    response: -1007,
    hash: new Uint8Array(0),
  };
  const r = encodeFaMsg(rep);
  assertEquals(decodeFaMsg(r).response, -1007);
  assertEquals(decodeFaMsg(r), rep);
});

Deno.test("fa: rejects malformed input with DecodeError", () => {
  const reason = (fn: () => unknown) => (assertThrows(fn, DecodeError) as DecodeError).reason;
  assertEquals(reason(() => decodeFaMsg(new Uint8Array(60))), "fa-truncated");
  assertEquals(reason(() => decodeFaMsg(new Uint8Array(FA_MSG_MAX_LEN + 1))), "fa-oversized");
  decodeFaMsg(new Uint8Array(FA_MSG_MAX_LEN));
  // A REQ (code 0) with a 31-byte hash.
  assertEquals(reason(() => decodeFaMsg(new Uint8Array(61 + 31))), "fa-truncated");
  const b = new Uint8Array(61);
  b[58] = 3;
  assertEquals(reason(() => decodeFaMsg(b)), "fa-code");
});

Deno.test("fa: encoder rejects out-of-range fields", () => {
  const base: FaMsg = {
    code: FaCode.FLOW_REPLY,
    sAddr: 0n,
    rEid: 1n,
    sEid: 2n,
    response: 0,
    qos: ZERO_QOS,
    ece: 0,
    hash: new Uint8Array(0),
    payload: new Uint8Array(0),
  };
  encodeFaMsg(base);
  assertThrows(() => encodeFaMsg({ ...base, rEid: 1n << 64n }), RangeError);
  assertThrows(() => encodeFaMsg({ ...base, sAddr: -1n }), RangeError);
  assertThrows(() => encodeFaMsg({ ...base, ece: 0x10000 }), RangeError);
  assertThrows(() => encodeFaMsg({ ...base, response: -(2 ** 31) - 1 }), RangeError);
  assertThrows(() => encodeFaMsg({ ...base, hash: new Uint8Array(32) }), RangeError);
  assertThrows(() => encodeFaMsg({ ...base, code: FaCode.FLOW_REQ }), RangeError);
  assertThrows(() => encodeFaMsg({ ...base, qos: { ...ZERO_QOS, maxGap: 2 ** 32 } }), RangeError);
});

Deno.test("fa: fuzzed decoder only throws DecodeError", () => {
  const seeds = CAPTURES.flatMap((c) => faSdus(c).map((x) => x.msg));
  const r = fuzzDecoder((b) => decodeFaMsg(b), seeds, 20000);
  assert(r.ok > 0 && r.rejected > 0);
});
