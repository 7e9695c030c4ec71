/**
 * The unicast IPCP (spec 10, 12, 13, 14): the recursive layer. Bootstrap
 * or enroll (OEP over an N−1 flow to the layer or a member), then
 * `connect` DT and MGMT adjacencies to neighbours; names are published in
 * the DHT and flows are allocated by the flow allocator over data transfer.
 *
 * The components live in components.ts; this file is the IPCP state
 * machine and the IRMd-facing operations.
 *
 * @example
 * ```ts
 * import { UnicastIpcp } from "./unicast.ts";
 * declare const ctx: import("../factory.ts").IpcpContext;
 * const uni = new UnicastIpcp(2, "uni.a", ctx);
 * await uni.bootstrap({ layer: "net", options: { routing: "lfa" } });
 * ```
 * @module
 */
import { requireBoot, requireRunning } from "../common/state.ts";
import { Errno, OuroError } from "../../lib/errors.ts";
import { toHex } from "../../lib/hash.ts";
import type { Logger } from "../../lib/log.ts";
import type { QosSpec } from "../../lib/qos.ts";
import type { N1Flows } from "../../irmd/n1.ts";
import { ConnMgr } from "../common/connmgr.ts";
import { ENROLL_CEP, enrollAndBringUp } from "../common/enroll.ts";
import {
  type BootstrapConf,
  type Ipcp,
  type IpcpHost,
  type IpcpInfo,
  type IpcpStateName,
  IpcpType,
  type LayerInfo,
} from "../types.ts";
import { Components, type UnicastDeps } from "./components.ts";
import type { StoredValue } from "./dht/store.ts";
import { unicastConfig } from "./options.ts";
import type { IpcpConfig } from "./wire/config.ts";

export type { UnicastDeps } from "./components.ts";

/** What the IPCP gets from the daemon. */
export interface UnicastContext {
  host: IpcpHost;
  log: Logger;
  n1: N1Flows;
}

/** A unicast IPCP. */
export class UnicastIpcp implements Ipcp {
  readonly type = "unicast" as const;
  state: IpcpStateName = "BOOT";
  layer: LayerInfo | undefined;
  readonly cm: ConnMgr;
  readonly #host: IpcpHost;
  readonly #log: Logger;
  readonly #deps: UnicastDeps;
  #c: Components | undefined;

  constructor(
    readonly id: number,
    readonly name: string,
    ctx: UnicastContext,
    deps: UnicastDeps = {},
  ) {
    this.#host = ctx.host;
    this.#log = ctx.log;
    this.#deps = deps;
    this.cm = new ConnMgr(ctx.n1, ctx.log.child("connmgr"));
    this.cm.register("enroll", () => ENROLL_CEP, (conn) => {
      if (this.#c && this.state === "OPERATIONAL") this.#c.enroller.serve(conn);
      else conn.flow.close();
    });
  }

  /** The running components (tests, RIB); undefined before bootstrap/enroll. */
  get components(): Components | undefined {
    return this.#c;
  }

  #needBoot(what: string): void {
    requireBoot(this, what);
  }

  #running(what: string): Components {
    return requireRunning(this, this.#c, what);
  }


  /** initialize_components + start_components; undone on failure. */
  #bringUp(conf: IpcpConfig): LayerInfo {
    const c = new Components(conf, this, this.#host, this.cm, this.#log, this.#deps);
    try {
      this.cm.start();
      c.start();
    } catch (e) {
      c.stop();
      throw e;
    }
    this.#c = c;
    this.layer = { name: conf.layerInfo.name, hashAlgo: conf.layerInfo.hashAlgo };
    this.state = "OPERATIONAL";
    return this.layer;
  }

