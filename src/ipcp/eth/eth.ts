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
import { FastRxFds, type FastShim, type FastShimInfo } from "../common/fast.ts";
import { ShimIpcp } from "../common/shim.ts";
import { DecodeError, Errno, OuroError } from "../../lib/errors.ts";
import { bytesEqual, HashAlgo, hashLen, shortHash } from "../../lib/hash.ts";
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
import { type EthIpcpType, linkError, parseEthConf } from "./conf.ts";
import { type EthCounters, newEthCounters } from "./counters.ts";
import { EthFlowTable } from "./flows.ts";
import { dixFraming, type EthFraming, type EthMgmtMsg, llcFraming } from "./framing.ts";
import { type EthLink, type EthLinkOpener, macToString, openPacketLink } from "./link.ts";
import { EthNames } from "./resolve.ts";
import { EthSender } from "./tx.ts";
import {
  ETH_BROADCAST_MAC,
  ETH_HDR_LEN,
  ETH_MGMT_FRAME_SIZE,
  ethMaxSdu,
  EthMgmtCode,
  ethMtu,
} from "./wire.ts";

export { type EthIpcpType, parseEthertype } from "./conf.ts";
export type { EthCounters } from "./counters.ts";

/** Tunables and test seams of an {@link EthIpcp}. */
export interface EthIpcpOptions {
  /** How the link is opened (default: an AF_PACKET socket). */
  open?: EthLinkOpener;
  /** Open the interface inside this network namespace. */
  netns?: string;
  /** Name query timeout in ms (default 2000, the reference's). */
  queryTimeoutMs?: number;
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

/** An eth-dix or eth-llc IPCP; see the module documentation. */
export class EthIpcp extends ShimIpcp implements Ipcp, FastShim {
  state: IpcpStateName = "BOOT";
  layer: LayerInfo | undefined;
  /** Counters (live). */
  readonly counters: EthCounters = newEthCounters();

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
  #flows: EthFlowTable | undefined;
  /** TUN fds (borrowed by the IRMd) of flows received by the fast path. */
  protected readonly fast = new FastRxFds(() => this.name, () => this.#link?.fastRx);
  #tx: EthSender | undefined;
  #txBuf: Uint8Array = EMPTY;

  constructor(
    readonly id: number,
    readonly name: string,
    readonly type: EthIpcpType,
    readonly host: IpcpHost,
    readonly log: Logger,
    opts: EthIpcpOptions = {},
  ) {
    super();
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
      throw new OuroError(
        Errno.EIPCPSTATE,
        `Cannot bootstrap ${this.name}: IPCP is not in BOOT state`,
      );
    }
    const what = `Cannot bootstrap ${this.type} IPCP ${this.name}`;
    const { dev, ethertype } = parseEthConf(this.type, conf.options ?? {}, what, this.log);
    const hashAlgo = conf.hashAlgo ?? HashAlgo.SHA3_256;
    const fr = ethertype === undefined ? llcFraming() : dixFraming(ethertype);
    let link: EthLink;
    try {
      // every frame of the interface, as the reference: the reader filters and counts
      link = await (this.#opts.open ?? openPacketLink)({ ifname: dev, netns: this.#opts.netns });
    } catch (e) {
      throw linkError(what, dev, this.#opts.netns, e);
    }
    this.#fr = fr;
    this.#link = link;
    this.#ethertype = ethertype;
    this.#hashLen = hashLen(hashAlgo);
    this.#mac = link.mac.slice();
    this.#mtu = ethMtu(fr.kind, dev, link.mtu);
    this.#maxSdu = ethMaxSdu(fr.kind, this.#mtu);
    this.#txBuf = new Uint8Array(fr.hdrLen + this.#maxSdu);
    this.#flows = new EthFlowTable(fr, this.#mac);
    this.#tx = new EthSender(link, fr.hdrLen, this.counters);
    this.#rxLoop = link.onReceive((f) => this.#onFrame(f), { copy: false });
    this.layer = { name: conf.layer, hashAlgo };
    this.state = "OPERATIONAL";
    this.log.info(
      `Bootstrapped ${this.type} IPCP ${this.name} in layer ${conf.layer} on ${dev} ` +
        `(${macToString(this.#mac)}${
          ethertype === undefined ? "" : `, ethertype 0x${ethertype.toString(16)}`
        }, ` +
        `max SDU ${this.#maxSdu}).`,
    );
    return this.layer;
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

  /** Does a management message with `extra` trailer bytes fit one frame? */
  #mgmtFits(extra: number): boolean {
    const body = this.#fr!.mgmtLen + extra;
    return body <= ETH_MGMT_FRAME_SIZE && this.#fr!.hdrLen + body <= ETH_HDR_LEN + this.#mtu;
  }

  async flowAlloc(flowId: number, hash: Uint8Array, qos: QosSpec, data: Uint8Array): Promise<void> {
    const what = `Cannot allocate flow ${flowId} to ${shortHash(hash)}`;
    const flows = this.#flows;
    if (this.state !== "OPERATIONAL" || !this.#fr || !flows) {
      throw new OuroError(Errno.EIPCPSTATE, `${what}: IPCP is not operational`);
    }
    if (hash.length !== this.#hashLen) {
      throw new OuroError(Errno.EINVAL, `${what}: wrong hash length`);
    }
    if (!this.#mgmtFits(hash.length + data.length)) {
      throw new OuroError(
        Errno.EMSGSIZE,
        `${what}: ${data.length} bytes of allocation data do not fit a frame`,
      );
    }
    const mac = await this.#resolve(hash);
    if (!mac) {
      throw new OuroError(
        Errno.EIPCP,
        `${what}: no host on ${this.#link?.ifname} answered the name query`,
      );
    }
    if (this.state !== "OPERATIONAL") {
      throw new OuroError(Errno.EIPCPSTATE, `${what}: IPCP stopped`);
    }
    const localId = flows.allocLocalId(flowId);
    if (localId === undefined) {
      throw new OuroError(
        Errno.EIPCP,
        this.#fr.kind === "llc"
          ? `${what}: all ${this.#fr.idMax - this.#fr.idMin + 1} LLC SAPs are in use`
          : `${what}: flow id ${flowId} does not fit a 16-bit eid`,
      );
    }
    flows.add(flowId, localId, mac, -1);
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
      flows.drop(flowId);
      throw new OuroError(Errno.EIPCP, `${what}: the send queue is full`);
    }
    this.log.debug(
      `Sent flow request ${flowId} (id ${localId}) for ${shortHash(hash)} to ${macToString(mac)}.`,
    );
  }

  /** Send a management message; false if it could not be queued. */
  #sendMgmt(dst: Uint8Array, m: EthMgmtMsg): boolean {
    let ok = false;
    try {
      ok = this.#link?.send(this.#fr!.mgmtFrame(dst, this.#mac, m)) ?? false;
    } catch (e) {
      this.log.error(
        `Cannot send management frame to ${macToString(dst)}: ${(e as Error).message}.`,
      );
    }
    if (ok) this.counters.txMgmt++;
    return ok;
  }

