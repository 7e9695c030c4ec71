/**
 * Wire formats of the Ethernet shim IPCPs (spec 11 §3): eth-dix and
 * eth-llc frames, their management message bodies, and the MTU rules.
 *
 * eth-dix: `dst(6) src(6) ethertype(2) eid(2) length(2) payload` (18 bytes).
 * eth-llc: `dst(6) src(6) length(2) dsap ssap control=0x03 payload` (17 bytes),
 * with both SAPs **bit-reversed** on the wire. All integers big-endian.
 *
 * Decoders never copy: `payload`, `hash`, `dst`, `src` are subarrays of the input.
 * @module
 */
import { DecodeError } from "../../lib/errors.ts";
import { type QosSpec, U32_MAX, U64_MAX } from "../../lib/qos.ts";

/** Default DIX Ethertype. */
export const ETH_DIX_ETHERTYPE_DEFAULT = 0xa000;
/** Smallest valid Ethertype (smaller values are 802.3 lengths). */
export const ETH_ETHERTYPE_MIN = 0x0600;
/** Largest 802.3 length field value; larger values are Ethertypes. */
export const ETH_LLC_LENGTH_MAX = 0x05ff;
/** Ethernet header size (dst, src, type/length). */
export const ETH_HDR_LEN = 14;
/** eth-dix header size (Ethernet header + eid + length). */
export const ETH_DIX_HDR_LEN = 18;
/** eth-llc header size (Ethernet header + DSAP, SSAP, control). */
export const ETH_LLC_HDR_LEN = 17;
/** LLC control byte: unnumbered information. */
export const ETH_LLC_CONTROL_UI = 0x03;
/** MAC address length. */
export const ETH_ADDR_LEN = 6;
/** Largest MTU of eth-llc (`ETH_MTU_MAX`). */
export const ETH_LLC_MTU_MAX = 1500;
/** Largest MTU of eth-dix (`ETH_MTU_MAX`). */
export const ETH_DIX_MTU_MAX = 65535;
/** MTU cap of loopback interfaces (`lo*`), `IPCP_ETH_LO_MTU`. */
export const ETH_LO_MTU = 9000;
/** Management frames larger than this are dropped (`IPCP_ETH_MGMT_FRAME_SIZE`). */
export const ETH_MGMT_FRAME_SIZE = 9000;
/** eth-dix eid of management frames. */
export const ETH_DIX_MGMT_EID = 0;
/** Logical LLC SAP of management frames (0x80 on the wire). */
export const ETH_LLC_MGMT_SAP = 0x01;
/** First logical data SAP. */
export const ETH_LLC_SAP_MIN = 2;
/** Last logical data SAP a port allocates (the C table has 64 slots). */
export const ETH_LLC_SAP_MAX = 63;
/** Size of the eth-dix management body. */
export const ETH_DIX_MGMT_LEN = 39;
/** Size of the eth-llc management body. */
export const ETH_LLC_MGMT_LEN = 37;
/** The broadcast MAC (name queries). */
export const ETH_BROADCAST_MAC: Readonly<Uint8Array> = new Uint8Array([
  0xff,
  0xff,
  0xff,
  0xff,
  0xff,
  0xff,
]);

/** Which Ethernet shim. */
export type EthKind = "dix" | "llc";

/** Management codes (both shims). */
export const EthMgmtCode = {
  FLOW_REQ: 0,
  FLOW_REPLY: 1,
  NAME_QUERY_REQ: 2,
  NAME_QUERY_REPLY: 3,
} as const;
/** A management code. */
export type EthMgmtCode = typeof EthMgmtCode[keyof typeof EthMgmtCode];

/** An eth-dix frame. */
export interface EthDixFrame {
  /** Destination MAC (6 bytes). */
  dst: Uint8Array;
  /** Source MAC (6 bytes). */
  src: Uint8Array;
  /** The layer's Ethertype (≥ 0x0600, ≠ 0xFFFF). */
  ethertype: number;
  /** u16: 0 = management; else the receiver's local fd. */
  eid: number;
  /** The SDU or management body, without Ethernet padding. */
  payload: Uint8Array;
}

/** An eth-llc frame; SAPs are logical (un-reversed). */
export interface EthLlcFrame {
  /** Destination MAC (6 bytes). */
  dst: Uint8Array;
  /** Source MAC (6 bytes). */
  src: Uint8Array;
  /** Logical destination SAP (1 = management). */
  dsap: number;
  /** Logical source SAP (1 = management). */
  ssap: number;
  /** The SDU or management body, without Ethernet padding. */
  payload: Uint8Array;
}

