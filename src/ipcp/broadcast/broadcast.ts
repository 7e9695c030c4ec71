/**
 * The broadcast IPCP (spec 14 §4, spec 10): a layer whose only service is
 * "join" — every member receives every SDU any member writes. Bootstrap or
 * enroll (OEP, as unicast), then `connect` Data Transfer links to other
 * members; applications join with `flowJoin(layer)`. No addresses,
 * directory or routing; the directory hash is always SHA3-256.
 *
 * Beyond the reference: duplicate suppression on links between members of
 * this port (flood.ts, wire.ts), so a broadcast layer may have cycles.
 *
 * @example
 * ```ts
 * import { BroadcastIpcp } from "./broadcast.ts";
 * declare const ctx: import("../factory.ts").IpcpContext;
 * const bc = new BroadcastIpcp(3, "bc.a", ctx);
 * await bc.bootstrap({ layer: "chat" });
 * ```
 * @module
 */
import { requireBoot, requireRunning } from "../common/state.ts";
import { Errno, OuroError } from "../../lib/errors.ts";
import { bytesEqual, HashAlgo, hashName, toHex } from "../../lib/hash.ts";
import type { Logger } from "../../lib/log.ts";
import type { QosSpec } from "../../lib/qos.ts";
import type { N1Flows } from "../../irmd/n1.ts";
import { type Conn, ConnMgr } from "../common/connmgr.ts";
import { ENROLL_CEP, type EnrollDeps, Enroller, enrollAndBringUp } from "../common/enroll.ts";
import {
  type BootstrapConf,
  type Ipcp,
  type IpcpHost,
  type IpcpInfo,
  type IpcpStateName,
  IpcpType,
  type LayerInfo,
} from "../types.ts";
import type { IpcpConfig } from "../unicast/wire/config.ts";
import { Flooder } from "./flood.ts";
import type { SeenSet } from "./seen.ts";
import { bcastDtCep, cepFramed } from "./wire.ts";

/** What the IPCP gets from the daemon. */
export interface BroadcastContext {
  host: IpcpHost;
  log: Logger;
  n1: N1Flows;
}

/** Injectable parts (tests). */
export interface BroadcastDeps {
  /**
   * Offer flood headers to peers (default true). False behaves like a
   * reference member: its links stay raw.
   */
  framing?: boolean;
  /** Origin id in flood headers. */
  origin?: bigint;
  /** TTL of originated SDUs. */
  ttl?: number;
  /** Duplicate memory. */
  seen?: SeenSet;
  /** Enrollment id and wall clock. */
  enroll?: Omit<EnrollDeps, "log">;
}

/** A broadcast IPCP. */
export class BroadcastIpcp implements Ipcp {
  readonly type = "broadcast" as const;
  state: IpcpStateName = "BOOT";
  layer: LayerInfo | undefined;
  readonly cm: ConnMgr;
  readonly #host: IpcpHost;
  readonly #log: Logger;
  readonly #deps: BroadcastDeps;
  #conf: IpcpConfig | undefined;
  #flood: Flooder | undefined;
  #enroller: Enroller | undefined;
  /** Hash of the layer name (SHA3-256) that joins must carry. */
  #layerHash: Uint8Array | undefined;

  constructor(
    readonly id: number,
    readonly name: string,
    ctx: BroadcastContext,
    deps: BroadcastDeps = {},
  ) {
    this.#host = ctx.host;
    this.#log = ctx.log;
    this.#deps = deps;
    this.cm = new ConnMgr(ctx.n1, ctx.log.child("connmgr"));
    this.cm.register("enroll", () => ENROLL_CEP, (conn) => {
      if (this.#enroller && this.state === "OPERATIONAL") this.#enroller.serve(conn);
      else conn.flow.close();
    });
  }

  /** The flooding engine (tests, RIB); undefined before bootstrap/enroll. */
  get flood(): Flooder | undefined {
    return this.#flood;
  }

  #needBoot(what: string): void {
    requireBoot(this, what);
  }

  #running(what: string): Flooder {
    return requireRunning(this, this.#flood, what);
  }


