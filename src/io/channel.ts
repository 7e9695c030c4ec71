/**
 * Main-thread side of a socket served by a Worker: two rings (rx filled by
 * the Worker, tx drained by it), a doorbell eventfd, counters, and an
 * orderly stop. {@link UdpSocket} and {@link PacketSocket} are thin layers
 * over it; it knows nothing about addresses.
 *
 * Packets never cross `postMessage`: the caller pushes into the tx ring
 * (one atomic store per packet; the Worker is woken only when it sleeps),
 * and waits for the rx ring with `Atomics.waitAsync`, so a packet arriving
 * on an idle socket wakes the consumer within tens of microseconds.
 * @module
 */

import { errno, eventfd, libc, MSG_DONTWAIT, ringDoorbell } from "./libc.ts";
import { PacketRing } from "./ring.ts";
import { CTL, CTL_BYTES, type InitMessage, STAT, STATS_BYTES } from "./channel_proto.ts";
import { FastRxControl, fastRxShared } from "./fast_rx.ts";
import { logger } from "../lib/log.ts";

const log = logger("io");
const EAGAIN = 11, ENOBUFS = 105;

/** Default slots per ring. */
export const DEFAULT_RING_SLOTS = 1024;
/** Default most packets per recvmmsg/sendmmsg call. */
export const DEFAULT_BATCH = 64;
/** Default longest Worker sleep in poll(2), in ms. */
export const DEFAULT_POLL_MS = 500;
/** How long close() waits for the Worker to leave its loop before terminating it, in ms. */
export const STOP_TIMEOUT_MS = 2000;

/** Sizes and tunables of a channel. */
export interface ChannelOptions {
  /** Slots per ring (power of two). */
  slots?: number;
  /** Largest packet, in bytes. */
  slotBytes: number;
  /** Metadata bytes per rx slot (space for the kernel's source sockaddr). */
  rxMetaBytes: number;
  /** Metadata bytes per tx slot (the destination sockaddr), 0 for none. */
  txMetaBytes: number;
  /** Most packets per system call. */
  batch?: number;
  /** Longest Worker sleep, in ms. */
  pollMs?: number;
}

/** Counters of a channel. */
export interface ChannelStats {
  /** Packets received and queued for the consumer. */
  rxPackets: number;
  /** Bytes of those packets. */
  rxBytes: number;
  /** Packets handed to the kernel. */
  txPackets: number;
  /** Bytes of those packets. */
  txBytes: number;
  /** Packets refused by `send` because the tx ring was full. */
  txDrops: number;
  /** Datagrams dropped because they were larger than a slot. */
  rxTruncated: number;
  /** Failed receive calls. */
  rxErrors: number;
  /** Packets the kernel refused to send (dropped). */
  txErrors: number;
  /** errno of the last error (0 if none). */
  lastErrno: number;
  /** Datagrams of fast flows, handled in the Worker (see `fast_rx.ts`). */
  rxFast: number;
}

/** A socket fd served by a Worker; see the module documentation. */
export class DatagramChannel {
  /** Received packets (consumer: this thread). */
  readonly rx: PacketRing;
  /** Packets to send (producer: this thread). */
  readonly tx: PacketRing;
  /** The socket fd (owned: closed by {@link DatagramChannel.close}). */
  readonly fd: number;
  #doorbell: number;
  #worker: Worker;
  #ctl: Int32Array;
  #stats: Float64Array;
  readonly #fastShared = fastRxShared();
  /** Flows received straight to a TUN device by the Worker. */
  readonly fastRx: FastRxControl;
  #txDrops = 0;
  // Direct sends from this thread: packets, bytes, errors, last errno.
  #direct = new Float64Array(4);
  #directUsed = false;
  #resetDirect = () => this.#directUsed = false;
  #receiving = false;
  #stopped: Promise<void>;
  #closing: Promise<void> | undefined;

