/**
 * The eth-dix and eth-llc shim IPCPs (spec 11 §3): a layer over one
 * Ethernet segment, reached through an AF_PACKET socket.
 *
 * Names are found by broadcasting a NAME_QUERY_REQ and caching the MAC of
 * whoever answers (`resolve.ts`). A flow is a pair of local ids — eids
 * (DIX) or SAPs (LLC) — and MACs, set up by FLOW_REQ / FLOW_REPLY; data
 * frames carry the receiver's id (and, LLC, the sender's). There is no
 * teardown message. The two framings live in `framing.ts`; this file never
 * branches on the kind.
 *
 * Hardening beyond the reference: only frames to our MAC or broadcast are
 * taken; data is accepted only from the flow's peer MAC (and SAP); frames
 * of other protocols and malformed ones are counted and dropped.
 *
 * @example
 * ```ts ignore
 * // inside the daemon: ouro irm ipcp bootstrap name e type eth-dix layer lan dev eth0
 * import { EthIpcp } from "./eth.ts";
 * declare const host: import("../types.ts").IpcpHost;
 * declare const log: import("../../lib/log.ts").Logger;
 * const e = new EthIpcp(1, "e", "eth-dix", host, log);
 * await e.bootstrap({ layer: "lan", options: { dev: "eth0", ethertype: "0xA000" } });
 * ```
 * @module
 */
import { DecodeError, Errno, OuroError } from "../../lib/errors.ts";
import { bytesEqual, HashAlgo, hashLen, shortHash } from "../../lib/hash.ts";
import type { Logger } from "../../lib/log.ts";
import type { QosSpec } from "../../lib/qos.ts";
import { IoError } from "../../io/libc.ts";
import {
  type BootstrapConf,
  type Ipcp,
  type IpcpHost,
  type IpcpInfo,
  type IpcpStateName,
  type LayerInfo,
  MPL_MS,
} from "../types.ts";
import { dixFraming, type EthFraming, type EthMgmtMsg, llcFraming } from "./framing.ts";
import { type EthLink, type EthLinkOpener, macToString, openPacketLink } from "./link.ts";
import { EthNames } from "./resolve.ts";
import {
  ETH_BROADCAST_MAC,
  ETH_DIX_ETHERTYPE_DEFAULT,
  ETH_ETHERTYPE_MIN,
  ETH_HDR_LEN,
  ETH_MGMT_FRAME_SIZE,
  ethMaxSdu,
  EthMgmtCode,
  ethMtu,
} from "./wire.ts";

/** The two Ethernet IPCP types. */
export type EthIpcpType = "eth-dix" | "eth-llc";
/** Bootstrap options of each type (by CLI keyword). */
export const ETH_OPTIONS: Record<EthIpcpType, readonly string[]> = {
  "eth-dix": ["dev", "ethertype"],
  "eth-llc": ["dev"],
};
/** Longest interface name (IFNAMSIZ − 1). */
export const ETH_IFNAME_MAX = 15;
/** Frames held back while the socket's send ring is full, at most. */
export const ETH_TX_BACKLOG_MAX = 1024;

/** Tunables and test seams of an {@link EthIpcp}. */
export interface EthIpcpOptions {
  /** How the link is opened (default: an AF_PACKET socket). */
  open?: EthLinkOpener;
  /** Open the interface inside this network namespace. */
  netns?: string;
  /** Name query timeout in ms (default 2000, the reference's). */
  queryTimeoutMs?: number;
}

