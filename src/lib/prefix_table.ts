/**
 * Longest-prefix match over IP prefixes: a binary trie per family. The
 * tunnel routes by it, and the fast paths' Workers check sources and pick
 * flows by it per packet (lookups take a view of the packet, no copy).
 *
 * @example
 * ```ts
 * import { PrefixTable } from "./prefix_table.ts";
 * const t = new PrefixTable<string>();
 * t.insert({ family: 4, network: new Uint8Array([10, 0, 0, 0]), bits: 8 }, "peer a");
 * console.log(t.lookup(new Uint8Array([10, 1, 2, 3]))); // "peer a"
 * ```
 * @module
 */

/** An IP prefix: network bytes (host bits zero) and a length in bits. */
export interface Prefix {
  /** 4 (IPv4) or 6 (IPv6). */
  readonly family: 4 | 6;
  /** 4 or 16 bytes, host bits cleared. */
  readonly network: Uint8Array;
  /** Prefix length in bits. */
  readonly bits: number;
}

interface Node<T> {
  zero?: Node<T>;
  one?: Node<T>;
  value?: T;
  has: boolean;
}

/** Longest-prefix-match table from IP prefixes to values (peers). */
export class PrefixTable<T> {
  readonly #roots: { 4: Node<T>; 6: Node<T> } = { 4: { has: false }, 6: { has: false } };
  #size = 0;

  /** Number of prefixes stored. */
  get size(): number {
    return this.#size;
  }

  /** Map `prefix` to `value`, replacing what was there; returns the replaced value. */
  insert(prefix: Prefix, value: T): T | undefined {
    let n = this.#roots[prefix.family];
    for (let i = 0; i < prefix.bits; i++) {
      const bit = (prefix.network[i >> 3]! >> (7 - (i & 7))) & 1;
      const next = bit ? n.one : n.zero;
      if (next) n = next;
      else {
        const made: Node<T> = { has: false };
        if (bit) n.one = made;
        else n.zero = made;
        n = made;
      }
    }
    const old = n.has ? n.value : undefined;
    if (!n.has) this.#size++;
    n.has = true;
    n.value = value;
    return old;
  }

  /** Remove `prefix` (exact); true if it was there. Empty branches are left (tables are small). */
  remove(prefix: Prefix): boolean {
    let n: Node<T> | undefined = this.#roots[prefix.family];
    for (let i = 0; i < prefix.bits && n; i++) {
      const bit = (prefix.network[i >> 3]! >> (7 - (i & 7))) & 1;
      n = bit ? n.one : n.zero;
    }
    if (!n?.has) return false;
    n.has = false;
    n.value = undefined;
    this.#size--;
    return true;
  }

  /** The value of the longest prefix containing `address` (4 or 16 bytes), or undefined. */
  lookup(address: Uint8Array): T | undefined {
    const root = address.length === 4 ? this.#roots[4] : address.length === 16 ? this.#roots[6] : undefined;
    let n: Node<T> | undefined = root;
    let best: T | undefined;
    const max = address.length * 8;
    for (let i = 0; n; i++) {
      if (n.has) best = n.value;
      if (i >= max) break;
      n = (address[i >> 3]! >> (7 - (i & 7))) & 1 ? n.one : n.zero;
    }
    return best;
  }

  /** Every stored prefix with its value (IPv4 first, shorter prefixes first). */
  entries(): [Prefix, T][] {
    const out: [Prefix, T][] = [];
    for (const family of [4, 6] as const) {
      const bytes = family === 4 ? 4 : 16;
      const walk = (n: Node<T>, path: Uint8Array, depth: number) => {
        if (n.has) out.push([{ family, network: path.slice(), bits: depth }, n.value as T]);
        if (n.zero) walk(n.zero, path, depth + 1);
        if (n.one) {
          path[depth >> 3]! |= 0x80 >> (depth & 7);
          walk(n.one, path, depth + 1);
          path[depth >> 3]! &= ~(0x80 >> (depth & 7));
        }
      };
      walk(this.#roots[family], new Uint8Array(bytes), 0);
    }
    return out.sort((a, b) => a[0].family - b[0].family || a[0].bits - b[0].bits);
  }
}
