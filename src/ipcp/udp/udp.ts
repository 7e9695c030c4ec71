/**
 * The udp4 and udp6 shim IPCPs (spec 11 §2): a layer over one UDP socket.
 *
 * Every datagram starts with a 4-byte eid: 0 for a management message
 * (FLOW_REQ / FLOW_REPLY, `wire.ts`), else the receiver's flow id and one
 * SDU. Destinations are MD5 hashes resolved to IP addresses (`resolve.ts`);
 * the peer port is the IPCP's own port unless the static peer table says
 * otherwise. There is no teardown message: deallocation is local.
 *
 * The packet path runs on a Worker-served socket (`src/io/udp.ts`):
 * received datagrams are handed up as views of the ring (no copy here),
 * sent ones are framed in one scratch buffer and copied into the ring.
 *
 * @example
 * ```ts
 * // inside the daemon: ouro irm ipcp bootstrap name u type udp4 layer low ip 10.0.0.1 peer srv=10.0.0.2
 * import { UdpIpcp } from "./udp.ts";
 * declare const host: import("../types.ts").IpcpHost;
 * declare const log: import("../../lib/log.ts").Logger;
 * const u = new UdpIpcp(1, "u", "udp4", host, log);
 * await u.bootstrap({ layer: "low", options: { ip: "127.0.0.1", peers: "srv=127.0.0.1:3436" } });
 * ```
 * @module
 */
import { ShimIpcp } from "../common/shim.ts";
import { Errno, OuroError } from "../../lib/errors.ts";
import { HashAlgo, shortHash, toHex } from "../../lib/hash.ts";
import type { Logger } from "../../lib/log.ts";
import type { QosSpec } from "../../lib/qos.ts";
import { UdpSocket } from "../../io/udp.ts";
import { encodeSockaddr, type IpEndpoint } from "../../io/sockaddr.ts";
import { UDP_SHIM } from "../../io/fast_rx.ts";
import { FastRxFds, type FastShim, type FastShimInfo } from "../common/fast.ts";
import {
  type BootstrapConf,
  type Ipcp,
  type IpcpHost,
  type IpcpInfo,
  type IpcpStateName,
  type LayerInfo,
  MPL_MS,
} from "../types.ts";
import {
  decodeUdpMgmt,
  encodeUdpMgmt,
  UDP4_MAX_PACKET_SIZE,
  UDP6_MAX_PACKET_SIZE,
  UDP_EID_LEN,
  UDP_HASH_LEN,
  UDP_MGMT_LEN,
  type UdpMgmt,
  UdpMgmtCode,
} from "./wire.ts";
import { type IpFamily, type PeerEntry, Resolver, type ResolverOptions } from "./resolve.ts";
import { HeldSender } from "./sender.ts";
import { parseUdpOptions, UDP_OPTIONS } from "./config.ts";
import { FLOW_REQ_RESEND_MS, FLOW_REQ_TRIES, ReqCache } from "./dedup.ts";

/** The two udp IPCP types. */
export type UdpIpcpType = "udp4" | "udp6";

/** Tunables and test seams of a {@link UdpIpcp}. */
export interface UdpIpcpOptions {
  /** Name resolution overrides (hosts file path, DNS lookup, DNS on/off). */
  resolver?: Pick<ResolverOptions, "hostsFile" | "useDns" | "resolveDns">;
  /** Slots per socket ring (default: the socket's). */
  ringSlots?: number;
  /** First FLOW_REQ resend delay in ms (default {@link FLOW_REQ_RESEND_MS}). */
  flowReqResendMs?: number;
  /**
   * Test seam: return true to drop an outgoing management datagram, as a
   * congested network would (it still counts as sent).
   */
  dropMgmtTx?: (datagram: Uint8Array, dst: IpEndpoint) => boolean;
}

