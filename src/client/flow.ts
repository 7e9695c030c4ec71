/**
 * A flow as an application holds it: datagram-preserving, bidirectional.
 * @module
 */
import type { FastPrefix, FastRxCounters } from "../io/fast_rx.ts";
import { borrowFd } from "../io/pidfd.ts";
import { addressOf } from "../io/libc.ts";
import { MAX_SDU } from "../lib/ctl.ts";
import { Errno, OuroError } from "../lib/errors.ts";
import { HIGH_WATER_BYTES, LOW_WATER_BYTES } from "../lib/framed.ts";
import type { QosSpec } from "../lib/qos.ts";
import type { IrmClient } from "./client.ts";
import { PacketQueue } from "./queue.ts";
import { PacketCrypt } from "../crypto/aead.ts";
import { FrctDriver } from "./reliable.ts";
import type { FrctStats } from "../frct/engine.ts";
import { fromHex, toHex } from "../lib/hash.ts";
import { DirectLinks } from "./direct.ts";
import type { FramedConn } from "../lib/framed.ts";

/** How long an accepted flow waits for the allocator's direct link before using the IRMd relay. */
export const DIRECT_BIND_WAIT_MS = 1000;

/** Receive-queue length in packets (SSM_RBUFF_SIZE of the reference, ×4). */
export const RX_QUEUE_PACKETS = 4096;
/**
 * Queue length at which the process stops reading its IRMd socket until the
 * app catches up (back-pressure to same-host senders instead of loss).
 */
export const RX_PAUSE_PACKETS = 1024;

const EMPTY = new Uint8Array(0);

/** Options of a single read. */
export interface ReadOptions {
  /** Give up after this many ms (throws ETIMEDOUT). */
  timeoutMs?: number;
  /** Throw EAGAIN instead of waiting when nothing is queued. */
  nonBlocking?: boolean;
  /** Abort the wait (throws EINTR). */
  signal?: AbortSignal;
}

/** Options of a single write. */
export interface WriteOptions {
  /** Throw EAGAIN instead of waiting when the send queue is full. */
  nonBlocking?: boolean;
  /** Give up after this many ms (throws ETIMEDOUT). */
  timeoutMs?: number;
}

/** Per-flow defaults, the `fccntl` equivalents. */
export interface FlowOptions {
  /** Default read timeout (FLOWSRCVTIMEO). */
  readTimeoutMs?: number;
  /** Default write timeout (FLOWSSNDTIMEO). */
  writeTimeoutMs?: number;
  /** Reads throw EAGAIN instead of waiting (FLOWFRNOBLOCK). */
  nonBlockingRead?: boolean;
  /** Writes throw EAGAIN instead of waiting (FLOWFWNOBLOCK). */
  nonBlockingWrite?: boolean;
}

/** Flow events (spec 02 §4.1). */
export type FlowEventType = "pkt" | "dealloc" | "down" | "up" | "peer";

/** Counters of a flow. */
export interface FlowStats {
  /** SDUs received. */
  rxPackets: number;
  /** Bytes received. */
  rxBytes: number;
  /** SDUs written. */
  txPackets: number;
  /** Bytes written. */
  txBytes: number;
  /** SDUs dropped because the receive queue was full. */
  rxDrops: number;
  /** SDUs waiting to be read. */
  rxQueued: number;
  /** SDUs dropped because they did not decrypt and authenticate. */
  rxBadCrypto: number;
}

/** @internal How to send on a flow without the IRMd (see {@link Flow.fastPath}). */
export interface FastSendInfo {
  /** A duplicate of the udp IPCP's socket, owned by the caller; -1 if it could not be borrowed. */
  fd: number;
  /** Why the socket could not be borrowed (then sends go through the IRMd as before). */
  sendError?: string;
  /** The peer IPCP's sockaddr. */
  dst: Uint8Array;
  /** What goes before every sealed SDU: the shim header (and over a unicast layer the DT PCI). */
  header: Uint8Array;
  /** A u16 length field in it to set per packet (Ethernet shims): sealed length + `lenAdd`. */
  lenAt?: number;
  lenAdd?: number;
  /** Cipher NID (0: clear). */
  cipherNid: number;
  /** Key, hex. */
  key?: string;
}

