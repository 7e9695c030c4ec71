/**
 * What the tunnel reads from IP packets without decoding them fully: the
 * version, source and destination (for routing and the source check), the
 * DSCP, transport protocol and ports (for traffic classes); and what it
 * writes back: ICMP "fragmentation needed" / ICMPv6 "packet too big" and
 * IPv4 fragments. Every reader checks lengths first and returns undefined
 * on a packet too short to hold the field, never throwing.
 *
 * @example
 * ```ts
 * import { ipDestination, ipVersion } from "./ippacket.ts";
 * const p = new Uint8Array(20);
 * p[0] = 0x45;
 * p.set([10, 9, 0, 2], 16);
 * console.log(ipVersion(p), ipDestination(p)); // 4 Uint8Array [10, 9, 0, 2]
 * ```
 * @module
 */

import { inetChecksum, onesSum } from "../../bridges/packet.ts";

/** IP protocol numbers used by traffic classes. */
export const ipProtocols: Readonly<Record<string, number>> = Object.freeze({
  icmp: 1,
  tcp: 6,
  udp: 17,
  icmpv6: 58,
  sctp: 132,
});

/** Bytes of an IPv4 header without options. */
export const ipv4HeaderBytes = 20;
/** Bytes of the fixed IPv6 header. */
export const ipv6HeaderBytes = 40;
/** Smallest MTU every IPv6 link carries (RFC 8200); ICMPv6 errors fit in it. */
export const ipv6MinMtu = 1280;
/** Size limit of an ICMPv4 error datagram (RFC 1812 §4.3.2.3). */
export const icmp4ErrorMaxBytes = 576;

/** 4, 6, or 0 for anything else (or an empty packet). */
export function ipVersion(p: Uint8Array): 0 | 4 | 6 {
  if (p.length === 0) return 0;
  const v = p[0]! >> 4;
  if (v === 4 && p.length >= ipv4HeaderBytes) return 4;
  if (v === 6 && p.length >= ipv6HeaderBytes) return 6;
  return 0;
}

/** The destination address (a view), or undefined if not an IP packet. */
export function ipDestination(p: Uint8Array): Uint8Array | undefined {
  switch (ipVersion(p)) {
    case 4:
      return p.subarray(16, 20);
    case 6:
      return p.subarray(24, 40);
    default:
      return undefined;
  }
}

/** The source address (a view), or undefined if not an IP packet. */
export function ipSource(p: Uint8Array): Uint8Array | undefined {
  switch (ipVersion(p)) {
    case 4:
      return p.subarray(12, 16);
    case 6:
      return p.subarray(8, 24);
    default:
      return undefined;
  }
}

/** The fields a traffic class matches on. */
export interface FlowKey {
  /** Differentiated services code point (0..63). */
  dscp: number;
  /** Transport protocol number (IPv6: the first next-header, no extension walk). */
  protocol: number;
  /** Source port (TCP/UDP/SCTP), or -1. */
  srcPort: number;
  /** Destination port, or -1. */
  dstPort: number;
}

/** The traffic-class fields of an IP packet, or undefined if it is not one. */
export function flowKey(p: Uint8Array): FlowKey | undefined {
  const v = ipVersion(p);
  let dscp: number, protocol: number, l4: number;
  if (v === 4) {
    dscp = p[1]! >> 2;
    protocol = p[9]!;
    l4 = (p[0]! & 0xf) * 4;
    // a non-first fragment has no transport header
    if (((p[6]! & 0x1f) << 8 | p[7]!) !== 0) l4 = -1;
  } else if (v === 6) {
    dscp = ((p[0]! & 0xf) << 2) | (p[1]! >> 6);
    protocol = p[6]!;
    l4 = ipv6HeaderBytes;
  } else {
    return undefined;
  }
  const ported = protocol === 6 || protocol === 17 || protocol === 132;
  if (!ported || l4 < 0 || p.length < l4 + 4) return { dscp, protocol, srcPort: -1, dstPort: -1 };
  return {
    dscp,
    protocol,
    srcPort: (p[l4]! << 8) | p[l4 + 1]!,
    dstPort: (p[l4 + 2]! << 8) | p[l4 + 3]!,
  };
}

/** Is the IPv4 Don't Fragment bit set? */
export function ipv4DontFragment(p: Uint8Array): boolean {
  return p.length >= ipv4HeaderBytes && (p[6]! & 0x40) !== 0;
}

function isUnicastSource(p: Uint8Array, v: 4 | 6): boolean {
  if (v === 4) {
    const a = p[12]!;
    if (a === 0 || a >= 224) return false; // unspecified, multicast, broadcast/reserved
    return true;
  }
  if (p[8] === 0xff) return false; // multicast
  for (let i = 8; i < 24; i++) if (p[i] !== 0) return true;
  return false; // ::
}

