/**
 * rtnetlink message codec: `nlmsghdr`, route attributes, and the three
 * fixed headers the bridge uses (`ifinfomsg`, `ifaddrmsg`, `rtmsg`). All
 * integers are host order (little-endian on the platforms we run on).
 * Encoders build one request; {@link decodeNlMessages} splits a received
 * datagram and rejects anything malformed with a `DecodeError`.
 *
 * @example
 * ```ts
 * import { encodeNlMessage, decodeNlMessages, RTM_GETLINK, NLM_F_REQUEST, encodeIfinfo } from "./netlink_msg.ts";
 * const req = encodeNlMessage(RTM_GETLINK, NLM_F_REQUEST, 1, encodeIfinfo({ index: 1 }), []);
 * console.log(decodeNlMessages(req)[0]?.type); // 18
 * ```
 * @module
 */

import { DecodeError } from "../../src/lib/errors.ts";

/** Message types. */
export const NLMSG_ERROR = 2;
/** End of a multipart dump. */
export const NLMSG_DONE = 3;
/** Create / change a link. */
export const RTM_NEWLINK = 16;
/** Get a link. */
export const RTM_GETLINK = 18;
/** Add an address. */
export const RTM_NEWADDR = 20;
/** Delete an address. */
export const RTM_DELADDR = 21;
/** Add a route. */
export const RTM_NEWROUTE = 24;
/** Delete a route. */
export const RTM_DELROUTE = 25;

/** Header flags. */
export const NLM_F_REQUEST = 0x1;
/** Ask for an acknowledgement. */
export const NLM_F_ACK = 0x4;
/** Fail if the object exists. */
export const NLM_F_EXCL = 0x200;
/** Create the object if missing. */
export const NLM_F_CREATE = 0x400;

/** Link attributes. */
export const IFLA_ADDRESS = 1;
/** Interface name (NUL-terminated). */
export const IFLA_IFNAME = 3;
/** MTU (u32). */
export const IFLA_MTU = 4;
/** Link attribute: transmit queue length (packets). */
export const IFLA_TXQLEN = 13;
/** Address attributes. */
export const IFA_ADDRESS = 1;
/** Local address. */
export const IFA_LOCAL = 2;
/** Route attributes. */
export const RTA_DST = 1;
/** Output interface index (u32). */
export const RTA_OIF = 4;
/** Gateway address. */
export const RTA_GATEWAY = 5;
/** Route metric (u32). */
export const RTA_PRIORITY = 6;

/** Bytes of `nlmsghdr`. */
export const NLMSG_HDR_BYTES = 16;
/** Bytes of `ifinfomsg`. */
export const IFINFO_BYTES = 16;
/** Bytes of `ifaddrmsg`. */
export const IFADDR_BYTES = 8;
/** Bytes of `rtmsg`. */
export const RTMSG_BYTES = 12;

/** One route attribute. */
export interface NlAttr {
  type: number;
  data: Uint8Array;
}

/** A decoded netlink message (payload still raw). */
export interface NlMessage {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  payload: Uint8Array;
}

const align4 = (n: number) => (n + 3) & ~3;

/** Encode a request: header, fixed body, then attributes (each padded to 4 bytes). */
export function encodeNlMessage(
  type: number,
  flags: number,
  seq: number,
  body: Uint8Array,
  attrs: readonly NlAttr[],
): Uint8Array {
  let len = NLMSG_HDR_BYTES + align4(body.length);
  for (const a of attrs) len += align4(4 + a.data.length);
  const out = new Uint8Array(len);
  const v = new DataView(out.buffer);
  v.setUint32(0, len, true);
  v.setUint16(4, type, true);
  v.setUint16(6, flags, true);
  v.setUint32(8, seq >>> 0, true);
  v.setUint32(12, 0, true);
  out.set(body, NLMSG_HDR_BYTES);
  let at = NLMSG_HDR_BYTES + align4(body.length);
  for (const a of attrs) {
    v.setUint16(at, 4 + a.data.length, true);
    v.setUint16(at + 2, a.type, true);
    out.set(a.data, at + 4);
    at += align4(4 + a.data.length);
  }
  return out;
}

