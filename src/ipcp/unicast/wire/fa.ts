/**
 * The unicast flow-allocator message (`struct fa_msg`, spec 12 §6.2):
 * 61 packed bytes, all integers big-endian, then a trailer (FLOW_REQ: the
 * destination hash and the piggybacked data; FLOW_REPLY: the piggybacked
 * data; FLOW_UPDATE: nothing). Carried as a DT SDU to eid 0 on cube BE.
 *
 * Decoders never copy: `hash` and `payload` are subarrays of the input.
 * @module
 */
import { DecodeError } from "../../../lib/errors.ts";
import { type QosSpec, U32_MAX, U64_MAX } from "../../../lib/qos.ts";

/** Size of the fixed part of an FA message. */
export const FA_MSG_LEN = 61;
/** Largest FA message a receiver accepts (`MSGBUFSZ`). */
export const FA_MSG_MAX_LEN = 2048;
/** Default directory hash length (SHA3-256). */
export const FA_HASH_LEN_DEFAULT = 32;

/** FA message codes. */
export const FaCode = { FLOW_REQ: 0, FLOW_REPLY: 1, FLOW_UPDATE: 2 } as const;
/** An FA message code. */
export type FaCode = typeof FaCode[keyof typeof FaCode];

/** An FA message. Unused fields are 0. */
export interface FaMsg {
  /** 0 FLOW_REQ, 1 FLOW_REPLY, 2 FLOW_UPDATE. */
  code: FaCode;
  /** REQ: the requester's address; 0 otherwise. */
  sAddr: bigint;
  /** REPLY, UPDATE: the receiver's eid. */
  rEid: bigint;
  /** REQ, REPLY: the sender's eid. */
  sEid: bigint;
  /** REPLY: the IRMd response (i32). */
  response: number;
  /** REQ: the flow's QoS spec. */
  qos: QosSpec;
  /** UPDATE: explicit congestion experienced (u16). */
  ece: number;
  /** REQ: the destination hash (`hashLen` bytes); empty otherwise. */
  hash: Uint8Array;
  /** Piggybacked data (the OAP header), opaque. */
  payload: Uint8Array;
}

const EMPTY = new Uint8Array(0);

function checkInt(name: string, v: number, max: number, min = 0): void {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`Cannot encode fa message: ${name} ${v} is outside ${min}..${max}`);
  }
}

function checkU64(name: string, v: bigint): void {
  if (typeof v !== "bigint" || v < 0n || v > U64_MAX) {
    throw new RangeError(`Cannot encode fa message: ${name} ${v} is not a u64`);
  }
}

/** Encode an FA message (header, then hash, then payload). */
export function encodeFaMsg(m: FaMsg): Uint8Array {
  if (m.code !== 0 && m.code !== 1 && m.code !== 2) {
    throw new RangeError(`Cannot encode fa message: unknown code ${m.code}`);
  }
  if ((m.code === FaCode.FLOW_REQ) !== (m.hash.length > 0)) {
    throw new RangeError("Cannot encode fa message: a hash goes with FLOW_REQ only");
  }
  const q = m.qos;
  checkU64("sAddr", m.sAddr);
  checkU64("rEid", m.rEid);
  checkU64("sEid", m.sEid);
  checkU64("qos.bandwidth", q.bandwidth);
  checkInt("response", m.response, 0x7fffffff, -0x80000000);
  checkInt("qos.delay", q.delay, U32_MAX);
  checkInt("qos.loss", q.loss, U32_MAX);
  checkInt("qos.ber", q.ber, U32_MAX);
  checkInt("qos.maxGap", q.maxGap, U32_MAX);
  checkInt("qos.timeout", q.timeout, U32_MAX);
  checkInt("qos.availability", q.availability, 0xff);
  checkInt("qos.inOrder", q.inOrder, 0xff);
  checkInt("ece", m.ece, 0xffff);
  const out = new Uint8Array(FA_MSG_LEN + m.hash.length + m.payload.length);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, m.sAddr);
  dv.setBigUint64(8, m.rEid);
  dv.setBigUint64(16, m.sEid);
  dv.setBigUint64(24, q.bandwidth);
  dv.setInt32(32, m.response);
  dv.setUint32(36, q.delay);
  dv.setUint32(40, q.loss);
  dv.setUint32(44, q.ber);
  dv.setUint32(48, q.maxGap);
  dv.setUint32(52, q.timeout);
  dv.setUint16(56, m.ece);
  out[58] = m.code;
  out[59] = q.availability;
  out[60] = q.inOrder;
  out.set(m.hash, FA_MSG_LEN);
  out.set(m.payload, FA_MSG_LEN + m.hash.length);
  return out;
}

/**
 * Decode an FA message. Accepts 61 … 2048 bytes; rejects unknown codes and
 * a FLOW_REQ shorter than 61 + `hashLen` (the layer's directory hash length,
 * default 32). Any bytes after the fixed part (and the REQ hash) are `payload`.
 */
export function decodeFaMsg(b: Uint8Array, hashLen = FA_HASH_LEN_DEFAULT): FaMsg {
  if (!Number.isInteger(hashLen) || hashLen <= 0) throw new RangeError("hashLen must be > 0");
  if (b.length < FA_MSG_LEN) {
    throw new DecodeError("fa-truncated", `fa message of ${b.length} < ${FA_MSG_LEN} bytes`);
  }
  if (b.length > FA_MSG_MAX_LEN) {
    throw new DecodeError("fa-oversized", `fa message of ${b.length} > ${FA_MSG_MAX_LEN} bytes`);
  }
  const code = b[58]!;
  if (code > 2) throw new DecodeError("fa-code", `unknown fa message code ${code}`);
  let hash: Uint8Array = EMPTY;
  let off = FA_MSG_LEN;
  if (code === FaCode.FLOW_REQ) {
    if (b.length < FA_MSG_LEN + hashLen) {
      throw new DecodeError("fa-truncated", "fa FLOW_REQ lacks the destination hash");
    }
    hash = b.subarray(off, off + hashLen);
    off += hashLen;
  }
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return {
    code: code as FaCode,
    sAddr: dv.getBigUint64(0),
    rEid: dv.getBigUint64(8),
    sEid: dv.getBigUint64(16),
    response: dv.getInt32(32),
    qos: {
      delay: dv.getUint32(36),
      bandwidth: dv.getBigUint64(24),
      availability: b[59]!,
      loss: dv.getUint32(40),
      ber: dv.getUint32(44),
      inOrder: b[60]!,
      maxGap: dv.getUint32(48),
      timeout: dv.getUint32(52),
    },
    ece: dv.getUint16(56),
    hash,
    payload: b.subarray(off),
  };
}
