/**
 * The flow table of an Ethernet IPCP: flow id → peer (MAC and id), and
 * local id → flow id for the receive path. Local ids are the flow ids
 * themselves (DIX eids, u16) or SAPs from a small pool (LLC, 2…63).
 * @module
 */
import type { EthFraming } from "./framing.ts";

/** One flow end. */
export interface EthFlow {
  /** Our id for this flow (DIX: the flow id; LLC: the SAP). */
  localId: number;
  /** The peer's id; -1 until the FLOW_REPLY (initiator side). */
  remoteId: number;
  /** The peer's MAC (the one the request went to, on the initiator side). */
  remoteMac: Uint8Array;
  /** Prebuilt data header, once the peer's id is known. */
  header: Uint8Array | undefined;
}

/** Flows of one IPCP. */
export class EthFlowTable {
  readonly #flows = new Map<number, EthFlow>();
  readonly #byLocal = new Map<number, number>();

  constructor(readonly fr: EthFraming, readonly mac: Uint8Array) {}

  /** Number of flows. */
  get size(): number {
    return this.#flows.size;
  }

  /** The flow with id `flowId`. */
  get(flowId: number): EthFlow | undefined {
    return this.#flows.get(flowId);
  }

  /** The flow id that owns local id `id`. */
  byLocal(id: number): number | undefined {
    return this.#byLocal.get(id);
  }

  /** A free local id for flow `flowId`, or undefined (LLC: all SAPs taken). */
  allocLocalId(flowId: number): number | undefined {
    const { idMin, idMax, kind } = this.fr;
    if (kind === "dix") {
      // the IRMd's flow id is the eid (u16)
      return flowId >= idMin && flowId <= idMax && !this.#byLocal.has(flowId) ? flowId : undefined;
    }
    for (let id = idMin; id <= idMax; id++) if (!this.#byLocal.has(id)) return id;
    return undefined;
  }

  /** Record a flow; `remoteId` -1 while the peer's id is not known yet. */
  add(flowId: number, localId: number, remoteMac: Uint8Array, remoteId: number): EthFlow {
    const f: EthFlow = { localId, remoteId: -1, remoteMac, header: undefined };
    this.#flows.set(flowId, f);
    this.#byLocal.set(localId, flowId);
    if (remoteId >= 0) this.setRemote(f, remoteId);
    return f;
  }

  /** The peer's id is known: data can flow. */
  setRemote(f: EthFlow, remoteId: number): void {
    f.remoteId = remoteId;
    f.header = this.fr.dataHeader(f.remoteMac, this.mac, remoteId, f.localId);
  }

  /** Forget a flow and release its local id. */
  drop(flowId: number): void {
    const f = this.#flows.get(flowId);
    if (!f) return;
    this.#flows.delete(flowId);
    if (this.#byLocal.get(f.localId) === flowId) this.#byLocal.delete(f.localId);
  }

  /** Forget every flow. */
  clear(): void {
    this.#flows.clear();
    this.#byLocal.clear();
  }
}
