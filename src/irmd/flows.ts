/**
 * The flow broker (spec 01 §4–5): allocation, acceptance, join, deallocation,
 * and the hand-off of packets between flow owners and IPCPs.
 *
 * Control happens here; the packet path is two map look-ups: owner → IPCP
 * (`fromOwner`) and IPCP → owner (`deliver`).
 * @module
 */
import { Errno, OuroError } from "../lib/errors.ts";
import { hashName, shortHash, toHex } from "../lib/hash.ts";
import type { Logger } from "../lib/log.ts";
import { qosNp1, type QosSpec } from "../lib/qos.ts";
import { type Ipcp, IpcpType } from "../ipcp/types.ts";
import type { FastShim } from "../ipcp/common/fast.ts";
import { IdBitmap, type Registry, SYS_MAX_FLOWS } from "./registry.ts";
import type { FlowCrypto, OapAgent } from "./security.ts";
import type { EncConf } from "../crypto/enc_conf.ts";
import { IPCP_PID_BASE } from "./n1.ts";

/** Who sits above a flow: an app connection or an in-daemon IPCP. */
export interface FlowOwner {
  readonly pid: number;
  /** Hand a packet up. Returns false if it had to be dropped. */
  deliver(flowId: number, sdu: Uint8Array): boolean;
  /** Resolves when the owner can take more (undefined: not congested). */
  backpressure(): Promise<void> | undefined;
  /** The flow went away or changed state. */
  event(flowId: number, ev: FlowEvent): void;
}

/** Events a flow owner is told about. */
export type FlowEvent = "dealloc" | "down" | "up";

/** Wait for a local acceptor (IRMD_REQ_ARR_TIMEOUT). */
export const REQ_ARR_TIMEOUT_MS = 1000;
/** Wait for an auto-started program to accept (1 s in the reference; Deno starts slower). */
export const AUTOSTART_WAIT_MS = 5000;
/** Default allocation timeout (FLOW_ALLOC_TIMEOUT). */
export const FLOW_ALLOC_TIMEOUT_MS = 20000;
/**
 * How long a layer may take to say whether it reaches a name: 200 ms in
 * the reference (QUERY_TIMEOUT), longer here so a DHT lookup can finish.
 */
export const QUERY_TIMEOUT_MS = 3000;
/** Direct (same host) flows' MPL. */
export const DIRECT_MPL_MS = 1;

/** A flow as the IRMd sees it. */
export interface FlowRec {
  id: number;
  state: "ALLOC_PENDING" | "ALLOCATED" | "DEALLOC_PENDING";
  qos: QosSpec;
  mpl: number;
  owner: FlowOwner;
  ipcp?: Ipcp;
  peer?: FlowRec;
  /** Remote name (allocator side) or served name (acceptor side). */
  name: string;
  created: number;
  rxPkts: number;
  txPkts: number;
  drops: number;
  pending?: { resolve: (v: { response: number; mpl: number; data: Uint8Array }) => void };
  /** The udp IPCP whose I/O Worker receives this flow's packets (fast path). */
  fast?: FastShim;
  /** Called once when the flow is forgotten (a fast path lets go of its device). */
  onFree?: () => void;
}

/** Result of alloc/accept for the owner. */
export interface FlowGrant {
  flowId: number;
  qos: QosSpec;
  mpl: number;
  name: string;
  /**
   * Same-host flows between two processes that offered it: the allocator
   * connects to `path` (the acceptor's socket) and both exchange data
   * there, tagged with the other end's flow id `peer`.
   */
  direct?: { path?: string; peer: number };
  /** Cipher and key agreed by OAP (absent or cipherNid 0: no encryption). */
  crypto?: FlowCrypto;
}

/** Options of an allocation. */
export interface AllocOpts {
  timeoutMs?: number;
  /** The allocator can take a direct link (see {@link FlowGrant.direct}). */
  direct?: boolean;
  /** The allocator's own OAP settings, instead of the name's client enc.conf. */
  encConf?: EncConf;
}

/** Options of an accept. */
export interface AcceptOpts {
  timeoutMs?: number;
  signal?: AbortSignal;
  /** The acceptor's socket for direct data (see {@link FlowGrant.direct}). */
  directPath?: string;
}

interface Acceptor {
  owner: FlowOwner;
  directPath?: string;
  seq: number;
  resolve: (g: FlowGrant) => void;
  reject: (e: Error) => void;
}

function timeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let t: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, rej) => (t = setTimeout(() => rej(onTimeout()), ms))),
  ]).finally(() => clearTimeout(t));
}

/** The flow broker. */
export class FlowBroker {
  readonly flows = new Map<number, FlowRec>();
  readonly #ids = new IdBitmap(1, SYS_MAX_FLOWS);
  readonly #acceptors: Acceptor[] = [];
  #acceptSeq = 0;
  readonly #acceptWaiters = new Set<() => void>();
  /** Counters shown by `irm stats`. */
  readonly counters = { allocs: 0, accepts: 0, deallocs: 0, drops: 0, badFlow: 0 };
  /** Pair same-host flows directly (reference default) instead of through a local IPCP. */
  direct = true;
  /** OAP: set by the daemon at start; without it flows carry empty OAP data. */
  oap: OapAgent | undefined;

  constructor(
    readonly reg: Registry,
    readonly ipcps: () => Ipcp[],
    readonly log: Logger,
    readonly spawn: (argv: string[]) => void,
  ) {}

  #newFlow(owner: FlowOwner, qos: QosSpec, name: string): FlowRec {
    const f: FlowRec = {
      id: this.#ids.alloc(),
      state: "ALLOC_PENDING",
      qos,
      mpl: 0,
      owner,
      name,
      created: Date.now(),
      rxPkts: 0,
      txPkts: 0,
      drops: 0,
    };
    this.flows.set(f.id, f);
    return f;
  }

  #free(f: FlowRec): void {
    if (this.flows.get(f.id) === f) {
      this.flows.delete(f.id);
      this.#ids.release(f.id);
      const done = f.onFree;
      f.onFree = undefined;
      done?.();
    }
  }

  // ---- accept side ------------------------------------------------------

  /** A process waits for a flow on any of its names. */
  accept(owner: FlowOwner, opts: AcceptOpts = {}): Promise<FlowGrant> {
    const { timeoutMs, signal } = opts;
    const names = this.reg.procs.get(owner.pid)?.names;
    if (!names || names.size === 0) {
      return Promise.reject(
        new OuroError(Errno.ENAME, `Cannot accept: process ${owner.pid} is not bound to any name`),
      );
    }
    return new Promise<FlowGrant>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = () => {
        const i = this.#acceptors.indexOf(a);
        if (i >= 0) this.#acceptors.splice(i, 1);
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      const a: Acceptor = {
        owner,
        directPath: opts.directPath,
        seq: ++this.#acceptSeq,
        resolve: (g) => (done(), resolve(g)),
        reject: (e) => (done(), reject(e)),
      };
      const onAbort = () => a.reject(new OuroError(Errno.EPIPE, "Cannot accept: cancelled"));
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => a.reject(new OuroError(Errno.ETIMEDOUT, "Cannot accept: timed out")), timeoutMs);
      }
      signal?.addEventListener("abort", onAbort);
      this.#acceptors.push(a);
      for (const w of this.#acceptWaiters) w();
    });
  }

  /** Cancel every accept of an owner (process gone). */
  cancelAccepts(owner: FlowOwner): void {
    for (const a of [...this.#acceptors]) {
      if (a.owner === owner) a.reject(new OuroError(Errno.EPIPE, "Cannot accept: process left"));
    }
  }

  /** First acceptor for `name` by its load-balancing policy. */
  #pickAcceptor(name: string): Acceptor | undefined {
    const n = this.reg.names.get(name);
    if (!n) return undefined;
    const cands = this.#acceptors.filter((a) => n.pids.has(a.owner.pid));
    if (cands.length === 0) return undefined;
    // round-robin appends (oldest first); spillover prepends (newest first)
    return n.lb === "round-robin" ? cands[0] : cands[cands.length - 1];
  }

  /** Wait up to the request-arrival timeout (and auto-start) for an acceptor. */
  async #waitAcceptor(name: string): Promise<Acceptor | undefined> {
    const tryWait = async (ms: number) => {
      const deadline = Date.now() + ms;
      for (;;) {
        const a = this.#pickAcceptor(name);
        if (a) return a;
        const left = deadline - Date.now();
        if (left <= 0) return undefined;
        await new Promise<void>((res) => {
          const w = () => (clearTimeout(t), this.#acceptWaiters.delete(w), res());
          const t = setTimeout(w, left);
          this.#acceptWaiters.add(w);
        });
      }
    };
    const a = await tryWait(REQ_ARR_TIMEOUT_MS);
    if (a) return a;
    const argv = this.reg.autoStart(name);
    if (!argv) return undefined;
    this.log.info(`Auto-starting ${argv[0]} for ${name}.`);
    this.spawn(argv);
    return await tryWait(AUTOSTART_WAIT_MS);
  }

  /** Is anybody here bound to `name` (so a direct flow is possible)? */
  #servedLocally(name: string): boolean {
    const n = this.reg.names.get(name);
    return !!n && (n.pids.size > 0 || this.reg.autoStart(name) !== undefined);
  }

  // ---- allocation -------------------------------------------------------

  /** Allocate a flow from `owner` to the process serving `dst`. */
  async alloc(owner: FlowOwner, dst: string, qos: QosSpec, opts: AllocOpts = {}): Promise<FlowGrant> {
    const { timeoutMs, direct: wantDirect = false, encConf } = opts;
    const limit = timeoutMs ?? FLOW_ALLOC_TIMEOUT_MS;
    this.log.info(`Allocating flow for ${owner.pid} to ${dst}.`);
    this.counters.allocs++;
    const run = async (): Promise<FlowGrant> => {
      if (this.direct && this.#servedLocally(dst)) {
        const acc = await this.#waitAcceptor(dst);
        if (acc) return await this.#pairDirect(owner, acc, dst, qos, wantDirect, encConf);
      }
      const requester = this.#requesterOf(owner);
      const ipcp = await this.#selectIpcp(dst, requester);
      if (requester) this.#depends(requester, ipcp);
      const f = this.#newFlow(owner, qos, dst);
      f.ipcp = ipcp;
      const hash = hashName(ipcp.layer!.hashAlgo, dst);
      const reply = new Promise<{ response: number; mpl: number; data: Uint8Array }>((resolve) => (f.pending = { resolve }));
      try {
        const oap = this.oap ? await this.oap.clientPrepare(dst, encConf) : undefined;
        await ipcp.flowAlloc(f.id, hash, qos, oap?.request ?? new Uint8Array(0));
        const r = await timeout(reply, limit, () => new OuroError(Errno.ETIMEDOUT, `Cannot allocate flow to ${dst}: timed out`));
        if (r.response < 0) {
          throw new OuroError(-r.response, `Cannot allocate flow to ${dst}: ${new OuroError(-r.response).message}`);
        }
        const crypto = oap ? await this.oap!.clientComplete(oap.state, r.data, dst) : undefined;
        f.mpl = r.mpl;
        f.state = "ALLOCATED";
        this.log.info(`Flow ${f.id} allocated for ${owner.pid} to ${dst} via ${ipcp.name}.`);
        return { flowId: f.id, qos, mpl: f.mpl, name: dst, crypto };
      } catch (e) {
        delete f.pending;
        ipcp.flowDealloc(f.id);
        this.#free(f);
        throw e;
      }
    };
    return await timeout(run(), limit + 100, () =>
      new OuroError(Errno.ETIMEDOUT, `Cannot allocate flow to ${dst}: timed out`));
  }

  async #pairDirect(
    owner: FlowOwner,
    acc: Acceptor,
    dst: string,
    qos: QosSpec,
    wantDirect: boolean,
    encConf: EncConf | undefined,
  ): Promise<FlowGrant> {
    // both OAP halves run here, as in the reference (a failure leaves the acceptor waiting)
    const oap = this.oap ? await this.oap.local(dst, encConf) : undefined;
    if (!this.#acceptors.includes(acc)) {
      // the acceptor gave up while OAP ran: try again from the top
      const again = await this.#waitAcceptor(dst);
      if (!again) throw new OuroError(Errno.ENAME, `Cannot allocate flow to ${dst}: nobody accepting`);
      acc = again;
    }
    const a = this.#newFlow(owner, qos, dst);
    const b = this.#newFlow(acc.owner, qos, dst);
    a.peer = b;
    b.peer = a;
    a.state = b.state = "ALLOCATED";
    a.mpl = b.mpl = DIRECT_MPL_MS;
    this.counters.accepts++;
    this.log.info(`Flow ${a.id} allocated (direct) for ${owner.pid} to ${dst}.`);
    this.log.info(`Flow ${b.id} accepted by ${acc.owner.pid} for ${dst}.`);
    const link = wantDirect && acc.directPath !== undefined;
    acc.resolve({ flowId: b.id, qos, mpl: b.mpl, name: dst, direct: link ? { peer: a.id } : undefined, crypto: oap?.server });
    return {
      flowId: a.id,
      qos,
      mpl: a.mpl,
      name: dst,
      direct: link ? { path: acc.directPath, peer: b.id } : undefined,
      crypto: oap?.client,
    };
  }

  /** IPCP ids by the ids of IPCPs their N-1 flows run over (who sits on whom). */
  readonly #below = new Map<number, Set<number>>();

  /** The IPCP behind an in-daemon owner (N-1 flows), if it is one. */
  #requesterOf(owner: FlowOwner): Ipcp | undefined {
    if (owner.pid < IPCP_PID_BASE) return undefined;
    return this.ipcps().find((i) => i.id === owner.pid - IPCP_PID_BASE);
  }

  #depends(upper: Ipcp, lower: Ipcp): void {
    const s = this.#below.get(upper.id) ?? new Set<number>();
    s.add(lower.id);
    this.#below.set(upper.id, s);
  }

  /** Does `upper` run (transitively) over `lower`? */
  #runsOver(upper: number, lower: number, seen = new Set<number>()): boolean {
    for (const b of this.#below.get(upper) ?? []) {
      if (b === lower) return true;
      if (!seen.has(b) && (seen.add(b), this.#runsOver(b, lower, seen))) return true;
    }
    return false;
  }

  /**
   * The first IPCP, by type then id, whose layer can reach `dst` (spec 01
   * §4.2 step 5). An IPCP asking for its own N-1 flow never gets its own
   * layer or a layer stacked on it. All candidates are asked at once.
   */
  async #selectIpcp(dst: string, requester?: Ipcp): Promise<Ipcp> {
    const cands = this.ipcps()
      .filter((i) => i.state === "OPERATIONAL" && i.layer && i.type !== "broadcast")
      .filter((i) =>
        !requester ||
        (i !== requester && i.layer!.name !== requester.layer?.name && !this.#runsOver(i.id, requester.id))
      )
      .sort((x, y) => IpcpType[x.type] - IpcpType[y.type] || x.id - y.id);
    const answers = cands.map((i) =>
      timeout(i.query(hashName(i.layer!.hashAlgo, dst)), QUERY_TIMEOUT_MS, () => new Error("query timed out"))
        .catch((e) => {
          this.log.debug(`Query of ${i.name} for ${dst} failed: ${(e as Error).message}`);
          return false;
        })
    );
    for (let k = 0; k < cands.length; k++) if (await answers[k]) return cands[k]!;
    throw new OuroError(Errno.EIPCP, `Cannot allocate flow to ${dst}: no layer here can reach it`);
  }

  /** Join a broadcast layer. */
  async join(owner: FlowOwner, layer: string): Promise<FlowGrant> {
    const ipcp = this.ipcps().find((i) => i.type === "broadcast" && i.layer?.name === layer);
    if (!ipcp) throw new OuroError(Errno.EIPCP, `Cannot join ${layer}: no broadcast IPCP in that layer`);
    const f = this.#newFlow(owner, qosNp1, layer);
    f.ipcp = ipcp;
    try {
      await ipcp.flowJoin(f.id, hashName(ipcp.layer!.hashAlgo, layer));
    } catch (e) {
      this.#free(f);
      throw e;
    }
    f.state = "ALLOCATED";
    f.mpl = 100;
    return { flowId: f.id, qos: qosNp1, mpl: f.mpl, name: layer };
  }

  /** Release a flow on behalf of its owner. */
  dealloc(owner: FlowOwner, flowId: number): void {
    const f = this.flows.get(flowId);
    if (!f || f.owner !== owner) {
      throw new OuroError(Errno.ENOTALLOC, `Cannot deallocate flow ${flowId}: not allocated to this process`);
    }
    this.counters.deallocs++;
    this.log.info(`Deallocating flow ${flowId} for process ${owner.pid}.`);
    this.#teardown(f);
  }

  #teardown(f: FlowRec): void {
    if (f.state === "DEALLOC_PENDING") return;
    f.state = "DEALLOC_PENDING";
    const peer = f.peer;
    if (peer) {
      delete f.peer;
      delete peer.peer;
      this.#free(peer);
      peer.state = "DEALLOC_PENDING";
      peer.owner.event(peer.id, "dealloc");
    }
    if (f.ipcp) f.ipcp.flowDealloc(f.id);
    this.#free(f);
  }

  /** Every flow and accept of an owner that went away. */
  ownerGone(owner: FlowOwner): void {
    this.cancelAccepts(owner);
    for (const f of [...this.flows.values()]) if (f.owner === owner) this.#teardown(f);
  }

  /** Flows of an IPCP being destroyed. */
  ipcpGone(ipcp: Ipcp): void {
    for (const f of [...this.flows.values()]) {
      if (f.ipcp === ipcp) {
        delete f.ipcp;
        f.pending?.resolve({ response: -Errno.EIPCP, mpl: 0, data: new Uint8Array(0) });
        this.#free(f);
        f.owner.event(f.id, "dealloc");
      }
    }
  }

  // ---- packet path ------------------------------------------------------

  /**
   * A packet from `owner` on `flowId`. Returns a promise when the receiving
   * owner is congested: the caller stops reading from the sender until then.
   */
  fromOwner(owner: FlowOwner, flowId: number, sdu: Uint8Array): Promise<void> | undefined {
    const f = this.flows.get(flowId);
    if (!f || f.owner !== owner || f.state !== "ALLOCATED") {
      this.counters.badFlow++;
      return undefined;
    }
    f.txPkts++;
    const p = f.peer;
    if (p) {
      p.rxPkts++;
      if (!p.owner.deliver(p.id, sdu)) (p.drops++, this.counters.drops++);
      return p.owner.backpressure();
    }
    return f.ipcp?.write(flowId, sdu);
  }

  /** Back-pressure of the owner of a flow (same-host IPCPs pass it on). */
  backpressure(flowId: number): Promise<void> | undefined {
    return this.flows.get(flowId)?.owner.backpressure();
  }

  // ---- IpcpHost ---------------------------------------------------------

  /** A packet from an IPCP for the owner of `flowId`. */
  deliver(flowId: number, sdu: Uint8Array): void {
    const f = this.flows.get(flowId);
    if (!f) {
      this.counters.badFlow++;
      return;
    }
    f.rxPkts++;
    if (!f.owner.deliver(flowId, sdu)) (f.drops++, this.counters.drops++);
  }

  async flowReqArr(
    ipcp: Ipcp,
    hash: Uint8Array,
    qos: QosSpec,
    mpl: number,
    data: Uint8Array,
  ): Promise<{ flowId: number; data: Uint8Array }> {
    const algo = ipcp.layer!.hashAlgo;
    const hex = toHex(hash);
    const name = [...this.reg.names.keys()].find((n) => toHex(hashName(algo, n)) === hex);
    if (!name) {
      throw new OuroError(Errno.ENAME, `Flow request for unknown name ${shortHash(hash)}`);
    }
    this.log.info(`Flow request arrived for ${name}.`);
    // OAP first: a replayed, forged or unacceptable request never takes an acceptor
    const oap = this.oap ? await this.oap.serverProcess(name, data) : undefined;
    const acc = await this.#waitAcceptor(name);
    if (!acc) throw new OuroError(Errno.ENAME, `Flow request for ${name}: nobody accepting`);
    const f = this.#newFlow(acc.owner, qos, name);
    f.ipcp = ipcp;
    f.mpl = mpl;
    f.state = "ALLOCATED";
    this.counters.accepts++;
    this.log.info(`Flow ${f.id} accepted by ${acc.owner.pid} for ${name}.`);
    acc.resolve({ flowId: f.id, qos, mpl, name, crypto: oap?.crypto });
    return { flowId: f.id, data: oap?.response ?? new Uint8Array(0) };
  }

  flowAllocReply(flowId: number, response: number, mpl: number, data: Uint8Array): void {
    const f = this.flows.get(flowId);
    if (!f?.pending) return;
    const p = f.pending;
    delete f.pending;
    p.resolve({ response, mpl, data: data.slice() });
  }

  flowDeallocated(flowId: number): void {
    const f = this.flows.get(flowId);
    if (!f) return;
    delete f.ipcp;
    f.pending?.resolve({ response: -Errno.EFLOWDOWN, mpl: 0, data: new Uint8Array(0) });
    this.#free(f);
    f.state = "DEALLOC_PENDING";
    f.owner.event(flowId, "dealloc");
  }
}