  /** Remember the config, start DT (flooding), enrollment and the acceptor. */
  #bringUp(conf: IpcpConfig): LayerInfo {
    const name = conf.layerInfo.name;
    this.#conf = { layerInfo: { name, hashAlgo: HashAlgo.SHA3_256 }, ipcpType: IpcpType.broadcast };
    this.#flood = new Flooder({
      deliver: (id, sdu) => this.#host.deliver(id, sdu),
      origin: this.#deps.origin,
      ttl: this.#deps.ttl,
      seen: this.#deps.seen,
      log: this.#log.child("dt"),
    });
    const framed = this.#deps.framing ?? true;
    this.cm.register("dt", () => bcastDtCep(framed), (c) => this.#dtConn(c, framed));
    this.#enroller = new Enroller(() => structuredClone(this.#conf!), {
      ...this.#deps.enroll,
      log: this.#log.child("enrollment"),
    });
    this.cm.start();
    this.#layerHash = hashName(HashAlgo.SHA3_256, name);
    this.layer = { name, hashAlgo: HashAlgo.SHA3_256 };
    this.state = "OPERATIONAL";
    return this.layer;
  }

  #dtConn(c: Conn, framed: boolean): void {
    const f = this.#flood;
    if (!f) {
      c.flow.close();
      return;
    }
    const id = c.flow.id;
    const onPacket = f.addLink(c.flow, framed && cepFramed(c.peer), c.dst);
    c.reader.handOver(onPacket, () => f.removeLink(id));
  }

  bootstrap(conf: BootstrapConf): Promise<LayerInfo> {
    try {
      this.#needBoot("bootstrap");
      if (conf.hashAlgo !== undefined && conf.hashAlgo !== HashAlgo.SHA3_256) {
        this.#log.warn("Broadcast layers always use SHA3-256; ignoring the hash option.");
      }
      const extra = Object.keys(conf.options ?? {});
      if (extra.length) {
        throw new OuroError(
          Errno.EINVAL,
          `Cannot bootstrap ${this.name}: broadcast layers take no options (got ${
            extra.join(", ")
          })`,
        );
      }
      const layer = this.#bringUp({
        layerInfo: { name: conf.layer, hashAlgo: HashAlgo.SHA3_256 },
        ipcpType: IpcpType.broadcast,
      });
      this.#log.info(`Bootstrapped in layer ${layer.name}.`);
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
      IpcpType.broadcast,
      { ...this.#deps.enroll, log: this.#log.child("enrollment") },
      (conf) => this.#bringUp(conf),
    );
    this.#log.info(`Enrolled in layer ${layer.name}.`);
    return layer;
  }

  async connect(dst: string, component: "dt" | "mgmt", qos: QosSpec): Promise<void> {
    this.#running("connect");
    if (component === "mgmt") {
      // config files connect Management then Data Transfer to every peer
      this.#log.info(`No Management component in a broadcast layer; not connecting it to ${dst}.`);
      return;
    }
    await this.cm.connect("dt", dst, qos);
  }

  disconnect(dst: string, component: "dt" | "mgmt"): Promise<void> {
    if (component === "dt") this.cm.disconnect("dt", dst);
    return Promise.resolve();
  }

  reg(): Promise<void> {
    return Promise.reject(
      new OuroError(
        Errno.ENOTSUP,
        `Cannot register names in broadcast layer ${this.layer?.name ?? ""}`,
      ),
    );
  }

  unreg(): Promise<void> {
    return Promise.resolve();
  }

  query(): Promise<boolean> {
    return Promise.resolve(false);
  }

  flowAlloc(): Promise<void> {
    return Promise.reject(
      new OuroError(Errno.ENOTSUP, "Cannot allocate a flow in a broadcast layer: join it instead"),
    );
  }

  flowJoin(flowId: number, hash: Uint8Array): Promise<void> {
    try {
      const f = this.#running("join");
      // the reference lets some mismatches through (spec 14 §4.3); require equality
      if (!bytesEqual(hash, this.#layerHash!)) {
        throw new OuroError(
          Errno.EIPCP,
          `Cannot join flow ${flowId}: hash ${toHex(hash).slice(0, 16)} is not layer ${
            this.layer!.name
          }`,
        );
      }
      f.join(flowId);
      this.#log.info(`Flow ${flowId} joined layer ${this.layer!.name}.`);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  flowDealloc(flowId: number): void {
    if (this.#flood?.leave(flowId)) this.#log.info(`Flow ${flowId} left the layer.`);
  }

  write(flowId: number, sdu: Uint8Array): Promise<void> | undefined {
    return this.#flood?.write(flowId, sdu);
  }

  info(): IpcpInfo {
    const f = this.#flood;
    return {
      id: this.id,
      name: this.name,
      type: this.type,
      state: this.state,
      layer: this.layer?.name,
      hashAlgo: this.layer?.hashAlgo,
      detail: f
        ? {
          origin: f.origin.toString(16).padStart(16, "0"),
          joined: f.joiners().length,
          links: f.links(),
          counters: {
            flood: { ...f.counters, seenOrigins: f.seen.size, seenEvicted: f.seen.evicted },
            connmgr: this.cm.counters,
            enroll: this.#enroller?.counters,
          },
        }
        : undefined,
    };
  }

  async stop(): Promise<void> {
    if (this.state === "OPERATIONAL") this.state = "SHUTDOWN";
    this.cm.unregister("dt");
    await this.cm.stop();
    this.#flood?.close();
    this.#flood = undefined;
    this.state = "INIT";
  }
}
