/**
 * An in-memory, one-way lossy link on a simulated clock, for FRCT tests:
 * seeded loss, duplication, delay with jitter and extra reordering delay.
 * Two of them (one per direction) join two {@link FrctEngine}s.
 * @module
 */
import { DeadlineHeap } from "./timers.ts";

/** Impairments of a {@link LossyLink}; all rates are probabilities in [0, 1]. */
export interface LossyLinkOptions {
  /** Probability a packet is lost. */
  lossRate?: number;
  /** Probability a packet is delivered twice. */
  dupRate?: number;
  /** Probability a packet gets an extra delay of up to `reorderDelayNs` (reordering). */
  reorderRate?: number;
  /** Base one-way delay, ns (default 10 ms). */
  delayNs?: number;
  /** Uniform jitter added to the delay, ns (default 0); the link stays FIFO apart from reordered packets. */
  jitterNs?: number;
  /** Maximum extra delay of a reordered packet, ns (default 20 ms). */
  reorderDelayNs?: number;
  /** PRNG seed (default 1). */
  seed?: number;
}

/** Seeded PRNG (mulberry32) returning floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * One direction of a simulated link. Packets are copied on entry, so the
 * sender may reuse its buffer.
 *
 * @example
 * ```ts
 * import { LossyLink } from "./lossy_link.ts";
 * const l = new LossyLink({ delayNs: 1000 });
 * l.send(new Uint8Array([1]), 0);
 * console.log(l.receiveDue(1000).length); // 1
 * ```
 */
export class LossyLink {
  readonly #q = new DeadlineHeap<Uint8Array>();
  readonly #r: () => number;
  readonly #o: Required<Omit<LossyLinkOptions, "seed">>;
  #lastArrivalNs = -Infinity;
  /** When true every packet is dropped (a silent or vanished peer). */
  cut = false;
  /** Counters. */
  readonly stats = { sent: 0, lost: 0, duplicated: 0, reordered: 0, delivered: 0 };

  /** Create a link with the given impairments. */
  constructor(opts: LossyLinkOptions = {}) {
    this.#r = seededRandom(opts.seed ?? 1);
    this.#o = {
      lossRate: opts.lossRate ?? 0,
      dupRate: opts.dupRate ?? 0,
      reorderRate: opts.reorderRate ?? 0,
      delayNs: opts.delayNs ?? 10_000_000,
      jitterNs: opts.jitterNs ?? 0,
      reorderDelayNs: opts.reorderDelayNs ?? 20_000_000,
    };
  }

  /** Put a packet on the link at `nowNs`. */
  send(pkt: Uint8Array, nowNs: number): void {
    this.stats.sent++;
    if (this.cut || this.#r() < this.#o.lossRate) {
      this.stats.lost++;
      return;
    }
    const copies = this.#r() < this.#o.dupRate ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let i = 0; i < copies; i++) {
      // FIFO: never before the previous in-order packet (1 ns apart: the heap is not stable)
      let t = Math.max(
        nowNs + Math.round(this.#o.delayNs + this.#r() * this.#o.jitterNs),
        this.#lastArrivalNs + 1,
      );
      if (i > 0 || this.#r() < this.#o.reorderRate) {
        // held back: later packets overtake it
        t += 1 + Math.round(this.#r() * this.#o.reorderDelayNs);
        this.stats.reordered++;
      } else {
        this.#lastArrivalNs = t;
      }
      this.#q.push(t, pkt.slice());
    }
  }

  /** Packets that have arrived by `nowNs`, in arrival order. */
  receiveDue(nowNs: number): Uint8Array[] {
    const out = this.#q.popDue(nowNs);
    this.stats.delivered += out.length;
    return out;
  }

  /** Arrival time of the next packet, or undefined when the link is empty. */
  nextDueNs(): number | undefined {
    return this.#q.peekDeadline();
  }
}
