/**
 * The flow allocator (spec 12 §6): N+1 flows of the unicast layer. FA
 * messages (61-byte `fa_msg`, wire/fa.ts) travel as DT SDUs to eid 0 on
 * cube BE; N+1 data travels to the peer's endpoint id. The piggybacked OAP
 * bytes pass through opaquely between the IRMd and the peer.
 *
 * Endpoint ids are `(random u32 << 32) | flowId`; a packet is accepted only
 * if its eid equals the stored one exactly.
 *
 * @example
 * ```ts
 * import { FlowAllocator } from "./fa.ts";
 * declare const fa: FlowAllocator;
 * await fa.alloc(5, new Uint8Array(32), { ...qosRaw }, new Uint8Array(0)); // FLOW_REQ out
 * ```
 * @module
 */
import { Errno, OuroError } from "../../lib/errors.ts";
import { type Logger, logger } from "../../lib/log.ts";
import { qosCube, type QosSpec, U64_MAX } from "../../lib/qos.ts";
import { type Ipcp, type IpcpHost, MPL_MS } from "../types.ts";
import type { CaCtx, CaPolicy } from "./ca/ca.ts";
import type { DataTransfer } from "./dt.ts";
import { PacketScheduler } from "./psched.ts";
import { Slab } from "./slab.ts";
import { DT_EID_FA } from "./wire/dt.ts";
import { decodeFaMsg, encodeFaMsg, FaCode, type FaMsg } from "./wire/fa.ts";

/** QoS cube of FA messages. */
const FA_MSG_CUBE = 0;
/** N+1 packets queued in the FA scheduler above which writers are asked to wait. */
export const FA_PSCHED_HIGH_WATER = 256;
/** SDUs of one flow held while it waits for its congestion window, at most; more are dropped. */
export const FA_CA_HELD_MAX = 1024;
/** The remote eid before the reply (all ones). */
export const FA_EID_UNSET = U64_MAX;

const QOS_ZERO: QosSpec = Object.freeze({
  delay: 0,
  bandwidth: 0n,
  availability: 0,
  loss: 0,
  ber: 0,
  inOrder: 0,
  maxGap: 0,
  timeout: 0,
});
const EMPTY = new Uint8Array(0);

/** Options of {@link FlowAllocator}. */
export interface FaOptions {
  /** The IPCP (passed to the host with flow requests). */
  ipcp: Ipcp;
  host: IpcpHost;
  dt: DataTransfer;
  /** Directory hash length of the layer. */
  hashLen: number;
  /** Directory lookup: the address where `hash` is registered, 0 if none. */
  resolve(hash: Uint8Array): Promise<number>;
  ca: CaPolicy;
  log?: Logger;
  /** High 32 bits of new eids (non-zero), default random. */
  randomU32?: () => number;
  /** Monotonic clock in ns for congestion avoidance, default `performance.now`. */
  clockNs?: () => number;
}

/** State of one N+1 flow. */
export interface FaFlow {
  flowId: number;
  /** Our eid. */
  sEid: bigint;
  /** The peer's eid ({@link FA_EID_UNSET} until the reply). */
  rEid: bigint;
  /** The peer's address. */
  rAddr: number;
  /** QoS cube of the flow. */
  qc: number;
  /** Waiting for the reply (allocator side). */
  pending: boolean;
  ca: CaCtx;
  rxPkts: number;
  txPkts: number;
}

/** SDUs of a flow (after room for the DT PCI) waiting for the end of its CA slot, in order. */
interface Held {
  q: Uint8Array[];
  /** Resolves when the queue is empty (the writer's back-pressure). */
  gate: Promise<void>;
  resolve: () => void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** Counters of the flow allocator. */
export interface FaCounters {
  /** FA messages that did not decode, or carried an invalid address. */
  badMsgs: number;
  /** Replies, updates or data for an eid we do not know. */
  unknownEid: number;
  /** Flow requests that arrived. */
  reqs: number;
  /** FLOW_UPDATEs sent. */
  updatesSent: number;
  /** N+1 packets dropped (no flow yet, DT refused). */
  drops: number;
}

function randomU32NonZero(): number {
  const a = new Uint32Array(1);
  do crypto.getRandomValues(a); while (a[0] === 0);
  return a[0]!;
}

/** The flow allocator of one unicast IPCP. */
export class FlowAllocator {
  readonly counters: FaCounters = { badMsgs: 0, unknownEid: 0, reqs: 0, updatesSent: 0, drops: 0 };
  readonly #o: FaOptions;
  readonly #log: Logger;
  readonly #flows = new Map<number, FaFlow>();
  readonly #held = new Map<FaFlow, Held>();
  readonly #slab = new Slab();
  readonly #psched: PacketScheduler<{ f: FaFlow; pkt: Uint8Array }>;
  readonly #clockNs: () => number;