  /** Can a peer's flow end use id `id` (not management, within the framing's range)? */
  #peerIdOk(id: number): boolean {
    return id >= this.#fr!.idMin && id <= this.#fr!.peerIdMax;
  }

  async #onFlowReq(m: EthMgmtMsg, src: Uint8Array): Promise<void> {
    if (!this.#peerIdOk(m.sId)) {
      this.counters.rxMalformed++; // data toward it would look like management
      return;
    }
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
      this.log.debug(
        `Refused flow request ${m.sId} from ${macToString(src)}: ${(e as Error).message}`,
      );
      if (this.state === "OPERATIONAL") reply(0, -errCode(e), EMPTY);
      return;
    }
    if (this.state !== "OPERATIONAL") {
      this.host.flowDeallocated(r.flowId);
      return;
    }
    const flows = this.#flows!;
    const localId = flows.allocLocalId(r.flowId);
    if (localId === undefined || !this.#mgmtFits(r.data.length)) {
      this.log.warn(
        `Refused flow request from ${macToString(src)}: no free local id or data too long.`,
      );
      reply(0, -Errno.EIPCP, EMPTY);
      this.host.flowDeallocated(r.flowId);
      return;
    }
    flows.add(r.flowId, localId, src, m.sId);
    if (!reply(localId, 0, r.data)) {
      flows.drop(r.flowId);
      this.host.flowDeallocated(r.flowId);
      return;
    }
    this.log.debug(
      `Accepted flow ${r.flowId} (id ${localId}) for ${shortHash(m.hash)} from ${
        macToString(src)
      } (peer id ${m.sId}).`,
    );
  }

  #onFlowReply(m: EthMgmtMsg, src: Uint8Array): void {
    const flows = this.#flows!;
    const flowId = flows.byLocal(m.dId);
    const f = flowId === undefined ? undefined : flows.get(flowId);
    if (flowId === undefined || !f || f.remoteId !== -1 || !bytesEqual(f.remoteMac, src)) {
      this.counters.rxBadReply++;
      this.log.debug(
        `Dropped flow reply for id ${m.dId} from ${macToString(src)}: no allocation pending.`,
      );
      return;
    }
    let response = m.response;
    if (response === 0 && !this.#peerIdOk(m.sId)) response = -Errno.EIPCP;
    if (response > 0) response = -Errno.EIPCP;
    if (response === 0) flows.setRemote(f, m.sId);
    else flows.drop(flowId);
    this.log.debug(`Flow reply for ${flowId}: response ${response}, peer id ${m.sId}.`);
    this.host.flowAllocReply(flowId, response, this.#mpl, m.payload);
  }

  #onNameQuery(m: EthMgmtMsg, src: Uint8Array): void {
    if (!this.#names.has(m.hash)) return;
    this.#sendMgmt(src, { ...m, code: EthMgmtCode.NAME_QUERY_REPLY, payload: EMPTY });
    this.log.debug(`Answered name query for ${shortHash(m.hash)} from ${macToString(src)}.`);
  }

  flowDealloc(flowId: number): void {
    this.fastRemove(flowId);
    this.#flows?.drop(flowId);
  }

  // ---- fast path ----------------------------------------------------------

  /**
   * How to send on flow `flowId` without this thread (the packet socket to
   * borrow, bound to the interface; the data header with its length field
   * to fill) and how its frames to us look (the key: DIX eid, or LLC SAPs).
   * @throws OuroError ENOTALLOC when the flow is unknown or not yet allocated, ENOTSUP on a fake link
   */
  fastSendInfo(flowId: number): FastShimInfo {
    const f = this.#flows?.get(flowId), link = this.#link, fr = this.#fr;
    if (!f || !f.header || !link || !fr) {
      throw new OuroError(Errno.ENOTALLOC, `Cannot take a fast path: flow ${flowId} is not allocated on ${this.name}`);
    }
    if (link.fd === undefined || !link.fastRx) {
      throw new OuroError(Errno.ENOTSUP, `Cannot take a fast path: ${this.name} has no packet socket`);
    }
    // what the peer puts in front of frames to us: its header toward our id
    const toUs = fr.dataHeader(this.#mac, f.remoteMac, f.localId, f.remoteId);
    const dix = fr.kind === "dix";
    return {
      fd: link.fd,
      dst: new Uint8Array(0),
      header: f.header.slice(),
      lenAt: dix ? 16 : 12,
      lenAdd: dix ? 0 : 3,
      shim: {
        len: fr.hdrLen,
        keyAt: 14,
        keyLen: 2,
        head: dix ? [{ at: 12, bytes: [toUs[12]!, toUs[13]!] }] : [{ at: 16, bytes: [toUs[16]!] }],
        lenAt: dix ? 16 : 12,
        lenSub: dix ? 0 : 3,
      },
      key: (toUs[14]! << 8) | toUs[15]!,
    };
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
      const flows = this.#flows!;
      const flowId = flows.byLocal(rx.dId);
      const f = flowId === undefined ? undefined : flows.get(flowId);
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
        this.#onFlowReq(m, src).catch((e) =>
          this.log.error(`Flow request failed: ${(e as Error).stack}`)
        );
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
    const f = this.#flows?.get(flowId);
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
    return this.#tx!.send(buf.subarray(0, hl + sdu.length));
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
        ethertype: this.#ethertype === undefined
          ? undefined
          : `0x${this.#ethertype.toString(16).padStart(4, "0")}`,
        mtu: this.#mtu || undefined,
        maxSdu: this.#maxSdu || undefined,
        flows: this.#flows?.size ?? 0,
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
    this.#flows?.clear();
    const link = this.#link;
    await this.stopIo(async () => {
      if (!link) return;
      await link.close();
      await this.#rxLoop?.catch(() => {});
    });
    await this.#tx?.drained();
  }
}