/** Split a received datagram into messages. Throws `DecodeError` on malformed input. */
export function decodeNlMessages(buf: Uint8Array): NlMessage[] {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: NlMessage[] = [];
  let at = 0;
  while (at < buf.length) {
    if (buf.length - at < NLMSG_HDR_BYTES) {
      throw new DecodeError("nl-truncated", "netlink header truncated");
    }
    const len = v.getUint32(at, true);
    if (len < NLMSG_HDR_BYTES || len > buf.length - at) {
      throw new DecodeError("nl-length", `netlink length ${len} out of range`);
    }
    out.push({
      type: v.getUint16(at + 4, true),
      flags: v.getUint16(at + 6, true),
      seq: v.getUint32(at + 8, true),
      pid: v.getUint32(at + 12, true),
      payload: buf.subarray(at + NLMSG_HDR_BYTES, at + len),
    });
    at += Math.min(align4(len), buf.length - at);
  }
  return out;
}

/** The errno (positive, 0 for an ACK) carried by an `NLMSG_ERROR` payload. */
export function decodeNlError(payload: Uint8Array): number {
  if (payload.length < 4) throw new DecodeError("nl-error-truncated", "netlink error truncated");
  return -new DataView(payload.buffer, payload.byteOffset, 4).getInt32(0, true);
}

/** Decode the attributes following a fixed header of `skip` bytes. */
export function decodeAttrs(payload: Uint8Array, skip: number): NlAttr[] {
  if (payload.length < skip) throw new DecodeError("nl-body-truncated", "netlink body truncated");
  const v = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const out: NlAttr[] = [];
  let at = align4(skip);
  while (at + 4 <= payload.length) {
    const len = v.getUint16(at, true);
    if (len < 4 || len > payload.length - at) {
      throw new DecodeError("nl-attr-length", `attribute length ${len} out of range`);
    }
    out.push({
      type: v.getUint16(at + 2, true) & 0x3fff,
      data: payload.subarray(at + 4, at + len),
    });
    at += align4(len);
  }
  return out;
}

/** `ifinfomsg` fields. */
export interface Ifinfo {
  family?: number;
  type?: number;
  index: number;
  flags?: number;
  change?: number;
}

/** Encode an `ifinfomsg`. */
export function encodeIfinfo(m: Ifinfo): Uint8Array {
  const b = new Uint8Array(IFINFO_BYTES);
  const v = new DataView(b.buffer);
  v.setUint8(0, m.family ?? 0);
  v.setUint16(2, m.type ?? 0, true);
  v.setInt32(4, m.index, true);
  v.setUint32(8, m.flags ?? 0, true);
  v.setUint32(12, m.change ?? 0, true);
  return b;
}

/** Decode an `ifinfomsg` at the start of a payload. */
export function decodeIfinfo(p: Uint8Array): Required<Ifinfo> {
  if (p.length < IFINFO_BYTES) throw new DecodeError("ifinfo-truncated", "ifinfomsg truncated");
  const v = new DataView(p.buffer, p.byteOffset, IFINFO_BYTES);
  return {
    family: v.getUint8(0),
    type: v.getUint16(2, true),
    index: v.getInt32(4, true),
    flags: v.getUint32(8, true),
    change: v.getUint32(12, true),
  };
}

/** `ifaddrmsg` fields. */
export interface Ifaddr {
  family: number;
  prefixLen: number;
  flags?: number;
  scope?: number;
  index: number;
}

/** Encode an `ifaddrmsg`. */
export function encodeIfaddr(m: Ifaddr): Uint8Array {
  const b = new Uint8Array(IFADDR_BYTES);
  const v = new DataView(b.buffer);
  v.setUint8(0, m.family);
  v.setUint8(1, m.prefixLen);
  v.setUint8(2, m.flags ?? 0);
  v.setUint8(3, m.scope ?? 0);
  v.setUint32(4, m.index, true);
  return b;
}

/** `rtmsg` fields. */
export interface Rtmsg {
  family: number;
  dstLen: number;
  table: number;
  protocol: number;
  scope: number;
  type: number;
}

/** Encode an `rtmsg` (src_len, tos and flags zero). */
export function encodeRtmsg(m: Rtmsg): Uint8Array {
  return new Uint8Array([
    m.family,
    m.dstLen,
    0,
    0,
    m.table,
    m.protocol,
    m.scope,
    m.type,
    0,
    0,
    0,
    0,
  ]);
}

/** A u32 attribute value in host order. */
export function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
}