/** Counters shown by `info()`. */
export interface EthCounters {
  /** Data SDUs handed up, and their bytes. */
  rxPackets: number;
  rxBytes: number;
  /** Data SDUs sent, and their bytes. */
  txPackets: number;
  txBytes: number;
  /** Management frames received (well-formed) / sent. */
  rxMgmt: number;
  txMgmt: number;
  /** Frames of another protocol (Ethertype, LLC traffic that is not ours). */
  rxIgnored: number;
  /** Frames addressed to another MAC, or looped back from our own. */
  rxNotForUs: number;
  /** Frames of our protocol that did not decode (short, bad length, code, …). */
  rxMalformed: number;
  /** Data for no flow here, or from a MAC/SAP that is not the flow's peer. */
  rxNoFlow: number;
  /** FLOW_REPLYs for no pending allocation or from the wrong MAC. */
  rxBadReply: number;
  /** FLOW_REQs for a name not registered here (silently ignored). */
  rxUnknownName: number;
  /** SDUs written on an unknown or not yet allocated flow. */
  txNoFlow: number;
  /** SDUs above the maximum SDU size. */
  txOversize: number;
  /** SDUs dropped because the send ring and backlog were full, or the link closed. */
  txFull: number;
}

interface EthFlow {
  /** Our id for this flow (DIX: the flow id; LLC: the SAP). */
  localId: number;
  /** The peer's id; -1 until the FLOW_REPLY (initiator side). */
  remoteId: number;
  /** The peer's MAC (the one the request went to, on the initiator side). */
  remoteMac: Uint8Array;
  /** Prebuilt data header, once the peer's id is known. */
  header: Uint8Array | undefined;
}

const EMPTY = new Uint8Array(0);
const ZERO_QOS: QosSpec = {
  delay: 0,
  bandwidth: 0n,
  availability: 0,
  loss: 0,
  ber: 0,
  inOrder: 0,
  maxGap: 0,
  timeout: 0,
};

function errCode(e: unknown): number {
  return e instanceof OuroError ? e.code : Errno.EIPCP;
}

function isMac(b: Uint8Array, m: Uint8Array, off: number): boolean {
  for (let i = 0; i < 6; i++) if (b[off + i] !== m[i]) return false;
  return true;
}

/**
 * Parse a DIX Ethertype option: hex with or without `0x` (spec 06), or a
 * number taken as the value itself. Undefined if unparseable.
 */
export function parseEthertype(v: string | number | boolean): number | undefined {
  if (typeof v === "number") return Number.isInteger(v) ? v : undefined;
  if (typeof v !== "string" || !/^(0[xX])?[0-9a-fA-F]{1,4}$/.test(v)) return undefined;
  return parseInt(v.replace(/^0[xX]/, ""), 16);
}

/** An eth-dix or eth-llc IPCP; see the module documentation. */
export class EthIpcp implements Ipcp {
  state: IpcpStateName = "BOOT";
  layer: LayerInfo | undefined;
  /** Counters (live). */
  readonly counters: EthCounters = {
    rxPackets: 0,
    rxBytes: 0,
    txPackets: 0,
    txBytes: 0,
    rxMgmt: 0,
    txMgmt: 0,
    rxIgnored: 0,
    rxNotForUs: 0,
    rxMalformed: 0,
    rxNoFlow: 0,
    rxBadReply: 0,
    rxUnknownName: 0,
    txNoFlow: 0,
    txOversize: 0,
    txFull: 0,
  };
  readonly #opts: EthIpcpOptions;
  readonly #mpl: number;
  readonly #names = new EthNames();
  #fr: EthFraming | undefined;
  #link: EthLink | undefined;
  #rxLoop: Promise<void> | undefined;
  #ethertype: number | undefined;
  #mtu = 0;
  #maxSdu = 0;
  #hashLen = 32;
  #mac: Uint8Array = new Uint8Array(6);
  readonly #flows = new Map<number, EthFlow>();
  /** Local id → flow id (DIX: identity; LLC: SAP table). */
  readonly #byLocal = new Map<number, number>();
  #txBuf: Uint8Array = EMPTY;
  #backlog: Uint8Array[] = [];
  #draining: Promise<void> | undefined;

