/**
 * The send side of a udp IPCP: datagrams go straight into the socket's
 * ring; when the ring is full they are held (in order, bounded) and the
 * writer gets a promise to wait on, so a fast writer is slowed down
 * instead of losing packets.
 * @module
 */
import type { UdpSocket } from "../../io/udp.ts";
import type { IpEndpoint } from "../../io/sockaddr.ts";

/** Datagrams held back while the socket's send ring is full, at most. */
export const UDP_TX_BACKLOG_MAX = 1024;

/** Sends on a {@link UdpSocket} with a bounded hold-back queue. */
export class HeldSender {
  /** Datagrams handed to the socket. */
  packets = 0;
  /** Their bytes. */
  bytes = 0;
  /** Datagrams dropped: backlog full or socket closed. */
  dropped = 0;
  #backlog: { dst: IpEndpoint; data: Uint8Array }[] = [];
  #draining: Promise<void> | undefined;

  constructor(readonly sock: UdpSocket, readonly maxHeld = UDP_TX_BACKLOG_MAX) {}

  /**
   * Send `dgram` to `dst` (`dgram` may be reused after return). Returns
   * undefined when it went into the ring, else a promise that settles when
   * the held datagrams are out: the writer should wait on it.
   */
  send(dst: IpEndpoint, dgram: Uint8Array): Promise<void> | undefined {
    if (this.#backlog.length === 0 && this.sock.send(dst, dgram)) {
      this.packets++;
      this.bytes += dgram.length;
      return undefined;
    }
    if (this.sock.closed || this.#backlog.length >= this.maxHeld) {
      this.dropped++;
      return this.#draining;
    }
    this.#backlog.push({ dst, data: dgram.slice() });
    this.#draining ??= this.#drain();
    return this.#draining;
  }

  /** Number of datagrams held back now. */
  get held(): number {
    return this.#backlog.length;
  }

  /** Resolves once nothing is held back. */
  async idle(): Promise<void> {
    await this.#draining;
  }

  async #drain(): Promise<void> {
    let i = 0;
    try {
      while (i < this.#backlog.length) {
        if (!await this.sock.waitWritable()) break;
        for (; i < this.#backlog.length; i++) {
          const b = this.#backlog[i]!;
          if (!this.sock.send(b.dst, b.data)) break;
          this.packets++;
          this.bytes += b.data.length;
        }
      }
    } finally {
      this.dropped += this.#backlog.length - i;
      this.#backlog = [];
      this.#draining = undefined;
    }
  }
}
