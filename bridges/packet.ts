/**
 * Just enough packet building and parsing to test and measure a TUN/TAP
 * device: the Internet checksum, IPv4 headers, ICMP echo, UDP, Ethernet
 * and ARP. Encoders take plain objects; decoders take bytes and throw
 * `DecodeError` on anything malformed (never a RangeError).
 *
 * @example
 * ```ts
 * import { decodeIpv4, encodeIcmpEcho, encodeIpv4, echoReplyFor } from "./packet.ts";
 * const req = encodeIpv4({ src: [10, 0, 0, 1], dst: [10, 0, 0, 2], protocol: 1,
 *   payload: encodeIcmpEcho({ type: 8, id: 7, seq: 1, data: new Uint8Array(8) }) });
 * console.log(decodeIpv4(echoReplyFor(req)).dst); // Uint8Array [10, 0, 0, 1]
 * ```
 * @module
 */

import { DecodeError } from "../src/lib/errors.ts";

/** IP protocol numbers. */
export const IPPROTO_ICMP = 1;
/** UDP. */
export const IPPROTO_UDP = 17;
/** ICMP echo reply / request types. */
export const ICMP_ECHO_REPLY = 0;
/** Echo request. */
export const ICMP_ECHO_REQUEST = 8;
/** EtherTypes. */
export const ETHERTYPE_IPV4 = 0x0800;
/** ARP. */
export const ETHERTYPE_ARP = 0x0806;
/** IPv6. */
export const ETHERTYPE_IPV6 = 0x86dd;