  constructor(
    readonly id: number,
    readonly name: string,
    readonly type: EthIpcpType,
    readonly host: IpcpHost,
    readonly log: Logger,
    opts: EthIpcpOptions = {},
  ) {
    this.#opts = opts;
    this.#mpl = MPL_MS[type];
  }

  /** Largest SDU this IPCP sends, in bytes (after bootstrap). */
  get maxSdu(): number {
    return this.#maxSdu;
  }

  /** Own MAC (after bootstrap). */
  get mac(): Uint8Array {
    return this.#mac;
  }

  // ---- bootstrap ----------------------------------------------------------

  async bootstrap(conf: BootstrapConf): Promise<LayerInfo> {
    if (this.state !== "BOOT") {
      throw new OuroError(Errno.EIPCPSTATE, `Cannot bootstrap ${this.name}: IPCP is not in BOOT state`);
    }
    const what = `Cannot bootstrap ${this.type} IPCP ${this.name}`;
    const o = conf.options ?? {};
    const known = ETH_OPTIONS[this.type];
    for (const k of Object.keys(o)) {
      if (!known.includes(k)) this.log.warn(`Ignoring option ${k}: ${this.type} takes ${known.join(", ")}.`);
    }
    if (o.dev === undefined || o.dev === "" || o.dev === true) {
      throw new OuroError(Errno.EINVAL, `${what}: option dev is required (the interface, e.g. dev eth0)`);
    }
    const dev = String(o.dev);
    if (dev.length > ETH_IFNAME_MAX || /[\s/]/.test(dev)) {
      throw new OuroError(Errno.EINVAL, `${what}: "${dev}" is not an interface name (at most 15 characters)`);
    }
    let ethertype: number | undefined;
    if (this.type === "eth-dix") {
      ethertype = o.ethertype === undefined ? ETH_DIX_ETHERTYPE_DEFAULT : parseEthertype(o.ethertype);
      if (ethertype === undefined || ethertype < ETH_ETHERTYPE_MIN || ethertype > 0xfffe) {
        throw new OuroError(
          Errno.EINVAL,
          `${what}: ethertype ${o.ethertype} is not 0x0600..0xFFFE; give it in hex, e.g. ethertype 0xA000`,
        );
      }
    }
    const hashAlgo = conf.hashAlgo ?? HashAlgo.SHA3_256;
    const fr = ethertype === undefined ? llcFraming() : dixFraming(ethertype);
    let link: EthLink;
    try {
      // every frame of the interface, as the reference: the reader filters and counts
      link = await (this.#opts.open ?? openPacketLink)({ ifname: dev, netns: this.#opts.netns });
    } catch (e) {
      throw this.#linkError(what, dev, e);
    }
    this.#fr = fr;
    this.#link = link;
    this.#ethertype = ethertype;
    this.#hashLen = hashLen(hashAlgo);
    this.#mac = link.mac.slice();
    this.#mtu = ethMtu(fr.kind, dev, link.mtu);
    this.#maxSdu = ethMaxSdu(fr.kind, this.#mtu);
    this.#txBuf = new Uint8Array(fr.hdrLen + this.#maxSdu);
    this.#rxLoop = link.onReceive((f) => this.#onFrame(f), { copy: false });
    this.layer = { name: conf.layer, hashAlgo };
    this.state = "OPERATIONAL";
    this.log.info(
      `Bootstrapped ${this.type} IPCP ${this.name} in layer ${conf.layer} on ${dev} ` +
        `(${macToString(this.#mac)}${ethertype === undefined ? "" : `, ethertype 0x${ethertype.toString(16)}`}, ` +
        `max SDU ${this.#maxSdu}).`,
    );
    return this.layer;
  }

  #linkError(what: string, dev: string, e: unknown): OuroError {
    const code = e instanceof IoError ? e.code : "";
    const where = this.#opts.netns ? ` in network namespace ${this.#opts.netns}` : "";
    switch (code) {
      case "ENODEV":
        return new OuroError(Errno.EINVAL, `${what}: no interface ${dev}${where}; see \`ip link\``);
      case "ENETDOWN":
        return new OuroError(Errno.EIPCP, `${what}: ${dev} is down; bring it up with \`ip link set ${dev} up\``);
      case "EPERM":
      case "EACCES":
        return new OuroError(
          Errno.EPERM,
          `${what}: raw Ethernet needs root or CAP_NET_RAW; run the IRMd as root or ` +
            `\`setcap cap_net_raw+ep\` on deno`,
        );
      default:
        return new OuroError(Errno.EIPCP, `${what}: ${(e as Error)?.message ?? e}`);
    }
  }

