/**
 * Cryptokey-routing style prefix table: IP prefixes map to peers, and a
 * destination address finds its peer by longest-prefix match. One binary
 * trie per address family; a lookup walks at most 32 (IPv4) or 128 (IPv6)
 * nodes and allocates nothing.
 *
 * @example
 * ```ts
 * import { parsePrefix, PrefixTable } from "./router.ts";
 * const t = new PrefixTable<string>();
 * t.insert(parsePrefix("10.0.0.0/8"), "wide");
 * t.insert(parsePrefix("10.1.0.0/16"), "narrow");
 * console.log(t.lookup(new Uint8Array([10, 1, 2, 3]))); // "narrow"
 * ```
 * @module
 */

import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from "../io/sockaddr.ts";
import type { Prefix } from "../lib/prefix_table.ts";

export { type Prefix, PrefixTable } from "../lib/prefix_table.ts";


/** An address with its prefix length, as written on an interface (`10.9.0.1/24`). */
export interface IfaceAddress {
  /** 4 or 6. */
  readonly family: 4 | 6;
  /** The address itself (host bits kept). */
  readonly address: Uint8Array;
  /** Prefix length in bits. */
  readonly bits: number;
}

/** Why {@link parsePrefix} or {@link parseIfaceAddress} refused a text. */
export class PrefixError extends Error {
  /** A prefix error with a message that says what is wrong. */
  constructor(message: string) {
    super(message);
    this.name = "PrefixError";
  }
}

function parseParts(text: string): { family: 4 | 6; address: Uint8Array; bits: number } {
  const slash = text.indexOf("/");
  const host = slash < 0 ? text : text.slice(0, slash);
  const v4 = parseIPv4(host);
  const address = v4 ?? parseIPv6(host);
  if (!address) throw new PrefixError(`"${text}" is not an IPv4 or IPv6 address`);
  const max = address.length * 8;
  let bits = max;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > max) {
      throw new PrefixError(`"${text}" has a bad prefix length (expected 0..${max})`);
    }
    bits = Number(p);
  }
  return { family: v4 ? 4 : 6, address, bits };
}

/** Clear the bits of `address` after the first `bits`. */
export function maskAddress(address: Uint8Array, bits: number): Uint8Array {
  const out = address.slice();
  for (let bit = bits; bit < out.length * 8; bit++) out[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return out;
}

/**
 * Parse `10.1.0.0/16`, `fd00::/64` or a bare address (a host prefix).
 * Host bits must be zero: `10.1.2.3/16` is refused with a hint.
 */
export function parsePrefix(text: string): Prefix {
  const { family, address, bits } = parseParts(text.trim());
  const network = maskAddress(address, bits);
  if (!network.every((b, i) => b === address[i])) {
    throw new PrefixError(
      `"${text}" has host bits set; did you mean ${formatPrefix({ family, network, bits })}?`,
    );
  }
  return { family, network, bits };
}

/** Parse an interface address `10.9.0.1/24` (host bits kept; prefix defaults to a host route). */
export function parseIfaceAddress(text: string): IfaceAddress {
  const { family, address, bits } = parseParts(text.trim());
  return { family, address, bits };
}

/** Format an address. */
export function formatAddress(address: Uint8Array): string {
  return address.length === 4 ? formatIPv4(address) : formatIPv6(address);
}

/** Format a prefix as `network/bits`. */
export function formatPrefix(p: Prefix): string {
  return `${formatAddress(p.network)}/${p.bits}`;
}

/** Does `p` contain `address` (same family)? */
export function prefixContains(p: Prefix, address: Uint8Array): boolean {
  if (address.length !== p.network.length) return false;
  const full = p.bits >> 3;
  for (let i = 0; i < full; i++) if (address[i] !== p.network[i]) return false;
  const rest = p.bits & 7;
  if (rest === 0) return true;
  const mask = (0xff00 >> rest) & 0xff;
  return (address[full]! & mask) === p.network[full];
}

/** Do two prefixes share any address? (One contains the other.) */
export function prefixesOverlap(a: Prefix, b: Prefix): boolean {
  if (a.family !== b.family) return false;
  return a.bits <= b.bits ? prefixContains(a, b.network) : prefixContains(b, a.network);
}

/** Are two prefixes the same? */
export function prefixEqual(a: Prefix, b: Prefix): boolean {
  return a.family === b.family && a.bits === b.bits && prefixContains(a, b.network);
}
