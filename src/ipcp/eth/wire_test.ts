import { assert, assertBytes, assertEquals, assertThrows } from "../../../tests/util/assert.ts";
import { fuzzDecoder } from "../../../tests/util/fuzz.ts";
import { loadCapture } from "../../../tests/util/pcap.ts";
import { ethPayload, loadFramesLog, logNum, logQos } from "../../../tests/util/frames.ts";
import { DecodeError } from "../../lib/errors.ts";
import { HashAlgo, hashName } from "../../lib/hash.ts";
import { qosRaw } from "../../lib/qos.ts";
import {
  bitReverse8,
  decodeEthDix,
  decodeEthDixMgmt,
  decodeEthLlc,
  decodeEthLlcMgmt,
  encodeEthDix,
  encodeEthDixMgmt,
  encodeEthLlc,
  encodeEthLlcMgmt,
  ETH_BROADCAST_MAC,
  ETH_DIX_ETHERTYPE_DEFAULT,
  ETH_LLC_MGMT_SAP,
  ETH_MGMT_FRAME_SIZE,
  type EthDixMgmt,
  ethMaxSdu,
  EthMgmtCode,
  ethMtu,
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
const CODES: Record<string, number> = {
  FLOW_REQ: EthMgmtCode.FLOW_REQ,
  FLOW_REPLY: EthMgmtCode.FLOW_REPLY,
  NAME_QUERY_REQ: EthMgmtCode.NAME_QUERY_REQ,
  NAME_QUERY_REPLY: EthMgmtCode.NAME_QUERY_REPLY,
};

/** Checks a decoded management body against its frames.log line. */
function checkMgmt(
  no: number,
  text: string,
  m: { code: number; response: number; qos: unknown; hash: Uint8Array; payload: Uint8Array },
): void {
  const code = / mgmt (\w+) /.exec(text)![1]!;
  assertEquals(m.code, CODES[code], `frame ${no} code`);
  assertEquals(m.response, code === "FLOW_REPLY" ? logNum(text, "response") : 0);
  assertEquals(m.qos, logQos(text) ?? ZERO_QOS, `frame ${no} qos`);
  const name = /(?:name|dst)=(\S+)/.exec(text)?.[1];
  if (code === "FLOW_REPLY") assertEquals(m.hash.length, 0);
  else assertBytes(m.hash, hashName(HashAlgo.SHA3_256, name!), `frame ${no} hash`);
  const oap = /OAP hdr (\d+)B/.exec(text);
  assertEquals(m.payload.length, oap ? Number(oap[1]) : 0, `frame ${no} OAP length`);
}

Deno.test("eth wire: decodes and re-encodes every frame of eth-dix-unicast.pcap", () => {
  const log = loadFramesLog("eth-dix-unicast.pcap");
  let mgmt = 0;
  for (const f of loadCapture("eth-dix-unicast.pcap")) {
    const l = log.get(f.no)!;
    const fr = decodeEthDix(f.data, ETH_DIX_ETHERTYPE_DEFAULT);
    assertEquals(fr.payload.length, f.data.length - 18, "no padding on the veth");
    if (l.dir.endsWith("bcast")) assertBytes(fr.dst, ETH_BROADCAST_MAC);
    if (l.text.startsWith("eth-dix mgmt")) {
      mgmt++;
      assertEquals(fr.eid, 0);
      assertEquals(fr.payload.length, logNum(l.text, "field"));
      const m = decodeEthDixMgmt(fr.payload);
      assertEquals(m.seid, logNum(l.text, "seid"));
      assertEquals(m.deid, logNum(l.text, "deid"));
      checkMgmt(f.no, l.text, m);
      assertBytes(encodeEthDixMgmt(m), fr.payload);
    } else {
      assert(l.text.startsWith("eth-dix data"));
      assertEquals(fr.eid, logNum(l.text, "eid"));
      assertEquals(fr.payload.length, logNum(l.text, "len"));
    }
    assertBytes(encodeEthDix(fr), f.data, `frame ${f.no}`);
  }
  assertEquals(mgmt, 10);
});

Deno.test("eth wire: decodes and re-encodes every frame of eth-llc-unicast.pcap", () => {
  const log = loadFramesLog("eth-llc-unicast.pcap");
  let mgmt = 0;
  for (const f of loadCapture("eth-llc-unicast.pcap")) {
    const l = log.get(f.no)!;
    const fr = decodeEthLlc(f.data);
    assertEquals(fr.payload.length, ethPayload(f.data).length - 3);
    if (l.dir.endsWith("bcast")) assertBytes(fr.dst, ETH_BROADCAST_MAC);
    if (l.text.startsWith("eth-llc mgmt")) {
      mgmt++;
      assertEquals([f.data[14], f.data[15], f.data[16]], [0x80, 0x80, 0x03]);
      assertEquals([fr.dsap, fr.ssap], [ETH_LLC_MGMT_SAP, ETH_LLC_MGMT_SAP]);
      assertEquals(fr.payload.length + 3, logNum(l.text, "len"));
      const m = decodeEthLlcMgmt(fr.payload);
      assertEquals(m.ssap, logNum(l.text, "ssap"));
      assertEquals(m.dsap, logNum(l.text, "dsap"));
      checkMgmt(f.no, l.text, m);
      assertBytes(encodeEthLlcMgmt(m), fr.payload);
    } else {
      assert(l.text.startsWith("eth-llc data"));
      const sap = /sap (\d+)\/(\d+) bit-reversed/.exec(l.text)!;
      assertEquals(fr.dsap, Number(sap[1]));
      assertEquals(fr.ssap, Number(sap[2]));
      assertEquals(f.data[14], logNum(l.text, "dsap"));
      assertEquals(f.data[15], logNum(l.text, "ssap"));
      const sz = /\((\d+)B\)/.exec(l.text);
      if (sz && !l.text.includes("DT[")) assertEquals(fr.payload.length, Number(sz[1]));
    }
    assertBytes(encodeEthLlc(fr), f.data, `frame ${f.no}`);
  }
  assertEquals(mgmt, 10);
});

Deno.test("eth wire: SAP bit reversal", () => {
  assertEquals(bitReverse8(0x01), 0x80);
  assertEquals(bitReverse8(0x02), 0x40);
  assertEquals(bitReverse8(0x03), 0xc0);
  assertEquals(bitReverse8(0xff), 0xff);
  for (let i = 0; i < 256; i++) assertEquals(bitReverse8(bitReverse8(i)), i);
});

Deno.test("eth wire: MTU rules", () => {
  assertEquals(ethMtu("llc", "eth0", 9000), 1500);
  assertEquals(ethMtu("dix", "eth0", 9000), 9000);
  assertEquals(ethMtu("dix", "lo", 65536), 9000);
  assertEquals(ethMtu("dix", "veth0", 70000), 65535);
  assertEquals(ethMaxSdu("llc", 1500), 1497);
  assertEquals(ethMaxSdu("dix", 1500), 1496);
});

Deno.test("eth wire: dix frame and management body layout", () => {
  const dst = new Uint8Array([1, 2, 3, 4, 5, 6]);
  const src = new Uint8Array([7, 8, 9, 10, 11, 12]);
  const body: EthDixMgmt = {
    code: EthMgmtCode.FLOW_REQ,
    seid: 64,
    deid: 0,
    response: 0,
    qos: qosRaw,
    hash: new Uint8Array(32).fill(0xab),
    payload: new Uint8Array([0xcc]),
  };
  const b = encodeEthDixMgmt(body);
  assertEquals(b.length, 39 + 32 + 1);
  assertBytes(
    b.subarray(0, 39),
    new Uint8Array([
      ...[0, 64, 0, 0], // seid, deid
      ...[0, 0, 0, 1], // loss
      ...[0, 0, 0, 0, 0, 0, 0, 0], // bandwidth
      ...[0, 0, 0, 1], // ber
      ...[0xff, 0xff, 0xff, 0xff], // max_gap
      ...[0xff, 0xff, 0xff, 0xff], // delay
      ...[0, 1, 0xd4, 0xc0], // timeout 120000
      ...[0, 0, 0, 0], // response
      0, // in_order
      0, // code
      0, // availability
    ]),
  );
  assertEquals(decodeEthDixMgmt(b), body);
  const frame = encodeEthDix({ dst, src, ethertype: 0xa000, eid: 0, payload: b });
  assertBytes(frame.subarray(12, 18), new Uint8Array([0xa0, 0x00, 0, 0, 0, 72]));
  // Ethernet padding after the length is ignored.
  const padded = new Uint8Array(frame.length + 10);
  padded.set(frame);
  assertEquals(decodeEthDix(padded).payload.length, 72);
});

Deno.test("eth wire: llc frame layout and padding", () => {
  const dst = new Uint8Array(6).fill(1);
  const src = new Uint8Array(6).fill(2);
  const f = encodeEthLlc({ dst, src, dsap: 2, ssap: 3, payload: new Uint8Array([9, 9]) });
  assertBytes(f.subarray(12), new Uint8Array([0, 5, 0x40, 0xc0, 0x03, 9, 9]));
  const padded = new Uint8Array(60);
  padded.set(f);
  const d = decodeEthLlc(padded);
  assertEquals([d.dsap, d.ssap], [2, 3]);
  assertBytes(d.payload, new Uint8Array([9, 9]));
  const m = encodeEthLlcMgmt({
    code: EthMgmtCode.NAME_QUERY_REQ,
    ssap: 0,
    dsap: 0,
    response: 0,
    qos: ZERO_QOS,
    hash: new Uint8Array(32),
    payload: new Uint8Array(0),
  });
  assertEquals(m.length, 37 + 32);
  assertEquals(m[2], 2);
});

Deno.test("eth wire: rejects malformed input with DecodeError", () => {
  const dst = new Uint8Array(6);
  const dix = encodeEthDix({
    dst,
    src: dst,
    ethertype: 0xa000,
    eid: 64,
    payload: new Uint8Array(4),
  });
  const llc = encodeEthLlc({ dst, src: dst, dsap: 2, ssap: 2, payload: new Uint8Array(4) });
  const reason = (fn: () => unknown) => (assertThrows(fn, DecodeError) as DecodeError).reason;
  assertEquals(reason(() => decodeEthDix(dix.subarray(0, 17))), "eth-truncated");
  assertEquals(reason(() => decodeEthDix(dix.subarray(0, 21))), "eth-truncated");
  assertEquals(reason(() => decodeEthDix(dix, 0xa001)), "eth-ethertype");
  assertEquals(reason(() => decodeEthDix(llc)), "eth-not-dix");
  assertEquals(reason(() => decodeEthLlc(dix)), "eth-not-llc");
  assertEquals(reason(() => decodeEthLlc(llc.subarray(0, 20))), "eth-truncated");
  const ctl = llc.slice();
  ctl[16] = 0xf3;
  assertEquals(reason(() => decodeEthLlc(ctl)), "eth-llc-control");
  const short = llc.slice();
  short[13] = 2;
  assertEquals(reason(() => decodeEthLlc(short)), "eth-llc-length");
  assertEquals(reason(() => decodeEthDixMgmt(new Uint8Array(38))), "eth-truncated");
  assertEquals(reason(() => decodeEthLlcMgmt(new Uint8Array(36))), "eth-truncated");
  // FLOW_REQ (code 0) with no hash
  assertEquals(reason(() => decodeEthDixMgmt(new Uint8Array(39 + 31))), "eth-truncated");
  const big = new Uint8Array(ETH_MGMT_FRAME_SIZE + 1);
  assertEquals(reason(() => decodeEthLlcMgmt(big)), "eth-oversized");
  const code = new Uint8Array(39 + 32);
  code[37] = 4;
  assertEquals(reason(() => decodeEthDixMgmt(code)), "eth-code");
});

Deno.test("eth wire: encoders reject out-of-range fields", () => {
  const mac = new Uint8Array(6);
  const p = new Uint8Array(0);
  assertThrows(
    () => encodeEthDix({ dst: mac, src: mac, ethertype: 0x5ff, eid: 0, payload: p }),
    RangeError,
  );
  assertThrows(
    () => encodeEthDix({ dst: mac, src: mac, ethertype: 0xa000, eid: 65536, payload: p }),
    RangeError,
  );
  assertThrows(
    () => encodeEthDix({ dst: new Uint8Array(5), src: mac, ethertype: 0xa000, eid: 1, payload: p }),
    RangeError,
  );
  assertThrows(
    () =>
      encodeEthLlc({ dst: mac, src: mac, dsap: 2, ssap: 2, payload: new Uint8Array(0x5ff - 2) }),
    RangeError,
  );
  const reply = {
    code: EthMgmtCode.FLOW_REPLY,
    seid: 1,
    deid: 1,
    response: 0,
    qos: ZERO_QOS,
    hash: new Uint8Array(0),
    payload: p,
  } satisfies EthDixMgmt;
  encodeEthDixMgmt(reply);
  assertThrows(() => encodeEthDixMgmt({ ...reply, hash: new Uint8Array(32) }), RangeError);
  assertThrows(() => encodeEthDixMgmt({ ...reply, code: EthMgmtCode.FLOW_REQ }), RangeError);
  assertThrows(() => encodeEthDixMgmt({ ...reply, seid: -1 }), RangeError);
  assertThrows(() => encodeEthLlcMgmt({ ...reply, ssap: 256, dsap: 0 }), RangeError);
});

Deno.test("eth wire: fuzzed decoders only throw DecodeError", () => {
  const dix = loadCapture("eth-dix-unicast.pcap").map((f) => f.data);
  const llc = loadCapture("eth-llc-unicast.pcap").map((f) => f.data);
  const dixBodies = dix.map((f) => decodeEthDix(f)).filter((f) => f.eid === 0).map((f) =>
    f.payload
  );
  const llcBodies = llc.map((f) => decodeEthLlc(f)).filter((f) => f.dsap === 1).map((f) =>
    f.payload
  );
  for (
    const [dec, seeds] of [
      [(b: Uint8Array) => decodeEthDix(b), [...dix, ...llc]],
      [(b: Uint8Array) => decodeEthLlc(b), [...llc, ...dix]],
      [(b: Uint8Array) => decodeEthDixMgmt(b), dixBodies],
      [(b: Uint8Array) => decodeEthLlcMgmt(b), llcBodies],
    ] as const
  ) {
    const r = fuzzDecoder(dec, seeds as Uint8Array[], 10000);
    assert(r.ok > 0 && r.rejected > 0);
  }
});
