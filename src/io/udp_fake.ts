/**
 * An in-memory stand-in for {@link UdpSocket}: sockets opened on one
 * {@link FakeUdpNetwork} reach each other by address and port with no
 * kernel and no Worker, optionally losing datagrams. For fast tests of code
 * written against {@link DatagramSocket}.
 *
 * @example
 * ```ts
 * import { FakeUdpNetwork } from "./udp_fake.ts";
 * const net = new FakeUdpNetwork();
 * const a = net.open({ hostname: "10.0.0.1" }), b = net.open({ hostname: "10.0.0.2", port: 7 });
 * a.send(b.addr, new Uint8Array([1]));
 * console.log((await b.receive())[0]?.remote); // { hostname: "10.0.0.1", port: 49152 }
 * ```
 * @module
 */

import { IoError } from "./libc.ts";
import type { IpEndpoint } from "./sockaddr.ts";
import type { Datagram, DatagramSocket, UdpStats } from "./udp.ts";

/** Options of a {@link FakeUdpNetwork}. */
export interface FakeUdpNetworkOptions {
  /** Probability in [0, 1) that a datagram is lost; default 0. */
  lossRate?: number;
  /** Random source for losses (for reproducible tests); default Math.random. */
  random?: () => number;
  /** Datagrams a socket holds before dropping more; default 1024. */
  queueLimit?: number;
}

const key = (ep: IpEndpoint) => `${ep.hostname}|${ep.port}`;

/** A set of in-memory UDP sockets that can reach each other. */
export class FakeUdpNetwork {
  readonly #sockets = new Map<string, FakeUdpSocket>();
  readonly #opts: Required<FakeUdpNetworkOptions>;
  #nextPort = 49152;

  constructor(opts: FakeUdpNetworkOptions = {}) {
    this.#opts = { lossRate: 0, random: Math.random, queueLimit: 1024, ...opts };
  }

  /** Open a socket; port 0 or none picks a free one. Throws IoError EADDRINUSE. */
  open(opts: { hostname?: string; port?: number } = {}): FakeUdpSocket {
    const hostname = opts.hostname ?? "127.0.0.1";
    let port = opts.port ?? 0;
    if (port === 0) { while (this.#sockets.has(key({ hostname, port: port = this.#nextPort++ }))); }
    const addr = Object.freeze({ hostname, port });
    if (this.#sockets.has(key(addr))) {
      throw new IoError(
        98,
        `Cannot bind UDP socket to ${hostname}:${port}: address in use (EADDRINUSE)`,
      );
    }
    const s = new FakeUdpSocket(
      addr,
      this.#opts.queueLimit,
      (dst, d) => this.#deliver(dst, d),
      () => this.#sockets.delete(key(addr)),
    );
    this.#sockets.set(key(addr), s);
    return s;
  }

  #deliver(dst: IpEndpoint, d: Datagram): void {
    if (this.#opts.lossRate > 0 && this.#opts.random() < this.#opts.lossRate) return;
    this.#sockets.get(key(dst))?.deliver(d);
  }
}

/** One in-memory socket of a {@link FakeUdpNetwork}. */
export class FakeUdpSocket implements DatagramSocket {
  /** The bound local address. */
  readonly addr: IpEndpoint;
  #queue: Datagram[] = [];
  #wake: (() => void) | undefined;
  #closed = false;
  #stats: UdpStats = {
    rxPackets: 0,
    rxBytes: 0,
    txPackets: 0,
    txBytes: 0,
    txDrops: 0,
    rxTruncated: 0,
    rxFast: 0,
    rxErrors: 0,
    txErrors: 0,
    lastErrno: 0,
  };

  /** Use {@link FakeUdpNetwork.open}. */
  constructor(
    addr: IpEndpoint,
    private readonly queueLimit: number,
    private readonly route: (dst: IpEndpoint, d: Datagram) => void,
    private readonly unbind: () => void,
  ) {
    this.addr = addr;
  }

  /** Has close() been called? */
  get closed(): boolean {
    return this.#closed;
  }

  /** Called by the network: queue a datagram for this socket (drops when full). */
  deliver(d: Datagram): void {
    if (this.#closed) return;
    if (this.#queue.length >= this.queueLimit) {
      this.#stats.rxErrors++;
      return;
    }
    this.#queue.push(d);
    this.#stats.rxPackets++;
    this.#stats.rxBytes += d.data.length;
    this.#wake?.();
  }

  /** Send a copy of `data` to `dst` (lost silently if nobody is bound there). */
  send(dst: IpEndpoint, data: Uint8Array): boolean {
    if (this.#closed) {
      this.#stats.txDrops++;
      return false;
    }
    this.#stats.txPackets++;
    this.#stats.txBytes += data.length;
    this.route({ hostname: dst.hostname, port: dst.port }, {
      data: data.slice(),
      remote: this.addr,
    });
    return true;
  }

  /** Wait for datagrams; [] once closed; rejects when `signal` aborts. */
  async receive(opts: { signal?: AbortSignal; max?: number } = {}): Promise<Datagram[]> {
    while (this.#queue.length === 0 && !this.#closed) {
      opts.signal?.throwIfAborted();
      await new Promise<void>((resolve) => {
        const onAbort = () => resolve();
        opts.signal?.addEventListener("abort", onAbort, { once: true });
        this.#wake = () => {
          opts.signal?.removeEventListener("abort", onAbort);
          resolve();
        };
      });
      this.#wake = undefined;
    }
    return this.#queue.splice(0, opts.max ?? this.#queue.length);
  }

  /** Deliver every datagram to `handler` until closed or aborted. */
  async onReceive(
    handler: (data: Uint8Array, remote: IpEndpoint) => void,
    opts: { signal?: AbortSignal; copy?: boolean } = {},
  ): Promise<void> {
    for (;;) {
      let batch: Datagram[];
      try {
        batch = await this.receive({ signal: opts.signal });
      } catch (e) {
        if (opts.signal?.aborted) return;
        throw e;
      }
      if (batch.length === 0) return;
      for (const d of batch) handler(d.data, d.remote);
    }
  }

  /** Always ready while open. */
  waitWritable(): Promise<boolean> {
    return Promise.resolve(!this.#closed);
  }

  /** Counters. */
  stats(): UdpStats {
    return { ...this.#stats };
  }

  /** Unbind and wake any receiver. */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.unbind();
      this.#wake?.();
    }
    return Promise.resolve();
  }

  /** Same as close(). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Batches until closed. */
  async *[Symbol.asyncIterator](): AsyncIterator<Datagram[]> {
    for (;;) {
      const b = await this.receive();
      if (b.length === 0) return;
      yield b;
    }
  }
}
