/**
 * The contract between the IRMd and the IPCPs it holds (spec 01, 05 §4, 10 §1).
 *
 * Every IPCP type implements {@link Ipcp}; the IRMd gives each one an
 * {@link IpcpHost} to report flow requests, replies, teardowns and to hand
 * packets up. IPCPs run inside the daemon process: the protobuf `ipcp_msg`
 * exchange of the reference becomes these method calls.
 * @module
 */
import type { QosSpec } from "../lib/qos.ts";

/** IPCP types; values are the wire enum (order matters for selection). */
export const IpcpType = {
  local: 0,
  unicast: 1,
  broadcast: 2,
  "eth-llc": 3,
  "eth-dix": 4,
  udp4: 5,
  udp6: 6,
} as const;
export type IpcpTypeName = keyof typeof IpcpType;

/** Is `s` a known IPCP type name? */
export function isIpcpType(s: string): s is IpcpTypeName {
  return Object.hasOwn(IpcpType, s);
}

/** IPCP states (spec 01 §1.1). */
export const IpcpState = {
  NULL: 0,
  INIT: 1,
  BOOT: 2,
  BOOTSTRAPPED: 3,
  ENROLLED: 4,
  OPERATIONAL: 5,
  SHUTDOWN: 6,
} as const;
export type IpcpStateName = keyof typeof IpcpState;

/** A layer as the IPCP reports it after bootstrap or enrollment. */
export interface LayerInfo {
  name: string;
  /** `dir_hash_algo` (src/lib/hash.ts). */
  hashAlgo: number;
}

/**
 * Bootstrap configuration: the layer name plus type-specific options as the
 * CLI / config file give them (validated by the IPCP).
 */
export interface BootstrapConf {
  layer: string;
  /** Directory hash algorithm; defaults to SHA3-256 (MD5 forced for udp). */
  hashAlgo?: number;
  /** Type-specific options by their CLI keyword (ip, port, dev, addr, …). */
  options?: Record<string, string | number | boolean>;
}

/** The IRMd side of an IPCP. */
export interface IpcpHost {
  /**
   * A flow request arrived for `hash` (spec 01 §4.2 step 7–9). Resolves with
   * the flow id the IRMd allocated for the accepting process and the OAP
   * response bytes, or rejects with an OuroError (ENAME, …).
   */
  flowReqArr(
    ipcp: Ipcp,
    hash: Uint8Array,
    qos: QosSpec,
    mpl: number,
    data: Uint8Array,
  ): Promise<{ flowId: number; data: Uint8Array }>;
  /** The layer answered an allocation this IRMd asked for (step 11). */
  flowAllocReply(flowId: number, response: number, mpl: number, data: Uint8Array): void;
  /** The IPCP tore a flow down (layer or peer initiated). */
  flowDeallocated(flowId: number): void;
  /** A packet for the process above `flowId`. The buffer may be reused after return. */
  deliver(flowId: number, sdu: Uint8Array): void;
  /** Resolves when the owner of `flowId` can take more; undefined if it can now. */
  backpressure(flowId: number): Promise<void> | undefined;
}

/** Summary of an IPCP for listings. */
export interface IpcpInfo {
  id: number;
  name: string;
  type: IpcpTypeName;
  state: IpcpStateName;
  layer: string | undefined;
  hashAlgo: number | undefined;
  /** Type-specific details (address, bound socket, …). */
  detail?: Record<string, unknown>;
}

/** One IPC process. All calls are made by the IRMd. */
export interface Ipcp {
  readonly id: number;
  readonly name: string;
  readonly type: IpcpTypeName;
  state: IpcpStateName;
  layer: LayerInfo | undefined;

  bootstrap(conf: BootstrapConf): Promise<LayerInfo>;
  enroll(dst: string): Promise<LayerInfo>;
  connect(dst: string, component: "dt" | "mgmt", qos: QosSpec): Promise<void>;
  disconnect(dst: string, component: "dt" | "mgmt"): Promise<void>;
  reg(hash: Uint8Array): Promise<void>;
  unreg(hash: Uint8Array): Promise<void>;
  /** Is `hash` reachable through this layer? */
  query(hash: Uint8Array): Promise<boolean>;
  /** Ask the layer for a flow to `hash`; the answer comes via host.flowAllocReply. */
  flowAlloc(flowId: number, hash: Uint8Array, qos: QosSpec, data: Uint8Array): Promise<void>;
  /** Join a broadcast layer (broadcast IPCPs only). */
  flowJoin(flowId: number, hash: Uint8Array): Promise<void>;
  /** Release a flow. */
  flowDealloc(flowId: number): void;
  /**
   * A packet from the process above, to send on `flowId`. May return a
   * promise: the sender should pause until it settles (back-pressure).
   */
  write(flowId: number, sdu: Uint8Array): Promise<void> | undefined;
  /** Type-specific details for listings and the RIB view. */
  info(): IpcpInfo;
  /** Stop every thread, socket and timer. */
  stop(): Promise<void>;
}

/** Maximum packet lifetimes reported by each type, in ms (spec 01 §7). */
export const MPL_MS: Record<IpcpTypeName, number> = {
  local: 100,
  unicast: 100,
  broadcast: 100,
  "eth-llc": 100,
  "eth-dix": 100,
  udp4: 5000,
  udp6: 5000,
};
