/**
 * Drives a flow's FRCT engine (src/frct/engine.ts) in the library: the
 * timer, waiting writers, delivery and the linger on close (spec 03, 01 §4.3).
 * @module
 */
import { type FrctEngine, frctEngineForQos, type FrctStats } from "../frct/engine.ts";
import { monoNowNs } from "../frct/timers.ts";
import { Errno, OuroError } from "../lib/errors.ts";
import type { QosSpec } from "../lib/qos.ts";

/** What the driver needs from its flow. */
export interface FrctHost {
  /** Put one FRCT packet on the wire (the flow encrypts it). */
  transmit(pkt: Uint8Array): void;
  /** An in-order SDU for the application. */
  deliver(sdu: Uint8Array): void;
  /** Retransmission gave up: the flow is down. */
  down(reason: string): void;
}

/** Longest a close waits for unacknowledged data (the reference can wait ~2 min). */
export const LINGER_MAX_MS = 30_000;
/** Longest sleep between timer checks while anything is pending. */
const TICK_MAX_MS = 200;

/** FRCT for one flow. */
export class FrctDriver {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Infinity;
  #windowWaiters: (() => void)[] = [];
  #reset: string | undefined;
  #stopped = false;

  private constructor(readonly engine: FrctEngine, readonly host: FrctHost) {}

  /** A driver when the QoS asks for FRCT (in_order), else undefined. */
  static forQos(qos: QosSpec, mplMs: number, host: FrctHost): FrctDriver | undefined {
    const e = frctEngineForQos(qos, mplMs, monoNowNs());
    return e ? new FrctDriver(e, host) : undefined;
  }

  /** Send one SDU, waiting for the window unless non-blocking. */
  async send(sdu: Uint8Array, nonBlocking: boolean, deadline: number | undefined): Promise<void> {
    for (;;) {
      if (this.engine.down) throw new OuroError(Errno.EFLOWDOWN, "Cannot write: the flow is down (peer unreachable)");
      const r = this.engine.send(sdu, monoNowNs());
      if (r !== "window-closed") {
        this.host.transmit(r);
        this.#arm();
        return;
      }
      if (nonBlocking) throw new OuroError(Errno.EAGAIN, "Cannot write: the receiver's window is closed");
      this.#arm();
      const left = deadline === undefined ? undefined : deadline - Date.now();
      if (left !== undefined && left <= 0) throw new OuroError(Errno.ETIMEDOUT, "Cannot write: window stayed closed");
      await new Promise<void>((resolve) => {
        const t = left === undefined ? undefined : setTimeout(resolve, left);
        this.#windowWaiters.push(() => (clearTimeout(t), resolve()));
      });
      if (this.#reset) {
        const why = this.#reset;
        this.#reset = undefined;
        throw new OuroError(Errno.ECONNRESET, `Cannot write: ${why}`);
      }
    }
  }

  /** A packet from the peer (decrypted). */
  receive(pkt: Uint8Array): void {
    const r = this.engine.receive(pkt, monoNowNs());
    for (const p of r.reply ?? []) this.host.transmit(p);
    for (const s of r.deliver) this.host.deliver(s);
    if (r.windowOpened) this.#wakeWriters();
    this.#arm();
  }

  /** The application took one SDU: the window moves. */
  consumed(): void {
    this.engine.consumed(1, monoNowNs());
    this.#arm();
  }

  #wakeWriters(): void {
    const w = this.#windowWaiters;
    this.#windowWaiters = [];
    for (const f of w) f();
  }

  #arm(): void {
    if (this.#stopped) return;
    const next = this.engine.nextDeadlineNs();
    if (next === undefined) return;
    const at = Math.min(performance.now() + TICK_MAX_MS, next / 1e6);
    if (this.#timer !== undefined && this.#timerAt <= at) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => this.#tick(), Math.max(0, at - performance.now()));
  }

  #tick(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    if (this.#stopped) return;
    const r = this.engine.tick(monoNowNs());
    for (const p of r.packets) this.host.transmit(p);
    if (r.peerGone) {
      if (r.peerGone.errno === Errno.EFLOWDOWN) {
        this.host.down(r.peerGone.reason);
        this.#wakeWriters();
      } else {
        this.#reset = r.peerGone.reason;
        this.#wakeWriters();
      }
    }
    this.#arm();
  }

  /** Unacknowledged data remains (and retransmission is on). */
  get lingering(): boolean {
    return this.engine.lingering && !this.engine.down;
  }

  /** Wait (bounded) until everything sent is acknowledged. */
  async linger(): Promise<void> {
    const end = Date.now() + LINGER_MAX_MS;
    while (this.lingering && Date.now() < end && !this.#stopped) {
      this.#arm();
      await new Promise((r) => setTimeout(r, 5));
    }
    const fin = this.engine.finalAck(monoNowNs());
    if (fin) this.host.transmit(fin);
  }

  /** Counters and estimates. */
  stats(): FrctStats {
    return this.engine.stats();
  }

  /** Stop timers (flow gone). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#wakeWriters();
  }
}