/**
 * An allocated flow. Read whole SDUs with {@link Flow.read} (null at the
 * end), write with {@link Flow.write}, or use the Web Streams.
 *
 * @example
 * ```ts
 * import { flowAlloc } from "../../mod.ts";
 * const flow = await flowAlloc("oping");
 * await flow.write(new TextEncoder().encode("hi"));
 * console.log(await flow.read());
 * await flow.close();
 * ```
 */
export class Flow {
  readonly #rx = new PacketQueue(RX_QUEUE_PACKETS);
  #ended = false;
  #closed = false;
  readonly #listeners = new Set<(f: Flow, ev: FlowEventType) => void>();
  readonly #stats = { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, rxBadCrypto: 0 };
  /** Per-packet encryption agreed by OAP, if any. */
  readonly #crypt: PacketCrypt | undefined;
  /** The OAP key (hex), handed to a fast path's Workers. */
  readonly #cryptKey: string | undefined;
  /** On the fast path (see {@link Flow.fastPath}): the IRMd may pass SDUs it decrypted. */
  #fast = false;
  /** Token the IRMd's Worker puts before an SDU it decrypted for us (fast path). */
  #passToken: Uint8Array | undefined;
  #resume: (() => void) | undefined;
  /** Last time something arrived / was sent (performance.now()). */
  #lastRx = performance.now();
  #lastTx = performance.now();
  #peerGone = false;
  /** Direct link to the peer process, and the peer's flow id on it. */
  #link: FramedConn | undefined;
  #linkPeer = 0;
  /** Accepted direct flow whose link has not been bound yet: writes wait here. */
  #awaitingLink: Uint8Array[] | undefined;
  #awaitingBytes = 0;
  #linkSettled: (() => void) | undefined;
  #linkWait: Promise<void> | undefined;
  #bindTimer: ReturnType<typeof setTimeout> | undefined;
  /** FRCT, when the QoS asks for in-order delivery. */
  readonly #frct: FrctDriver | undefined;
  #downReason: string | undefined;
  /** Current per-flow defaults. */
  options: FlowOptions = {};
  /**
   * What OAP proved about the other end: `authenticated` when it showed a
   * certificate or pinned key we trust, with the certificate's CN.
   */
  peer: { authenticated: boolean; cn?: string } = { authenticated: false };

