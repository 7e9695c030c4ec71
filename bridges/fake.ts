/**
 * In-memory TUN/TAP devices for tests: a pair whose ends see each other's
 * writes as reads (two tunnel endpoints, or "the kernel" and "the app"),
 * and a loopback whose writes come back as its own reads. No kernel, no
 * permissions, no timers: a write is readable on the next microtask.
 *
 * @example
 * ```ts
 * import { createFakePair } from "./fake.ts";
 * const [app, kernel] = createFakePair({ name: "tun-test" });
 * kernel.writeBatch([new Uint8Array([0x45]), new Uint8Array([0x60])]);
 * console.log((await app.read())?.length); // 2
 * await app.close();
 * await kernel.close();
 * ```
 * @module
 */

import {
  batchesFrom,
  pumpFrom,
  type SignalOptions,
  type TunCounters,
  type TunDevice,
  type TunKind,
  zeroCounters,
} from "./device.ts";

/** Options of a fake device. */
export interface FakeTunOptions {
  /** Interface name (default `fake0`/`fake1`). */
  name?: string;
  /** `tun` (default) or `tap`. */
  kind?: TunKind;
  /** MTU (default 1500). */
  mtu?: number;
  /** Packets a device buffers for its reader before writes to it are refused (default 1024). */
  queuePackets?: number;
  /** Most packets returned by one `read` (default 128). */
  batchPackets?: number;
}

class FakeTun implements TunDevice {
  readonly name: string;
  readonly kind: TunKind;
  mtu: number;
  peer: FakeTun | undefined;
  #closed = false;
  readonly #inbox: Uint8Array[] = [];
  readonly #limit: number;
  readonly #batch: number;
  readonly #c = zeroCounters();
  #readWake: (() => void) | undefined;
  #roomWake: (() => void)[] = [];

  constructor(name: string, o: FakeTunOptions) {
    this.name = name;
    this.kind = o.kind ?? "tun";
    this.mtu = o.mtu ?? 1500;
    this.#limit = o.queuePackets ?? 1024;
    this.#batch = o.batchPackets ?? 128;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Deliver packets written by the peer; returns how many fit. */
  deliver(packets: readonly Uint8Array[]): number {
    if (this.#closed) return 0;
    const n = Math.min(packets.length, this.#limit - this.#inbox.length);
    for (let i = 0; i < n; i++) this.#inbox.push(packets[i]!.slice());
    if (n > 0) this.#wakeReader();
    return n;
  }

  hasRoom(): boolean {
    return this.#inbox.length < this.#limit;
  }

  waitRoom(): Promise<void> {
    return new Promise((r) => this.#roomWake.push(r));
  }

  #wakeReader(): void {
    const w = this.#readWake;
    this.#readWake = undefined;
    w?.();
  }

  async read(options?: SignalOptions): Promise<Uint8Array[] | null> {
    const signal = options?.signal;
    while (this.#inbox.length === 0) {
      if (this.#closed || signal?.aborted) return null;
      await new Promise<void>((resolve) => {
        const onAbort = () => resolve();
        signal?.addEventListener("abort", onAbort, { once: true });
        this.#readWake = () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        };
      });
    }
    const batch = this.#inbox.splice(0, this.#batch);
    for (const p of batch) {
      this.#c.rxPackets++;
      this.#c.rxBytes += p.length;
    }
    const wakers = this.#roomWake;
    this.#roomWake = [];
    for (const w of wakers) w();
    return batch;
  }

  batches(options?: SignalOptions): AsyncIterableIterator<Uint8Array[]> {
    return batchesFrom((o) => this.read(o), options);
  }

  pump(onBatch: (p: Uint8Array[]) => void | Promise<void>, options?: SignalOptions): Promise<void> {
    return pumpFrom((o) => this.read(o), onBatch, options);
  }

  write(packet: Uint8Array): boolean {
    return this.writeBatch([packet]) === 1;
  }

  writeBatch(packets: readonly Uint8Array[]): number {
    const n = this.#closed || !this.peer ? 0 : this.peer.deliver(packets);
    for (let i = 0; i < n; i++) {
      this.#c.txPackets++;
      this.#c.txBytes += packets[i]!.length;
    }
    this.#c.txDropped += packets.length - n;
    return n;
  }

  async drain(options?: SignalOptions): Promise<boolean> {
    while (!this.#closed && this.peer && !this.peer.hasRoom()) {
      if (options?.signal?.aborted || this.peer.closed) return false;
      await this.peer.waitRoom();
    }
    return !this.#closed && !!this.peer && !this.peer.closed;
  }

  counters(): TunCounters {
    return { ...this.#c };
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#inbox.length = 0;
      this.#wakeReader();
      const wakers = this.#roomWake;
      this.#roomWake = [];
      for (const w of wakers) w();
    }
    return Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Two connected fake devices: packets written to one are read from the other.
 * `options.name` names the first (the second gets `<name>-peer`).
 */
export function createFakePair(options: FakeTunOptions = {}): [TunDevice, TunDevice] {
  const a = new FakeTun(options.name ?? "fake0", options);
  const b = new FakeTun(options.name ? `${options.name}-peer` : "fake1", options);
  a.peer = b;
  b.peer = a;
  return [a, b];
}

/** One fake device whose writes come back as its own reads. */
export function createFakeLoopback(options: FakeTunOptions = {}): TunDevice {
  const a = new FakeTun(options.name ?? "fake0", options);
  a.peer = a;
  return a;
}
