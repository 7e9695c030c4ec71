/**
 * Socket addresses as bytes: parse/format IPv4 and IPv6 text, and build or
 * read Linux `sockaddr_in`, `sockaddr_in6` and `sockaddr_ll` (x86-64 and
 * aarch64 layouts) in caller-provided buffers.
 *
 * @example
 * ```ts
 * import { encodeSockaddr, decodeSockaddr } from "./sockaddr.ts";
 * const sa = encodeSockaddr({ hostname: "::1", port: 5000 });
 * console.log(sa.length, decodeSockaddr(sa)); // 28 { hostname: "::1", port: 5000 }
 * ```
 * @module
 */

/** Address families (Linux values). */
export const AF_INET = 2;
/** IPv6 address family. */
export const AF_INET6 = 10;
/** Link-layer (packet socket) address family. */
export const AF_PACKET = 17;

/** Bytes of a `sockaddr_in`. */
export const SOCKADDR_IN_BYTES = 16;
/** Bytes of a `sockaddr_in6`. */
export const SOCKADDR_IN6_BYTES = 28;
/** Bytes of a `sockaddr_ll`. */
export const SOCKADDR_LL_BYTES = 20;

/** An IP endpoint as text plus port (the shape of `Deno.NetAddr` without transport). */
export interface IpEndpoint {
  /** Numeric IPv4 or IPv6 address (an IPv6 zone may follow `%` as an interface index). */
  hostname: string;
  /** UDP port. */
  port: number;
}

/** Parse dotted-quad IPv4 into 4 bytes, or undefined if malformed. */
export function parseIPv4(s: string): Uint8Array | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^\d{1,3}$/.test(p) || (p.length > 1 && p[0] === "0")) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    out[i] = v;
  }
  return out;
}

/** Parse IPv6 text (RFC 4291 forms, embedded IPv4 allowed, no zone) into 16 bytes, or undefined. */
export function parseIPv6(s: string): Uint8Array | undefined {
  if (s.length < 2 || s.length > 45) return undefined;
  const dbl = s.indexOf("::");
  if (dbl !== -1 && s.indexOf("::", dbl + 1) !== -1) return undefined;
  const words: number[] = [];
  const parseSide = (side: string, allowV4: boolean): number[] | undefined => {
    if (side === "") return [];
    const groups = side.split(":");
    const ws: number[] = [];
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      if (allowV4 && i === groups.length - 1 && g.includes(".")) {
        const v4 = parseIPv4(g);
        if (!v4) return undefined;
        ws.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
        ws.push(parseInt(g, 16));
      }
    }
    return ws;
  };
  if (dbl === -1) {
    const all = parseSide(s, true);
    if (!all || all.length !== 8) return undefined;
    words.push(...all);
  } else {
    const left = parseSide(s.slice(0, dbl), false);
    const right = parseSide(s.slice(dbl + 2), true);
    if (!left || !right || left.length + right.length > 7) return undefined;
    words.push(...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right);
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = words[i]! >> 8;
    out[2 * i + 1] = words[i]! & 0xff;
  }
  return out;
}

/** Format 4 bytes as dotted-quad. */
export function formatIPv4(b: Uint8Array): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

/** Format 16 bytes as canonical IPv6 text (RFC 5952: lower case, longest zero run as `::`). */
export function formatIPv6(b: Uint8Array): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((b[2 * i]! << 8) | b[2 * i + 1]!);
  if (w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0xffff) {
    return `::ffff:${formatIPv4(b.subarray(12, 16))}`;
  }
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(":");
  if (best < 0) return hex(w);
  return `${hex(w.slice(0, best))}::${hex(w.slice(best + bestLen))}`;
}

/** Is `hostname` IPv6 text (contains a colon)? */
export function isIPv6(hostname: string): boolean {
  return hostname.includes(":");
}

/**
 * Write the sockaddr for `ep` into `out` (at least 28 bytes) and return its
 * length (16 or 28). With `family` AF_INET6, an IPv4 endpoint is written as
 * a v4-mapped address. Returns -1 if the address text is malformed.
 */
