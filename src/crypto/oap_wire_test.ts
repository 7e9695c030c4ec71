import { assert, assertBytes, assertEquals, assertThrows } from "../../tests/util/assert.ts";
import { fuzzDecoder } from "../../tests/util/fuzz.ts";
import { loadCapture, udpPayload } from "../../tests/util/pcap.ts";
import { DecodeError } from "../lib/errors.ts";
import { fromHex, toHex } from "../lib/hash.ts";
import {
  decodeOap,
  decodeOapRequest,
  decodeOapResponse,
  encodeOap,
  type OapHeader,
  oapIdText,
  oapRequestHash,
  oapSignedPart,
  reqHashLen,
} from "./oap_wire.ts";

const udp4 = loadCapture("udp4-unicast.pcap");
const enc = loadCapture("udp4-encrypted.pcap");
const E = new Uint8Array(0);

/** UDP payload of frame `no` from `offset`. */
function oapAt(frames: typeof udp4, no: number, offset: number): Uint8Array<ArrayBuffer> {
  const u = udpPayload(frames[no - 1]!.data);
  assert(u, `frame ${no} is udp`);
  return new Uint8Array(u.payload.subarray(offset));
}
// udp4 mgmt: 47-byte header (incl. eid 0); FLOW_REQ adds the 16-byte MD5 name hash.
const MGMT = 47, MGMT_REQ = 47 + 16;
// unicast FA over udp4: eid (4) + DT PCI (15) + FA (61); FLOW_REQ adds the 32-byte SHA3 hash.
const FA = 4 + 15 + 61, FA_REQ = FA + 32;

// [request frame, response frame, request offset, response offset, id prefix, req ts, resp ts]
const PLAIN: [number, number, number, number, string, bigint, bigint][] = [
  [3, 4, MGMT_REQ, MGMT, "8719a16b2f7ac7aa", 1795462692062238878n, 1795462692065375978n],
  [10, 11, MGMT_REQ, MGMT, "8eee6174130abc35", 1795462693104156201n, 1795462693104888897n],
  [14, 15, MGMT_REQ, MGMT, "bda919a18f15c0e1", 1795462694122940749n, 1795462694123969329n],
  [25, 26, FA_REQ, FA, "309fd1d272fe6aeb", 1795462699209094105n, 1795462699210664703n],
];

Deno.test("oap: unencrypted request/response of udp4-unicast.pcap byte-exact", () => {
  for (const [rq, rs, ro, so, id, tsq, tss] of PLAIN) {
    const req = oapAt(udp4, rq, ro);
    const resp = oapAt(udp4, rs, so);
    assertEquals(req.length, 36, `frame ${rq}`);
    assertEquals(resp.length, 84, `frame ${rs}`);
    const q = decodeOapRequest(req);
    assertEquals(oapIdText(q.id), id);
    assertEquals(q.timestampNs, tsq);
    assertEquals([q.cipherNid, q.kdfNid, q.mdNid, q.crt.length, q.kex.length, q.data.length], [
      0,
      0,
      0,
      0,
      0,
      0,
    ]);
    assertEquals([q.kexRaw, q.kexClientEncap, q.reqHash, q.signature.length], [
      false,
      false,
      undefined,
      0,
    ]);
    assertBytes(encodeOap(q), req);

    assertEquals(reqHashLen(q.mdNid), 48);
    const r = decodeOapResponse(resp, q.mdNid);
    assertBytes(r.id, q.id, "id echoed");
    assertEquals(r.timestampNs, tss);
    assertEquals(r.signature.length, 0);
    // SHA-384 of the request bytes, checked with node:crypto and independently below.
    assertBytes(r.reqHash!, oapRequestHash(req, q.mdNid));
    assertBytes(encodeOap(r), resp);
    // Without the hash length the response has trailing bytes and no certificate.
    assertThrows(() => decodeOapRequest(resp), DecodeError);
  }
});

Deno.test("oap: request hash of frame 3 equals an independently computed SHA-384", async () => {
  const req = oapAt(udp4, 3, MGMT_REQ);
  const r = decodeOapResponse(oapAt(udp4, 4, MGMT), 0);
  const sha384 = new Uint8Array(await crypto.subtle.digest("SHA-384", req));
  assertBytes(r.reqHash!, sha384);
});

