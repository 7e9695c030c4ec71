/**
 * A bounded FIFO of packets with async waiting, for a flow's receive side.
 * @module
 */

/** Bounded packet queue: push drops when full, shift waits when empty. */
export class PacketQueue {
  #items: (Uint8Array | undefined)[] = [];
  #head = 0;
  #waiter: (() => void) | undefined;
  drops = 0;

  constructor(readonly limit: number) {}

  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Append; false (and counted) when full. */
  push(p: Uint8Array): boolean {
    if (this.length >= this.limit) {
      this.drops++;
      return false;
    }
    this.#items.push(p);
    this.wake();
    return true;
  }

  /** Remove the oldest packet, if any. */
  shift(): Uint8Array | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const p = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return p;
  }

  /** The oldest packet without removing it. */
  peek(): Uint8Array | undefined {
    return this.#items[this.#head];
  }

  /** Wake the waiter (new packet or state change). */
  wake(): void {
    const w = this.#waiter;
    if (w) {
      this.#waiter = undefined;
      w();
    }
  }

  /** Resolves on the next push/wake, or after `ms`. Returns false on timeout. */
  wait(ms?: number, signal?: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      let t: ReturnType<typeof setTimeout> | undefined;
      const prev = this.#waiter;
      const done = (v: boolean) => {
        if (t !== undefined) clearTimeout(t);
        signal?.removeEventListener("abort", onAbort);
        resolve(v);
      };
      const onAbort = () => {
        if (this.#waiter === w) this.#waiter = prev;
        done(false);
      };
      const w = () => {
        prev?.();
        done(true);
      };
      this.#waiter = w;
      if (ms !== undefined) {
        t = setTimeout(() => {
          if (this.#waiter === w) this.#waiter = prev;
          done(false);
        }, ms);
      }
      signal?.addEventListener("abort", onAbort);
    });
  }
}
