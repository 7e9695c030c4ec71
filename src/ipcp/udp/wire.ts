/**
 * Wire formats of the udp4/udp6 shim IPCPs (spec 11 §2.2–2.3).
 *
 * Every datagram starts with a 4-byte big-endian eid. eid 0 marks a
 * 47-byte management message (FLOW_REQ / FLOW_REPLY); any other eid is the
 * receiver's local flow id and the rest of the datagram is one SDU.
 * All integers are big-endian; the management header is packed.
 *
 * Decoders never copy: `payload`, `hash` are subarrays of the input.
 * @module
 */
import { DecodeError } from "../../lib/errors.ts";
import { type QosSpec, U32_MAX, U64_MAX } from "../../lib/qos.ts";

/** Default UDP port of the shim (both ends use the same port). */
export const UDP_PORT_DEFAULT = 3435;
/** Largest SDU (and receive buffer) of udp4, in bytes (`IPCP_UDP_MAX_PACKET_SIZE`). */
export const UDP4_MAX_PACKET_SIZE = 8980;
/** Largest SDU (and receive buffer) of udp6, in bytes. */
export const UDP6_MAX_PACKET_SIZE = 8952;
/** Size of the eid that starts every datagram. */
export const UDP_EID_LEN = 4;
/** The eid of management datagrams. */
export const UDP_MGMT_EID = 0;
/** Size of the packed management header (including the leading eid). */
export const UDP_MGMT_LEN = 47;
/** Length of the destination hash in a FLOW_REQ: MD5 is forced on udp layers. */
export const UDP_HASH_LEN = 16;

/** Management message codes. */
export const UdpMgmtCode = { FLOW_REQ: 1, FLOW_REPLY: 2 } as const;
/** A management message code. */
export type UdpMgmtCode = typeof UdpMgmtCode[keyof typeof UdpMgmtCode];

/** A data datagram: eid (≠ 0) and the SDU. */
export interface UdpData {
  /** The receiver's local flow id (u32, non-zero). */
  eid: number;
  /** The SDU (a subarray of the decoded datagram). */
  payload: Uint8Array;
}

/** A management message (`struct mgmt_msg` + trailer). Unused fields are 0. */
export interface UdpMgmt {
  /** 1 = FLOW_REQ, 2 = FLOW_REPLY. */
  code: UdpMgmtCode;
  /** REQ: the initiator's fd. REPLY: echoes the initiator's fd. */
  sEid: number;
  /** REQ: 0. REPLY: the responder's fd. */
  dEid: number;
  /** REPLY: IRMd response (0 accept, negative refuse); REQ: 0. */
  response: number;
  /** The flow's QoS spec (all zero in replies). */
  qos: QosSpec;
  /** FLOW_REQ: 16-byte MD5 of the destination name; empty in a FLOW_REPLY. */
  hash: Uint8Array;
  /** Piggybacked allocation data (the OAP header), opaque. */
  payload: Uint8Array;
}

/** Options of the datagram decoders. */
export interface UdpDecodeOptions {
  /** Largest accepted SDU/message after the eid (default {@link UDP4_MAX_PACKET_SIZE}). */
  maxPacketSize?: number;
}

const EMPTY = new Uint8Array(0);

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function checkInt(name: string, v: number, max: number, min = 0): void {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`Cannot encode udp message: ${name} ${v} is outside ${min}..${max}`);
  }
}

function checkQos(q: QosSpec): void {
  checkInt("qos.delay", q.delay, U32_MAX);
  checkInt("qos.loss", q.loss, U32_MAX);
  checkInt("qos.ber", q.ber, U32_MAX);
  checkInt("qos.maxGap", q.maxGap, U32_MAX);
  checkInt("qos.timeout", q.timeout, U32_MAX);
  checkInt("qos.availability", q.availability, 0xff);
  checkInt("qos.inOrder", q.inOrder, 0xff);
  if (q.bandwidth < 0n || q.bandwidth > U64_MAX) {
    throw new RangeError(`Cannot encode udp message: qos.bandwidth ${q.bandwidth} out of range`);
  }
}

function checkSize(len: number, opts?: UdpDecodeOptions): void {
  const max = opts?.maxPacketSize ?? UDP4_MAX_PACKET_SIZE;
  if (len > UDP_EID_LEN + max) {
    throw new DecodeError("udp-oversized", `udp datagram of ${len} bytes exceeds ${max} + 4`);
  }
}

/**
 * The eid of a datagram (0 = management), without decoding further.
 * Throws DecodeError if the datagram is shorter than 4 bytes.
 */
