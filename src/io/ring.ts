/**
 * Single-producer/single-consumer packet ring over a SharedArrayBuffer.
 *
 * A ring has a fixed number of slots (a power of two), each holding one
 * packet of up to `slotBytes` bytes plus `metaBytes` of per-packet metadata
 * (for the sockets: the peer's sockaddr). Head and tail are free-running
 * 32-bit counters updated with `Atomics`, so publishing a batch is one
 * atomic store and the ring never needs a lock.
 *
 * Nothing spins while idle: a consumer that finds the ring empty announces
 * itself in a flag and sleeps on the head counter (`Atomics.wait` in a
 * Worker, `Atomics.waitAsync` on the main thread); the producer wakes it
 * only on that transition (one `Atomics.notify` per batch, none while the
 * consumer is busy). Full rings work the same way in the other direction.
 * A thread that sleeps on something else (a Worker in `poll(2)`) sets
 * {@link PacketRing.onConsumerWake} / {@link PacketRing.onProducerWake} on the
 * other side's ring object to ring its own doorbell.
 *
 * Both sides attach to the same buffer with {@link PacketRing.from}; the
 * buffer can be posted to a Worker once, after which packets flow with no
 * `postMessage`.
 *
 * @example
 * ```ts
 * import { PacketRing } from "./ring.ts";
 * const ring = PacketRing.create({ slots: 8, slotBytes: 64 });
 * ring.push(new Uint8Array([1, 2, 3]));
 * ring.popBatch((data) => console.log(data)); // Uint8Array [1, 2, 3]
 * ```
 * @module
 */

// Header layout (Int32 indices). Producer and consumer words sit on
// different cache lines.
const HEAD = 0; // packets ever published (producer writes)
const PRODUCER_WAITING = 1; // producer sleeps until space appears
const TAIL = 16; // packets ever consumed (consumer writes)
const CONSUMER_WAITING = 17; // consumer sleeps until a packet appears
const CLOSED = 32;
const SLOTS = 33;
const SLOT_BYTES = 34;
const META_BYTES = 35;
const MAGIC = 36;
const HEADER_BYTES = 256;
const MAGIC_VALUE = 0x0b0a_5107;
const KEEP_ALIVE_MS = 0x7fff_ffff;

/** Sizes of a new ring. */
export interface RingOptions {
  /** Number of slots; rounded up to a power of two (at least 2). */
  slots: number;
  /** Largest packet a slot holds, in bytes. */
  slotBytes: number;
  /** Metadata bytes per slot (e.g. 32 for a sockaddr); default 0. */
  metaBytes?: number;
}

/** Outcome of a wait. */
export type WaitResult = "ok" | "timed-out" | "closed";

/** Called per packet by {@link PacketRing.popBatch}; views are valid only during the call. */
export type PacketVisitor = (data: Uint8Array, meta: Uint8Array, index: number) => void;

function align(n: number, to: number): number {
  return Math.ceil(n / to) * to;
}

function pow2(n: number): number {
  let p = 2;
  while (p < n) p *= 2;
  return p;
}

/** An SPSC packet ring; see the module documentation. */
export class PacketRing {
  /** The shared memory; post it to the other thread and attach with {@link PacketRing.from}. */
  readonly buffer: SharedArrayBuffer;
  /** Number of slots (a power of two). */
  readonly slots: number;
  /** Largest packet per slot, in bytes. */
  readonly slotBytes: number;
  /** Metadata bytes per slot. */
  readonly metaBytes: number;
  /** Distance in bytes between two slots in {@link PacketRing.bytes}. */
  readonly strideBytes: number;
  /** Byte offset of slot 0 in the buffer. */
  readonly slotsOffset: number;
  /** Packet length per slot (index = counter & mask). */
  readonly lens: Int32Array;
  /** The whole buffer as bytes (for zero-copy I/O). */
  readonly bytes: Uint8Array;
  /** Extra wake-up run (after `Atomics.notify`) when a sleeping consumer must wake. */
  onConsumerWake: (() => void) | undefined;
  /** Extra wake-up run (after `Atomics.notify`) when a sleeping producer must wake. */
  onProducerWake: (() => void) | undefined;