/** Fields common to both management bodies. Unused fields are 0. */
export interface EthMgmtCommon {
  /** Message code. */
  code: EthMgmtCode;
  /** FLOW_REPLY: IRMd response (i32). */
  response: number;
  /** FLOW_REQ: the flow's QoS spec (zero otherwise). */
  qos: QosSpec;
  /** FLOW_REQ, NAME_QUERY_REQ/REPLY: the name hash; empty for FLOW_REPLY. */
  hash: Uint8Array;
  /** Trailing piggybacked data (OAP header), opaque. */
  payload: Uint8Array;
}

/** eth-dix management body (39 bytes + trailer). */
export interface EthDixMgmt extends EthMgmtCommon {
  /** Sender's eid (u16). */
  seid: number;
  /** Receiver's eid (u16; FLOW_REPLY). */
  deid: number;
}

/** eth-llc management body (37 bytes + trailer); SAPs logical. */
export interface EthLlcMgmt extends EthMgmtCommon {
  /** Sender's logical SAP. */
  ssap: number;
  /** Receiver's logical SAP (FLOW_REPLY). */
  dsap: number;
}

const EMPTY = new Uint8Array(0);
const REV = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let r = 0;
  for (let b = 0; b < 8; b++) if (i & (1 << b)) r |= 0x80 >> b;
  REV[i] = r;
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function checkInt(name: string, v: number, max: number, min = 0): void {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`Cannot encode eth message: ${name} ${v} is outside ${min}..${max}`);
  }
}

function checkMac(name: string, m: Uint8Array): void {
  if (m.length !== ETH_ADDR_LEN) {
    throw new RangeError(`Cannot encode eth frame: ${name} is not 6 bytes`);
  }
}

/** Reverse the bit order of a byte (bit 0 ↔ 7, 1 ↔ 6, …): 0x01 → 0x80. */
export function bitReverse8(x: number): number {
  return REV[x & 0xff]!;
}

/** The link MTU: min(kind's ETH_MTU_MAX, interface MTU), `lo*` capped at 9000. */
export function ethMtu(kind: EthKind, ifName: string, ifMtu: number): number {
  let mtu = Math.min(kind === "llc" ? ETH_LLC_MTU_MAX : ETH_DIX_MTU_MAX, ifMtu);
  if (ifName.startsWith("lo")) mtu = Math.min(mtu, ETH_LO_MTU);
  return mtu;
}

/** Largest SDU for a link MTU: `mtu − 3` (LLC) or `mtu − 4` (DIX). */
export function ethMaxSdu(kind: EthKind, mtu: number): number {
  return mtu - (kind === "llc" ? ETH_LLC_HDR_LEN : ETH_DIX_HDR_LEN) + ETH_HDR_LEN;
}

/** Encode an eth-dix frame (no padding is added). */
export function encodeEthDix(f: EthDixFrame): Uint8Array {
  checkMac("dst", f.dst);
  checkMac("src", f.src);
  checkInt("ethertype", f.ethertype, 0xfffe, ETH_ETHERTYPE_MIN);
  checkInt("eid", f.eid, 0xffff);
  checkInt("payload length", f.payload.length, 0xffff);
  const out = new Uint8Array(ETH_DIX_HDR_LEN + f.payload.length);
  const dv = view(out);
  out.set(f.dst, 0);
  out.set(f.src, 6);
  dv.setUint16(12, f.ethertype);
  dv.setUint16(14, f.eid);
  dv.setUint16(16, f.payload.length);
  out.set(f.payload, ETH_DIX_HDR_LEN);
  return out;
}

/**
 * Decode an eth-dix frame. With `ethertype`, frames of any other Ethertype
 * are rejected. The payload is cut to the length field (drops padding);
 * a length field beyond the frame is rejected as truncated.
 */
export function decodeEthDix(b: Uint8Array, ethertype?: number): EthDixFrame {
  if (b.length < ETH_DIX_HDR_LEN) {
    throw new DecodeError("eth-truncated", `eth-dix frame of ${b.length} < 18 bytes`);
  }
  const dv = view(b);
  const type = dv.getUint16(12);
  if (type < ETH_ETHERTYPE_MIN || type === 0xffff) {
    throw new DecodeError("eth-not-dix", `Ethertype 0x${type.toString(16)} is not a DIX type`);
  }
  if (ethertype !== undefined && type !== ethertype) {
    throw new DecodeError("eth-ethertype", `Ethertype 0x${type.toString(16)} is not ours`);
  }
  const len = dv.getUint16(16);
  if (ETH_DIX_HDR_LEN + len > b.length) {
    throw new DecodeError("eth-truncated", `eth-dix length ${len} exceeds the frame`);
  }
  return {
    dst: b.subarray(0, 6),
    src: b.subarray(6, 12),
    ethertype: type,
    eid: dv.getUint16(14),
    payload: b.subarray(ETH_DIX_HDR_LEN, ETH_DIX_HDR_LEN + len),
  };
}

