/**
 * The local IPCP (spec 11 §1): flows between processes on one host.
 *
 * Packets written on one end are handed straight to the other end's owner:
 * no header, no copy beyond what the IRMd's socket writer does.
 * @module
 */
import { Errno, OuroError } from "../../lib/errors.ts";
import { HashAlgo, toHex } from "../../lib/hash.ts";
import type { Logger } from "../../lib/log.ts";
import type { QosSpec } from "../../lib/qos.ts";
import {
  type BootstrapConf,
  type Ipcp,
  type IpcpHost,
  type IpcpInfo,
  type IpcpStateName,
  type LayerInfo,
  MPL_MS,
} from "../types.ts";

/** The local IPCP. */
export class LocalIpcp implements Ipcp {
  readonly type = "local" as const;
  state: IpcpStateName = "BOOT";
  layer: LayerInfo | undefined;
  readonly #registered = new Set<string>();
  readonly #inOut = new Map<number, number>();
  #pkts = 0;

  constructor(
    readonly id: number,
    readonly name: string,
    readonly host: IpcpHost,
    readonly log: Logger,
  ) {}

  bootstrap(conf: BootstrapConf): Promise<LayerInfo> {
    if (this.state !== "BOOT") {
      return Promise.reject(new OuroError(Errno.EIPCPSTATE, "Cannot bootstrap: IPCP is not in BOOT state"));
    }
    this.layer = { name: conf.layer, hashAlgo: conf.hashAlgo ?? HashAlgo.SHA3_256 };
    this.state = "OPERATIONAL";
    this.log.info(`Bootstrapped local IPCP ${this.name} in layer ${conf.layer}.`);
    return Promise.resolve(this.layer);
  }

  enroll(): Promise<LayerInfo> {
    return Promise.reject(new OuroError(Errno.ENOTSUP, "Cannot enroll: local IPCPs only bootstrap"));
  }
  connect(): Promise<void> {
    return Promise.reject(new OuroError(Errno.ENOTSUP, "Cannot connect: local IPCPs have no components"));
  }
  disconnect(): Promise<void> {
    return this.connect();
  }
  flowJoin(): Promise<void> {
    return Promise.reject(new OuroError(Errno.ENOTSUP, "Cannot join: not a broadcast layer"));
  }

  reg(hash: Uint8Array): Promise<void> {
    this.#registered.add(toHex(hash));
    return Promise.resolve();
  }
  unreg(hash: Uint8Array): Promise<void> {
    this.#registered.delete(toHex(hash));
    return Promise.resolve();
  }
  query(hash: Uint8Array): Promise<boolean> {
    return Promise.resolve(this.state === "OPERATIONAL" && this.#registered.has(toHex(hash)));
  }

  async flowAlloc(flowId: number, hash: Uint8Array, qos: QosSpec, data: Uint8Array): Promise<void> {
    let resp;
    try {
      resp = await this.host.flowReqArr(this, hash, qos, MPL_MS.local, data);
    } catch (e) {
      const code = e instanceof OuroError ? e.code : Errno.EIPCP;
      this.host.flowAllocReply(flowId, -code, MPL_MS.local, new Uint8Array(0));
      return;
    }
    this.#inOut.set(flowId, resp.flowId);
    this.#inOut.set(resp.flowId, flowId);
    this.host.flowAllocReply(flowId, 0, MPL_MS.local, resp.data);
  }

  flowDealloc(flowId: number): void {
    const peer = this.#inOut.get(flowId);
    this.#inOut.delete(flowId);
    if (peer !== undefined) {
      this.#inOut.delete(peer);
      // the other end learns through the layer: its flow is torn down too
      this.host.flowDeallocated(peer);
    }
  }

  write(flowId: number, sdu: Uint8Array): Promise<void> | undefined {
    const peer = this.#inOut.get(flowId);
    if (peer === undefined) return undefined;
    this.#pkts++;
    this.host.deliver(peer, sdu);
    return this.host.backpressure(peer);
  }

  info(): IpcpInfo {
    return {
      id: this.id,
      name: this.name,
      type: this.type,
      state: this.state,
      layer: this.layer?.name,
      hashAlgo: this.layer?.hashAlgo,
      detail: { flows: this.#inOut.size, registered: this.#registered.size, packets: this.#pkts },
    };
  }

  stop(): Promise<void> {
    this.state = "SHUTDOWN";
    this.#inOut.clear();
    return Promise.resolve();
  }
}
