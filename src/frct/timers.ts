/**
 * Timer structure for FRCT (spec 03 §9): a binary min-heap of deadlines on
 * an injected clock. It replaces the reference's timer wheels; entries fire
 * at the first `popDue(now)` with `now >= deadline`, so a caller ticking
 * every {@link TICTIME_NS} fires them between `deadline` and
 * `deadline + TICTIME`, inside the spec's allowed slack.
 *
 * No real timers: time only moves when the caller passes a new `now`.
 * Clock unit everywhere in FRCT: **nanoseconds of a monotonic clock as a JS
 * number** (exact up to 2^53 ns ≈ 104 days since the clock's origin);
 * {@link monoNowNs} gives such a clock.
 * @module
 */

/** Monotonic clock in ns (a JS number; origin = process start). */
export function monoNowNs(): number {
  return Math.round(performance.now() * 1e6);
}

/**
 * A min-heap of `(deadlineNs, item)`. Removal is lazy: callers check on pop
 * whether the item is still wanted, and may {@link DeadlineHeap.compact}
 * to drop dead entries in bulk.
 *
 * @example
 * ```ts
 * import { DeadlineHeap } from "./timers.ts";
 * const h = new DeadlineHeap<string>();
 * h.push(20, "b");
 * h.push(10, "a");
 * console.log(h.popDue(15)); // ["a"]
 * ```
 */
export class DeadlineHeap<T> {
  #t: number[] = [];
  #v: T[] = [];

  /** Number of entries, dead or alive. */
  get size(): number {
    return this.#t.length;
  }

  /** The earliest deadline, or undefined when empty. */
  peekDeadline(): number | undefined {
    return this.#t[0];
  }

  /** Add an entry. */
  push(deadlineNs: number, item: T): void {
    const t = this.#t, v = this.#v;
    let i = t.length;
    t.push(deadlineNs);
    v.push(item);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (t[p]! <= deadlineNs) break;
      t[i] = t[p]!;
      v[i] = v[p]!;
      i = p;
    }
    t[i] = deadlineNs;
    v[i] = item;
  }

  /** Remove and return the earliest entry, or undefined when empty. */
  pop(): { deadlineNs: number; item: T } | undefined {
    const t = this.#t, v = this.#v;
    if (t.length === 0) return undefined;
    const deadlineNs = t[0]!, item = v[0]!;
    const lt = t.pop()!, lv = v.pop()!;
    const n = t.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && t[r]! < t[l]! ? r : l;
        if (t[c]! >= lt) break;
        t[i] = t[c]!;
        v[i] = v[c]!;
        i = c;
      }
      t[i] = lt;
      v[i] = lv;
    }
    return { deadlineNs, item };
  }

  /** Remove and return every item whose deadline is `<= nowNs`, earliest first. */
  popDue(nowNs: number): T[] {
    const out: T[] = [];
    while (this.#t.length > 0 && this.#t[0]! <= nowNs) out.push(this.pop()!.item);
    return out;
  }

  /** Keep only the entries for which `keep` is true (O(n) rebuild). */
  compact(keep: (item: T) => boolean): void {
    const t = this.#t, v = this.#v;
    this.#t = [];
    this.#v = [];
    for (let i = 0; i < t.length; i++) if (keep(v[i]!)) this.push(t[i]!, v[i]!);
  }

  /** Drop everything. */
  clear(): void {
    this.#t = [];
    this.#v = [];
  }
}
