/**
 * The packet scheduler (spec 12 §5): one queue per QoS cube, served by
 * priority. The reference runs reader threads per cube at real-time
 * priorities (BE 50, video 90, voice 99); here packets that arrive in the
 * same turn of the event loop are queued and served highest cube first, in
 * batches, so a backlog of best-effort traffic never delays voice. A
 * starvation guard serves a waiting lower cube after
 * {@link PSCHED_STARVE_LIMIT} packets of higher ones.
 *
 * @example
 * ```ts
 * import { PacketScheduler } from "./psched.ts";
 * const order: number[] = [];
 * const s = new PacketScheduler<number>((qc, x) => order.push(x));
 * s.push(0, 1); s.push(2, 2); // voice first once the batch runs
 * ```
 * @module
 */

/** Priorities of the cubes BE, video, voice (0–99), the reference's values. */
export const QOS_CUBE_PRIORITIES: readonly number[] = Object.freeze([50, 90, 99]);
/** Packets handled per turn before yielding to the event loop. */
export const PSCHED_BATCH = 256;
/** Higher-cube packets served in a row before one of a waiting lower cube. */
export const PSCHED_STARVE_LIMIT = 64;
/** Packets queued per cube; more are dropped. */
export const PSCHED_MAX_QUEUED = 8192;

/** A FIFO that does not shift arrays. */
class Fifo<T> {
  #a: (T | undefined)[] = [];
  #head = 0;
  get length(): number {
    return this.#a.length - this.#head;
  }
  push(x: T): void {
    this.#a.push(x);
  }
  shift(): T | undefined {
    if (this.#head >= this.#a.length) return undefined;
    const x = this.#a[this.#head];
    this.#a[this.#head++] = undefined;
    if (this.#head > 1024 && this.#head * 2 > this.#a.length) {
      this.#a = this.#a.slice(this.#head);
      this.#head = 0;
    }
    return x;
  }
  clear(): void {
    this.#a = [];
    this.#head = 0;
  }
}

/** Per-cube queues drained by priority. */
export class PacketScheduler<T> {
  readonly #queues: Fifo<T>[];
  /** Cube indices, highest priority first. */
  readonly #order: number[];
  #scheduled = false;
  #stopped = false;
  #run = 0;
  #waiters: { below: number; resolve: () => void; p: Promise<void> }[] = [];
  /** Items dropped because a queue was full. */
  dropped = 0;

  /** `handler` gets each item with its cube; it must not throw. */
  constructor(
    readonly handler: (qc: number, item: T) => void,
    priorities: readonly number[] = QOS_CUBE_PRIORITIES,
  ) {
    this.#queues = priorities.map(() => new Fifo<T>());
    this.#order = priorities.map((_, i) => i).sort((a, b) => priorities[b]! - priorities[a]!);
  }

  /** Packets waiting, all cubes. */
  get queued(): number {
    return this.#queues.reduce((n, q) => n + q.length, 0);
  }

  /** Queue `item` on cube `qc`; false if dropped (full or stopped). */
  push(qc: number, item: T): boolean {
    const q = this.#queues[qc] ?? this.#queues[0]!;
    if (this.#stopped || q.length >= PSCHED_MAX_QUEUED) {
      this.dropped++;
      return false;
    }
    q.push(item);
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => this.#drain());
    }
    return true;
  }

  /**
   * Undefined if fewer than `below` items are queued, else a promise that
   * resolves once the queues drained below it (writers' back-pressure).
   */
  waitBelow(below: number): Promise<void> | undefined {
    if (this.queued < below || this.#stopped) return undefined;
    // one promise per threshold: a writer above the mark gets the pending one
    const w = this.#waiters.find((x) => x.below === below);
    if (w) return w.p;
    let resolve!: () => void;
    const p = new Promise<void>((r) => (resolve = r));
    this.#waiters.push({ below, resolve, p });
    return p;
  }

  #wake(): void {
    if (this.#waiters.length === 0) return;
    const n = this.queued;
    this.#waiters = this.#waiters.filter((w) => (n < w.below ? (w.resolve(), false) : true));
  }

  /** Pick the next cube: highest non-empty, unless a lower one waited too long. */
  #next(): number | undefined {
    let first: number | undefined;
    for (const qc of this.#order) {
      if (this.#queues[qc]!.length === 0) continue;
      if (first === undefined) {
        first = qc;
        if (this.#run < PSCHED_STARVE_LIMIT) return qc;
      } else {
        this.#run = 0;
        return qc;
      }
    }
    return first;
  }

  #drain(): void {
    this.#scheduled = false;
    if (this.#stopped) return;
    for (let n = 0; n < PSCHED_BATCH; n++) {
      const qc = this.#next();
      if (qc === undefined) {
        this.#run = 0;
        this.#wake();
        return;
      }
      this.#run++;
      this.handler(qc, this.#queues[qc]!.shift()!);
    }
    this.#wake();
    if (this.queued > 0 && !this.#scheduled) {
      this.#scheduled = true;
      setTimeout(() => this.#drain(), 0);
    }
  }

  /** Drop everything queued and refuse new items. */
  stop(): void {
    this.#stopped = true;
    for (const q of this.#queues) q.clear();
    for (const w of this.#waiters.splice(0)) w.resolve();
  }
}
