/**
 * Preallocated `struct mmsghdr` + `struct iovec` arrays whose entry `i`
 * points straight at slot `i` of a {@link PacketRing}: data into the iovec,
 * metadata (the sockaddr) as `msg_name`. `recvmmsg`/`sendmmsg` then move
 * packets between the kernel and the ring with no copy and no per-call set-up
 * beyond the lengths.
 *
 * @example
 * ```ts
 * import { PacketRing } from "./ring.ts";
 * import { MmsgArray } from "./mmsg.ts";
 * const ring = PacketRing.create({ slots: 64, slotBytes: 2048, metaBytes: 32 });
 * const msgs = new MmsgArray(ring);
 * msgs.prepareRecv(0, 32); // then recvmmsg(fd, msgs.pointer(0), 32, ...)
 * ```
 * @module
 */

import { addressOf, IOVEC_BYTES, MMSGHDR_BYTES } from "./libc.ts";
import type { PacketRing } from "./ring.ts";
import { sockaddrLength } from "./sockaddr.ts";

/** mmsghdr/iovec arrays bound to the slots of one ring. */
export class MmsgArray {
  /** Number of entries (= ring slots). */
  readonly count: number;
  readonly #ring: PacketRing;
  readonly #mem: Uint8Array<ArrayBuffer>;
  readonly #u32: Uint32Array;
  readonly #base: bigint;
  readonly #iovWord: number;

  constructor(ring: PacketRing) {
    const n = ring.slots;
    this.count = n;
    this.#ring = ring;
    // A fresh ArrayBuffer is never moved by the GC, so its address is stable.
    this.#mem = new Uint8Array(new ArrayBuffer(n * (MMSGHDR_BYTES + IOVEC_BYTES)));
    this.#u32 = new Uint32Array(this.#mem.buffer);
    this.#base = addressOf(this.#mem);
    this.#iovWord = (n * MMSGHDR_BYTES) / 4;
    const dv = new DataView(this.#mem.buffer);
    const ringBase = addressOf(ring.bytes);
    const iovBase = this.#base + BigInt(n * MMSGHDR_BYTES);
    for (let i = 0; i < n; i++) {
      const m = i * MMSGHDR_BYTES;
      const iov = n * MMSGHDR_BYTES + i * IOVEC_BYTES;
      dv.setBigUint64(iov, ringBase + BigInt(ring.dataOffset(i)), true); // iov_base
      dv.setBigUint64(iov + 8, BigInt(ring.slotBytes), true); // iov_len
      const name = ring.metaBytes > 0 ? ringBase + BigInt(ring.metaOffset(i)) : 0n;
      dv.setBigUint64(m, name, true); // msg_name
      dv.setUint32(m + 8, ring.metaBytes, true); // msg_namelen
      dv.setBigUint64(m + 16, iovBase + BigInt(i * IOVEC_BYTES), true); // msg_iov
      dv.setBigUint64(m + 24, 1n, true); // msg_iovlen
    }
  }

  /** Pointer to entry `index` (slot index; wraps). */
  pointer(index: number): Deno.PointerValue {
    return Deno.UnsafePointer.create(
      this.#base + BigInt((index & (this.count - 1)) * MMSGHDR_BYTES),
    );
  }

  /** Reset `n` entries from `index` for receiving (full slot, full name buffer). */
  prepareRecv(index: number, n: number): void {
    const u = this.#u32, meta = this.#ring.metaBytes, len = this.#ring.slotBytes;
    for (let k = 0; k < n; k++) {
      const i = (index + k) & (this.count - 1);
      u[i * 16 + 2] = meta; // msg_namelen
      u[this.#iovWord + i * 4 + 2] = len; // iov_len
    }
  }

  /**
   * Set `n` entries from `index` for sending the ring's packets: length from
   * the ring, name length from the sockaddr family in the slot metadata (0 =
   * no address, for a bound packet socket).
   */
  prepareSend(index: number, n: number): void {
    const u = this.#u32, ring = this.#ring, lens = ring.lens, bytes = ring.bytes;
    for (let k = 0; k < n; k++) {
      const i = (index + k) & (this.count - 1);
      u[this.#iovWord + i * 4 + 2] = lens[i]!;
      if (ring.metaBytes > 0) {
        const off = ring.metaOffset(i);
        u[i * 16 + 2] = sockaddrLength(bytes.subarray(off, off + 2));
      }
    }
  }

  /** Bytes received into entry `index` (`msg_len`). */
  msgLen(index: number): number {
    return this.#u32[(index & (this.count - 1)) * 16 + 14]!;
  }

  /** `msg_flags` of entry `index` (e.g. MSG_TRUNC). */
  msgFlags(index: number): number {
    return this.#u32[(index & (this.count - 1)) * 16 + 12]!;
  }
}