  /** Register with DT on eid 0 and take its N+1 data path. */
  constructor(opts: FaOptions) {
    this.#o = opts;
    this.#log = opts.log ?? logger("fa");
    this.#clockNs = opts.clockNs ?? (() => Math.round(performance.now() * 1e6));
    this.#psched = new PacketScheduler((qc, x) => this.#send(qc, x.f, x.pkt));
    opts.dt.registerComponent(Number(DT_EID_FA), (sdu) => this.#onMsg(sdu));
    opts.dt.onNp1 = (eid, ecn, sdu) => this.#np1Rcv(eid, ecn, sdu);
  }

  /** Flows, for the RIB. */
  flows(): FaFlow[] {
    return [...this.#flows.values()].map((f) => ({ ...f }));
  }

  #newEid(flowId: number): bigint {
    const hi = (this.#o.randomU32 ?? randomU32NonZero)() >>> 0;
    return (BigInt(hi || 1) << 32n) | BigInt(flowId >>> 0);
  }

  #byEid(eid: bigint): FaFlow | undefined {
    const f = this.#flows.get(Number(eid & 0xffffffffn));
    return f && f.sEid === eid ? f : undefined;
  }

  #sendMsg(addr: number, m: FaMsg): boolean {
    return this.#o.dt.write(addr, FA_MSG_CUBE, DT_EID_FA, encodeFaMsg(m));
  }

  /** Allocate a flow to `hash` (spec 12 §6.3); the answer goes to `host.flowAllocReply`. */
  async alloc(flowId: number, hash: Uint8Array, qos: QosSpec, data: Uint8Array): Promise<void> {
    const addr = await this.#o.resolve(hash);
    if (addr === 0) {
      throw new OuroError(Errno.EIPCP, "Cannot allocate flow: name not found in the directory");
    }
    const f: FaFlow = {
      flowId,
      sEid: this.#newEid(flowId),
      rEid: FA_EID_UNSET,
      rAddr: addr,
      qc: qosCube(qos),
      pending: true,
      ca: this.#o.ca.ctxCreate(),
      rxPkts: 0,
      txPkts: 0,
    };
    this.#flows.set(flowId, f);
    const ok = this.#sendMsg(addr, {
      code: FaCode.FLOW_REQ,
      sAddr: BigInt(this.#o.dt.addr),
      rEid: 0n,
      sEid: f.sEid,
      response: 0,
      qos,
      ece: 0,
      hash,
      payload: data,
    });
    if (!ok) {
      this.#flows.delete(flowId);
      throw new OuroError(Errno.EIPCP, `Cannot allocate flow: no route to ${addr}`);
    }
    this.#log.info(`Allocating flow ${flowId} to address ${addr}.`);
  }

  /** Release a flow: local only, no message (spec 12 §6.3). */
  dealloc(flowId: number): void {
    const f = this.#flows.get(flowId);
    if (f) this.#unhold(f);
    this.#flows.delete(flowId);
  }

  /** An SDU from the process above `flowId`. */
  write(flowId: number, sdu: Uint8Array): Promise<void> | undefined {
    const f = this.#flows.get(flowId);
    if (!f || f.rEid === FA_EID_UNSET) {
      this.counters.drops++;
      return undefined;
    }
    const held = this.#held.get(f);
    if (held && held.q.length >= FA_CA_HELD_MAX) {
      this.counters.drops++;
      return held.gate;
    }
    const waitNs = this.#o.ca.txUpdate(f.ca, sdu.length, this.#clockNs());
    // the one copy of the SDU on the way down, with room for the DT PCI
    const room = this.#o.dt.headerLen;
    const pkt = this.#slab.copy(sdu, room);
    if (held) {
      // an earlier packet of this flow waits for the slot's end: keep the order
      held.q.push(pkt);
      return held.gate;
    }
    if (waitNs > 0) return this.#hold(f, pkt, waitNs);
    this.#psched.push(f.qc, { f, pkt });
    return this.#psched.waitBelow(FA_PSCHED_HIGH_WATER) ?? this.#o.dt.waitWritable(f.rAddr, f.qc);
  }

  /**
   * Hold `pkt` (over the congestion window) for `waitNs`. Later writes on
   * the flow are charged to the window as they come and queue behind it,
   * released together: one timer and one promise per flow, and no packet
   * overtakes a held one (as it would with a timer per packet).
   */
  #hold(f: FaFlow, pkt: Uint8Array, waitNs: number): Promise<void> {
    let resolve!: () => void;
    const gate = new Promise<void>((r) => (resolve = r));
    const h: Held = { q: [pkt], gate, resolve, timer: undefined };
    h.timer = setTimeout(() => {
      if (this.#held.get(f) !== h) return;
      for (const pkt of h.q) this.#psched.push(f.qc, { f, pkt });
      this.#unhold(f);
    }, waitNs / 1e6);
    this.#held.set(f, h);
    return gate;
  }