  readonly #hdr: Int32Array;
  readonly #mask: number;

  private constructor(buffer: SharedArrayBuffer) {
    const hdr = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    if (hdr[MAGIC] !== MAGIC_VALUE) {
      throw new TypeError("Cannot attach ring: not a PacketRing buffer");
    }
    this.buffer = buffer;
    this.#hdr = hdr;
    this.slots = hdr[SLOTS]!;
    this.slotBytes = hdr[SLOT_BYTES]!;
    this.metaBytes = hdr[META_BYTES]!;
    this.#mask = this.slots - 1;
    this.strideBytes = align(this.metaBytes + this.slotBytes, 16);
    this.lens = new Int32Array(buffer, HEADER_BYTES, this.slots);
    this.slotsOffset = align(HEADER_BYTES + 4 * this.slots, 64);
    this.bytes = new Uint8Array(buffer);
  }

  /** Allocate a new ring. */
  static create(opts: RingOptions): PacketRing {
    const slots = pow2(opts.slots);
    const metaBytes = align(opts.metaBytes ?? 0, 8);
    if (!(opts.slotBytes > 0) || slots > 1 << 24) {
      throw new RangeError("Cannot create ring: bad slot count or size");
    }
    const stride = align(metaBytes + opts.slotBytes, 16);
    const off = align(HEADER_BYTES + 4 * slots, 64);
    const buffer = new SharedArrayBuffer(off + stride * slots);
    const hdr = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    hdr[SLOTS] = slots;
    hdr[SLOT_BYTES] = opts.slotBytes;
    hdr[META_BYTES] = metaBytes;
    hdr[MAGIC] = MAGIC_VALUE;
    return new PacketRing(buffer);
  }

  /** Attach to a ring created elsewhere (e.g. in another Worker). */
  static from(buffer: SharedArrayBuffer): PacketRing {
    return new PacketRing(buffer);
  }