export function writeSockaddr(out: Uint8Array, ep: IpEndpoint, family?: number): number {
  if (!Number.isInteger(ep.port) || ep.port < 0 || ep.port > 65535) return -1;
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  let host = ep.hostname;
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  let scope = 0;
  const pct = host.indexOf("%");
  if (pct !== -1) {
    if (!/^\d+$/.test(host.slice(pct + 1))) return -1;
    scope = Number(host.slice(pct + 1));
    host = host.slice(0, pct);
  }
  if (!isIPv6(host) && family !== AF_INET6) {
    const a = parseIPv4(host);
    if (!a || pct !== -1) return -1;
    out.fill(0, 0, SOCKADDR_IN_BYTES);
    dv.setUint16(0, AF_INET, true);
    dv.setUint16(2, ep.port, false);
    out.set(a, 4);
    return SOCKADDR_IN_BYTES;
  }
  let a: Uint8Array | undefined;
  if (isIPv6(host)) a = parseIPv6(host);
  else {
    const v4 = parseIPv4(host);
    if (v4) {
      a = new Uint8Array(16);
      a[10] = a[11] = 0xff;
      a.set(v4, 12);
    }
  }
  if (!a || family === AF_INET) return -1;
  out.fill(0, 0, SOCKADDR_IN6_BYTES);
  dv.setUint16(0, AF_INET6, true);
  dv.setUint16(2, ep.port, false);
  out.set(a, 8);
  dv.setUint32(24, scope, true);
  return SOCKADDR_IN6_BYTES;
}

/** A fresh sockaddr for `ep`; throws TypeError on a malformed address. */
export function encodeSockaddr(ep: IpEndpoint, family?: number): Uint8Array {
  const buf = new Uint8Array(SOCKADDR_IN6_BYTES);
  const n = writeSockaddr(buf, ep, family);
  if (n < 0) {
    throw new TypeError(
      `Cannot use address ${ep.hostname} port ${ep.port}: not a numeric IP address`,
    );
  }
  return buf.slice(0, n);
}

/** Read an AF_INET / AF_INET6 sockaddr; undefined for other families or short input. */
export function decodeSockaddr(b: Uint8Array): IpEndpoint | undefined {
  if (b.length < 2) return undefined;
  const fam = b[0]! | (b[1]! << 8);
  const port = ((b[2] ?? 0) << 8) | (b[3] ?? 0);
  if (fam === AF_INET && b.length >= SOCKADDR_IN_BYTES) {
    return { hostname: formatIPv4(b.subarray(4, 8)), port };
  }
  if (fam === AF_INET6 && b.length >= SOCKADDR_IN6_BYTES) {
    const scope = b[24]! | (b[25]! << 8) | (b[26]! << 16) | (b[27]! << 24);
    const host = formatIPv6(b.subarray(8, 24));
    return { hostname: scope ? `${host}%${scope >>> 0}` : host, port };
  }
  return undefined;
}

/** Length of the sockaddr in `b` judged from its family (16, 28, 20), or 0. */
export function sockaddrLength(b: Uint8Array): number {
  const fam = (b[0] ?? 0) | ((b[1] ?? 0) << 8);
  if (fam === AF_INET) return SOCKADDR_IN_BYTES;
  if (fam === AF_INET6) return SOCKADDR_IN6_BYTES;
  if (fam === AF_PACKET) return SOCKADDR_LL_BYTES;
  return 0;
}

/** Fields of a `sockaddr_ll`. */
export interface LinkAddr {
  /** Ethertype in host order (e.g. 0x88b5), or 3 for ETH_P_ALL. */
  protocol: number;
  /** Interface index. */
  ifindex: number;
  /** ARP hardware type (1 = Ethernet); 0 when sending. */
  hatype?: number;
  /** Packet type (0 host, 1 broadcast, 2 multicast, 3 other host, 4 outgoing). */
  pkttype?: number;
  /** Hardware address (up to 8 bytes). */
  addr?: Uint8Array;
}

/** Build a 20-byte `sockaddr_ll`. */
export function encodeSockaddrLl(a: LinkAddr): Uint8Array {
  const b = new Uint8Array(SOCKADDR_LL_BYTES);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, AF_PACKET, true);
  dv.setUint16(2, a.protocol, false);
  dv.setInt32(4, a.ifindex, true);
  dv.setUint16(8, a.hatype ?? 0, true);
  b[10] = a.pkttype ?? 0;
  const hw = a.addr ?? new Uint8Array(0);
  b[11] = Math.min(hw.length, 8);
  b.set(hw.subarray(0, 8), 12);
  return b;
}

/** Read a `sockaddr_ll`; undefined if short or not AF_PACKET. */
export function decodeSockaddrLl(b: Uint8Array): LinkAddr | undefined {
  if (b.length < SOCKADDR_LL_BYTES || (b[0]! | (b[1]! << 8)) !== AF_PACKET) return undefined;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const halen = Math.min(b[11]!, 8);
  return {
    protocol: dv.getUint16(2, false),
    ifindex: dv.getInt32(4, true),
    hatype: dv.getUint16(8, true),
    pkttype: b[10]!,
    addr: b.slice(12, 12 + halen),
  };
}
