/**
 * Names of an Ethernet IPCP (spec 10 §1.6, 11 §3.5): the local registry,
 * the directory of hash → MAC learnt from NAME_QUERY_REPLYs, and pending
 * broadcast name queries.
 *
 * Concurrent queries for one hash share one broadcast and one wait. A reply
 * is learnt even when nobody asked (as the reference does); the latest
 * reply for a hash wins.
 *
 * @example
 * ```ts
 * import { EthNames } from "./resolve.ts";
 * const n = new EthNames();
 * const h = new Uint8Array(32).fill(7);
 * const q = n.query(h, () => {}, 2000); // would broadcast a NAME_QUERY_REQ
 * n.learn(h, new Uint8Array([2, 0, 0, 0, 0, 1]));
 * console.log(await q); // Uint8Array(6) [2, 0, 0, 0, 0, 1]
 * ```
 * @module
 */
import { toHex } from "../../lib/hash.ts";

/** How long a broadcast name query waits for its reply (reference: 2 s). */
export const ETH_NAME_QUERY_TIMEOUT_MS = 2000;

interface Pending {
  promise: Promise<Uint8Array | undefined>;
  resolve: (mac: Uint8Array | undefined) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** Registry, directory and pending queries of one Ethernet IPCP. */
export class EthNames {
  readonly #registry = new Set<string>();
  readonly #directory = new Map<string, Uint8Array>();
  readonly #pending = new Map<string, Pending>();
  /** NAME_QUERY_REPLYs that answered a pending query / arrived unasked. */
  readonly counters = { queriesSent: 0, queriesAnswered: 0, queriesTimedOut: 0, unsolicited: 0 };

  /** Register a hash locally (idempotent). */
  reg(hash: Uint8Array): void {
    this.#registry.add(toHex(hash));
  }

  /** Unregister a hash (no error if absent). */
  unreg(hash: Uint8Array): void {
    this.#registry.delete(toHex(hash));
  }

  /** Is `hash` registered here? */
  has(hash: Uint8Array): boolean {
    return this.#registry.has(toHex(hash));
  }

  /** The MAC last learnt for `hash`, if any. */
  lookup(hash: Uint8Array): Uint8Array | undefined {
    return this.#directory.get(toHex(hash));
  }

  /** Forget what the directory knows about `hash`. */
  forget(hash: Uint8Array): void {
    this.#directory.delete(toHex(hash));
  }

  /** A NAME_QUERY_REPLY said `hash` is at `mac`: remember it, wake the query. */
  learn(hash: Uint8Array, mac: Uint8Array): void {
    const hex = toHex(hash);
    const m = mac.slice();
    this.#directory.set(hex, m);
    const p = this.#pending.get(hex);
    if (p) {
      this.counters.queriesAnswered++;
      this.#settle(hex, p, m);
    } else {
      this.counters.unsolicited++;
    }
  }

  /**
   * Resolve `hash` to a MAC: from the directory, else by calling `broadcast`
   * (which sends the NAME_QUERY_REQ) and waiting up to `timeoutMs` for a
   * reply. Resolves undefined on timeout or when {@link close} is called.
   */
  query(
    hash: Uint8Array,
    broadcast: () => void,
    timeoutMs = ETH_NAME_QUERY_TIMEOUT_MS,
  ): Promise<Uint8Array | undefined> {
    const hex = toHex(hash);
    const known = this.#directory.get(hex);
    if (known) return Promise.resolve(known);
    const busy = this.#pending.get(hex);
    if (busy) return busy.promise;
    let resolve!: (mac: Uint8Array | undefined) => void;
    const promise = new Promise<Uint8Array | undefined>((r) => (resolve = r));
    const p: Pending = {
      promise,
      resolve,
      timer: setTimeout(() => {
        this.counters.queriesTimedOut++;
        this.#settle(hex, p, undefined);
      }, timeoutMs),
    };
    this.#pending.set(hex, p);
    this.counters.queriesSent++;
    try {
      broadcast();
    } catch (e) {
      this.#settle(hex, p, undefined);
      throw e;
    }
    return promise;
  }

  #settle(hex: string, p: Pending, mac: Uint8Array | undefined): void {
    clearTimeout(p.timer);
    if (this.#pending.get(hex) === p) this.#pending.delete(hex);
    p.resolve(mac);
  }

  /** Sizes, for listings. */
  get sizes(): { registered: number; directory: number; pendingQueries: number } {
    return {
      registered: this.#registry.size,
      directory: this.#directory.size,
      pendingQueries: this.#pending.size,
    };
  }

  /** Fail every pending query (IPCP stopping). */
  close(): void {
    for (const [hex, p] of [...this.#pending]) this.#settle(hex, p, undefined);
  }
}