/** Encode an eth-llc frame (SAPs given logical, written bit-reversed). */
export function encodeEthLlc(f: EthLlcFrame): Uint8Array {
  checkMac("dst", f.dst);
  checkMac("src", f.src);
  checkInt("dsap", f.dsap, 0xff);
  checkInt("ssap", f.ssap, 0xff);
  checkInt("payload length", f.payload.length, ETH_LLC_LENGTH_MAX - 3);
  const out = new Uint8Array(ETH_LLC_HDR_LEN + f.payload.length);
  out.set(f.dst, 0);
  out.set(f.src, 6);
  view(out).setUint16(12, f.payload.length + 3);
  out[14] = bitReverse8(f.dsap);
  out[15] = bitReverse8(f.ssap);
  out[16] = ETH_LLC_CONTROL_UI;
  out.set(f.payload, ETH_LLC_HDR_LEN);
  return out;
}

/**
 * Decode an eth-llc frame. Rejects frames whose type/length field is
 * > 0x05FF (DIX frames), lengths < 3 or beyond the frame, and control ≠ UI.
 * SAPs are returned logical (un-reversed); padding is dropped.
 */
export function decodeEthLlc(b: Uint8Array): EthLlcFrame {
  if (b.length < ETH_LLC_HDR_LEN) {
    throw new DecodeError("eth-truncated", `eth-llc frame of ${b.length} < 17 bytes`);
  }
  const len = view(b).getUint16(12);
  if (len > ETH_LLC_LENGTH_MAX) {
    throw new DecodeError("eth-not-llc", `802.3 length 0x${len.toString(16)} is an Ethertype`);
  }
  if (len < 3) throw new DecodeError("eth-llc-length", `802.3 length ${len} < 3`);
  if (ETH_HDR_LEN + len > b.length) {
    throw new DecodeError("eth-truncated", `802.3 length ${len} exceeds the frame`);
  }
  if (b[16] !== ETH_LLC_CONTROL_UI) {
    throw new DecodeError("eth-llc-control", `LLC control 0x${b[16]!.toString(16)} is not UI`);
  }
  return {
    dst: b.subarray(0, 6),
    src: b.subarray(6, 12),
    dsap: bitReverse8(b[14]!),
    ssap: bitReverse8(b[15]!),
    payload: b.subarray(ETH_LLC_HDR_LEN, ETH_HDR_LEN + len),
  };
}

// Both bodies share offsets 4..37: loss, bandwidth, ber, max_gap, delay,
// timeout, response, in_order.
function writeCommon(out: Uint8Array, m: EthMgmtCommon): void {
  const q = m.qos;
  checkInt("qos.delay", q.delay, U32_MAX);
  checkInt("qos.loss", q.loss, U32_MAX);
  checkInt("qos.ber", q.ber, U32_MAX);
  checkInt("qos.maxGap", q.maxGap, U32_MAX);
  checkInt("qos.timeout", q.timeout, U32_MAX);
  checkInt("qos.availability", q.availability, 0xff);
  checkInt("qos.inOrder", q.inOrder, 0xff);
  checkInt("response", m.response, 0x7fffffff, -0x80000000);
  if (q.bandwidth < 0n || q.bandwidth > U64_MAX) {
    throw new RangeError(`Cannot encode eth message: qos.bandwidth ${q.bandwidth} out of range`);
  }
  if (m.code < 0 || m.code > 3 || !Number.isInteger(m.code)) {
    throw new RangeError(`Cannot encode eth message: unknown code ${m.code}`);
  }
  const wantHash = m.code !== EthMgmtCode.FLOW_REPLY;
  if (wantHash !== (m.hash.length > 0)) {
    throw new RangeError(
      `Cannot encode eth message: code ${m.code} ${wantHash ? "needs" : "has no"} hash`,
    );
  }
  const dv = view(out);
  dv.setUint32(4, q.loss);
  dv.setBigUint64(8, q.bandwidth);
  dv.setUint32(16, q.ber);
  dv.setUint32(20, q.maxGap);
  dv.setUint32(24, q.delay);
  dv.setUint32(28, q.timeout);
  dv.setInt32(32, m.response);
  out[36] = q.inOrder;
}

