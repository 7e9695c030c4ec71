/**
 * What a socket served by a {@link DatagramChannel} Worker (UDP, AF_PACKET)
 * does the same way whatever it carries: deliver every packet to a handler
 * until it closes, iterate batches, wait for room, count, close.
 * @module
 */
import type { ChannelStats, DatagramChannel } from "./channel.ts";
import type { FastRxControl } from "./fast_rx.ts";
import { logger } from "../lib/log.ts";

const log = logger("io");

/** Base of the channel-served sockets; `T` is one received packet as the subclass returns it. */
export abstract class ChannelSocket<T> implements AsyncIterable<T[]>, AsyncDisposable {
  /** The Worker-served channel. */
  protected readonly ch: DatagramChannel;

  /** Serve `ch` (owned: closed by {@link ChannelSocket.close}). */
  protected constructor(ch: DatagramChannel) {
    this.ch = ch;
  }

  /** Wait for packets; resolves [] once the socket is closed. */
  abstract receive(opts?: { signal?: AbortSignal; max?: number }): Promise<T[]>;

  /**
   * Run `visit` on every packet until the socket closes or `signal`
   * aborts; a throwing visitor is logged and delivery goes on.
   */
  protected async deliverAll(
    visit: (data: Uint8Array, meta: Uint8Array) => void,
    signal?: AbortSignal,
  ): Promise<void> {
    const guarded = (data: Uint8Array, meta: Uint8Array) => {
      try {
        visit(data, meta);
      } catch (e) {
        log.error(`receive handler failed: ${(e as Error)?.message ?? e}`);
      }
    };
    try {
      while (await this.ch.receive(guarded, undefined, signal) > 0) { /* deliver */ }
    } catch (e) {
      if (!signal?.aborted) throw e;
    }
  }

  /** Batches of packets until the socket closes. */
  async *[Symbol.asyncIterator](): AsyncIterator<T[]> {
    for (;;) {
      const batch = await this.receive();
      if (batch.length === 0) return;
      yield batch;
    }
  }

  /**
   * Resolve when there is room to queue another packet (true), or false
   * once the socket closes or `signal` aborts: backpressure instead of drops.
   */
  waitWritable(opts: { signal?: AbortSignal } = {}): Promise<boolean> {
    return this.ch.waitWritable(opts.signal);
  }

  /** The socket's fd (owned by this socket; others may borrow a duplicate). */
  get fd(): number {
    return this.ch.fd;
  }

  /** Flows the Worker receives straight into a TUN device (`fast_rx.ts`). */
  get fastRx(): FastRxControl {
    return this.ch.fastRx;
  }

  /** Counters: rx/tx packets and bytes, drops, errors. */
  stats(): ChannelStats {
    return this.ch.stats();
  }

  /** Has close() been called? */
  get closed(): boolean {
    return this.ch.closed;
  }

  /** Stop the Worker and close the socket. Idempotent. */
  close(): Promise<void> {
    return this.ch.close();
  }

  /** Same as close(), for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