  enroll(): Promise<LayerInfo> {
    return Promise.reject(new OuroError(Errno.ENOTSUP, `Cannot enroll: ${this.type} IPCPs only bootstrap`));
  }
  connect(): Promise<void> {
    return Promise.reject(new OuroError(Errno.ENOTSUP, `Cannot connect: ${this.type} IPCPs have no components`));
  }
  disconnect(): Promise<void> {
    return this.connect();
  }
  flowJoin(): Promise<void> {
    return Promise.reject(new OuroError(Errno.ENOTSUP, "Cannot join: not a broadcast layer"));
  }

  // ---- names --------------------------------------------------------------

  reg(hash: Uint8Array): Promise<void> {
    this.#names.reg(hash);
    return Promise.resolve();
  }

  unreg(hash: Uint8Array): Promise<void> {
    this.#names.unreg(hash);
    return Promise.resolve();
  }

  async query(hash: Uint8Array): Promise<boolean> {
    if (this.state !== "OPERATIONAL") return false;
    return (await this.#resolve(hash)) !== undefined;
  }

  #resolve(hash: Uint8Array): Promise<Uint8Array | undefined> {
    return this.#names.query(hash, () => {
      const ok = this.#sendMgmt(ETH_BROADCAST_MAC, {
        code: EthMgmtCode.NAME_QUERY_REQ,
        sId: 0,
        dId: 0,
        response: 0,
        qos: ZERO_QOS,
        hash,
        payload: EMPTY,
      });
      if (ok) this.log.debug(`Sent name query for ${shortHash(hash)}.`);
    }, this.#opts.queryTimeoutMs);
  }

  // ---- flow allocation ----------------------------------------------------

  /** A free local id for a new flow end, or undefined. */
  #allocLocalId(flowId: number): number | undefined {
    const fr = this.#fr!;
    if (fr.kind === "dix") {
      // DIX uses the IRMd's flow id as the eid (u16)
      return flowId >= fr.idMin && flowId <= fr.idMax && !this.#byLocal.has(flowId) ? flowId : undefined;
    }
    for (let id = fr.idMin; id <= fr.idMax; id++) if (!this.#byLocal.has(id)) return id;
    return undefined;
  }

  #addFlow(flowId: number, localId: number, remoteMac: Uint8Array, remoteId: number): EthFlow {
    const f: EthFlow = { localId, remoteId: -1, remoteMac, header: undefined };
    this.#flows.set(flowId, f);
    this.#byLocal.set(localId, flowId);
    if (remoteId >= 0) this.#setRemote(f, remoteId);
    return f;
  }

  #setRemote(f: EthFlow, remoteId: number): void {
    f.remoteId = remoteId;
    f.header = this.#fr!.dataHeader(f.remoteMac, this.#mac, remoteId, f.localId);
  }

  #dropFlow(flowId: number): void {
    const f = this.#flows.get(flowId);
    if (!f) return;
    this.#flows.delete(flowId);
    if (this.#byLocal.get(f.localId) === flowId) this.#byLocal.delete(f.localId);
  }

  /** Does a management message with `extra` trailer bytes fit one frame? */
  #mgmtFits(extra: number): boolean {
    const body = this.#fr!.mgmtLen + extra;
    return body <= ETH_MGMT_FRAME_SIZE && this.#fr!.hdrLen + body <= ETH_HDR_LEN + this.#mtu;
  }

  async flowAlloc(flowId: number, hash: Uint8Array, qos: QosSpec, data: Uint8Array): Promise<void> {
    const what = `Cannot allocate flow ${flowId} to ${shortHash(hash)}`;
    if (this.state !== "OPERATIONAL" || !this.#fr) {
      throw new OuroError(Errno.EIPCPSTATE, `${what}: IPCP is not operational`);
    }
    if (hash.length !== this.#hashLen) throw new OuroError(Errno.EINVAL, `${what}: wrong hash length`);
    if (!this.#mgmtFits(hash.length + data.length)) {
      throw new OuroError(Errno.EMSGSIZE, `${what}: ${data.length} bytes of allocation data do not fit a frame`);
    }
    const mac = await this.#resolve(hash);
    if (!mac) throw new OuroError(Errno.EIPCP, `${what}: no host on ${this.#link?.ifname} answered the name query`);
    if (this.state !== "OPERATIONAL") throw new OuroError(Errno.EIPCPSTATE, `${what}: IPCP stopped`);
    const localId = this.#allocLocalId(flowId);
    if (localId === undefined) {
      throw new OuroError(
        Errno.EIPCP,
        this.#fr.kind === "llc"
          ? `${what}: all ${this.#fr.idMax - this.#fr.idMin + 1} LLC SAPs are in use`
          : `${what}: flow id ${flowId} does not fit a 16-bit eid`,
      );
    }
    this.#addFlow(flowId, localId, mac, -1);
    const sent = this.#sendMgmt(mac, {
      code: EthMgmtCode.FLOW_REQ,
      sId: localId,
      dId: 0,
      response: 0,
      qos,
      hash,
      payload: data,
    });
    if (!sent) {
      this.#dropFlow(flowId);
      throw new OuroError(Errno.EIPCP, `${what}: the send queue is full`);
    }
    this.log.debug(`Sent flow request ${flowId} (id ${localId}) for ${shortHash(hash)} to ${macToString(mac)}.`);
  }

  /** Send a management message; false if it could not be queued. */
  #sendMgmt(dst: Uint8Array, m: EthMgmtMsg): boolean {
    let ok = false;
    try {
      ok = this.#link?.send(this.#fr!.mgmtFrame(dst, this.#mac, m)) ?? false;
    } catch (e) {
      this.log.error(`Cannot send management frame to ${macToString(dst)}: ${(e as Error).message}.`);
    }
    if (ok) this.counters.txMgmt++;
    return ok;
  }

  async #onFlowReq(m: EthMgmtMsg, src: Uint8Array): Promise<void> {
    if (!this.#names.has(m.hash)) {
      this.counters.rxUnknownName++; // not ours: silence, as the reference
      return;
    }
    const reply = (sId: number, response: number, payload: Uint8Array) =>
      this.#sendMgmt(src, {
        code: EthMgmtCode.FLOW_REPLY,
        sId,
        dId: m.sId,
        response,
        qos: ZERO_QOS,
        hash: EMPTY,
        payload,
      });
    let r: { flowId: number; data: Uint8Array };
    try {
      r = await this.host.flowReqArr(this, m.hash, m.qos, this.#mpl, m.payload);
    } catch (e) {
      this.log.debug(`Refused flow request ${m.sId} from ${macToString(src)}: ${(e as Error).message}`);
      if (this.state === "OPERATIONAL") reply(0, -errCode(e), EMPTY);
      return;
    }
    if (this.state !== "OPERATIONAL") {
      this.host.flowDeallocated(r.flowId);
      return;
    }
    const localId = this.#allocLocalId(r.flowId);
    if (localId === undefined || !this.#mgmtFits(r.data.length)) {
      this.log.warn(`Refused flow request from ${macToString(src)}: no free local id or data too long.`);
      reply(0, -Errno.EIPCP, EMPTY);
      this.host.flowDeallocated(r.flowId);
      return;
    }
    this.#addFlow(r.flowId, localId, src, m.sId);
    if (!reply(localId, 0, r.data)) {
      this.#dropFlow(r.flowId);
      this.host.flowDeallocated(r.flowId);
      return;
    }
    this.log.debug(
      `Accepted flow ${r.flowId} (id ${localId}) for ${shortHash(m.hash)} from ${macToString(src)} (peer id ${m.sId}).`,
    );
  }

  #onFlowReply(m: EthMgmtMsg, src: Uint8Array): void {
    const flowId = this.#byLocal.get(m.dId);
    const f = flowId === undefined ? undefined : this.#flows.get(flowId);
    if (flowId === undefined || !f || f.remoteId !== -1 || !bytesEqual(f.remoteMac, src)) {
      this.counters.rxBadReply++;
      this.log.debug(`Dropped flow reply for id ${m.dId} from ${macToString(src)}: no allocation pending.`);
      return;
    }
    let response = m.response;
    const fr = this.#fr!;
    if (response === 0 && (m.sId < fr.idMin || m.sId > fr.idMax)) response = -Errno.EIPCP;
    if (response > 0) response = -Errno.EIPCP;
    if (response === 0) this.#setRemote(f, m.sId);
    else this.#dropFlow(flowId);
    this.log.debug(`Flow reply for ${flowId}: response ${response}, peer id ${m.sId}.`);
    this.host.flowAllocReply(flowId, response, this.#mpl, m.payload);
  }

  #onNameQuery(m: EthMgmtMsg, src: Uint8Array): void {
    if (!this.#names.has(m.hash)) return;
    this.#sendMgmt(src, { ...m, code: EthMgmtCode.NAME_QUERY_REPLY, payload: EMPTY });
    this.log.debug(`Answered name query for ${shortHash(m.hash)} from ${macToString(src)}.`);
  }

  flowDealloc(flowId: number): void {
    this.#dropFlow(flowId);
  }

  // ---- packet path --------------------------------------------------------

  #onFrame(b: Uint8Array): void {
    const fr = this.#fr!;
    let rx;
    try {
      rx = fr.decode(b);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      this.counters.rxMalformed++;
      return;
    }
    if (rx === undefined) {
      this.counters.rxIgnored++;
      return;
    }
    // ours or broadcast, and not an echo of our own transmissions
    if ((!isMac(b, this.#mac, 0) && !isMac(b, ETH_BROADCAST_MAC, 0)) || isMac(b, this.#mac, 6)) {
      this.counters.rxNotForUs++;
      return;
    }
    if (!rx.mgmt) {
      const flowId = this.#byLocal.get(rx.dId);
      const f = flowId === undefined ? undefined : this.#flows.get(flowId);
      if (
        flowId === undefined || f === undefined || f.remoteId < 0 ||
        (rx.sId >= 0 && rx.sId !== f.remoteId) || !bytesEqual(rx.src, f.remoteMac)
      ) {
        this.counters.rxNoFlow++;
        return;
      }
      this.counters.rxPackets++;
      this.counters.rxBytes += rx.payload.length;
      this.host.deliver(flowId, rx.payload);
      return;
    }
    this.#onMgmt(rx.body, rx.src);
  }

  #onMgmt(body: Uint8Array, srcView: Uint8Array): void {
    let m: EthMgmtMsg;
    try {
      m = this.#fr!.decodeMgmt(body, this.#hashLen);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      this.counters.rxMalformed++;
      this.log.debug(`Dropped management frame from ${macToString(srcView)}: ${e.message}.`);
      return;
    }
    this.counters.rxMgmt++;
    // the frame is a view of the receive ring: keep copies
    const src = srcView.slice();
    m.hash = m.hash.slice();
    m.payload = m.payload.slice();
    switch (m.code) {
      case EthMgmtCode.FLOW_REQ:
        this.#onFlowReq(m, src).catch((e) => this.log.error(`Flow request failed: ${(e as Error).stack}`));
        break;
      case EthMgmtCode.FLOW_REPLY:
        this.#onFlowReply(m, src);
        break;
      case EthMgmtCode.NAME_QUERY_REQ:
        this.#onNameQuery(m, src);
        break;
      case EthMgmtCode.NAME_QUERY_REPLY:
        this.#names.learn(m.hash, src);
        this.log.debug(`Learnt ${shortHash(m.hash)} at ${macToString(src)}.`);
        break;
    }
  }

  write(flowId: number, sdu: Uint8Array): Promise<void> | undefined {
    const f = this.#flows.get(flowId);
    if (f === undefined || f.header === undefined) {
      this.counters.txNoFlow++;
      return undefined;
    }
    if (sdu.length > this.#maxSdu) {
      this.counters.txOversize++;
      return undefined;
    }
    const buf = this.#txBuf;
    const hl = f.header.length;
    buf.set(f.header, 0);
    this.#fr!.setLength(buf, sdu.length);
    buf.set(sdu, hl);
    const frame = buf.subarray(0, hl + sdu.length);
    if (this.#backlog.length === 0 && this.#link?.send(frame)) {
      this.counters.txPackets++;
      this.counters.txBytes += sdu.length;
      return undefined;
    }
    return this.#hold(frame);
  }

  /** Keep a frame until the send ring has room; the writer waits on the promise. */
  #hold(frame: Uint8Array): Promise<void> | undefined {
    const link = this.#link;
    if (!link || link.closed || this.#backlog.length >= ETH_TX_BACKLOG_MAX) {
      this.counters.txFull++;
      return this.#draining;
    }
    this.#backlog.push(frame.slice());
    this.#draining ??= this.#drain(link);
    return this.#draining;
  }

  async #drain(link: EthLink): Promise<void> {
    const hl = this.#fr!.hdrLen;
    try {
      let i = 0;
      while (i < this.#backlog.length) {
        if (!await link.waitWritable()) break;
        for (; i < this.#backlog.length; i++) {
          const b = this.#backlog[i]!;
          if (!link.send(b)) break;
          this.counters.txPackets++;
          this.counters.txBytes += b.length - hl;
        }
      }
      this.counters.txFull += this.#backlog.length - i;
    } finally {
      this.#backlog = [];
      this.#draining = undefined;
    }
  }

  // ---- listing and shutdown -----------------------------------------------

  info(): IpcpInfo {
    const s = this.#link?.stats();
    return {
      id: this.id,
      name: this.name,
      type: this.type,
      state: this.state,
      layer: this.layer?.name,
      hashAlgo: this.layer?.hashAlgo,
      detail: {
        dev: this.#link?.ifname,
        mac: this.#link ? macToString(this.#mac) : undefined,
        ethertype: this.#ethertype === undefined ? undefined : `0x${this.#ethertype.toString(16).padStart(4, "0")}`,
        mtu: this.#mtu || undefined,
        maxSdu: this.#maxSdu || undefined,
        flows: this.#flows.size,
        ...this.#names.sizes,
        ...this.counters,
        // send-ring-full events; those frames were held in the backlog, not lost
        txRingFull: s?.txDrops ?? 0,
        txKernelErrors: s?.txErrors ?? 0,
        rxTruncated: s?.rxTruncated ?? 0,
      },
    };
  }

  async stop(): Promise<void> {
    this.state = "SHUTDOWN";
    this.#names.close();
    this.#flows.clear();
    this.#byLocal.clear();
    const link = this.#link;
    if (link) {
      await link.close();
      await this.#rxLoop?.catch(() => {});
    }
    await this.#draining;
  }
}