/** Counters shown by `info()`. */
export interface UdpCounters {
  /** Data SDUs handed up, and their bytes. */
  rxPackets: number;
  rxBytes: number;
  /** Data SDUs sent, and their bytes. */
  txPackets: number;
  txBytes: number;
  /** Management messages received (well-formed; bad replies included) / sent. */
  rxMgmt: number;
  txMgmt: number;
  /** Received datagrams that did not decode (short, bad code, …). */
  rxMalformed: number;
  /** Received data for a flow id this IPCP does not hold. */
  rxNoFlow: number;
  /** FLOW_REPLYs for no pending flow or from the wrong address (also in rxMgmt). */
  rxBadReply: number;
  /** FLOW_REPLYs repeating one already taken (answers to resent requests; also in rxMgmt). */
  rxDupReply: number;
  /** FLOW_REQs repeating one being processed or answered (also in rxMgmt). */
  rxDupReq: number;
  /** FLOW_REQs resent for want of a reply, and FLOW_REPLYs resent to duplicates (also in txMgmt). */
  txMgmtResent: number;
  /** SDUs written on an unknown or not yet allocated flow. */
  txNoFlow: number;
  /** SDUs above the maximum packet size (8980 udp4 / 8952 udp6). */
  txOversize: number;
  /** SDUs dropped because the send ring and the backlog were full, or the socket closed. */
  txFull: number;
}