  private constructor(
    fd: number,
    doorbell: number,
    worker: Worker,
    opts: ChannelOptions,
    stopped: Promise<void>,
  ) {
    this.fd = fd;
    this.#doorbell = doorbell;
    this.#worker = worker;
    const slots = opts.slots ?? DEFAULT_RING_SLOTS;
    this.rx = PacketRing.create({ slots, slotBytes: opts.slotBytes, metaBytes: opts.rxMetaBytes });
    this.tx = PacketRing.create({ slots, slotBytes: opts.slotBytes, metaBytes: opts.txMetaBytes });
    this.tx.onConsumerWake = () => ringDoorbell(doorbell);
    this.rx.onProducerWake = () => ringDoorbell(doorbell);
    this.#ctl = new Int32Array(new SharedArrayBuffer(CTL_BYTES));
    this.#stats = new Float64Array(new SharedArrayBuffer(STATS_BYTES));
    this.fastRx = new FastRxControl(this.#fastShared, () => ringDoorbell(doorbell));
    this.#stopped = stopped;
  }

  /**
   * Start a Worker serving `fd` (a bound non-blocking datagram socket).
   * Takes ownership of `fd`: it is closed on failure and by close().
   */
  static async start(fd: number, opts: ChannelOptions): Promise<DatagramChannel> {
    let doorbell = -1;
    let worker: Worker | undefined;
    try {
      doorbell = eventfd();
      worker = new Worker(new URL("./dgram_worker.ts", import.meta.url).href, { type: "module" });
      const w = worker;
      let onReady!: () => void, onFail!: (e: Error) => void, onStop!: () => void;
      const ready = new Promise<void>((res, rej) => [onReady, onFail] = [res, rej]);
      const stopped = new Promise<void>((res) => onStop = res);
      w.onmessage = (e: MessageEvent<{ type: string; error?: string }>) => {
        if (e.data.type === "ready") onReady();
        else if (e.data.type === "stopped") {
          if (e.data.error) log.error(`worker for fd ${fd} failed: ${e.data.error}`);
          onStop();
        }
      };
      w.onerror = (e: ErrorEvent) => {
        e.preventDefault();
        log.error(`worker for fd ${fd} crashed: ${e.message}`);
        onFail(new Error(`Cannot start packet I/O worker: ${e.message}`));
        onStop();
      };
      const ch = new DatagramChannel(fd, doorbell, w, opts, stopped);
      const init: InitMessage = {
        fd,
        doorbell,
        rx: ch.rx.buffer,
        tx: ch.tx.buffer,
        ctl: ch.#ctl.buffer as SharedArrayBuffer,
        stats: ch.#stats.buffer as SharedArrayBuffer,
        batch: opts.batch ?? DEFAULT_BATCH,
        pollMs: opts.pollMs ?? DEFAULT_POLL_MS,
        fast: ch.#fastShared,
      };
      w.postMessage(init);
      await ready;
      return ch;
    } catch (e) {
      worker?.terminate();
      if (doorbell >= 0) libc().close(doorbell);
      libc().close(fd);
      throw e;
    }
  }

  /** Has close() been called? */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Queue one packet for sending; `addr` is the destination sockaddr (kept
   * as the slot metadata) or undefined for a bound packet socket. Returns
   * false and counts a drop when the tx ring is full or the channel is
   * closed. Throws RangeError if the packet is larger than a slot.
   *
   * Latency path: when the Worker sleeps with an empty tx ring, the first
   * packet of a burst is sent right here with one `sendto` (which costs
   * about what waking the Worker would), so an idle socket adds no thread
   * hop on transmit. Later packets of the same burst go through the ring
   * and the Worker batches them; order is kept because the direct send
   * happens only while the ring is empty.
   */
  enqueue(data: Uint8Array, addr?: Uint8Array): boolean {
    if (this.#closing !== undefined) {
      this.#txDrops++;
      return false;
    }
    if (!this.#directUsed && this.tx.consumerWaiting() && this.tx.size() === 0) {
      this.#directUsed = true;
      queueMicrotask(this.#resetDirect);
      if (data.length > this.tx.slotBytes) {
        throw new RangeError(
          `Cannot queue packet: ${data.length} bytes exceed the slot size ${this.tx.slotBytes}`,
        );
      }
      const r = Number(
        libc().sendto(
          this.fd,
          data,
          BigInt(data.length),
          MSG_DONTWAIT,
          addr ?? null,
          addr?.length ?? 0,
        ),
      );
      if (r >= 0) {
        this.#direct[0]!++;
        this.#direct[1]! += data.length;
        return true;
      }
      const e = errno();
      if (e !== EAGAIN && e !== ENOBUFS) {
        this.#direct[2]!++;
        this.#direct[3] = e;
        return true; // accepted, then refused by the kernel: counted like a Worker send error
      }
      // Socket buffer full: queue it, the Worker waits for room.
    }
    if (this.tx.push(data, addr)) return true;
    this.#txDrops++;
    return false;
  }

  /**
   * Wait until packets are there, then call `visit` for up to `max` of them
   * (views valid only during the call). Resolves to the number visited, 0
   * once the channel is closed; rejects with the abort reason if `signal`
   * aborts first. One receiver at a time.
   */
  async receive(
    visit: (data: Uint8Array, meta: Uint8Array) => void,
    max = DEFAULT_RING_SLOTS,
    signal?: AbortSignal,
  ): Promise<number> {
    if (this.#receiving) {
      throw new Error("Cannot receive: another receive is already waiting on this socket");
    }
    this.#receiving = true;
    try {
      for (;;) {
        const n = this.rx.popBatch(visit, max);
        if (n > 0) return n;
        signal?.throwIfAborted();
        if (this.rx.closed) return 0;
        await this.rx.waitReadableAsync(signal);
      }
    } finally {
      this.#receiving = false;
    }
  }

  /**
   * Resolve when the tx ring has room again (true), or false once the
   * channel closes or `signal` aborts. For senders that want backpressure
   * instead of drops.
   */
  async waitWritable(signal?: AbortSignal): Promise<boolean> {
    if (this.#closing !== undefined) return false;
    return await this.tx.waitWritableAsync(signal) && this.#closing === undefined;
  }

  /** A snapshot of the counters. */
  stats(): ChannelStats {
    const s = this.#stats, d = this.#direct;
    return {
      rxPackets: s[STAT.RX_PACKETS]!,
      rxBytes: s[STAT.RX_BYTES]!,
      txPackets: s[STAT.TX_PACKETS]! + d[0]!,
      txBytes: s[STAT.TX_BYTES]! + d[1]!,
      txDrops: this.#txDrops,
      rxTruncated: s[STAT.RX_TRUNCATED]!,
      rxErrors: s[STAT.RX_ERRORS]!,
      txErrors: s[STAT.TX_ERRORS]! + d[2]!,
      lastErrno: s[STAT.LAST_ERRNO]! || d[3]!,
      rxFast: s[STAT.RX_FAST]!,
    };
  }

  /**
   * Stop the Worker, close the fd and the doorbell, wake any receiver.
   * Packets still in the tx ring are sent first if the Worker gets to them
   * before it sees the stop. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    Atomics.store(this.#ctl, CTL.STOP, 1);
    ringDoorbell(this.#doorbell);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<void>((res) => timer = setTimeout(res, STOP_TIMEOUT_MS));
    await Promise.race([this.#stopped, late]);
    clearTimeout(timer);
    this.#worker.terminate();
    libc().close(this.#doorbell);
    libc().close(this.fd);
    this.rx.close();
    this.tx.close();
  }
}