  bootstrap(conf: BootstrapConf): Promise<LayerInfo> {
    try {
      this.#needBoot("bootstrap");
      const cfg = unicastConfig(conf, (m) => this.#log.warn(m));
      const layer = this.#bringUp(cfg);
      this.#log.info(`Bootstrapped in layer ${layer.name} with address ${this.#c!.addr}.`);
      return Promise.resolve(layer);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  async enroll(dst: string): Promise<LayerInfo> {
    this.#needBoot("enroll");
    this.#log.info(`Enrolling with ${dst}...`);
    const layer = await enrollAndBringUp(
      this.cm,
      dst,
      IpcpType.unicast,
      { ...this.#deps.enroll, log: this.#log.child("enrollment") },
      (conf) => this.#bringUp(conf),
    );
    this.#log.info(`Enrolled in layer ${layer.name} with address ${this.#c!.addr}.`);
    return layer;
  }

  async connect(dst: string, component: "dt" | "mgmt", qos: QosSpec): Promise<void> {
    this.#running("connect");
    await this.cm.connect(component, dst, qos);
  }

  disconnect(dst: string, component: "dt" | "mgmt"): Promise<void> {
    this.cm.disconnect(component, dst);
    return Promise.resolve();
  }

  reg(hash: Uint8Array): Promise<void> {
    try {
      this.#running("register").dir.reg(hash);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  unreg(hash: Uint8Array): Promise<void> {
    this.#c?.dir.unreg(hash);
    return Promise.resolve();
  }

  async query(hash: Uint8Array): Promise<boolean> {
    if (!this.#c || this.state !== "OPERATIONAL") return false;
    return (await this.#c.dir.query(hash)) !== 0;
  }

  flowAlloc(flowId: number, hash: Uint8Array, qos: QosSpec, data: Uint8Array): Promise<void> {
    try {
      return this.#running("allocate flow").fa.alloc(flowId, hash, qos, data);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  flowJoin(): Promise<void> {
    return Promise.reject(new OuroError(Errno.ENOTSUP, "Cannot join: not a broadcast layer"));
  }

  flowDealloc(flowId: number): void {
    this.#c?.fa.dealloc(flowId);
  }

  write(flowId: number, sdu: Uint8Array): Promise<void> | undefined {
    return this.#c?.fa.write(flowId, sdu);
  }

  /**
   * What a fast path of flow `flowId` needs (see `flow.fast` in the IRMd):
   * the DT PCI of its packets, the N−1 fd of the next hop, our address and
   * eid as arriving packets carry them, and every DT N−1 fd (packets may
   * arrive on any). Undefined when the flow is not allocated or has no route.
   */
  fastInfo(flowId: number) {
    const c = this.#c;
    const f = c?.fa.flows().find((x) => x.flowId === flowId);
    if (!c || !f || f.pending) return undefined;
    const p = c.dt.fastPci(f.rAddr, f.qc, f.rEid, f.sEid);
    return p && { ...p, dtFds: c.dt.fds() };
  }

  info(): IpcpInfo {
    return {
      id: this.id,
      name: this.name,
      type: this.type,
      state: this.state,
      layer: this.layer?.name,
      hashAlgo: this.layer?.hashAlgo,
      detail: this.#c ? detail(this.#c, this.cm) : undefined,
    };
  }

  async stop(): Promise<void> {
    if (this.state === "OPERATIONAL") this.state = "SHUTDOWN";
    this.#c?.stop();
    await this.cm.stop();
    this.state = "INIT";
  }
}

/** JSON-safe details for `ipcp list --json` (addresses as numbers, ids as hex). */
function detail(c: Components, cm: ConnMgr): Record<string, unknown> {
  const ls = c.routing.ls;
  const node = c.dir.node;
  return {
    address: c.addr,
    routing: ls.policy.name,
    congestion: c.ca.name,
    neighbours: ls.lsdb.neighbours(),
    // names are known only for connections this side made (`connect`)
    conns: (["dt", "mgmt"] as const).flatMap((comp) =>
      cm.connected(comp).map((x) => ({
        comp,
        dst: x.dst,
        fd: x.flow.id,
        addr: Number(x.peer.address),
      }))
    ),
    adjacencies: ls.lsdb.adjacencies().map((a) => ({
      src: a.src,
      dst: a.dst,
      seqno: a.seqno.toString(),
    })),
    routes: ls.table(),
    /** MGMT neighbours: up or silent (routing/liveness.ts). */
    liveness: ls.liveness.neighbours(),
    dht: {
      id: toHex(node.id),
      contacts: node.buckets.all().map((x) => ({ id: toHex(x.id), addr: x.addr })),
      keys: node.store.keys().map((k) => {
        const v = node.store.inspect(k);
        const vals = (own: boolean) => (x: StoredValue) => ({
          val: toHex(x.val),
          expS: x.expS,
          own,
        });
        return {
          key: toHex(k),
          stored: v?.stored.length ?? 0,
          own: v?.own.length ?? 0,
          values: [...(v?.own.map(vals(true)) ?? []), ...(v?.stored.map(vals(false)) ?? [])],
        };
      }),
    },
    flows: c.fa.flows().map((f) => ({
      flowId: f.flowId,
      rAddr: f.rAddr,
      qc: f.qc,
      pending: f.pending,
      rxPkts: f.rxPkts,
      txPkts: f.txPkts,
    })),
    counters: {
      connmgr: cm.counters,
      dt: c.dt.counters,
      fa: c.fa.counters,
      dht: c.dir.counters,
      routing: c.routing.counters,
      enroll: c.enroller.counters,
      conns: c.counters,
    },
  };
}
