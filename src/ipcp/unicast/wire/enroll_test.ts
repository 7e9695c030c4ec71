import { assertBytes, assertEquals, assertThrows } from "../../../../tests/util/assert.ts";
import { fuzzDecoder } from "../../../../tests/util/fuzz.ts";
import { DecodeError } from "../../../lib/errors.ts";
import { fromHex } from "../../../lib/hash.ts";
import { sdu } from "./_captures.ts";
import { defaultUniConfig, type IpcpConfig } from "./config.ts";
import {
  decodeEnrollAck,
  decodeEnrollReq,
  decodeEnrollResp,
  encodeEnrollAck,
  encodeEnrollReq,
  encodeEnrollResp,
  type EnrollResp,
} from "./enroll.ts";

/** `ipcp_type` wire values (spec 10 §1.1). */
const IpcpType = { LOCAL: 0, UNICAST: 1, BROADCAST: 2, ETH_LLC: 3, ETH_DIX: 4, UDP4: 5, UDP6: 6 };

/** The layer `net` config as a's enroller sends it, with dht.peer = a's address. */
function netConf(peer: bigint): IpcpConfig {
  const unicast = defaultUniConfig();
  unicast.dir.dht!.peer = peer;
  return { layerInfo: { name: "net", hashAlgo: 1 }, ipcpType: IpcpType.UNICAST, unicast };
}

/** [capture, id, t_sec, t_nsec, peer] from frames 7–9 of each capture's frames.log. */
const VECTORS: [string, string, number, number, bigint][] = [
  ["udp4-unicast.pcap", "74b308c71ec60d63", 1795462692, 67931671, 2540519675n],
  ["eth-dix-unicast.pcap", "16b63aa536f2e151", 1795462868, 378454546, 3264096334n],
  ["eth-llc-unicast.pcap", "e2d52d4e588ce1da", 1795462909, 932649393, 2944883052n],
  ["udp4-data-qos.pcap", "cc1f975e84f5a71b", 1795462947, 164211507, 2139026349n],
  ["udp4-encrypted.pcap", "1f1ed80276e3bf4a", 1795463015, 783997405, 3210453318n],
];

Deno.test("enroll: captured req/resp/ack decode and re-encode byte for byte", () => {
  for (const [cap, idHex, tSec, tNsec, peer] of VECTORS) {
    const id = fromHex(idHex);
    const req = sdu(cap, 7), resp = sdu(cap, 8), ack = sdu(cap, 9);
    assertEquals(req.length, 10);
    assertEquals(ack.length, 12);
    assertEquals(decodeEnrollReq(req), { id }, cap);
    assertBytes(encodeEnrollReq({ id }), req, cap);
    const want: EnrollResp = { id, tSec, tNsec, response: 0, conf: netConf(peer) };
    assertEquals(decodeEnrollResp(resp), want, cap);
    assertBytes(encodeEnrollResp(want), resp, cap);
    assertEquals(decodeEnrollAck(ack), { id, result: 0 }, cap);
    assertBytes(encodeEnrollAck({ id, result: 0 }), ack, cap);
  }
});

Deno.test("enroll: negative values use 10-byte varints", () => {
  const id = new Uint8Array(8);
  const ack = encodeEnrollAck({ id, result: -100 });
  assertEquals(ack.length, 2 + 8 + 1 + 10);
  assertEquals(decodeEnrollAck(ack).result, -100);
  const resp = encodeEnrollResp({ id, tSec: -1, tNsec: 0, response: -1 });
  assertEquals(decodeEnrollResp(resp), { id, tSec: -1, tNsec: 0, response: -1 });
});

Deno.test("enroll: bad ids, missing conf and oversized messages are rejected", () => {
  const r = (f: () => unknown) => (assertThrows(f, DecodeError) as DecodeError).reason;
  assertEquals(
    r(() => decodeEnrollReq(encodeEnrollReq({ id: new Uint8Array(7) }))),
    "enroll-id-len",
  );
  assertEquals(r(() => decodeEnrollReq(new Uint8Array(0))), "pb-missing");
  const noConf = fromHex("0a080000000000000000" + "1001" + "1800" + "2000");
  assertEquals(r(() => decodeEnrollResp(noConf)), "pb-missing");
  assertEquals(
    r(() => decodeEnrollResp(fromHex("0a0400000000" + "1001" + "1800" + "20ffffffffffffffffff01"))),
    "enroll-id-len",
  );
  assertEquals(r(() => decodeEnrollAck(fromHex("0a00"))), "pb-missing");
  assertEquals(decodeEnrollAck(fromHex("0a001000")).id.length, 0); // ack id length is the caller's business
  assertEquals(r(() => decodeEnrollReq(new Uint8Array(1025))), "pb-too-big");
  assertThrows(
    () => encodeEnrollResp({ id: new Uint8Array(8), tSec: 0, tNsec: 0, response: 0 }),
    RangeError,
  );
});

Deno.test("enroll: fuzzed input only ever throws DecodeError", () => {
  const [cap] = VECTORS[0]!;
  fuzzDecoder(decodeEnrollReq, [sdu(cap, 7)], 5000);
  fuzzDecoder(decodeEnrollResp, VECTORS.map(([c]) => sdu(c, 8)), 30000);
  fuzzDecoder(decodeEnrollAck, [sdu(cap, 9)], 5000);
});