  /** @internal */
  constructor(
    readonly client: IrmClient,
    /** The system-wide flow id (the reference's fd role). */
    readonly fd: number,
    /** The QoS the flow was allocated with. */
    readonly qos: QosSpec,
    /** The name at the other end (allocator) or the name served (acceptor). */
    readonly name: string,
    /** Maximum packet lifetime of the path, ms. */
    readonly mpl: number,
    direct?: { path?: string; peer: number },
    crypto?: { cipherNid: number; key?: string },
  ) {
    if (crypto && crypto.cipherNid !== 0 && crypto.key) {
      this.#crypt = new PacketCrypt(crypto.cipherNid, fromHex(crypto.key));
    }
    this.#cryptKey = this.#crypt ? crypto!.key : undefined;
    this.#frct = FrctDriver.forQos(qos, mpl, {
      transmit: (pkt) => this.#send(pkt),
      deliver: (sdu) => this.#enqueue(sdu),
      down: (why) => {
        this.#downReason = why;
        this.#ended = true;
        this.#rx.wake();
        for (const l of this.#listeners) l(this, "down");
      },
    });
    client.flowOpened(this);
    if (direct?.path !== undefined) {
      // allocator: connect to the acceptor and bind; writes wait meanwhile
      this.#awaitingLink = [];
      client.links.connect(direct.path).then((link) => {
        if (this.#closed || this.#ended || !this.#awaitingLink) return;
        DirectLinks.bind(link, direct.peer, fd);
        this.bindLink(link, direct.peer);
      }, () => this.#flushAwaiting()); // no link: the IRMd relays
    } else if (direct) {
      const early = client.takeEarlyBind(fd);
      if (early) this.bindLink(early.link, early.peer);
      else {
        this.#awaitingLink = [];
        this.#bindTimer = setTimeout(() => this.#flushAwaiting(), DIRECT_BIND_WAIT_MS);
      }
    }
    for (const p of client.takeEarly(fd)) this.onPacket(p);
  }

  /** @internal A packet arrived from the IRMd. */
  onPacket(p: Uint8Array): void {
    if (this.#ended) return;
    this.#lastRx = performance.now();
    if (p.length === 0) return; // keepalive
    if (this.#crypt) {
      const clear = this.#crypt.decrypt(p);
      if (clear) p = clear;
      else if (this.#fast && this.#passed(p)) p = p.slice(this.#passToken!.length); // the Worker decrypted it
      else {
        this.#stats.rxBadCrypto++; // tampered, replayed garbage or wrong key: dropped
        return;
      }
    } else p = p.slice(); // the frame is a view into the read buffer: copy it
    if (this.#frct) this.#frct.receive(p);
    else this.#enqueue(p);
  }

  /** An SDU for the application. */
  #enqueue(p: Uint8Array): void {
    if (this.#rx.push(p)) {
      this.#stats.rxPackets++;
      this.#stats.rxBytes += p.length;
      for (const l of this.#listeners) l(this, "pkt");
      if (this.#rx.length >= RX_PAUSE_PACKETS && !this.#resume) {
        const p = new Promise<void>((r) => (this.#resume = r));
        if (this.#link) this.#link.pauseUntil(p);
        else this.client.pauseReads(p);
      }
    }
  }

  #unpause(): void {
    const r = this.#resume;
    this.#resume = undefined;
    r?.();
  }

  /** @internal The allocator's direct link arrived: send what waited on it. */
  bindLink(link: FramedConn, peer: number): void {
    // too late (we already fell back to the relay): keep one path per direction
    if (this.#closed || this.#ended || !this.#awaitingLink) return;
    this.#link = link;
    this.#linkPeer = peer;
    this.#flushAwaiting();
  }

  #flushAwaiting(): void {
    clearTimeout(this.#bindTimer);
    const q = this.#awaitingLink;
    this.#awaitingLink = undefined;
    this.#awaitingBytes = 0;
    for (const p of q ?? []) this.#transmit(p);
    this.#linkSettled?.();
    this.#linkSettled = undefined;
  }

  /** @internal An event on a direct link. */
  onLinkEvent(link: FramedConn, _ev: "dealloc" | "closed"): void {
    if (link !== this.#link) return;
    this.#link = undefined;
    this.onEvent("dealloc", true);
  }

  /** The cipher protecting this flow, or undefined. */
  get cipher(): string | undefined {
    return this.#crypt?.cipher.name;
  }

  /** Encrypt (if agreed) and transmit one packet. */
  #send(pkt: Uint8Array): void {
    if (this.#crypt && pkt.length > 0) pkt = this.#crypt.encrypt(pkt);
    this.#transmit(pkt);
  }

  /** Put one wire packet on the link or the IRMd socket (or hold it for the link). */
  #transmit(pkt: Uint8Array): void {
    if (this.#awaitingLink) {
      this.#awaitingBytes += pkt.length;
      this.#awaitingLink.push(pkt.slice());
    } else if (this.#link && !this.#link.closed) this.#link.sendData(this.#linkPeer, pkt);
    else this.client.sendData(this.fd, pkt);
  }

  /**
   * @internal A flow event from the IRMd. On a direct link the peer's end
   * comes through the link (after its data), so the IRMd's dealloc waits.
   */
  onEvent(ev: string, force = false): void {
    if (ev === "dealloc" && this.#link && !force) return;
    if (ev === "dealloc") {
      clearTimeout(this.#bindTimer);
      this.#frct?.stop();
      this.#ended = true;
      this.#rx.wake();
      if (this.client.flows.get(this.fd) === this) this.client.flows.delete(this.fd);
    }
    if (ev === "dealloc" || ev === "down" || ev === "up" || ev === "peer") {
      for (const l of this.#listeners) l(this, ev);
    }
  }

  /**
   * @internal Keepalive and peer timeout (spec 01 §6), driven by the
   * client's tick: nothing received for `qos.timeout` ms ends reads with
   * EFLOWPEER; nothing sent for a quarter of it sends an empty packet.
   */
  tick(now: number): void {
    const t = this.qos.timeout;
    if (t === 0 || this.#ended || this.#closed || this.#peerGone) return;
    if (now - this.#lastRx > t) {
      this.#peerGone = true;
      this.#rx.wake();
      for (const l of this.#listeners) l(this, "peer");
    } else if (now - this.#lastTx > t / 4) {
      this.#lastTx = now;
      this.#send(EMPTY);
    }
  }

  /**
   * @internal Fast path for a tunnel on a udp or Ethernet layer (or a unicast layer on one): the IRMd's I/O Worker
   * writes this flow's received IP packets (decrypted, with a source whose
   * longest match in `sources` is not marked `other`) straight to the TUN
   * device `tunFd`, and passes other SDUs here already decrypted. Returns
   * how to send without the IRMd: a borrowed duplicate of the layer's
   * socket (the caller owns and closes it), the peer's sockaddr, the header
   * to put in front, and the flow's cipher and key; from then on every SDU of the flow must
   * go that way, sealed by one context. Without ptrace rights over the
   * IRMd the socket cannot be borrowed (`fd` -1): receiving is fast all the
   * same, and sends keep going through the IRMd.
   * @throws OuroError ENOTSUP (not such a layer), EPERM (no rights), …
   */
  async fastPath(tunFd: number, sources: FastPrefix[]): Promise<FastSendInfo> {
    this.#passToken = crypto.getRandomValues(new Uint8Array(16));
    this.#fast = true; // from the request on, the IRMd may pass SDUs it decrypted
    try {
      // prove we are the process we said in hello: hold the IRMd's nonce where it can read it
      const nonce = fromHex((await this.client.request({ op: "flow.fast.nonce" })).nonce as string);
      const r = await this.client.request({
        op: "flow.fast",
        flowId: this.fd,
        tunFd,
        cipherNid: this.#crypt?.cipher.nid ?? 0,
        key: this.#cryptKey,
        sources,
        pass: this.#crypt ? toHex(this.#passToken) : undefined,
        proof: String(addressOf(nonce)),
      });
      nonce.fill(0);
      // from here on the IRMd receives for us; sending needs its socket, which
      // takes ptrace rights over the IRMd: without them, sends go the usual way
      let fd = -1, sendError: string | undefined;
      try {
        fd = borrowFd(r.pid as number, r.fd as number);
      } catch (e) {
        sendError = (e as Error).message;
      }
      return {
        fd,
        sendError,
        dst: fromHex(r.dst as string),
        header: fromHex(r.header as string),
        lenAt: r.lenAt as number | undefined,
        lenAdd: r.lenAdd as number | undefined,
        cipherNid: this.#crypt?.cipher.nid ?? 0,
        key: this.#cryptKey,
      };
    } catch (e) {
      this.#fast = false;
      throw e;
    }
  }

  /** Does `p` start with the fast path's pass token (an SDU the IRMd's Worker decrypted)? */
  #passed(p: Uint8Array): boolean {
    const t = this.#passToken;
    if (!t || p.length < t.length) return false;
    let diff = 0;
    for (let i = 0; i < t.length; i++) diff |= p[i]! ^ t[i]!;
    return diff === 0;
  }

  /** @internal Counters of the fast path's receive side in the IRMd, once taken. */
  async fastRxStats(): Promise<FastRxCounters | undefined> {
    if (!this.#fast) return undefined;
    const r = await this.client.request({ op: "flow.fast.stats", flowId: this.fd });
    return r.counters as FastRxCounters | undefined;
  }

  /** Has the peer been silent for longer than the QoS timeout? */
  get peerTimedOut(): boolean {
    return this.#peerGone;
  }

  /** @internal Event-set hook. */
  listen(fn: (f: Flow, ev: FlowEventType) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Packets waiting to be read. */
  get rxQueued(): number {
    return this.#rx.length;
  }

  /** True once the peer or the layer ended the flow and the queue is drained. */
  get ended(): boolean {
    return this.#ended && this.#rx.length === 0;
  }

  /**
   * FRCT flags in force (FRCTGFLAGS): `retransmission` (FRCTFRTX, iff the
   * QoS is loss-free), `flowControl` (FRCTFRESCNTL), `linger` (FRCTFLINGER);
   * undefined without FRCT.
   */
  get frctFlags(): { retransmission: boolean; flowControl: boolean; linger: boolean } | undefined {
    const e = this.#frct?.engine;
    return e ? { retransmission: e.rtx, flowControl: e.resCntl, linger: e.rtx } : undefined;
  }

  /** Bytes waiting to leave this process for the flow's socket (FLOWGTXQLEN, in bytes). */
  get txQueuedBytes(): number {
    const conn = this.#link && !this.#link.closed ? this.#link : this.client;
    return conn.queued + this.#awaitingBytes;
  }

  /** FRCT estimates and counters (RTT, RTO, retransmissions, window), if FRCT runs. */
  get frctStats(): FrctStats | undefined {
    return this.#frct?.stats();
  }

  /** Counters. */
  get stats(): FlowStats {
    return { ...this.#stats, rxDrops: this.#rx.drops, rxQueued: this.#rx.length };
  }

  /** A packet if one is queued, else undefined; never waits. Null at the end. */
  tryRead(): Uint8Array | null | undefined {
    const p = this.#rx.shift();
    if (this.#resume && this.#rx.length <= RX_PAUSE_PACKETS / 2) this.#unpause();
    if (p) {
      this.#frct?.consumed();
      return p;
    }
    if (this.#downReason !== undefined) {
      throw new OuroError(Errno.EFLOWDOWN, `Cannot read: the flow is down (${this.#downReason})`);
    }
    if (this.#peerGone && !this.#ended) {
      throw new OuroError(Errno.EFLOWPEER, `Cannot read: the peer has been silent for over ${this.qos.timeout} ms`);
    }
    return this.#ended || this.#closed ? null : undefined;
  }

  /**
   * Read one SDU. Resolves `null` when the flow has ended (peer closed, layer
   * down, daemon gone). Throws ETIMEDOUT or EAGAIN per the options.
   */
  async read(opts: ReadOptions = {}): Promise<Uint8Array | null> {
    const p = this.tryRead();
    if (p !== undefined) return p;
    const nonBlocking = opts.nonBlocking ?? this.options.nonBlockingRead;
    if (nonBlocking) throw new OuroError(Errno.EAGAIN, "Cannot read: nothing queued");
    const timeoutMs = opts.timeoutMs ?? this.options.readTimeoutMs;
    const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
    for (;;) {
      const left = deadline === undefined ? undefined : deadline - Date.now();
      if (left !== undefined && left <= 0) throw new OuroError(Errno.ETIMEDOUT, "Cannot read: timed out");
      if (opts.signal?.aborted) throw new OuroError(Errno.EINTR, "Cannot read: aborted");
      await this.#rx.wait(left, opts.signal);
      const q = this.tryRead();
      if (q !== undefined) return q;
    }
  }

  /**
   * Write one SDU (atomic: one write = one packet at the other end). Waits
   * while the local send queue is full unless non-blocking.
   */
  async write(sdu: Uint8Array, opts: WriteOptions = {}): Promise<void> {
    if (this.#closed) throw new OuroError(Errno.ENOTALLOC, "Cannot write: flow is closed");
    if (this.#ended || this.client.closed) throw new OuroError(Errno.EFLOWDOWN, "Cannot write: flow is down");
    if (sdu.length > MAX_SDU) throw new OuroError(Errno.EMSGSIZE, `Cannot write: SDU larger than ${MAX_SDU} bytes`);
    const nonBlocking = opts.nonBlocking ?? this.options.nonBlockingWrite ?? false;
    const t = opts.timeoutMs ?? this.options.writeTimeoutMs;
    const deadline = t === undefined ? undefined : Date.now() + t;
    if (this.#awaitingLink && this.#awaitingBytes > LOW_WATER_BYTES) {
      // don't pile up more than a megabyte before the link is there
      this.#linkWait ??= new Promise<void>((r) => (this.#linkSettled = r)).finally(() => (this.#linkWait = undefined));
      await this.#linkWait;
    }
    const conn = this.#link && !this.#link.closed ? this.#link : this.client;
    if (!this.#awaitingLink && conn.queued > HIGH_WATER_BYTES) {
      if (nonBlocking) throw new OuroError(Errno.EAGAIN, "Cannot write: send queue full");
      if (deadline === undefined) await conn.drain();
      else {
        let timer: ReturnType<typeof setTimeout> | undefined;
        const to = new Promise<"t">((r) => (timer = setTimeout(() => r("t"), deadline - Date.now())));
        const r = await Promise.race([conn.drain(), to]);
        clearTimeout(timer);
        if (r === "t") throw new OuroError(Errno.ETIMEDOUT, "Cannot write: timed out");
      }
      if (this.#ended || this.client.closed) throw new OuroError(Errno.EFLOWDOWN, "Cannot write: flow is down");
    }
    if (this.#frct) await this.#frct.send(sdu, nonBlocking, deadline);
    else this.#send(sdu);
    this.#lastTx = performance.now();
    this.#stats.txPackets++;
    this.#stats.txBytes += sdu.length;
  }

  /** Deallocate the flow. Queued outgoing data is still sent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#rx.wake();
    this.#unpause();
    if (this.#frct) {
      // linger: keep taking ACKs until what we sent is acknowledged (bounded)
      if (!this.#ended && !this.client.closed) await this.#frct.linger();
      this.#frct.stop();
    }
    if (this.#awaitingLink) this.#flushAwaiting();
    if (this.#link && !this.#link.closed) DirectLinks.dealloc(this.#link, this.#linkPeer);
    this.#link = undefined;
    if (this.client.flows.get(this.fd) === this) this.client.flows.delete(this.fd);
    if (this.#ended || this.client.closed) return;
    this.#ended = true;
    try {
      await this.client.request({ op: "flow.dealloc", flowId: this.fd });
    } catch (e) {
      if (!(e instanceof OuroError) || (e.code !== Errno.ENOTALLOC && e.code !== Errno.EIRMD)) throw e;
    }
  }

  /** `await using flow = …` closes it. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** SDUs as a ReadableStream (ends with the flow). */
  get readable(): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>({
      pull: async (ctl) => {
        const p = await this.read();
        if (p === null) ctl.close();
        else ctl.enqueue(p);
      },
    }, { highWaterMark: 0 });
  }

  /** A WritableStream of SDUs; closing it closes the flow. */
  get writable(): WritableStream<Uint8Array> {
    return new WritableStream<Uint8Array>({
      write: (chunk) => this.write(chunk),
      close: () => this.close(),
    });
  }
}
