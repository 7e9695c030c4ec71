/**
 * Packet buffers cut from shared slabs: a bump allocator that never reuses
 * memory (a slab is freed by the GC once all its packets are gone), so a
 * buffer is owned like a fresh one, at the cost of a view instead of an
 * ArrayBuffer per packet.
 *
 * @example
 * ```ts
 * import { Slab } from "./slab.ts";
 * const slab = new Slab();
 * const pkt = slab.copy(new Uint8Array([1, 2, 3]), 15); // 15 bytes of room, then 1 2 3
 * ```
 * @module
 */

/** Default slab size in bytes. */
export const SLAB_BYTES = 64 * 1024;

/** A bump allocator of packet buffers. */
export class Slab {
  #buf = new ArrayBuffer(0);
  #off = 0;

  /** Buffers above `bytes / 8` get their own ArrayBuffer. */
  constructor(readonly bytes = SLAB_BYTES) {}

  /** A zeroed buffer of `n` bytes that nothing else uses. */
  alloc(n: number): Uint8Array {
    if (n > this.bytes >> 3) return new Uint8Array(n);
    if (this.#off + n > this.#buf.byteLength) {
      this.#buf = new ArrayBuffer(this.bytes);
      this.#off = 0;
    }
    const b = new Uint8Array(this.#buf, this.#off, n);
    this.#off += n;
    return b;
  }

  /** A copy of `src` after `room` zero bytes. */
  copy(src: Uint8Array, room = 0): Uint8Array {
    const b = this.alloc(room + src.length);
    b.set(src, room);
    return b;
  }
}
