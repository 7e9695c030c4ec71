/**
 * OAP header codec (spec 04 §2): the flow-allocation handshake payload
 * carried opaquely by the IPCPs between the two IRMds.
 *
 * ```
 * 0    16          24     26    28    30     32     34     36
 * | id | timestamp | cnid | knid | mnid | crt_len | kex_len | data_len |
 * | certificate | kex | data | req_hash (response only) | signature |
 * ```
 * @module
 */
import { createHash } from "node:crypto";
import { DecodeError } from "../lib/errors.ts";
import { digestByNid, DigestNid, isValidCipherNid, isValidDigestNid } from "./nid.ts";

/** Length of the fixed part of an OAP header. */
export const OAP_HDR_LEN = 36;
/** Length of the session id. */
export const OAP_ID_LEN = 16;
/** `kex_len` bit 15 (F): key in raw encoding (hybrid KEM). */
export const KEX_FLAG_RAW = 0x8000;
/** `kex_len` bit 14 (R): client encapsulates (KEM client mode). */
export const KEX_FLAG_CLIENT_ENCAP = 0x4000;
/** `kex_len` bits 0–13: length. */
export const KEX_LEN_MASK = 0x3fff;
/** Digest of the request hash when the request's `md_nid` is 0 (SHA-384). */
export const DEFAULT_REQ_MD_NID: number = DigestNid.SHA384;

/** A decoded (or to-be-encoded) OAP header. */
export interface OapHeader {
  /** 16-byte random session id (client's; echoed by the server). */
  id: Uint8Array;
  /** Sender's wall clock, ns since the Unix epoch. */
  timestampNs: bigint;
  /** Cipher NID, 0 = none. */
  cipherNid: number;
  /** KDF digest NID, 0 = none. */
  kdfNid: number;
  /** Signature / request-hash digest NID, 0 = none. */
  mdNid: number;
  /** Sender's X.509 certificate (DER), empty if none. */
  crt: Uint8Array;
  /** Ephemeral public key (DER SPKI or raw) or KEM ciphertext, empty if none. */
  kex: Uint8Array;
  /** `kex_len` F bit: raw key encoding (hybrid KEM). */
  kexRaw: boolean;
  /** `kex_len` R bit: client-encapsulation mode. */
  kexClientEncap: boolean;
  /** Piggybacked application data (always empty in this version). */
  data: Uint8Array;
  /** Response only: hash of the complete request bytes. Absent in requests. */
  reqHash?: Uint8Array;
  /** Signature over every byte before it; empty iff there is no certificate. */
  signature: Uint8Array;
}

/** Digest NID used for the request hash: the request's `md_nid`, or SHA-384 if 0. */
export function reqHashNid(reqMdNid: number): number {
  return reqMdNid === 0 ? DEFAULT_REQ_MD_NID : reqMdNid;
}

/** Length of the request hash a response carries, for the request's `md_nid`. */
export function reqHashLen(reqMdNid: number): number {
  const d = digestByNid(reqHashNid(reqMdNid));
  if (!d) throw new RangeError(`Cannot size request hash: unknown digest NID ${reqMdNid}`);
  return d.len;
}

/** Hash of the complete encoded request (`req_hash`), with `reqHashNid(reqMdNid)`. */
export function oapRequestHash(request: Uint8Array, reqMdNid: number): Uint8Array {
  const d = digestByNid(reqHashNid(reqMdNid));
  if (!d) throw new RangeError(`Cannot hash request: unknown digest NID ${reqMdNid}`);
  return new Uint8Array(createHash(d.name).update(request).digest());
}

function checkU16(v: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) {
    throw new RangeError(`Cannot encode OAP header: ${what} ${v} is not a u16`);
  }
}

/**
 * Encode an OAP header (request if `reqHash` is absent, else response).
 * Throws RangeError on a bad id, oversized fields, or a signature without
 * a certificate.
 *
 * @example
 * ```ts
 * import { encodeOap } from "./oap_wire.ts";
 * const e = new Uint8Array(0);
 * const req = encodeOap({ id: new Uint8Array(16), timestampNs: 0n, cipherNid: 0, kdfNid: 0,
 *   mdNid: 0, crt: e, kex: e, kexRaw: false, kexClientEncap: false, data: e, signature: e });
 * console.log(req.length); // 36
 * ```
 */
