/**
 * What a broadcast IPCP puts on its N−1 flows (spec 14 §4, spec 10 §3.2).
 *
 * The reference floods bare SDUs: no header, no sequence number, no TTL, so
 * a cycle makes packets circulate forever. This port adds a 13-byte
 * *flood header* — but only on links where both ends are this port. The
 * two ends agree through the DT CEP: the reference's broadcast DT CEP is
 * {"Data Transfer", protocol "", version 0, syntax 0, address 0} and the
 * initiator checks only protocol, `pref_version` and `pref_syntax`; this
 * port sends exactly those values and adds `supp_version = [0, 1]`
 * (field 4, which the reference never writes and never reads). A link
 * uses the header iff the peer's CEP lists {@link BCAST_VERSION_FRAMED};
 * links to reference members stay raw, byte for byte as the reference.
 *
 * Flood header (big-endian), then the SDU:
 *
 * | offset | size | field  | meaning                                         |
 * |--------|------|--------|-------------------------------------------------|
 * | 0      | 1    | ttl    | hops left; a copy arriving with 1 is not forwarded |
 * | 1      | 8    | origin | random id of the member that stamped the SDU     |
 * | 9      | 4    | seq    | that member's sequence number (wraps)            |
 *
 * @example
 * ```ts
 * import { decodeFrame, encodeFrame } from "./wire.ts";
 * const b = encodeFrame({ ttl: 60, origin: 7n, seq: 1 }, new TextEncoder().encode("hi"));
 * console.log(b.length, decodeFrame(b).seq); // 15 1
 * ```
 * @module
 */
import { DecodeError } from "../../lib/errors.ts";
import { type Cep, CepSyntax } from "../unicast/wire/cep.ts";

/** `BROADCAST_MTU`: the largest SDU a broadcast layer carries (bytes). */
export const BROADCAST_MTU = 1400;
/** Bytes of the flood header. */
export const FRAME_HEADER_BYTES = 13;
/** TTL a member stamps on the SDUs it originates (hops). */
export const BCAST_TTL_DEFAULT = 60;
/** The CEP version that means "this link carries flood headers". */
export const BCAST_VERSION_FRAMED = 1;

/** The reference's broadcast DT CEP (spec 10 §3.2); `framed` adds `supp_version`. */
export function bcastDtCep(framed: boolean): Cep {
  return {
    compName: "Data Transfer",
    protocol: "",
    prefVersion: 0,
    prefSyntax: CepSyntax.GPB,
    address: 0n,
    ...(framed ? { suppVersion: [0, BCAST_VERSION_FRAMED] } : {}),
  };
}

/** Does a peer's DT CEP say it speaks the flood header? */
export function cepFramed(peer: Cep): boolean {
  return peer.suppVersion?.includes(BCAST_VERSION_FRAMED) ?? false;
}

/** A flood header. */
export interface FrameHeader {
  /** Hops left (1–255). */
  ttl: number;
  /** Stamping member (u64). */
  origin: bigint;
  /** Its sequence number (u32). */
  seq: number;
}

/** A decoded framed SDU; `payload` is a view into the input. */
export interface Frame extends FrameHeader {
  payload: Uint8Array;
}

/** Header + payload in a new buffer. */
export function encodeFrame(h: FrameHeader, payload: Uint8Array): Uint8Array {
  const b = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  const v = new DataView(b.buffer);
  v.setUint8(0, h.ttl);
  v.setBigUint64(1, h.origin);
  v.setUint32(9, h.seq >>> 0);
  b.set(payload, FRAME_HEADER_BYTES);
  return b;
}

/**
 * Split a framed SDU. Throws DecodeError if it is shorter than the header,
 * its TTL is 0, or its payload exceeds {@link BROADCAST_MTU}.
 */
export function decodeFrame(b: Uint8Array): Frame {
  if (b.length < FRAME_HEADER_BYTES) {
    throw new DecodeError("short", `Cannot decode flood header: ${b.length} bytes`);
  }
  if (b.length > FRAME_HEADER_BYTES + BROADCAST_MTU) {
    throw new DecodeError("oversize", `Cannot decode flood frame: ${b.length} bytes`);
  }
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const ttl = v.getUint8(0);
  if (ttl === 0) throw new DecodeError("ttl", "Cannot decode flood header: TTL 0");
  return {
    ttl,
    origin: v.getBigUint64(1),
    seq: v.getUint32(9),
    payload: b.subarray(FRAME_HEADER_BYTES),
  };
}
