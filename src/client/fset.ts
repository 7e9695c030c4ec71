/**
 * Waiting on many flows at once (spec 02 §4: fset/fqueue/fevent).
 * @module
 */
import { Errno, OuroError } from "../lib/errors.ts";
import type { Flow, FlowEventType } from "./flow.ts";

/** One event on one flow. */
export interface FlowSetEvent {
  /** The flow the event is about. */
  flow: Flow;
  /** What happened. */
  type: FlowEventType;
}

/** Most pending events kept per set (the reference's 1024). */
export const FSET_MAX_EVENTS = 1024;

const owner = new WeakMap<Flow, FlowSet>();

/**
 * A set of flows to wait on; events arrive in order.
 *
 * @example
 * ```ts
 * import { FlowSet, flowAccept } from "../../mod.ts";
 * const set = new FlowSet();
 * set.add(await flowAccept());
 * for (const { flow, type } of await set.wait({ timeoutMs: 1000 })) {
 *   if (type === "pkt") console.log(await flow.read());
 * }
 * ```
 */
export class FlowSet {
  readonly #flows = new Map<Flow, () => void>();
  #events: FlowSetEvent[] = [];
  #wake: (() => void) | undefined;
  /** Events dropped because the set was full. */
  dropped = 0;

  /** Add a flow (a flow is in at most one set). Queued packets post events at once. */
  add(flow: Flow): void {
    const cur = owner.get(flow);
    if (cur === this) return;
    if (cur) throw new OuroError(Errno.EPERM, `Cannot add flow ${flow.fd}: it is in another set`);
    owner.set(flow, this);
    this.#flows.set(flow, flow.listen((f, type) => this.#post({ flow: f, type })));
    for (let i = 0; i < flow.rxQueued; i++) this.#post({ flow, type: "pkt" });
  }

  /** Remove a flow. */
  delete(flow: Flow): void {
    const off = this.#flows.get(flow);
    if (!off) return;
    off();
    this.#flows.delete(flow);
    owner.delete(flow);
    this.#events = this.#events.filter((e) => e.flow !== flow);
  }

  /** Is the flow in this set? */
  has(flow: Flow): boolean {
    return this.#flows.has(flow);
  }

  /** Remove every flow. */
  clear(): void {
    for (const f of [...this.#flows.keys()]) this.delete(f);
  }

  /** Number of flows in the set. */
  get size(): number {
    return this.#flows.size;
  }

  #post(e: FlowSetEvent): void {
    if (this.#events.length >= FSET_MAX_EVENTS) {
      this.dropped++;
      return;
    }
    this.#events.push(e);
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  /**
   * Wait for at least one event and take all pending ones. Throws ETIMEDOUT
   * after `timeoutMs`.
   */
  async wait(opts: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<FlowSetEvent[]> {
    if (this.#events.length === 0) {
      const ok = await new Promise<boolean>((resolve) => {
        let t: ReturnType<typeof setTimeout> | undefined;
        const onAbort = () => fin(false);
        const fin = (v: boolean) => {
          if (t !== undefined) clearTimeout(t);
          opts.signal?.removeEventListener("abort", onAbort);
          this.#wake = undefined;
          resolve(v);
        };
        this.#wake = () => fin(true);
        if (opts.timeoutMs !== undefined) t = setTimeout(() => fin(false), opts.timeoutMs);
        opts.signal?.addEventListener("abort", onAbort);
      });
      if (!ok) {
        if (opts.signal?.aborted) throw new OuroError(Errno.EINTR, "Cannot wait: aborted");
        throw new OuroError(Errno.ETIMEDOUT, "Cannot wait: timed out");
      }
    }
    const ev = this.#events;
    this.#events = [];
    return ev;
  }

  /** Events forever (until the signal aborts). */
  async *events(signal?: AbortSignal): AsyncGenerator<FlowSetEvent> {
    while (!signal?.aborted) {
      let batch: FlowSetEvent[];
      try {
        batch = await this.wait({ signal });
      } catch (e) {
        if (e instanceof OuroError && e.code === Errno.EINTR) return;
        throw e;
      }
      yield* batch;
    }
  }
}
