/**
 * The send side of an Ethernet IPCP: frames go straight to the link's ring;
 * when it is full they wait in a bounded backlog and the writer is handed a
 * promise to wait on (back-pressure instead of loss).
 * @module
 */
import type { EthLink } from "./link.ts";

/**
 * Bytes of frames held back while the socket's send ring is full, at most.
 * Above one read of the IRMd's app socket (256 KiB of SDUs, handed over
 * before the reader can pause for back-pressure), so even 64-byte floods
 * wait instead of being dropped.
 */
export const ETH_TX_BACKLOG_BYTES = 1 << 20;

/** Counters the sender keeps (shared with the IPCP's). */
export interface EthTxCounters {
  txPackets: number;
  txBytes: number;
  txFull: number;
}

/** Sends data frames on one link; see the module documentation. */
export class EthSender {
  #backlog: Uint8Array[] = [];
  #backlogBytes = 0;
  #draining: Promise<void> | undefined;

  constructor(
    readonly link: EthLink,
    readonly hdrLen: number,
    readonly counters: EthTxCounters,
  ) {}

  /**
   * Send a frame (a view the caller may reuse after return). Returns a
   * promise when the frame had to wait: the writer should pause until then.
   */
  send(frame: Uint8Array): Promise<void> | undefined {
    if (this.#backlog.length === 0 && this.link.send(frame)) {
      this.counters.txPackets++;
      this.counters.txBytes += frame.length - this.hdrLen;
      return undefined;
    }
    if (this.link.closed || this.#backlogBytes + frame.length > ETH_TX_BACKLOG_BYTES) {
      this.counters.txFull++;
      return this.#draining;
    }
    this.#backlog.push(frame.slice());
    this.#backlogBytes += frame.length;
    this.#draining ??= this.#drain();
    return this.#draining;
  }

  async #drain(): Promise<void> {
    const link = this.link;
    try {
      let i = 0;
      while (i < this.#backlog.length) {
        if (!await link.waitWritable()) break;
        for (; i < this.#backlog.length; i++) {
          const b = this.#backlog[i]!;
          if (!link.send(b)) break;
          this.counters.txPackets++;
          this.counters.txBytes += b.length - this.hdrLen;
        }
      }
      this.counters.txFull += this.#backlog.length - i;
    } finally {
      this.#backlog = [];
      this.#backlogBytes = 0;
      this.#draining = undefined;
    }
  }

  /** Resolves once the backlog is sent or dropped (after the link closes). */
  drained(): Promise<void> {
    return this.#draining ?? Promise.resolve();
  }
}