Deno.test("oap: encrypted handshake of udp4-encrypted.pcap (P-256, AES-256-GCM, SHA-256)", async () => {
  const req = oapAt(enc, 25, FA_REQ);
  const resp = oapAt(enc, 26, FA);
  assertEquals([req.length, resp.length], [127, 159]);
  const q = decodeOapRequest(req);
  assertEquals(oapIdText(q.id), "da3825bbcf0d1c3e");
  assertEquals(q.timestampNs, 1795463022916649907n);
  assertEquals([q.cipherNid, q.kdfNid, q.mdNid, q.crt.length, q.kex.length], [
    901,
    672,
    672,
    0,
    91,
  ]);
  assertEquals([q.kexRaw, q.kexClientEncap], [false, false]);
  // DER SubjectPublicKeyInfo, id-ecPublicKey + prime256v1, uncompressed point.
  assertEquals(
    toHex(q.kex.subarray(0, 27)),
    "3059301306072a8648ce3d020106082a8648ce3d03010703420004",
  );
  assertEquals(toHex(q.kex.subarray(-4)), "8b008695");
  assertBytes(encodeOap(q), req);

  assertEquals(reqHashLen(q.mdNid), 32);
  const r = decodeOapResponse(resp, q.mdNid);
  assertBytes(r.id, q.id);
  assertEquals(r.timestampNs, 1795463022919964340n);
  assertEquals([r.cipherNid, r.kdfNid, r.mdNid, r.crt.length, r.kex.length], [901, 672, 0, 0, 91]);
  assertEquals(
    toHex(r.kex.subarray(0, 27)),
    "3059301306072a8648ce3d020106082a8648ce3d03010703420004",
  );
  assertEquals(toHex(r.kex.subarray(-4)), "fb133694");
  const sha256 = new Uint8Array(await crypto.subtle.digest("SHA-256", req));
  assertBytes(r.reqHash!, sha256);
  assertBytes(r.reqHash!, oapRequestHash(req, 672));
  assertBytes(encodeOap(r), resp);
});

function sample(): OapHeader {
  return {
    id: fromHex("00112233445566778899aabbccddeeff"),
    timestampNs: 0xfedcba9876543210n,
    cipherNid: 1018,
    kdfNid: 1098,
    mdNid: 673,
    crt: new Uint8Array([1, 2, 3]),
    kex: new Uint8Array(1216).fill(7),
    kexRaw: true,
    kexClientEncap: true,
    data: E,
    reqHash: new Uint8Array(48).fill(9),
    signature: new Uint8Array(71).fill(5),
  };
}

Deno.test("oap: round trip with certificate, raw client-encap kex, hash and signature", () => {
  const h = sample();
  const b = encodeOap(h);
  assertEquals(b.length, 36 + 3 + 1216 + 48 + 71);
  assertEquals(
    toHex(b.subarray(16, 36)),
    "fedcba9876543210" + "03fa" + "044a" + "02a1" + "0003" + "c4c0" + "0000",
  );
  const d = decodeOap(b, 48);
  assertEquals(d, h);
  assertEquals(oapSignedPart(b, d).length, b.length - 71);
  // Request (no hash) with a certificate: everything after the fields is the signature.
  const q = { ...sample(), reqHash: undefined };
  delete q.reqHash;
  assertEquals(decodeOapRequest(encodeOap(q)), q);
});

Deno.test("oap: decoder rejections", () => {
  const ok = encodeOap({ ...sample(), crt: E, signature: E, reqHash: undefined });
  assertThrows(() => decodeOap(new Uint8Array(35)), DecodeError, "36");
  const bad = (at: number, v: number) => {
    const b = ok.slice();
    new DataView(b.buffer).setUint16(at, v);
    return b;
  };
  assertThrows(() => decodeOap(bad(24, 1)), DecodeError, "cipher");
  assertThrows(() => decodeOap(bad(26, 673 + 1000)), DecodeError, "KDF");
  assertThrows(() => decodeOap(bad(28, 0xffff)), DecodeError, "digest");
  assertThrows(() => decodeOap(bad(30, 5)), DecodeError); // crt beyond buffer
  assertThrows(() => decodeOap(bad(34, 1)), DecodeError); // data beyond buffer
  assertThrows(() => decodeOap(ok, 48), DecodeError); // response hash missing
  const trailing = new Uint8Array(ok.length + 1);
  trailing.set(ok);
  assertThrows(() => decodeOap(trailing), DecodeError, "trailing");
});

Deno.test("oap: encoder rejections", () => {
  const h = sample();
  assertThrows(() => encodeOap({ ...h, id: new Uint8Array(15) }), RangeError);
  assertThrows(() => encodeOap({ ...h, kex: new Uint8Array(16384) }), RangeError);
  assertThrows(() => encodeOap({ ...h, crt: E }), RangeError, "signature");
  assertThrows(() => encodeOap({ ...h, cipherNid: 65536 }), RangeError);
  assertThrows(() => encodeOap({ ...h, timestampNs: -1n }), RangeError);
});

Deno.test("oap: fuzz decoder (requests and responses)", () => {
  const seeds = [
    oapAt(udp4, 3, MGMT_REQ),
    oapAt(udp4, 4, MGMT),
    oapAt(enc, 25, FA_REQ),
    oapAt(enc, 26, FA),
    encodeOap(sample()),
  ];
  const a = fuzzDecoder((b) => decodeOap(b, 0), seeds, 10000, 1);
  const b = fuzzDecoder((b) => decodeOap(b, 48), seeds, 10000, 2);
  const c = fuzzDecoder((b) => decodeOapResponse(b, 672), seeds, 5000, 3);
  assert(a.ok > 0 && a.rejected > 0 && b.ok > 0 && c.rejected > 0);
});
