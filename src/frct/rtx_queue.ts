/**
 * The sender's retransmission store (spec 03 §5): a plaintext copy of every
 * unacknowledged packet with its timer, keyed by sequence number. Timers
 * live in a {@link DeadlineHeap}; re-arming leaves the old heap entry
 * behind, recognised as stale by its deadline.
 * @module
 */
import { RQ_SIZE } from "./constants.ts";
import { seqAdd } from "./seq.ts";
import { DeadlineHeap } from "./timers.ts";

/** One unacknowledged packet. */
export interface RtxEntry {
  /** Sequence number. */
  readonly seq: number;
  /** Plaintext FRCT packet as first sent (header + SDU). */
  readonly pkt: Uint8Array;
  /** First transmission time, ns (the R-timer counts from here). */
  readonly t0Ns: number;
  /** Retransmitted at least once (Karn: no RTT sample from it). */
  rtx: boolean;
  /** Last transmission time, ns. */
  lastTxNs: number;
  /** Deadline of its live timer, ns. */
  dueNs: number;
  /** Its timer fired while it was not the oldest unacknowledged packet. */
  expired: boolean;
}

/** Unacknowledged packets and their retransmission timers. */
export class RtxQueue {
  readonly #store = new Map<number, RtxEntry>();
  readonly #timers = new DeadlineHeap<{ seq: number; dueNs: number }>();

  /** Number of packets kept. */
  get size(): number {
    return this.#store.size;
  }

  /** Keep a copy of `pkt` (sent at `nowNs`) with its timer at `dueNs`. */
  add(seq: number, pkt: Uint8Array, nowNs: number, dueNs: number): void {
    const e: RtxEntry = {
      seq,
      pkt: pkt.slice(),
      t0Ns: nowNs,
      rtx: false,
      lastTxNs: nowNs,
      dueNs,
      expired: false,
    };
    this.#store.set(seq, e);
    this.#timers.push(dueNs, { seq, dueNs });
  }

  /** The entry for `seq`, if still unacknowledged. */
  get(seq: number): RtxEntry | undefined {
    return this.#store.get(seq);
  }

  /** Re-arm `e`'s timer. */
  arm(e: RtxEntry, dueNs: number): void {
    e.dueNs = dueNs;
    this.#timers.push(dueNs, { seq: e.seq, dueNs });
  }

  /** Remove and return the entries in `[from, to)`, oldest first. */
  ack(from: number, to: number): RtxEntry[] {
    const out: RtxEntry[] = [];
    for (let s = from; s !== to; s = seqAdd(s, 1)) {
      const e = this.#store.get(s);
      if (e === undefined) continue;
      out.push(e);
      this.#store.delete(s);
    }
    return out;
  }

  /** Entries whose live timer is due at `nowNs` (timers of acked entries are skipped). */
  due(nowNs: number): RtxEntry[] {
    const out: RtxEntry[] = [];
    for (const { seq, dueNs } of this.#timers.popDue(nowNs)) {
      const e = this.#store.get(seq);
      if (e !== undefined && e.dueNs === dueNs) out.push(e);
    }
    if (this.#timers.size > 4 * RQ_SIZE && this.#timers.size > 4 * this.#store.size) {
      this.#timers.compact((t) => this.#store.get(t.seq)?.dueNs === t.dueNs);
    }
    return out;
  }

  /** The earliest timer (possibly stale), ns. */
  nextDueNs(): number | undefined {
    return this.#timers.peekDeadline();
  }

  /** Forget everything (new run, flow down). */
  clear(): void {
    this.#store.clear();
    this.#timers.clear();
  }
}