interface UdpFlow {
  /** Where the peer is. */
  remote: IpEndpoint;
  /** The peer's flow id; -1 until the FLOW_REPLY (initiator side). */
  dEid: number;
  /** Initiator side, until the FLOW_REPLY: the pending FLOW_REQ resend. */
  resend?: ReturnType<typeof setTimeout>;
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

function sameEndpoint(a: IpEndpoint, b: IpEndpoint): boolean {
  return a === b || (a.port === b.port && a.hostname === b.hostname);
}

function errCode(e: unknown): number {
  return e instanceof OuroError ? e.code : Errno.EIPCP;
}

/** A udp4 or udp6 IPCP; see the module documentation. */
export class UdpIpcp extends ShimIpcp implements Ipcp, FastShim {
  state: IpcpStateName = "BOOT";
  layer: LayerInfo | undefined;
  readonly #c = {
    rxPackets: 0,
    rxBytes: 0,
    rxMgmt: 0,
    txMgmt: 0,
    rxMalformed: 0,
    rxNoFlow: 0,
    rxBadReply: 0,
    rxDupReply: 0,
    rxDupReq: 0,
    txMgmtResent: 0,
    txNoFlow: 0,
    txOversize: 0,
  };
  readonly #family: IpFamily;
  readonly #maxSdu: number;
  readonly #mpl: number;
  readonly #opts: UdpIpcpOptions;
  #sock: UdpSocket | undefined;
  #rxLoop: Promise<void> | undefined;
  #ip = "";
  #port = 0;
  #dns: string | undefined;
  #peers: PeerEntry[] = [];
  #resolver: Resolver | undefined;
  readonly #registry = new Set<string>();
  readonly #directory = new Map<string, IpEndpoint>();
  readonly #flows = new Map<number, UdpFlow>();
  readonly #reqs = new ReqCache();
  /** TUN fds (borrowed by the IRMd) of flows received by the fast path. */
  protected readonly fast = new FastRxFds(() => this.name, () => this.#sock?.fastRx);
  readonly #txBuf: Uint8Array;
  #tx: HeldSender | undefined;

  constructor(
    readonly id: number,
    readonly name: string,
    readonly type: UdpIpcpType,
    readonly host: IpcpHost,
    readonly log: Logger,
    opts: UdpIpcpOptions = {},
  ) {
    super();
    this.#family = type === "udp4" ? 4 : 6;
    this.#maxSdu = type === "udp4" ? UDP4_MAX_PACKET_SIZE : UDP6_MAX_PACKET_SIZE;
    this.#mpl = MPL_MS[type];
    this.#opts = opts;
    this.#txBuf = new Uint8Array(UDP_EID_LEN + this.#maxSdu);
  }

  /** Largest SDU this IPCP sends, in bytes. */
  get maxSdu(): number {
    return this.#maxSdu;
  }

  /** Counters (a snapshot). */
  get counters(): UdpCounters {
    const tx = this.#tx;
    const txPackets = tx?.packets ?? 0;
    return {
      ...this.#c,
      txPackets,
      txBytes: (tx?.bytes ?? 0) - UDP_EID_LEN * txPackets,
      txFull: tx?.dropped ?? 0,
    };
  }

  /** The bound local endpoint (after bootstrap). */
  get addr(): IpEndpoint | undefined {
    return this.#sock?.addr;
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
    const { ip, port, dns, peers, unknown } = parseUdpOptions(
      conf.options ?? {},
      this.#family,
      what,
    );
    for (const k of unknown) {
      this.log.warn(`Ignoring option ${k}: ${this.type} takes ${UDP_OPTIONS.join(", ")}.`);
    }
    try {
      this.#sock = await UdpSocket.open({
        hostname: ip,
        port,
        maxDatagramBytes: UDP_EID_LEN + this.#maxSdu,
        slots: this.#opts.ringSlots,
      });
    } catch (e) {
      throw new OuroError(Errno.EIPCP, `${what}: ${(e as Error).message}`);
    }
    this.#ip = ip;
    this.#port = port;
    this.#dns = dns;
    this.#peers = peers;
    this.#tx = new HeldSender(this.#sock);
    this.#resolver = new Resolver({
      ...this.#opts.resolver,
      family: this.#family,
      port,
      peers,
      dns,
    });
    this.#rxLoop = this.#sock.onReceive((d, r) => this.#onDatagram(d, r), { copy: false });
    this.layer = { name: conf.layer, hashAlgo: HashAlgo.MD5 };
    this.state = "OPERATIONAL";
    const where = this.#family === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
    this.log.info(
      `Bootstrapped ${this.type} IPCP ${this.name} in layer ${conf.layer} on ${where}` +
        `${dns ? `, dns ${dns}` : ""}${peers.length ? `, ${peers.length} static peers` : ""}.`,
    );
    return this.layer;
  }

  // ---- names --------------------------------------------------------------

  reg(hash: Uint8Array): Promise<void> {
    const hex = toHex(hash);
    this.#registry.add(hex);
    if (this.#dns) {
      this.log.warn(
        `Registered ${shortHash(hash)} locally only: dynamic DNS updates are not supported; ` +
          `add "${this.#ip} ${hex}" to the peers' hosts files or DNS, or use their peer tables.`,
      );
    }
    return Promise.resolve();
  }

  unreg(hash: Uint8Array): Promise<void> {
    this.#registry.delete(toHex(hash));
    return Promise.resolve();
  }

  async query(hash: Uint8Array): Promise<boolean> {
    if (this.state !== "OPERATIONAL") return false;
    return (await this.#lookup(hash)) !== undefined;
  }

  async #lookup(hash: Uint8Array): Promise<IpEndpoint | undefined> {
    const hex = toHex(hash);
    const known = this.#directory.get(hex);
    if (known || !this.#resolver) return known;
    const r = await this.#resolver.resolve(hash);
    if (!r) return undefined;
    // keep one endpoint object per destination: the socket caches its sockaddr
    const ep = this.#directory.get(hex) ?? r.endpoint;
    this.#directory.set(hex, ep);
    this.log.debug(`Resolved ${shortHash(hash)} to ${ep.hostname} port ${ep.port} (${r.source}).`);
    return ep;
  }

  // ---- flow allocation ----------------------------------------------------

  async flowAlloc(flowId: number, hash: Uint8Array, qos: QosSpec, data: Uint8Array): Promise<void> {
    const what = `Cannot allocate flow ${flowId} to ${shortHash(hash)}`;
    if (this.state !== "OPERATIONAL" || !this.#sock) {
      throw new OuroError(Errno.EIPCPSTATE, `${what}: IPCP is not operational`);
    }
    if (hash.length !== UDP_HASH_LEN) throw new OuroError(Errno.EINVAL, `${what}: hash is not MD5`);
    if (UDP_MGMT_LEN + UDP_HASH_LEN + data.length > UDP_EID_LEN + this.#maxSdu) {
      throw new OuroError(
        Errno.EMSGSIZE,
        `${what}: ${data.length} bytes of allocation data do not fit a datagram`,
      );
    }
    const dst = await this.#lookup(hash);
    if (!dst) {
      throw new OuroError(
        Errno.EIPCP,
        `${what}: the name does not resolve (peer table, hosts file, DNS)`,
      );
    }
    if (this.state !== "OPERATIONAL") {
      throw new OuroError(Errno.EIPCPSTATE, `${what}: IPCP stopped`);
    }
    const req = encodeUdpMgmt({
      code: UdpMgmtCode.FLOW_REQ,
      sEid: flowId,
      dEid: 0,
      response: 0,
      qos,
      hash,
      payload: data,
    });
    const f: UdpFlow = { remote: dst, dEid: -1 };
    this.#flows.set(flowId, f);
    if (!this.#sendMgmt(dst, req)) {
      this.#flows.delete(flowId);
      throw new OuroError(Errno.EIPCP, `${what}: the socket's send queue is full`);
    }
    this.#armResend(flowId, f, req, this.#opts.flowReqResendMs ?? FLOW_REQ_RESEND_MS, 1);
    this.log.debug(
      `Sent flow request ${flowId} for ${shortHash(hash)} to ${dst.hostname} port ${dst.port}.`,
    );
  }

  /**
   * Resend FLOW_REQ `req` of pending flow `f` after `delayMs` unless its
   * FLOW_REPLY came, doubling the delay, until {@link FLOW_REQ_TRIES} sends.
   */
  #armResend(flowId: number, f: UdpFlow, req: Uint8Array, delayMs: number, sent: number): void {
    if (sent >= FLOW_REQ_TRIES) {
      f.resend = undefined;
      return;
    }
    f.resend = setTimeout(() => {
      f.resend = undefined;
      if (this.state !== "OPERATIONAL" || this.#flows.get(flowId) !== f || f.dEid !== -1) return;
      if (this.#sendMgmt(f.remote, req)) this.#c.txMgmtResent++;
      this.log.debug(
        `Resent flow request ${flowId} to ${f.remote.hostname} port ${f.remote.port} ` +
          `(send ${sent + 1} of ${FLOW_REQ_TRIES}): no reply after ${delayMs} ms.`,
      );
      this.#armResend(flowId, f, req, delayMs * 2, sent + 1);
    }, delayMs);
  }

  #stopResend(f: UdpFlow | undefined): void {
    if (f?.resend !== undefined) {
      clearTimeout(f.resend);
      f.resend = undefined;
    }
  }

  /** Send an encoded management message; false if it could not be queued. */
  #sendMgmt(dst: IpEndpoint, datagram: Uint8Array): boolean {
    let ok = false;
    try {
      if (this.#opts.dropMgmtTx?.(datagram, dst)) ok = true;
      else ok = this.#sock?.send(dst, datagram) ?? false;
    } catch (e) {
      this.log.error(
        `Cannot send management message to ${dst.hostname} port ${dst.port}: ${
          (e as Error).message
        }.`,
      );
    }
    if (ok) this.#c.txMgmt++;
    return ok;
  }

  /** `req`: the request datagram as received (a view of the ring, copied if kept). */
  async #onFlowReq(m: UdpMgmt, remote: IpEndpoint, req: Uint8Array): Promise<void> {
    const dup = this.#reqs.lookup(remote, m.sEid, req);
    if (dup) {
      this.#c.rxDupReq++;
      if (dup.reply && this.#sendMgmt(remote, dup.reply)) this.#c.txMgmtResent++;
      this.log.debug(
        `Duplicate flow request ${m.sEid} from ${remote.hostname} port ${remote.port}: ` +
          (dup.reply ? "resent the reply." : "still processing, ignored."),
      );
      return;
    }
    const entry = this.#reqs.begin(remote, m.sEid, req);
    // the datagram is a view of the receive ring: keep copies
    m.hash = m.hash.slice();
    m.payload = m.payload.slice();
    const reply = (dEid: number, response: number, payload: Uint8Array) => {
      const datagram = encodeUdpMgmt({
        code: UdpMgmtCode.FLOW_REPLY,
        sEid: m.sEid,
        dEid,
        response,
        qos: ZERO_QOS,
        hash: EMPTY,
        payload,
      });
      const ok = this.#sendMgmt(remote, datagram);
      if (ok) this.#reqs.answer(entry, dEid, datagram);
      else this.#reqs.forget(remote, m.sEid, entry);
      return ok;
    };
    let r: { flowId: number; data: Uint8Array };
    try {
      r = await this.host.flowReqArr(this, m.hash, m.qos, this.#mpl, m.payload);
    } catch (e) {
      this.log.debug(
        `Refused flow request ${m.sEid} from ${remote.hostname} port ${remote.port}: ${
          (e as Error).message
        }`,
      );
      if (this.state === "OPERATIONAL") reply(0, -errCode(e), EMPTY);
      else this.#reqs.forget(remote, m.sEid, entry);
      return;
    }
    if (this.state !== "OPERATIONAL") {
      this.#reqs.forget(remote, m.sEid, entry);
      this.host.flowDeallocated(r.flowId);
      return;
    }
    this.#flows.set(r.flowId, { remote, dEid: m.sEid });
    if (!reply(r.flowId, 0, r.data)) {
      this.#flows.delete(r.flowId);
      this.host.flowDeallocated(r.flowId);
      return;
    }
    this.log.debug(
      `Accepted flow ${r.flowId} for ${
        shortHash(m.hash)
      } from ${remote.hostname} port ${remote.port} (peer eid ${m.sEid}).`,
    );
  }

  #onFlowReply(m: UdpMgmt, remote: IpEndpoint): void {
    const f = this.#flows.get(m.sEid);
    if (
      f && f.dEid !== -1 && f.dEid === m.dEid && m.response === 0 && sameEndpoint(f.remote, remote)
    ) {
      this.#c.rxDupReply++; // the answer to a resent FLOW_REQ
      this.log.debug(`Ignored duplicate flow reply for eid ${m.sEid}.`);
      return;
    }
    if (!f || f.dEid !== -1) {
      this.#c.rxBadReply++;
      this.log.debug(`Dropped flow reply for eid ${m.sEid}: no allocation pending.`);
      return;
    }
    if (!sameEndpoint(f.remote, remote)) {
      this.#c.rxBadReply++;
      this.log.error(
        `Dropped flow reply for eid ${m.sEid} from ${remote.hostname} port ${remote.port}: ` +
          `the request went to ${f.remote.hostname} port ${f.remote.port}.`,
      );
      return;
    }
    this.#stopResend(f);
    let response = m.response;
    if (response === 0 && m.dEid === 0) response = -Errno.EIPCP; // eid 0 is the management eid
    if (response > 0) response = -Errno.EIPCP;
    if (response === 0) f.dEid = m.dEid;
    else this.#flows.delete(m.sEid);
    this.log.debug(`Flow reply for ${m.sEid}: response ${response}, peer eid ${m.dEid}.`);
    this.host.flowAllocReply(m.sEid, response, this.#mpl, m.payload);
  }

  // ---- fast path ----------------------------------------------------------

  /**
   * How to send on flow `flowId` without this thread: the socket fd (to
   * borrow), the peer's sockaddr and its eid to put in front; and how its
   * datagrams to us look.
   * @throws OuroError ENOTALLOC when the flow is unknown or not yet allocated
   */
  fastSendInfo(flowId: number): FastShimInfo {
    const f = this.#flows.get(flowId), sock = this.#sock;
    if (f === undefined || f.dEid < 0 || !sock) {
      throw new OuroError(Errno.ENOTALLOC, `Cannot take a fast path: flow ${flowId} is not allocated on ${this.name}`);
    }
    const header = new Uint8Array(UDP_EID_LEN);
    new DataView(header.buffer).setUint32(0, f.dEid);
    return {
      fd: sock.fd,
      dst: encodeSockaddr(f.remote, this.#family === 4 ? 2 : 10),
      header,
      shim: UDP_SHIM,
      key: flowId,
    };
  }

  flowDealloc(flowId: number): void {
    this.fastRemove(flowId);
    this.#stopResend(this.#flows.get(flowId));
    this.#flows.delete(flowId);
    this.#reqs.forgetFlow(flowId);
  }

  // ---- packet path --------------------------------------------------------

  #onDatagram(d: Uint8Array, remote: IpEndpoint): void {
    if (d.length < UDP_EID_LEN) {
      this.#c.rxMalformed++;
      return;
    }
    const eid = ((d[0]! << 24) | (d[1]! << 16) | (d[2]! << 8) | d[3]!) >>> 0;
    if (eid !== 0) {
      if (!this.#flows.has(eid)) {
        this.#c.rxNoFlow++;
        return;
      }
      this.#c.rxPackets++;
      this.#c.rxBytes += d.length - UDP_EID_LEN;
      this.host.deliver(eid, d.subarray(UDP_EID_LEN));
      return;
    }
    let m: UdpMgmt;
    try {
      m = decodeUdpMgmt(d, { maxPacketSize: this.#maxSdu });
    } catch (e) {
      this.#c.rxMalformed++;
      this.log.debug(
        `Dropped management datagram from ${remote.hostname} port ${remote.port}: ${
          (e as Error).message
        }.`,
      );
      return;
    }
    if (m.code === UdpMgmtCode.FLOW_REQ && m.sEid === 0) {
      this.#c.rxMalformed++; // the initiator's eid cannot be the management eid
      return;
    }
    this.#c.rxMgmt++;
    if (m.code === UdpMgmtCode.FLOW_REQ) {
      this.#onFlowReq(m, remote, d).catch((e) =>
        this.log.error(`Flow request failed: ${(e as Error).stack}`)
      );
    } else {
      m.payload = m.payload.slice(); // a view of the receive ring
      this.#onFlowReply(m, remote);
    }
  }

  write(flowId: number, sdu: Uint8Array): Promise<void> | undefined {
    const f = this.#flows.get(flowId);
    if (f === undefined || f.dEid < 0) {
      this.#c.txNoFlow++;
      return undefined;
    }
    if (sdu.length > this.#maxSdu) {
      this.#c.txOversize++;
      return undefined;
    }
    const buf = this.#txBuf;
    const e = f.dEid;
    buf[0] = e >>> 24;
    buf[1] = e >>> 16;
    buf[2] = e >>> 8;
    buf[3] = e;
    buf.set(sdu, UDP_EID_LEN);
    return this.#tx!.send(f.remote, buf.subarray(0, UDP_EID_LEN + sdu.length));
  }

  // ---- listing and shutdown -----------------------------------------------

  info(): IpcpInfo {
    const s = this.#sock?.stats();
    return {
      id: this.id,
      name: this.name,
      type: this.type,
      state: this.state,
      layer: this.layer?.name,
      hashAlgo: this.layer?.hashAlgo,
      detail: {
        ip: this.#ip || undefined,
        port: this.#port || undefined,
        dns: this.#dns,
        peers: this.#peers.length,
        flows: this.#flows.size,
        registered: this.#registry.size,
        directory: this.#directory.size,
        ...this.counters,
        rxTruncated: s?.rxTruncated ?? 0,
        // send-ring-full events; those datagrams were held in the backlog, not lost
        txRingFull: s?.txDrops ?? 0,
        txKernelErrors: s?.txErrors ?? 0,
      },
    };
  }

  async stop(): Promise<void> {
    this.state = "SHUTDOWN";
    for (const f of this.#flows.values()) this.#stopResend(f);
    this.#flows.clear();
    this.#reqs.clear();
    const sock = this.#sock;
    await this.stopIo(async () => {
      if (!sock) return;
      await sock.close();
      await this.#rxLoop?.catch(() => {});
    });
    await this.#tx?.idle();
  }
}