  /** Packets waiting to be consumed. */
  size(): number {
    return (Atomics.load(this.#hdr, HEAD) - Atomics.load(this.#hdr, TAIL)) | 0;
  }

  /** Free slots. */
  free(): number {
    return this.slots - this.size();
  }

  /** Has {@link PacketRing.close} been called (by either side)? */
  get closed(): boolean {
    return Atomics.load(this.#hdr, CLOSED) !== 0;
  }

  /** Mark the ring closed and wake every sleeper. Packets already in it can still be popped. */
  close(): void {
    Atomics.store(this.#hdr, CLOSED, 1);
    Atomics.notify(this.#hdr, HEAD);
    Atomics.notify(this.#hdr, TAIL);
  }

  /** Byte offset in {@link PacketRing.bytes} of the data of slot `index` (any counter value). */
  dataOffset(index: number): number {
    return this.slotsOffset + (index & this.#mask) * this.strideBytes + this.metaBytes;
  }

  /** Byte offset in {@link PacketRing.bytes} of the metadata of slot `index`. */
  metaOffset(index: number): number {
    return this.slotsOffset + (index & this.#mask) * this.strideBytes;
  }

  // ---- producer side -------------------------------------------------------

  /** Producer: counter of the next slot to fill. */
  head(): number {
    return Atomics.load(this.#hdr, HEAD);
  }

  /**
   * Producer: copy one packet (and its metadata) in and publish it.
   * Returns false when the ring is full; throws RangeError when the packet
   * or metadata is larger than a slot.
   */
  push(data: Uint8Array, meta?: Uint8Array): boolean {
    const h = Atomics.load(this.#hdr, HEAD);
    if (((h - Atomics.load(this.#hdr, TAIL)) | 0) >= this.slots) return false;
    this.write(h, data, meta);
    this.publish(1);
    return true;
  }

  /** Producer: push as many of `packets` as fit with one publish; returns how many. */
  pushBatch(packets: readonly Uint8Array[], metas?: readonly Uint8Array[]): number {
    const h = Atomics.load(this.#hdr, HEAD);
    const n = Math.min(packets.length, this.slots - ((h - Atomics.load(this.#hdr, TAIL)) | 0));
    for (let i = 0; i < n; i++) this.write((h + i) | 0, packets[i]!, metas?.[i]);
    if (n > 0) this.publish(n);
    return n;
  }

  /**
   * Producer: fill slot `index` without publishing (see {@link PacketRing.publish}).
   * The caller must have checked there is room.
   */
  write(index: number, data: Uint8Array, meta?: Uint8Array): void {
    if (data.length > this.slotBytes) {
      throw new RangeError(
        `Cannot queue packet: ${data.length} bytes exceed the slot size ${this.slotBytes}`,
      );
    }
    if (meta && meta.length > this.metaBytes) {
      throw new RangeError(
        `Cannot queue packet: ${meta.length} metadata bytes exceed ${this.metaBytes}`,
      );
    }
    const off = this.slotsOffset + (index & this.#mask) * this.strideBytes;
    if (meta) this.bytes.set(meta, off);
    this.bytes.set(data, off + this.metaBytes);
    this.lens[index & this.#mask] = data.length;
  }

  /** Producer: make `n` filled slots visible and wake a sleeping consumer. */
  publish(n: number): void {
    Atomics.add(this.#hdr, HEAD, n);
    if (
      Atomics.load(this.#hdr, CONSUMER_WAITING) !== 0 &&
      Atomics.compareExchange(this.#hdr, CONSUMER_WAITING, 1, 0) === 1
    ) {
      Atomics.notify(this.#hdr, HEAD);
      this.onConsumerWake?.();
    }
  }

  /**
   * Producer: announce that it will sleep until there is room. Returns false
   * (and does not announce) if there is room already.
   */
  armProducerWait(): boolean {
    Atomics.store(this.#hdr, PRODUCER_WAITING, 1);
    if (this.free() > 0 || this.closed) {
      Atomics.store(this.#hdr, PRODUCER_WAITING, 0);
      return false;
    }
    return true;
  }

  /** Producer: withdraw an announcement made with {@link PacketRing.armProducerWait}. */
  disarmProducerWait(): void {
    Atomics.store(this.#hdr, PRODUCER_WAITING, 0);
  }

  /** Producer (Worker only): block until there is room, the timeout passes or the ring closes. */
  waitWritable(timeoutMs = Infinity): WaitResult {
    for (;;) {
      if (this.closed) return "closed";
      const t = Atomics.load(this.#hdr, TAIL);
      if (this.free() > 0) return "ok";
      Atomics.store(this.#hdr, PRODUCER_WAITING, 1);
      const r = Atomics.wait(this.#hdr, TAIL, t, timeoutMs);
      Atomics.store(this.#hdr, PRODUCER_WAITING, 0);
      if (r === "timed-out") return this.free() > 0 ? "ok" : "timed-out";
    }
  }

  /** Producer (any thread): resolve when there is room or the ring closes; true if room. */
  async waitWritableAsync(signal?: AbortSignal): Promise<boolean> {
    while (!this.closed && !signal?.aborted) {
      const t = Atomics.load(this.#hdr, TAIL);
      if (this.free() > 0) return true;
      Atomics.store(this.#hdr, PRODUCER_WAITING, 1);
      await this.#sleep(TAIL, t, signal);
      Atomics.store(this.#hdr, PRODUCER_WAITING, 0);
    }
    return false;
  }

  // ---- consumer side -------------------------------------------------------

  /** Consumer: counter of the next slot to read. */
  tail(): number {
    return Atomics.load(this.#hdr, TAIL);
  }

  /**
   * Consumer: call `visit` for up to `max` packets in order, then release
   * their slots. The views passed to `visit` alias the ring: copy what you
   * keep. Returns the number of packets visited.
   */
  popBatch(visit: PacketVisitor, max = this.slots): number {
    const t = Atomics.load(this.#hdr, TAIL);
    const n = Math.min(max, (Atomics.load(this.#hdr, HEAD) - t) | 0);
    for (let i = 0; i < n; i++) {
      const idx = (t + i) & this.#mask;
      const off = this.slotsOffset + idx * this.strideBytes;
      visit(
        this.bytes.subarray(off + this.metaBytes, off + this.metaBytes + this.lens[idx]!),
        this.bytes.subarray(off, off + this.metaBytes),
        (t + i) | 0,
      );
    }
    if (n > 0) this.release(n);
    return n;
  }

  /** Consumer: pop one packet as a copy, or undefined when empty. */
  pop(): Uint8Array | undefined {
    let out: Uint8Array | undefined;
    this.popBatch((d) => out = d.slice(), 1);
    return out;
  }

  /** Consumer: free `n` slots read in place and wake a sleeping producer. */
  release(n: number): void {
    Atomics.add(this.#hdr, TAIL, n);
    if (
      Atomics.load(this.#hdr, PRODUCER_WAITING) !== 0 &&
      Atomics.compareExchange(this.#hdr, PRODUCER_WAITING, 1, 0) === 1
    ) {
      Atomics.notify(this.#hdr, TAIL);
      this.onProducerWake?.();
    }
  }

  /**
   * Consumer: announce that it will sleep until a packet appears. Returns
   * false (and does not announce) if one is there already.
   */
  armConsumerWait(): boolean {
    Atomics.store(this.#hdr, CONSUMER_WAITING, 1);
    if (this.size() > 0 || this.closed) {
      Atomics.store(this.#hdr, CONSUMER_WAITING, 0);
      return false;
    }
    return true;
  }

  /** Consumer: withdraw an announcement made with {@link PacketRing.armConsumerWait}. */
  disarmConsumerWait(): void {
    Atomics.store(this.#hdr, CONSUMER_WAITING, 0);
  }

  /** Has the consumer announced that it sleeps (and not been woken since)? */
  consumerWaiting(): boolean {
    return Atomics.load(this.#hdr, CONSUMER_WAITING) !== 0;
  }

  /** Consumer (Worker only): block until a packet is there, the timeout passes or the ring closes. */
  waitReadable(timeoutMs = Infinity): WaitResult {
    for (;;) {
      const h = Atomics.load(this.#hdr, HEAD);
      if (((h - Atomics.load(this.#hdr, TAIL)) | 0) > 0) return "ok";
      if (this.closed) return "closed";
      Atomics.store(this.#hdr, CONSUMER_WAITING, 1);
      const r = Atomics.wait(this.#hdr, HEAD, h, timeoutMs);
      Atomics.store(this.#hdr, CONSUMER_WAITING, 0);
      if (r === "timed-out") return this.size() > 0 ? "ok" : "timed-out";
    }
  }

  /**
   * Consumer (any thread, main included): resolve when a packet is there
   * (true) or the ring closes / `signal` aborts with the ring empty (false).
   */
  async waitReadableAsync(signal?: AbortSignal): Promise<boolean> {
    for (;;) {
      const h = Atomics.load(this.#hdr, HEAD);
      if (((h - Atomics.load(this.#hdr, TAIL)) | 0) > 0) return true;
      if (this.closed || signal?.aborted) return false;
      Atomics.store(this.#hdr, CONSUMER_WAITING, 1);
      await this.#sleep(HEAD, h, signal);
      Atomics.store(this.#hdr, CONSUMER_WAITING, 0);
    }
  }

  async #sleep(word: number, seen: number, signal?: AbortSignal): Promise<void> {
    const r = Atomics.waitAsync(this.#hdr, word, seen);
    if (!r.async) return;
    // Deno's event loop does not count a pending waitAsync as work; hold a
    // timer so the process stays alive while we sleep.
    const keepAlive = setTimeout(() => {}, KEEP_ALIVE_MS);
    // An abort wakes the sleeper by notifying the word it sleeps on.
    const onAbort = () => Atomics.notify(this.#hdr, word);
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      await r.value;
    } finally {
      clearTimeout(keepAlive);
      signal?.removeEventListener("abort", onAbort);
    }
  }
}