  /** Forget the held packets of `f` (sent or dropped) and let its writer go on. */
  #unhold(f: FaFlow): void {
    const h = this.#held.get(f);
    if (!h) return;
    this.#held.delete(f);
    clearTimeout(h.timer);
    h.resolve();
  }

  /** `pkt`: the SDU after room for the DT PCI. */
  #send(qc: number, f: FaFlow, pkt: Uint8Array): void {
    if (this.#flows.get(f.flowId) !== f) return;
    if (this.#o.dt.writeRoom(f.rAddr, qc, f.rEid, pkt)) f.txPkts++;
    else this.counters.drops++;
  }

  #np1Rcv(eid: bigint, ecn: number, sdu: Uint8Array): void {
    const f = this.#byEid(eid);
    if (!f) {
      this.counters.unknownEid++;
      return;
    }
    f.rxPkts++;
    const ece = this.#o.ca.rxUpdate(f.ca, sdu.length, ecn);
    this.#o.host.deliver(f.flowId, sdu);
    if (ece !== undefined && f.rEid !== FA_EID_UNSET) {
      this.counters.updatesSent++;
      this.#sendMsg(f.rAddr, {
        code: FaCode.FLOW_UPDATE,
        sAddr: 0n,
        rEid: f.rEid,
        sEid: 0n,
        response: 0,
        qos: QOS_ZERO,
        ece,
        hash: EMPTY,
        payload: EMPTY,
      });
    }
  }

  #onMsg(sdu: Uint8Array): void {
    let m: FaMsg;
    try {
      m = decodeFaMsg(sdu, this.#o.hashLen);
    } catch {
      this.counters.badMsgs++;
      return;
    }
    switch (m.code) {
      case FaCode.FLOW_REQ:
        if (m.sAddr === 0n || m.sAddr > 0xffffffffn) {
          this.counters.badMsgs++;
          return;
        }
        this.counters.reqs++;
        this.#onReq({ ...m, hash: m.hash.slice(), payload: m.payload.slice() });
        return;
      case FaCode.FLOW_REPLY: {
        const f = this.#byEid(m.rEid);
        if (!f || !f.pending) {
          this.counters.unknownEid++;
          return;
        }
        f.pending = false;
        f.rEid = m.sEid;
        if (m.response < 0) this.#flows.delete(f.flowId);
        this.#o.host.flowAllocReply(f.flowId, m.response, MPL_MS.unicast, m.payload.slice());
        return;
      }
      case FaCode.FLOW_UPDATE: {
        const f = this.#byEid(m.rEid);
        if (!f) {
          this.counters.unknownEid++;
          return;
        }
        this.#o.ca.updateEce(f.ca, m.ece);
      }
    }
  }

  async #onReq(m: FaMsg): Promise<void> {
    const rAddr = Number(m.sAddr);
    const reply = (sEid: bigint, response: number, payload: Uint8Array) =>
      this.#sendMsg(rAddr, {
        code: FaCode.FLOW_REPLY,
        sAddr: 0n,
        rEid: m.sEid,
        sEid,
        response,
        qos: QOS_ZERO,
        ece: 0,
        hash: EMPTY,
        payload,
      });
    let r;
    try {
      r = await this.#o.host.flowReqArr(this.#o.ipcp, m.hash, m.qos, MPL_MS.unicast, m.payload);
    } catch (e) {
      const code = e instanceof OuroError ? e.code : Errno.EIPCP;
      this.#log.info(`Flow request from ${rAddr} refused: ${(e as Error).message}`);
      reply(0n, -code, EMPTY);
      return;
    }
    const f: FaFlow = {
      flowId: r.flowId,
      sEid: this.#newEid(r.flowId),
      rEid: m.sEid,
      rAddr,
      qc: qosCube(m.qos),
      pending: false,
      ca: this.#o.ca.ctxCreate(),
      rxPkts: 0,
      txPkts: 0,
    };
    this.#flows.set(r.flowId, f);
    if (!reply(f.sEid, 0, r.data)) {
      this.#flows.delete(r.flowId);
      this.#o.host.flowDeallocated(r.flowId);
    }
  }

  /** Drop queued packets and forget every flow. */
  stop(): void {
    for (const f of [...this.#held.keys()]) this.#unhold(f);
    this.#psched.stop();
    this.#flows.clear();
  }
}
