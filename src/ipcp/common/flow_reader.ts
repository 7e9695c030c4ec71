/**
 * Blocking-style reads on an N−1 flow for the request/response protocols
 * that run on a fresh flow (CEP exchange, enrollment): packets are copied
 * into a queue and taken with {@link FlowReader.read}, which can time out
 * like the reference's `FRCTRCVTIMEO`. Once the handshake is over the
 * owner hands the flow to a component with {@link FlowReader.handOver}.
 *
 * @example
 * ```ts
 * import { FlowReader } from "./flow_reader.ts";
 * declare const flow: import("../../irmd/n1.ts").N1Flow;
 * const r = new FlowReader(flow);
 * const first = await r.read(1000); // rejects with ETIMEDOUT after 1 s
 * r.handOver((sdu) => console.log(sdu.length), () => console.log("gone"));
 * ```
 * @module
 */
import { Errno, OuroError } from "../../lib/errors.ts";
import type { N1Flow } from "../../irmd/n1.ts";

/** Packets queued before a reader takes them; more are dropped (hostile peers). */
export const FLOW_READER_MAX_QUEUED = 64;

interface Waiter {
  resolve: (b: Uint8Array) => void;
  reject: (e: Error) => void;
}

/** Queued reads on one N−1 flow. */
export class FlowReader {
  #q: Uint8Array[] = [];
  #waiter: Waiter | undefined;
  #closed = false;
  #handed = false;
  /** Packets dropped because the queue was full. */
  dropped = 0;

  /** Take over `flow.onPacket` and `flow.onDealloc`. */
  constructor(readonly flow: N1Flow) {
    flow.onPacket = (sdu) => this.#push(sdu.slice());
    flow.onDealloc = () => {
      this.#closed = true;
      const w = this.#waiter;
      this.#waiter = undefined;
      w?.reject(new OuroError(Errno.EFLOWDOWN, `Cannot read flow ${flow.id}: deallocated`));
    };
  }

  /** Has the flow gone away from below? */
  get closed(): boolean {
    return this.#closed;
  }

  #push(b: Uint8Array): void {
    const w = this.#waiter;
    if (w) {
      this.#waiter = undefined;
      w.resolve(b);
    } else if (this.#q.length < FLOW_READER_MAX_QUEUED) this.#q.push(b);
    else this.dropped++;
  }

  /**
   * The next SDU. Rejects with `ETIMEDOUT` after `timeoutMs` (no limit if
   * undefined) and with `EFLOWDOWN` once the flow is gone and drained.
   * One read at a time.
   */
  read(timeoutMs?: number): Promise<Uint8Array> {
    const b = this.#q.shift();
    if (b) return Promise.resolve(b);
    if (this.#closed) {
      return Promise.reject(
        new OuroError(Errno.EFLOWDOWN, `Cannot read flow ${this.flow.id}: deallocated`),
      );
    }
    if (this.#waiter || this.#handed) {
      return Promise.reject(new OuroError(Errno.EPERM, "Cannot read: flow is being read already"));
    }
    return new Promise<Uint8Array>((resolve, reject) => {
      let t: ReturnType<typeof setTimeout> | undefined;
      const w: Waiter = {
        resolve: (x) => (clearTimeout(t), resolve(x)),
        reject: (e) => (clearTimeout(t), reject(e)),
      };
      if (timeoutMs !== undefined) {
        t = setTimeout(() => {
          if (this.#waiter !== w) return;
          this.#waiter = undefined;
          reject(new OuroError(Errno.ETIMEDOUT, `Cannot read flow ${this.flow.id}: timed out`));
        }, timeoutMs);
      }
      this.#waiter = w;
    });
  }

  /** Send one SDU (errors from below are swallowed: a gone flow shows on read). */
  write(sdu: Uint8Array): Promise<void> | undefined {
    try {
      return this.flow.write(sdu)?.catch(() => {});
    } catch {
      return undefined;
    }
  }

  /**
   * Give the flow to a component: queued SDUs first, then every new one, go
   * to `onPacket`; `onDealloc` runs when the flow goes away (at once if it
   * already has).
   */
  handOver(onPacket: (sdu: Uint8Array) => void, onDealloc: () => void): void {
    this.#handed = true;
    const q = this.#q;
    this.#q = [];
    this.flow.onPacket = onPacket;
    this.flow.onDealloc = onDealloc;
    for (const b of q) onPacket(b);
    if (this.#closed) onDealloc();
  }
}
