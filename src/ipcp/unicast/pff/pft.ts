/**
 * The packet forwarding table shared by the PFF policies (spec 12 §7.1): one
 * entry per destination address with its next-hop fds. The reference uses a
 * 256-bucket chained hash table keyed by `dst & 255`; a `Map` is already a hash
 * table, so only the observable contract is kept: insert fails on a duplicate
 * destination, lookup returns the fds, delete and flush remove entries.
 *
 * @example
 * ```ts
 * import { Pft } from "./pft.ts";
 * const t = new Pft();
 * t.insert(4, [4]);
 * t.lookup(4); // [4]
 * ```
 * @module
 */
import type { Addr } from "../routing/graph.ts";

/** A flow descriptor of an N−1 (DT) flow. */
export type Fd = number;

/** The reference's table size (buckets); kept for the RIB and documentation. */
export const PFT_SIZE = 256;

/** Destination → next-hop fds. */
export class Pft {
  #map = new Map<Addr, Fd[]>();

  /** Number of destinations. */
  get size(): number {
    return this.#map.size;
  }

  /** Add `dst` with a copy of `fds` (non-empty); `false` if `dst` is already present. */
  insert(dst: Addr, fds: readonly Fd[]): boolean {
    if (fds.length === 0) throw new RangeError(`Cannot insert pft entry ${dst}: no next hops`);
    if (this.#map.has(dst)) return false;
    this.#map.set(dst, [...fds]);
    return true;
  }

  /** The stored fd array for `dst` (live: policies mutate it in place), or `undefined`. */
  lookup(dst: Addr): Fd[] | undefined {
    return this.#map.get(dst);
  }

  /** Remove `dst`; `false` if absent. */
  delete(dst: Addr): boolean {
    return this.#map.delete(dst);
  }

  /** Remove every entry. */
  flush(): void {
    this.#map.clear();
  }

  /** Entries in insertion order (copies). */
  *entries(): IterableIterator<[Addr, Fd[]]> {
    for (const [d, f] of this.#map) yield [d, [...f]];
  }
}
