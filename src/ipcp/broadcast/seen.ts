/**
 * Duplicate suppression for flooding: which (origin, seq) pairs a member
 * has already handled. Per origin, a sliding window of
 * {@link SEEN_WINDOW} sequence numbers below the highest one seen (the
 * anti-replay window of IPsec, RFC 4303 §3.4.3), with serial-number
 * arithmetic so the u32 sequence may wrap.
 *
 * Exact within the window: an SDU is never taken for a duplicate of a
 * different SDU (no false positives), so a member that sends identical
 * bytes twice on purpose gets both through. Memory is bounded: at most
 * {@link SEEN_ORIGINS_MAX} origins (least recently heard evicted first) and
 * origins silent for {@link SEEN_ORIGIN_IDLE_MS} are forgotten. An SDU
 * more than the window behind its origin's newest is dropped as too old.
 *
 * @example
 * ```ts
 * import { SeenSet } from "./seen.ts";
 * const s = new SeenSet();
 * console.log(s.check(1n, 5), s.check(1n, 5), s.check(1n, 4)); // "new" "dup" "new"
 * ```
 * @module
 */

/** Sequence numbers remembered per origin below its newest (a power of two). */
export const SEEN_WINDOW = 1024;
/** Origins remembered at most. */
export const SEEN_ORIGINS_MAX = 4096;
/** Origins silent this long are forgotten (ms). */
export const SEEN_ORIGIN_IDLE_MS = 60_000;

/** Verdict on one (origin, seq). */
export type Seen = "new" | "dup" | "old";

interface Origin {
  /** Newest sequence number seen. */
  top: number;
  /** Bit (seq mod window) set = seen. */
  bits: Uint32Array;
  lastMs: number;
}

/** Options (tests shrink the limits and drive the clock). */
export interface SeenOptions {
  window?: number;
  maxOrigins?: number;
  idleMs?: number;
  now?: () => number;
}

/** Seen (origin, seq) pairs with bounded memory. */
export class SeenSet {
  readonly #m = new Map<bigint, Origin>();
  readonly #window: number;
  readonly #max: number;
  readonly #idleMs: number;
  readonly #now: () => number;
  /** Origins forgotten to stay under the limit (not for being idle). */
  evicted = 0;

  constructor(opts: SeenOptions = {}) {
    // a power of two ≥ 32, so `seq mod window` stays continuous when seq wraps
    this.#window = Math.max(32, 2 ** Math.ceil(Math.log2(opts.window ?? SEEN_WINDOW)));
    this.#max = opts.maxOrigins ?? SEEN_ORIGINS_MAX;
    this.#idleMs = opts.idleMs ?? SEEN_ORIGIN_IDLE_MS;
    this.#now = opts.now ?? (() => performance.now());
  }

  /** Origins remembered now. */
  get size(): number {
    return this.#m.size;
  }

  /** Record (origin, seq); says whether it was new, a duplicate, or too old to tell. */
  check(origin: bigint, seq: number): Seen {
    seq >>>= 0;
    const now = this.#now();
    this.#sweep(now);
    let o = this.#m.get(origin);
    if (o) this.#m.delete(origin); // re-insert: Map order is least recently heard first
    else {
      if (this.#m.size >= this.#max) {
        const first = this.#m.keys().next().value!;
        this.#m.delete(first);
        this.evicted++;
      }
      o = { top: seq, bits: new Uint32Array(this.#window / 32), lastMs: now };
      this.#m.set(origin, o);
      setBit(o.bits, seq % this.#window);
      return "new";
    }
    o.lastMs = now;
    this.#m.set(origin, o);
    const ahead = (seq - o.top) | 0; // serial arithmetic (RFC 1982) on u32
    if (ahead > 0) {
      if (ahead >= this.#window) o.bits.fill(0);
      else {for (let s = o.top + 1, i = 0; i < ahead; i++, s++) {
          clearBit(o.bits, (s >>> 0) % this.#window);
        }}
      o.top = seq;
      setBit(o.bits, seq % this.#window);
      return "new";
    }
    if (-ahead >= this.#window) return "old";
    const i = seq % this.#window;
    if (getBit(o.bits, i)) return "dup";
    setBit(o.bits, i);
    return "new";
  }

  #sweep(now: number): void {
    for (const [k, o] of this.#m) {
      if (now - o.lastMs < this.#idleMs) break;
      this.#m.delete(k);
    }
  }
}

function setBit(b: Uint32Array, i: number): void {
  b[i >>> 5]! |= 1 << (i & 31);
}
function clearBit(b: Uint32Array, i: number): void {
  b[i >>> 5]! &= ~(1 << (i & 31));
}
function getBit(b: Uint32Array, i: number): boolean {
  return (b[i >>> 5]! & (1 << (i & 31))) !== 0;
}