export function encodeOap(h: OapHeader): Uint8Array {
  if (h.id.length !== OAP_ID_LEN) {
    throw new RangeError("Cannot encode OAP header: id must be 16 bytes");
  }
  if (h.timestampNs < 0n || h.timestampNs > 0xffffffffffffffffn) {
    throw new RangeError("Cannot encode OAP header: timestamp is not a u64");
  }
  checkU16(h.cipherNid, "cipher_nid");
  checkU16(h.kdfNid, "kdf_nid");
  checkU16(h.mdNid, "md_nid");
  checkU16(h.crt.length, "crt_len");
  checkU16(h.data.length, "data_len");
  if (h.kex.length > KEX_LEN_MASK) {
    throw new RangeError(`Cannot encode OAP header: kex_len ${h.kex.length} > 16383`);
  }
  if (h.crt.length === 0 && h.signature.length > 0) {
    throw new RangeError("Cannot encode OAP header: signature without certificate");
  }
  const hashLen = h.reqHash?.length ?? 0;
  const total = OAP_HDR_LEN + h.crt.length + h.kex.length + h.data.length + hashLen +
    h.signature.length;
  const b = new Uint8Array(total);
  const dv = new DataView(b.buffer);
  b.set(h.id, 0);
  dv.setBigUint64(16, h.timestampNs);
  dv.setUint16(24, h.cipherNid);
  dv.setUint16(26, h.kdfNid);
  dv.setUint16(28, h.mdNid);
  dv.setUint16(30, h.crt.length);
  let kexLen = h.kex.length;
  if (h.kexRaw) kexLen |= KEX_FLAG_RAW;
  if (h.kexClientEncap) kexLen |= KEX_FLAG_CLIENT_ENCAP;
  dv.setUint16(32, kexLen);
  dv.setUint16(34, h.data.length);
  let off = OAP_HDR_LEN;
  for (const part of [h.crt, h.kex, h.data, h.reqHash, h.signature]) {
    if (!part) continue;
    b.set(part, off);
    off += part.length;
  }
  return b;
}

/**
 * Decode an OAP header. `hashLen` is the length of the `req_hash` field:
 * 0 for a request, {@link reqHashLen}(request md_nid) for a response.
 * Rejects (DecodeError) short input, unknown non-zero NIDs, lengths beyond
 * the buffer, and trailing bytes when there is no certificate.
 */
export function decodeOap(b: Uint8Array, hashLen = 0): OapHeader {
  if (b.length < OAP_HDR_LEN) {
    throw new DecodeError("oap-short", `Cannot decode OAP header: ${b.length} < 36 bytes`);
  }
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const cipherNid = dv.getUint16(24);
  const kdfNid = dv.getUint16(26);
  const mdNid = dv.getUint16(28);
  if (!isValidCipherNid(cipherNid)) {
    throw new DecodeError(
      "oap-cipher",
      `Cannot decode OAP header: unknown cipher NID ${cipherNid}`,
    );
  }
  if (!isValidDigestNid(kdfNid)) {
    throw new DecodeError("oap-kdf", `Cannot decode OAP header: unknown KDF NID ${kdfNid}`);
  }
  if (!isValidDigestNid(mdNid)) {
    throw new DecodeError("oap-md", `Cannot decode OAP header: unknown digest NID ${mdNid}`);
  }
  const crtLen = dv.getUint16(30);
  const kexField = dv.getUint16(32);
  const kexLen = kexField & KEX_LEN_MASK;
  const dataLen = dv.getUint16(34);
  const fixed = OAP_HDR_LEN + crtLen + kexLen + dataLen + hashLen;
  if (fixed > b.length) {
    throw new DecodeError(
      "oap-length",
      `Cannot decode OAP header: fields need ${fixed} bytes, have ${b.length}`,
    );
  }
  if (crtLen === 0 && fixed !== b.length) {
    throw new DecodeError(
      "oap-trailing",
      `Cannot decode OAP header: ${b.length - fixed} trailing bytes without certificate`,
    );
  }
  let off = OAP_HDR_LEN;
  const take = (n: number) => b.slice(off, off += n);
  const h: OapHeader = {
    id: b.slice(0, OAP_ID_LEN),
    timestampNs: dv.getBigUint64(16),
    cipherNid,
    kdfNid,
    mdNid,
    crt: take(crtLen),
    kex: take(kexLen),
    kexRaw: (kexField & KEX_FLAG_RAW) !== 0,
    kexClientEncap: (kexField & KEX_FLAG_CLIENT_ENCAP) !== 0,
    data: take(dataLen),
    signature: new Uint8Array(0),
  };
  if (hashLen > 0) h.reqHash = take(hashLen);
  h.signature = b.slice(off);
  return h;
}

/** Decode an OAP request (no `req_hash`). */
export function decodeOapRequest(b: Uint8Array): OapHeader {
  return decodeOap(b, 0);
}

/** Decode an OAP response to a request whose `md_nid` was `reqMdNid`. */
export function decodeOapResponse(b: Uint8Array, reqMdNid: number): OapHeader {
  return decodeOap(b, reqHashLen(reqMdNid));
}

/** The signed region of an encoded header: every byte before the signature. */
export function oapSignedPart(encoded: Uint8Array, h: OapHeader): Uint8Array {
  return encoded.subarray(0, encoded.length - h.signature.length);
}

/** First 8 bytes of the session id in hex, as the reference logs it (`[8719a16b2f7ac7aa]`). */
export function oapIdText(id: Uint8Array): string {
  let s = "";
  for (const x of id.subarray(0, 8)) s += x.toString(16).padStart(2, "0");
  return s;
}