/** Should an ICMP error be sent about this packet? Not about ICMP errors or from odd sources. */
export function mayAnswerWithIcmpError(p: Uint8Array): boolean {
  const v = ipVersion(p);
  if (v === 0 || !isUnicastSource(p, v)) return false;
  if (v === 4) {
    const ihl = (p[0]! & 0xf) * 4;
    const fragOffset = ((p[6]! & 0x1f) << 8) | p[7]!;
    if (fragOffset !== 0) return false;
    if (p[9] === 1 && p.length > ihl) {
      const type = p[ihl]!;
      return type === 0 || type === 8 || type === 13 || type === 14; // queries, not errors
    }
    return true;
  }
  if (p[6] === 58 && p.length > ipv6HeaderBytes) return p[ipv6HeaderBytes]! >= 128;
  return true;
}

/**
 * ICMPv4 "destination unreachable, fragmentation needed" (type 3 code 4)
 * from `from` to the source of `original`, announcing `mtu`.
 */
export function icmp4FragNeeded(original: Uint8Array, from: Uint8Array, mtu: number): Uint8Array {
  const quote = original.subarray(0, Math.min(original.length, icmp4ErrorMaxBytes - 28));
  const icmp = new Uint8Array(8 + quote.length);
  icmp[0] = 3;
  icmp[1] = 4;
  icmp[6] = (mtu >> 8) & 0xff;
  icmp[7] = mtu & 0xff;
  icmp.set(quote, 8);
  const sum = inetChecksum(icmp);
  icmp[2] = sum >> 8;
  icmp[3] = sum & 0xff;
  const out = new Uint8Array(20 + icmp.length);
  out[0] = 0x45;
  out[2] = out.length >> 8;
  out[3] = out.length & 0xff;
  out[8] = 64;
  out[9] = 1;
  out.set(from, 12);
  out.set(original.subarray(12, 16), 16);
  const h = inetChecksum(out.subarray(0, 20));
  out[10] = h >> 8;
  out[11] = h & 0xff;
  out.set(icmp, 20);
  return out;
}

/** ICMPv6 "packet too big" (type 2) from `from` to the source of `original`, announcing `mtu`. */
export function icmp6PacketTooBig(original: Uint8Array, from: Uint8Array, mtu: number): Uint8Array {
  const quote = original.subarray(0, Math.min(original.length, ipv6MinMtu - 48));
  const icmpLen = 8 + quote.length;
  const out = new Uint8Array(40 + icmpLen);
  out[0] = 0x60;
  out[4] = icmpLen >> 8;
  out[5] = icmpLen & 0xff;
  out[6] = 58;
  out[7] = 64;
  out.set(from, 8);
  out.set(original.subarray(8, 24), 24);
  const icmp = out.subarray(40);
  icmp[0] = 2;
  icmp[4] = (mtu >>> 24) & 0xff;
  icmp[5] = (mtu >> 16) & 0xff;
  icmp[6] = (mtu >> 8) & 0xff;
  icmp[7] = mtu & 0xff;
  icmp.set(quote, 8);
  const pseudo = new Uint8Array(40);
  pseudo.set(out.subarray(8, 40), 0);
  pseudo[34] = icmpLen >> 8;
  pseudo[35] = icmpLen & 0xff;
  pseudo[39] = 58;
  const sum = inetChecksum(icmp, onesSum(pseudo));
  icmp[2] = sum >> 8;
  icmp[3] = sum & 0xff;
  return out;
}

/**
 * Split an IPv4 packet (DF clear) into fragments of at most `mtu` bytes.
 * Options are copied into every fragment. Returns `[p]` if it fits and
 * `undefined` if it cannot be split (DF set, header too long for the MTU).
 */
export function fragmentIpv4(p: Uint8Array, mtu: number): Uint8Array[] | undefined {
  if (p.length <= mtu) return [p];
  if (ipVersion(p) !== 4 || ipv4DontFragment(p)) return undefined;
  const ihl = (p[0]! & 0xf) * 4;
  const total = Math.min(p.length, (p[2]! << 8) | p[3]!);
  const chunk = Math.floor((mtu - ihl) / 8) * 8;
  if (ihl < ipv4HeaderBytes || chunk <= 0 || total <= ihl) return undefined;
  const flagsOffset = ((p[6]! << 8) | p[7]!) & 0x3fff;
  const baseOffset = flagsOffset & 0x1fff;
  const moreAfter = (flagsOffset & 0x2000) !== 0;
  const out: Uint8Array[] = [];
  for (let at = ihl; at < total; at += chunk) {
    const len = Math.min(chunk, total - at);
    const f = new Uint8Array(ihl + len);
    f.set(p.subarray(0, ihl));
    f.set(p.subarray(at, at + len), ihl);
    f[2] = f.length >> 8;
    f[3] = f.length & 0xff;
    const last = at + len >= total;
    const fo = (baseOffset + (at - ihl) / 8) | (!last || moreAfter ? 0x2000 : 0);
    f[6] = fo >> 8;
    f[7] = fo & 0xff;
    f[10] = 0;
    f[11] = 0;
    const h = inetChecksum(f.subarray(0, ihl));
    f[10] = h >> 8;
    f[11] = h & 0xff;
    out.push(f);
  }
  return out;
}