function readCommon(
  b: Uint8Array,
  hdrLen: number,
  code: number,
  availability: number,
  hashLen: number,
): EthMgmtCommon {
  if (code > 3) throw new DecodeError("eth-code", `unknown eth management code ${code}`);
  let hash: Uint8Array = EMPTY;
  let off = hdrLen;
  if (code !== EthMgmtCode.FLOW_REPLY) {
    if (b.length < hdrLen + hashLen) {
      throw new DecodeError("eth-truncated", `eth management code ${code} lacks its hash`);
    }
    hash = b.subarray(off, off + hashLen);
    off += hashLen;
  }
  const dv = view(b);
  return {
    code: code as EthMgmtCode,
    response: dv.getInt32(32),
    qos: {
      delay: dv.getUint32(24),
      bandwidth: dv.getBigUint64(8),
      availability,
      loss: dv.getUint32(4),
      ber: dv.getUint32(16),
      inOrder: b[36]!,
      maxGap: dv.getUint32(20),
      timeout: dv.getUint32(28),
    },
    hash,
    payload: b.subarray(off),
  };
}

function checkBody(b: Uint8Array, hdrLen: number, kind: string, hashLen: number): void {
  if (b.length < hdrLen) {
    throw new DecodeError(
      "eth-truncated",
      `${kind} management body of ${b.length} < ${hdrLen} bytes`,
    );
  }
  if (b.length > ETH_MGMT_FRAME_SIZE) {
    throw new DecodeError("eth-oversized", `${kind} management body of ${b.length} > 9000 bytes`);
  }
  if (!Number.isInteger(hashLen) || hashLen <= 0) throw new RangeError("hashLen must be > 0");
}

/** Encode an eth-dix management body (hash and payload appended). */
export function encodeEthDixMgmt(m: EthDixMgmt): Uint8Array {
  checkInt("seid", m.seid, 0xffff);
  checkInt("deid", m.deid, 0xffff);
  const out = new Uint8Array(ETH_DIX_MGMT_LEN + m.hash.length + m.payload.length);
  writeCommon(out, m);
  const dv = view(out);
  dv.setUint16(0, m.seid);
  dv.setUint16(2, m.deid);
  out[37] = m.code;
  out[38] = m.qos.availability;
  out.set(m.hash, ETH_DIX_MGMT_LEN);
  out.set(m.payload, ETH_DIX_MGMT_LEN + m.hash.length);
  return out;
}

/**
 * Decode an eth-dix management body (the payload of an eid-0 frame).
 * `hashLen` is the layer's hash length (default 32, SHA3-256).
 */
export function decodeEthDixMgmt(b: Uint8Array, hashLen = 32): EthDixMgmt {
  checkBody(b, ETH_DIX_MGMT_LEN, "eth-dix", hashLen);
  const dv = view(b);
  const c = readCommon(b, ETH_DIX_MGMT_LEN, b[37]!, b[38]!, hashLen);
  return { ...c, seid: dv.getUint16(0), deid: dv.getUint16(2) };
}

/** Encode an eth-llc management body; SAPs are logical (not reversed). */
export function encodeEthLlcMgmt(m: EthLlcMgmt): Uint8Array {
  checkInt("ssap", m.ssap, 0xff);
  checkInt("dsap", m.dsap, 0xff);
  const out = new Uint8Array(ETH_LLC_MGMT_LEN + m.hash.length + m.payload.length);
  writeCommon(out, m);
  out[0] = m.ssap;
  out[1] = m.dsap;
  out[2] = m.code;
  out[3] = m.qos.availability;
  out.set(m.hash, ETH_LLC_MGMT_LEN);
  out.set(m.payload, ETH_LLC_MGMT_LEN + m.hash.length);
  return out;
}

/**
 * Decode an eth-llc management body (the payload of a frame with
 * DSAP = SSAP = management). `hashLen` defaults to 32 (SHA3-256).
 */
export function decodeEthLlcMgmt(b: Uint8Array, hashLen = 32): EthLlcMgmt {
  checkBody(b, ETH_LLC_MGMT_LEN, "eth-llc", hashLen);
  const c = readCommon(b, ETH_LLC_MGMT_LEN, b[2]!, b[3]!, hashLen);
  return { ...c, ssap: b[0]!, dsap: b[1]! };
}
