/**
 * N-1 flows for IPCPs: an IPCP inside the daemon is a process of the layers
 * below it (spec 01 §1.1). It binds names, allocates and accepts flows
 * through the same broker as apps, without a socket in between.
 * @module
 */
import type { QosSpec } from "../lib/qos.ts";
import type { FlowBroker, FlowEvent, FlowOwner } from "./flows.ts";

/** Pseudo process ids of in-daemon IPCPs start here (above Linux's pid_max). */
export const IPCP_PID_BASE = 1 << 23;

/** An N-1 flow as an IPCP holds it. */
export interface N1Flow {
  readonly id: number;
  readonly qos: QosSpec;
  /** Remote name (allocated) or local name (accepted). */
  readonly name: string;
  readonly mpl: number;
  /** Send one SDU down; may return a promise to wait on (back-pressure). */
  write(sdu: Uint8Array): Promise<void> | undefined;
  /** Release the flow. */
  close(): void;
  /** Set by the IPCP: called with each arriving SDU (a view: copy to keep). */
  onPacket: (sdu: Uint8Array) => void;
  /** Set by the IPCP: the flow went away from below. */
  onDealloc: () => void;
}

/** What an IPCP uses to be a client of lower layers. */
export interface N1Flows {
  readonly pid: number;
  /** Bind this IPCP to a name so it can accept flows for it. */
  bind(name: string): void;
  unbind(name: string): void;
  /** Register a name in a lower layer (by layer name). */
  register(name: string, layer: string): Promise<void>;
  alloc(dst: string, qos: QosSpec, timeoutMs?: number): Promise<N1Flow>;
  accept(signal?: AbortSignal): Promise<N1Flow>;
  /** Release every flow and cancel accepts. */
  close(): void;
}

class Owner implements FlowOwner {
  readonly flows = new Map<number, N1FlowImpl>();
  constructor(readonly pid: number) {}
  deliver(flowId: number, sdu: Uint8Array): boolean {
    const f = this.flows.get(flowId);
    if (!f) return false;
    f.receive(sdu);
    return true;
  }
  backpressure(): Promise<void> | undefined {
    return undefined;
  }
  event(flowId: number, ev: FlowEvent): void {
    if (ev !== "dealloc") return;
    const f = this.flows.get(flowId);
    if (!f) return;
    this.flows.delete(flowId);
    f.closed = true;
    f.onDealloc();
  }
}

/** Packets an N-1 flow keeps until its owner sets `onPacket`. */
const N1_EARLY_PACKETS = 256;

class N1FlowImpl implements N1Flow {
  closed = false;
  #early: Uint8Array[] | undefined = [];
  #onPacket: ((sdu: Uint8Array) => void) | undefined;
  onDealloc: () => void = () => {};

  /** An arriving SDU: to the owner's handler, or kept (copied) until it is set. */
  receive(sdu: Uint8Array): void {
    if (this.#onPacket) this.#onPacket(sdu);
    else if (this.#early && this.#early.length < N1_EARLY_PACKETS) this.#early.push(sdu.slice());
  }

  /** Arriving SDUs go here; until it is set they are kept, then replayed. */
  get onPacket(): (sdu: Uint8Array) => void {
    return (sdu) => this.receive(sdu);
  }
  set onPacket(fn: (sdu: Uint8Array) => void) {
    this.#onPacket = fn;
    const early = this.#early;
    this.#early = undefined;
    for (const p of early ?? []) fn(p);
  }
  constructor(
    readonly broker: FlowBroker,
    readonly owner: Owner,
    readonly id: number,
    readonly qos: QosSpec,
    readonly name: string,
    readonly mpl: number,
  ) {
    owner.flows.set(id, this);
  }
  write(sdu: Uint8Array): Promise<void> | undefined {
    if (this.closed) return undefined;
    return this.broker.fromOwner(this.owner, this.id, sdu);
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.owner.flows.delete(this.id);
    try {
      this.broker.dealloc(this.owner, this.id);
    } catch { /* already gone */ }
  }
}

/** Create the N-1 flow API of one IPCP. */
export function n1Flows(
  broker: FlowBroker,
  pid: number,
  register: (name: string, layer: string) => Promise<void>,
): N1Flows {
  const owner = new Owner(pid);
  const acs = new Set<AbortController>();
  return {
    pid,
    bind(name) {
      broker.reg.bindProcess(pid, name);
    },
    unbind(name) {
      try {
        broker.reg.unbindProcess(pid, name);
      } catch { /* not bound */ }
    },
    register,
    async alloc(dst, qos, timeoutMs) {
      const g = await broker.alloc(owner, dst, qos, { timeoutMs });
      return new N1FlowImpl(broker, owner, g.flowId, g.qos, g.name, g.mpl);
    },
    async accept(signal) {
      const ac = new AbortController();
      acs.add(ac);
      const onAbort = () => ac.abort();
      signal?.addEventListener("abort", onAbort);
      try {
        const g = await broker.accept(owner, { signal: ac.signal });
        return new N1FlowImpl(broker, owner, g.flowId, g.qos, g.name, g.mpl);
      } finally {
        acs.delete(ac);
        signal?.removeEventListener("abort", onAbort);
      }
    },
    close() {
      for (const ac of acs) ac.abort();
      for (const f of [...owner.flows.values()]) f.close();
      try {
        broker.reg.removeProcess(pid);
      } catch { /* fine */ }
    },
  };
}