type Bytes = Uint8Array | readonly number[];
const bytes = (b: Bytes) => (b instanceof Uint8Array ? b : Uint8Array.from(b));
const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** One's-complement sum of 16-bit words, folded (not inverted). */
export function onesSum(b: Uint8Array, initial = 0): number {
  let sum = initial;
  const n = b.length & ~1;
  for (let i = 0; i < n; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
  if (b.length & 1) sum += b[b.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** The Internet checksum (RFC 1071) of `b`, with an optional partial sum (pseudo-header). */
export function inetChecksum(b: Uint8Array, initial = 0): number {
  return ~onesSum(b, initial) & 0xffff;
}

/** An IPv4 packet. */
export interface Ipv4Packet {
  src: Uint8Array;
  dst: Uint8Array;
  protocol: number;
  ttl: number;
  id: number;
  /** Bytes after the header, up to the total length. */
  payload: Uint8Array;
}

/** Fields of {@link encodeIpv4}. */
export interface Ipv4Fields {
  src: Bytes;
  dst: Bytes;
  protocol: number;
  ttl?: number;
  id?: number;
  payload: Uint8Array;
}

/** Build an IPv4 packet (20-byte header, DF set, header checksum filled in). */
export function encodeIpv4(f: Ipv4Fields): Uint8Array {
  const out = new Uint8Array(20 + f.payload.length);
  if (out.length > 65535) throw new RangeError("Cannot build IPv4 packet: longer than 65535 bytes");
  const v = view(out);
  out[0] = 0x45;
  v.setUint16(2, out.length);
  v.setUint16(4, f.id ?? 0);
  v.setUint16(6, 0x4000);
  out[8] = f.ttl ?? 64;
  out[9] = f.protocol;
  out.set(bytes(f.src), 12);
  out.set(bytes(f.dst), 16);
  v.setUint16(10, inetChecksum(out.subarray(0, 20)));
  out.set(f.payload, 20);
  return out;
}

/** Parse an IPv4 packet; checks version, header length, total length and header checksum. */
export function decodeIpv4(p: Uint8Array): Ipv4Packet {
  if (p.length < 20) throw new DecodeError("ipv4-truncated", "IPv4 header truncated");
  if (p[0]! >> 4 !== 4) {
    throw new DecodeError("ipv4-version", `IP version ${p[0]! >> 4}, expected 4`);
  }
  const ihl = (p[0]! & 0xf) * 4;
  const v = view(p);
  const total = v.getUint16(2);
  if (ihl < 20 || total < ihl || total > p.length) {
    throw new DecodeError(
      "ipv4-length",
      `IPv4 lengths ihl=${ihl} total=${total} for ${p.length} bytes`,
    );
  }
  if (inetChecksum(p.subarray(0, ihl)) !== 0) {
    throw new DecodeError("ipv4-checksum", "IPv4 header checksum wrong");
  }
  return {
    src: p.slice(12, 16),
    dst: p.slice(16, 20),
    protocol: p[9]!,
    ttl: p[8]!,
    id: v.getUint16(4),
    payload: p.subarray(ihl, total),
  };
}

/** An ICMP echo request or reply. */
export interface IcmpEcho {
  /** 8 request, 0 reply. */
  type: number;
  id: number;
  seq: number;
  data: Uint8Array;
}

/** Build an ICMP echo message with its checksum. */
export function encodeIcmpEcho(m: IcmpEcho): Uint8Array {
  const out = new Uint8Array(8 + m.data.length);
  const v = view(out);
  out[0] = m.type;
  v.setUint16(4, m.id);
  v.setUint16(6, m.seq);
  out.set(m.data, 8);
  v.setUint16(2, inetChecksum(out));
  return out;
}

/** Parse an ICMP echo request/reply; checks the checksum. */
export function decodeIcmpEcho(b: Uint8Array): IcmpEcho {
  if (b.length < 8) throw new DecodeError("icmp-truncated", "ICMP header truncated");
  if (b[0] !== ICMP_ECHO_REQUEST && b[0] !== ICMP_ECHO_REPLY) {
    throw new DecodeError("icmp-type", `ICMP type ${b[0]} is not an echo`);
  }
  if (inetChecksum(b) !== 0) throw new DecodeError("icmp-checksum", "ICMP checksum wrong");
  const v = view(b);
  return { type: b[0]!, id: v.getUint16(4), seq: v.getUint16(6), data: b.subarray(8) };
}

/** The IPv4 echo reply answering an IPv4 echo request packet. */
export function echoReplyFor(request: Uint8Array): Uint8Array {
  const ip = decodeIpv4(request);
  if (ip.protocol !== IPPROTO_ICMP) throw new DecodeError("not-icmp", "not an ICMP packet");
  const echo = decodeIcmpEcho(ip.payload);
  if (echo.type !== ICMP_ECHO_REQUEST) {
    throw new DecodeError("not-echo-request", "not an echo request");
  }
  return encodeIpv4({
    src: ip.dst,
    dst: ip.src,
    protocol: IPPROTO_ICMP,
    id: ip.id,
    payload: encodeIcmpEcho({ ...echo, type: ICMP_ECHO_REPLY }),
  });
}

/** A UDP datagram inside IPv4. */
export interface Udp4 {
  src: Uint8Array;
  dst: Uint8Array;
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
}

function pseudoSum(src: Uint8Array, dst: Uint8Array, proto: number, len: number): number {
  const ph = new Uint8Array(12);
  ph.set(src, 0);
  ph.set(dst, 4);
  ph[9] = proto;
  view(ph).setUint16(10, len);
  return onesSum(ph);
}

/** Build an IPv4 packet carrying a UDP datagram (with UDP checksum). */
export function encodeUdp4(
  f: { src: Bytes; dst: Bytes; srcPort: number; dstPort: number; payload: Uint8Array; id?: number },
): Uint8Array {
  const src = bytes(f.src), dst = bytes(f.dst);
  const udp = new Uint8Array(8 + f.payload.length);
  const v = view(udp);
  v.setUint16(0, f.srcPort);
  v.setUint16(2, f.dstPort);
  v.setUint16(4, udp.length);
  udp.set(f.payload, 8);
  v.setUint16(6, inetChecksum(udp, pseudoSum(src, dst, IPPROTO_UDP, udp.length)) || 0xffff);
  return encodeIpv4({ src, dst, protocol: IPPROTO_UDP, id: f.id, payload: udp });
}

/** Parse an IPv4/UDP packet; checks lengths and (if non-zero) the UDP checksum. */
export function decodeUdp4(p: Uint8Array): Udp4 {
  const ip = decodeIpv4(p);
  if (ip.protocol !== IPPROTO_UDP) {
    throw new DecodeError("not-udp", `IP protocol ${ip.protocol} is not UDP`);
  }
  const u = ip.payload;
  if (u.length < 8) throw new DecodeError("udp-truncated", "UDP header truncated");
  const v = view(u);
  const len = v.getUint16(4);
  if (len < 8 || len > u.length) {
    throw new DecodeError("udp-length", `UDP length ${len} for ${u.length} bytes`);
  }
  if (
    v.getUint16(6) !== 0 &&
    inetChecksum(u.subarray(0, len), pseudoSum(ip.src, ip.dst, IPPROTO_UDP, len)) !== 0
  ) {
    throw new DecodeError("udp-checksum", "UDP checksum wrong");
  }
  return {
    src: ip.src,
    dst: ip.dst,
    srcPort: v.getUint16(0),
    dstPort: v.getUint16(2),
    payload: u.subarray(8, len),
  };
}

/** An Ethernet II frame. */
export interface EthernetFrame {
  dst: Uint8Array;
  src: Uint8Array;
  etherType: number;
  payload: Uint8Array;
}

/** Build an Ethernet II frame (no FCS). */
export function encodeEthernet(
  f: { dst: Bytes; src: Bytes; etherType: number; payload: Uint8Array },
): Uint8Array {
  const out = new Uint8Array(14 + f.payload.length);
  out.set(bytes(f.dst), 0);
  out.set(bytes(f.src), 6);
  view(out).setUint16(12, f.etherType);
  out.set(f.payload, 14);
  return out;
}

/** Parse an Ethernet II frame. */
export function decodeEthernet(b: Uint8Array): EthernetFrame {
  if (b.length < 14) throw new DecodeError("eth-truncated", "Ethernet header truncated");
  return {
    dst: b.slice(0, 6),
    src: b.slice(6, 12),
    etherType: view(b).getUint16(12),
    payload: b.subarray(14),
  };
}

/** An ARP message for IPv4 over Ethernet. */
export interface Arp {
  /** 1 request, 2 reply. */
  op: number;
  senderMac: Uint8Array;
  senderIp: Uint8Array;
  targetMac: Uint8Array;
  targetIp: Uint8Array;
}

/** Build an ARP (Ethernet/IPv4) message body. */
export function encodeArp(
  a: { op: number; senderMac: Bytes; senderIp: Bytes; targetMac: Bytes; targetIp: Bytes },
): Uint8Array {
  const out = new Uint8Array(28);
  const v = view(out);
  v.setUint16(0, 1);
  v.setUint16(2, ETHERTYPE_IPV4);
  out[4] = 6;
  out[5] = 4;
  v.setUint16(6, a.op);
  out.set(bytes(a.senderMac), 8);
  out.set(bytes(a.senderIp), 14);
  out.set(bytes(a.targetMac), 18);
  out.set(bytes(a.targetIp), 24);
  return out;
}

/** Parse an ARP (Ethernet/IPv4) message body. */
export function decodeArp(b: Uint8Array): Arp {
  if (b.length < 28) throw new DecodeError("arp-truncated", "ARP message truncated");
  const v = view(b);
  if (v.getUint16(0) !== 1 || v.getUint16(2) !== ETHERTYPE_IPV4 || b[4] !== 6 || b[5] !== 4) {
    throw new DecodeError("arp-kind", "ARP is not Ethernet/IPv4");
  }
  return {
    op: v.getUint16(6),
    senderMac: b.slice(8, 14),
    senderIp: b.slice(14, 18),
    targetMac: b.slice(18, 24),
    targetIp: b.slice(24, 28),
  };
}