export function udpDatagramEid(b: Uint8Array): number {
  if (b.length < UDP_EID_LEN) throw new DecodeError("udp-truncated", "udp datagram < 4 bytes");
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

/**
 * Encode a data datagram: `eid (u32 BE) | sdu`.
 *
 * @example
 * ```ts
 * import { encodeUdpData } from "./wire.ts";
 * encodeUdpData({ eid: 64, payload: new Uint8Array([1, 2]) }); // 00 00 00 40 01 02
 * ```
 */
export function encodeUdpData(msg: UdpData): Uint8Array {
  checkInt("eid", msg.eid, U32_MAX, 1);
  const out = new Uint8Array(UDP_EID_LEN + msg.payload.length);
  view(out).setUint32(0, msg.eid);
  out.set(msg.payload, UDP_EID_LEN);
  return out;
}

/**
 * Decode a data datagram. Rejects datagrams under 4 bytes, eid 0
 * (management: use {@link decodeUdpMgmt}) and oversized datagrams.
 */
export function decodeUdpData(b: Uint8Array, opts?: UdpDecodeOptions): UdpData {
  const eid = udpDatagramEid(b);
  if (eid === UDP_MGMT_EID) {
    throw new DecodeError("udp-mgmt", "udp datagram is a management message");
  }
  checkSize(b.length, opts);
  return { eid, payload: b.subarray(UDP_EID_LEN) };
}

/**
 * Encode a management datagram (eid 0, 47-byte header, then for FLOW_REQ the
 * 16-byte hash, then the piggybacked data).
 */
export function encodeUdpMgmt(msg: UdpMgmt): Uint8Array {
  if (msg.code !== UdpMgmtCode.FLOW_REQ && msg.code !== UdpMgmtCode.FLOW_REPLY) {
    throw new RangeError(`Cannot encode udp message: unknown code ${msg.code}`);
  }
  checkInt("sEid", msg.sEid, U32_MAX);
  checkInt("dEid", msg.dEid, U32_MAX);
  checkInt("response", msg.response, 0x7fffffff, -0x80000000);
  checkQos(msg.qos);
  const isReq = msg.code === UdpMgmtCode.FLOW_REQ;
  if (isReq && msg.hash.length !== UDP_HASH_LEN) {
    throw new RangeError(`Cannot encode udp FLOW_REQ: hash must be ${UDP_HASH_LEN} bytes`);
  }
  if (!isReq && msg.hash.length !== 0) {
    throw new RangeError("Cannot encode udp FLOW_REPLY: it carries no hash");
  }
  const out = new Uint8Array(UDP_MGMT_LEN + msg.hash.length + msg.payload.length);
  const dv = view(out);
  dv.setUint32(0, UDP_MGMT_EID);
  dv.setUint32(4, msg.sEid);
  dv.setUint32(8, msg.dEid);
  dv.setInt32(12, msg.response);
  dv.setBigUint64(16, msg.qos.bandwidth);
  dv.setUint32(24, msg.qos.delay);
  dv.setUint32(28, msg.qos.loss);
  dv.setUint32(32, msg.qos.ber);
  dv.setUint32(36, msg.qos.maxGap);
  dv.setUint32(40, msg.qos.timeout);
  out[44] = msg.code;
  out[45] = msg.qos.availability;
  out[46] = msg.qos.inOrder;
  out.set(msg.hash, UDP_MGMT_LEN);
  out.set(msg.payload, UDP_MGMT_LEN + msg.hash.length);
  return out;
}

/**
 * Decode a management datagram (starting with eid 0). Rejects a non-zero
 * eid, datagrams under 47 bytes, a FLOW_REQ without its 16-byte hash,
 * unknown codes and oversized datagrams.
 */
export function decodeUdpMgmt(b: Uint8Array, opts?: UdpDecodeOptions): UdpMgmt {
  const eid = udpDatagramEid(b);
  if (eid !== UDP_MGMT_EID) throw new DecodeError("udp-not-mgmt", `udp eid ${eid} is not 0`);
  if (b.length < UDP_MGMT_LEN) {
    throw new DecodeError("udp-truncated", `udp management message of ${b.length} < 47 bytes`);
  }
  checkSize(b.length, opts);
  const code = b[44]!;
  if (code !== UdpMgmtCode.FLOW_REQ && code !== UdpMgmtCode.FLOW_REPLY) {
    throw new DecodeError("udp-code", `unknown udp management code ${code}`);
  }
  let hash: Uint8Array = EMPTY;
  let off = UDP_MGMT_LEN;
  if (code === UdpMgmtCode.FLOW_REQ) {
    if (b.length < UDP_MGMT_LEN + UDP_HASH_LEN) {
      throw new DecodeError("udp-truncated", "udp FLOW_REQ lacks the 16-byte hash");
    }
    hash = b.subarray(off, off + UDP_HASH_LEN);
    off += UDP_HASH_LEN;
  }
  const dv = view(b);
  return {
    code,
    sEid: dv.getUint32(4),
    dEid: dv.getUint32(8),
    response: dv.getInt32(12),
    qos: {
      delay: dv.getUint32(24),
      bandwidth: dv.getBigUint64(16),
      availability: b[45]!,
      loss: dv.getUint32(28),
      ber: dv.getUint32(32),
      inOrder: b[46]!,
      maxGap: dv.getUint32(36),
      timeout: dv.getUint32(40),
    },
    hash,
    payload: b.subarray(off),
  };
}
