/**
 * The tunnel engine: moves packets between a TUN/TAP device and flows to
 * peers. Outgoing, a packet's destination picks the peer (longest prefix
 * match over the peers' allowed-ips; in TAP mode a learnt MAC table, else
 * flooding) and its traffic class picks the flow; a missing flow is
 * allocated on demand while the packet waits. Incoming, a packet whose
 * source is not routed to the peer it came from is dropped and counted.
 * Flows that end are re-allocated with exponential back-off while in use;
 * keepalive PINGs measure RTT and find dead flows.
 *
 * The engine owns neither the device nor the transport: the caller opens
 * and configures them, then `start()`s the engine and `stop()`s it before
 * closing them.
 *
 * @example
 * ```ts ignore
 * const t = new Tunnel({ config, device, transport });
 * await t.start();
 * console.log(t.status().peers[0]?.state);
 * await t.stop();
 * ```
 * @module
 */

import type { TunDevice } from "../../bridges/device.ts";
import { type Logger, logger } from "../lib/log.ts";
import type { TunnelConfig } from "./config.ts";
import {
  fragmentIpv4,
  icmp4FragNeeded,
  icmp6PacketTooBig,
  ipDestination,
  ipSource,
  ipv4DontFragment,
  ipVersion,
  mayAnswerWithIcmpError,
} from "./ippacket.ts";
import { type Link, Peer, type TunnelTiming, tunnelTiming } from "./peer.ts";
import { formatAddress, type Prefix, PrefixTable } from "./router.ts";
import { FastPaths } from "./fast.ts";
import { linkStatus, type TunnelStatus } from "./status.ts";
import { allocFlow, oapIdentity, refuseIncoming } from "./security.ts";
import { FlowWriteError, type FlowTransport, type PeerIdentifier, type TunnelFlow } from "./transport.ts";
import { type ControlMsg, decodeControl, encodeControl, encodeTapFrame, sduKind, tunnelWireVersion } from "./wire.ts";

/** What a {@link Tunnel} runs on. */
export interface TunnelOptions {
  /** The checked configuration. */
  config: TunnelConfig;
  /** The open (and configured) device. */
  device: TunDevice;
  /** Flows to peers. */
  transport: FlowTransport;
  /** Who is behind an accepted flow (default: believe HELLO unless OAP proved another name). */
  identity?: PeerIdentifier;
  /** Logger (default component `tunnel/<name>`). */
  log?: Logger;
  /** Clock in ms (default Date.now). */
  now?: () => number;
  /** Override engine tunables (tests). */
  timing?: Partial<TunnelTiming>;
  /**
   * Let flows on a udp or Ethernet (or unicast) layer take the fast path (received packets go from
   * the IRMd's I/O Worker straight to the device; sends skip the IRMd).
   * Default: on, unless the environment has `OURO_FAST_PATH=0`.
   */
  fastPath?: boolean;
}

/** Counters of the interface side. */
export interface TunnelCounters {
  /** Packets from the device with no peer for their destination. */
  dropUnroutable: number;
  /** Multicast packets from the device that no peer's prefixes cover. */
  dropMulticast: number;
  /** Packets from the device that are not IP (TUN mode). */
  dropNotIp: number;
  /** Flows refused (unknown peer, bad HELLO, handshake timeout). */
  flowsRefused: number;
}

const BROADCAST = -1;

/** A running tunnel. */
export class Tunnel {
  readonly config: TunnelConfig;
  readonly peers: Peer[];
  readonly counters: TunnelCounters = { dropUnroutable: 0, dropMulticast: 0, dropNotIp: 0, flowsRefused: 0 };
  readonly startedAt: number;
  readonly #device: TunDevice;
  readonly #transport: FlowTransport;
  readonly #identity: PeerIdentifier;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #t: TunnelTiming;
  readonly #routes = new PrefixTable<Peer>();
  readonly #routeList: [Prefix, Peer][] = [];
  /** Offer flows the fast path (`OURO_FAST_PATH=0` turns it off, for comparisons). */
  readonly #fast: FastPaths | undefined;
  readonly #byName = new Map<string, Peer>();
  readonly #macs = new Map<string, Peer>();
  readonly #abort = new AbortController();
  readonly #tasks = new Set<Promise<unknown>>();
  readonly #pending = new Set<TunnelFlow>();
  #tick: ReturnType<typeof setInterval> | undefined;
  #stopped = false;
  #from4: Uint8Array | undefined;
  #from6: Uint8Array | undefined;

  /** An engine for `options.config`; call {@link Tunnel.start}. */
  constructor(options: TunnelOptions) {
    this.config = options.config;
    this.#device = options.device;
    this.#transport = options.transport;
    this.#identity = options.identity ?? oapIdentity;
    this.#log = options.log ?? logger(`tunnel/${options.config.name}`);
    this.#now = options.now ?? Date.now;
    this.#t = { ...tunnelTiming, ...options.timing };
    this.startedAt = this.#now();
    this.peers = this.config.peers.map((p) => new Peer(p));
    const route = (pre: Prefix, p: Peer) => {
      this.#routes.insert(pre, p);
      this.#routeList.push([pre, p]);
    };
    for (const p of this.peers) {
      this.#byName.set(p.cfg.name, p);
      for (const pre of p.cfg.allowedIps) route(pre, p);
    }
    // One peer without allowed-ips is a point-to-point tunnel: everything goes there.
    const only = this.peers.length === 1 && this.peers[0]!.cfg.allowedIps.length === 0 ? this.peers[0] : undefined;
    if (only) {
      route({ family: 4, network: new Uint8Array(4), bits: 0 }, only);
      route({ family: 6, network: new Uint8Array(16), bits: 0 }, only);
    }
    this.#fast = FastPaths.for(this.config, this.#device, this.#routeList, this.#log, options.fastPath);
    this.#from4 = this.config.addresses.find((a) => a.family === 4)?.address;
    this.#from6 = this.config.addresses.find((a) => a.family === 6)?.address;
  }

  /** Send a control SDU on `link`, ignoring failure (the flow's end shows elsewhere). */
  #send1(peer: Peer, link: Link, sdu: Uint8Array): void {
    (this.#fast?.write(peer, link, sdu) ?? link.flow.write(sdu)).catch(() => {});
  }

  /** The peer a destination address routes to (longest prefix match). */
  route(address: Uint8Array): Peer | undefined {
    return this.#routes.lookup(address);
  }

  /** Bind the listening name, then run the device pump, the acceptor and the timer. */
  async start(): Promise<void> {
    await this.#transport.bind(this.config.listen, this.config.layer);
    this.#spawn(this.#device.pump((b) => this.#fromDevice(b), { signal: this.#abort.signal }));
    this.#spawn(this.#acceptLoop());
    this.#tick = setInterval(() => this.#housekeeping(), this.#t.tickMs);
    for (const p of this.peers) {
      if (p.cfg.connect === "always") {
        const c = p.classes[p.defaultClass]!;
        c.wanted = true;
        this.#allocate(p, p.defaultClass);
      }
    }
    this.#log.info(`up: listening as ${this.config.listen}${this.config.layer ? ` in ${this.config.layer}` : ""}, ${this.peers.length} peer(s)`);
  }

  /** Stop everything and close every flow (the device and transport stay open). */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#abort.abort();
    clearInterval(this.#tick);
    const flows = [...this.#pending];
    for (const p of this.peers) for (const l of p.links) flows.push(l.flow);
    await Promise.all(flows.map((f) => f.close().catch(() => {})));
    for (const p of this.peers) p.links.length = 0;
    await Promise.race([Promise.allSettled([...this.#tasks]), new Promise((r) => setTimeout(r, 1000))]);
  }

  /** A snapshot for `show`. */
  status(): TunnelStatus {
    const now = this.#now();
    const dc = this.#device.counters();
    return {
      name: this.config.name,
      device: this.#device.name,
      mode: this.config.mode,
      mtu: this.config.mtu,
      listen: this.config.listen,
      layer: this.config.layer,
      addresses: this.config.addresses.map((a) => `${formatAddress(a.address)}/${a.bits}`),
      uptimeMs: now - this.startedAt,
      counters: { ...this.counters, deviceRxPackets: dc.rxPackets, deviceTxPackets: dc.txPackets, deviceTxDropped: dc.txDropped, deviceRxDropped: dc.rxDropped },
      peers: this.peers.map((p) => ({
        name: p.cfg.name,
        allowedIps: p.cfg.allowedIps.map((a) => `${formatAddress(a.network)}/${a.bits}`),
        connect: p.cfg.connect,
        state: p.up ? "up" : p.classes.some((c) => c.allocating) ? "connecting" : p.classes.some((c) => c.wanted) ? "retrying" : "idle",
        rttMs: p.links.find((l) => l.state === "up" && l.rttMs !== undefined)?.rttMs,
        ...p.counters,
        lastError: p.classes.find((c) => c.lastError)?.lastError,
        flows: p.links.map((l) => linkStatus(l, now)),
      })),
    };
  }

  #spawn(p: Promise<unknown>): void {
    const q = p.catch((e) => {
      if (!this.#stopped) this.#log.error(`task failed: ${(e as Error)?.stack ?? e}`);
    }).finally(() => this.#tasks.delete(q));
    this.#tasks.add(q);
  }

  // ---- device → peers ----

  async #fromDevice(batch: Uint8Array[]): Promise<void> {
    for (const p of batch) {
      if (this.config.mode === "tap") await this.#frameFromDevice(p);
      else await this.#packetFromDevice(p);
    }
  }

  async #packetFromDevice(p: Uint8Array): Promise<void> {
    const dst = ipDestination(p);
    if (!dst) {
      this.counters.dropNotIp++;
      return;
    }
    const peer = this.#routes.lookup(dst);
    if (!peer) {
      // Multicast (IPv6 neighbour discovery, MLD, mDNS) has no peer; not an error.
      if (dst.length === 4 ? (dst[0]! & 0xf0) === 0xe0 : dst[0] === 0xff) this.counters.dropMulticast++;
      else this.counters.dropUnroutable++;
      return;
    }
    if (p.length > peer.cfg.mtu) {
      const frags = ipVersion(p) === 4 && !ipv4DontFragment(p) ? fragmentIpv4(p, peer.cfg.mtu) : undefined;
      if (!frags) return this.#tooBig(peer, p, peer.cfg.mtu);
      peer.counters.fragmented++;
      const cls = peer.classify(p);
      for (const f of frags) await this.#send(peer, cls, f, f);
      return;
    }
    await this.#send(peer, peer.classify(p), p, p);
  }

  async #frameFromDevice(frame: Uint8Array): Promise<void> {
    if (frame.length < 14) {
      this.counters.dropNotIp++;
      return;
    }
    const sdu = encodeTapFrame(frame);
    const inner = innerIp(frame);
    const dst = (frame[0]! & 1) === 1 ? BROADCAST : this.#macs.get(macKey(frame, 0));
    const targets = dst === BROADCAST || dst === undefined ? this.peers : [dst];
    if (targets.length === 0) this.counters.dropUnroutable++;
    for (const peer of targets) {
      if (frame.length > peer.cfg.mtu + 14) {
        peer.counters.dropTooBig++;
        continue;
      }
      await this.#send(peer, inner ? peer.classify(inner) : peer.defaultClass, sdu, inner);
    }
  }

  #tooBig(peer: Peer, p: Uint8Array, mtu: number): void {
    peer.counters.dropTooBig++;
    if (!mayAnswerWithIcmpError(p)) return;
    const v = ipVersion(p);
    const from = (v === 4 ? this.#from4 : this.#from6) ?? ipDestination(p)!;
    const icmp = v === 4 ? icmp4FragNeeded(p, from, mtu) : icmp6PacketTooBig(p, from, Math.max(mtu, 1280));
    if (this.#device.write(icmp)) peer.counters.icmpTooBig++;
  }

  async #send(peer: Peer, cls: number, sdu: Uint8Array, ip: Uint8Array | undefined): Promise<void> {
    const cs = peer.classes[cls]!;
    const now = this.#now();
    cs.lastUsed = now;
    const link = peer.linkFor(cls);
    if (!link) {
      if (peer.cfg.connect === "never") {
        peer.counters.dropNoFlow++;
        return;
      }
      if (cs.staged.length >= this.#t.stageMaxPackets) peer.counters.dropNoFlow++;
      else cs.staged.push(sdu.slice());
      this.#allocate(peer, cls);
      return;
    }
    try {
      await (this.#fast?.write(peer, link, sdu) ?? link.flow.write(sdu));
      link.lastTx = now;
      link.txBytes += sdu.length;
      peer.counters.txPackets++;
      peer.counters.txBytes += sdu.length;
      peer.counters.lastTxAt = now;
    } catch (e) {
      if (e instanceof FlowWriteError && e.kind === "too-big" && ip && sduKind(sdu) === "ip") {
        // The layer carries less than the configured MTU: tell the sender.
        this.#tooBig(peer, ip, Math.min(peer.cfg.mtu, Math.max(ip.length - 28, 576)));
        return;
      }
      this.#linkDown(peer, link, `write failed: ${(e as Error).message}`);
      peer.counters.dropNoFlow++;
    }
  }

  // ---- flow setup ----

  #allocate(peer: Peer, cls: number): void {
    const cs = peer.classes[cls]!;
    if (cs.allocating || this.#stopped || peer.cfg.connect === "never") return;
    if (this.#now() < cs.nextTryAt) return;
    cs.allocating = true;
    this.#spawn(this.#doAllocate(peer, cls));
  }

  async #doAllocate(peer: Peer, cls: number): Promise<void> {
    const cs = peer.classes[cls]!;
    let flow: TunnelFlow | undefined;
    try {
      flow = await allocFlow(this.#transport, peer.cfg.name, cs.qos, peer.cfg.encryption, {
        timeoutMs: this.#t.allocTimeoutMs,
        signal: this.#abort.signal,
      });
      if (this.#stopped) return void flow.close();
      if (!flow.cipher && peer.cfg.encryption === "preferred") this.#log.warn(`peer ${peer.cfg.name}: flow ${flow.id} is NOT encrypted`);
      const link: Link = newLink(flow, "out", cls, cs.cls.name, cs.cls.qos, this.#now());
      link.pingAt = this.#now();
      await flow.write(encodeControl({ type: "hello", version: tunnelWireVersion, tap: this.config.mode === "tap", traffic: cs.cls.name, name: this.config.listen }));
      this.#pending.add(flow);
      const welcomed = await this.#handshakeOut(link);
      this.#pending.delete(flow);
      if (!welcomed.ok) throw new Error(welcomed.reason);
      cs.backoffMs = 0;
      cs.lastError = undefined;
      this.#linkUp(peer, link);
    } catch (e) {
      if (flow) {
        this.#pending.delete(flow);
        void flow.close();
      }
      if (this.#stopped) return;
      cs.backoffMs = Math.min(this.#t.backoffMaxMs, cs.backoffMs ? cs.backoffMs * 2 : this.#t.backoffMinMs);
      cs.nextTryAt = this.#now() + cs.backoffMs;
      cs.lastError = (e as Error).message;
      peer.counters.dropNoFlow += cs.staged.length;
      cs.staged.length = 0;
      this.#log.warn(`peer ${peer.cfg.name} (${cs.cls.name}): cannot set up a flow: ${cs.lastError}; retry in ${cs.backoffMs} ms`);
    } finally {
      cs.allocating = false;
    }
  }

  /** Wait for WELCOME on a new outgoing flow; the read loop then takes over. */
  async #handshakeOut(link: Link): Promise<{ ok: true } | { ok: false; reason: string }> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<null>((r) => (timer = setTimeout(() => r(null), this.#t.helloTimeoutMs)));
    try {
      for (;;) {
        const sdu = await Promise.race([link.flow.read(), timeout]);
        if (sdu === null) return { ok: false, reason: "no WELCOME from the peer (flow ended or timed out)" };
        if (sduKind(sdu) !== "control") continue; // data before WELCOME cannot happen; ignore it
        let m: ControlMsg;
        try {
          m = decodeControl(sdu);
        } catch (e) {
          return { ok: false, reason: `bad reply: ${(e as Error).message}` };
        }
        if (m.type === "reject") return { ok: false, reason: `refused by the peer: ${m.reason}` };
        if (m.type === "welcome") {
          if (m.version !== tunnelWireVersion) return { ok: false, reason: `peer speaks version ${m.version}` };
          link.rttMs = this.#now() - link.pingAt;
          link.pingAt = 0;
          return { ok: true };
        }
      }
    } finally {
      clearTimeout(timer);
    }
  }

  async #acceptLoop(): Promise<void> {
    while (!this.#stopped) {
      let flow: TunnelFlow;
      try {
        flow = await this.#transport.accept(this.#abort.signal);
      } catch (e) {
        if (this.#stopped) return;
        this.#log.warn(`accept failed: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, this.#t.backoffMinMs));
        continue;
      }
      this.#spawn(this.#handshakeIn(flow));
    }
  }

  async #handshakeIn(flow: TunnelFlow): Promise<void> {
    this.#pending.add(flow);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<null>((r) => (timer = setTimeout(() => r(null), this.#t.helloTimeoutMs)));
    const refuse = async (reason: string) => {
      this.counters.flowsRefused++;
      this.#log.warn(`refused flow ${flow.id}: ${reason}`);
      await flow.write(encodeControl({ type: "reject", reason })).catch(() => {});
      await flow.close();
    };
    try {
      const sdu = await Promise.race([flow.read(), timeout]);
      if (sdu === null) return await refuse("no HELLO in time");
      let m: ControlMsg;
      try {
        m = decodeControl(sdu);
      } catch (e) {
        return await refuse(`bad HELLO: ${(e as Error).message}`);
      }
      if (m.type !== "hello") return await refuse(`expected HELLO, got ${m.type}`);
      if (m.version !== tunnelWireVersion) return await refuse(`version ${m.version} not supported (speak ${tunnelWireVersion})`);
      if (m.tap !== (this.config.mode === "tap")) return await refuse(`mode mismatch: this tunnel is ${this.config.mode}`);
      const id = this.#identity.identify(m.name, flow);
      const peer = id === undefined ? undefined : this.#byName.get(id);
      if (!peer) return await refuse(id === undefined ? `"${m.name}" is not who OAP authenticated` : `unknown peer "${m.name}"`);
      const clear = refuseIncoming(peer.cfg.encryption, flow);
      if (clear) return await refuse(clear);
      if (this.#stopped) return void flow.close();
      const cls = peer.classByName(m.traffic);
      const link = newLink(flow, "in", cls, m.traffic, peer.classes[cls]!.cls.qos, this.#now());
      await flow.write(encodeControl({ type: "welcome", version: tunnelWireVersion, name: this.config.listen }));
      this.#linkUp(peer, link);
    } catch (e) {
      this.#log.debug(`incoming flow ${flow.id} failed: ${(e as Error).message}`);
      void flow.close();
    } finally {
      clearTimeout(timer);
      this.#pending.delete(flow);
    }
  }

  #linkUp(peer: Peer, link: Link): void {
    const now = this.#now();
    link.state = "up";
    link.since = now;
    link.lastRx = now;
    link.lastPingAt = now - Math.max(0, this.config.keepaliveS * 1000 - this.#t.firstPingMs);
    peer.links.push(link);
    peer.counters.lastHandshakeAt = now;
    this.#log.info(`peer ${peer.cfg.name}: flow ${link.flow.id} up (${link.dir}, class ${link.className}, qos ${link.qos})`);
    this.#spawn(this.#readLoop(peer, link));
    if (this.#fast && link.flow.fastPath) this.#spawn(this.#fast.enter(peer, link));
    // Staged packets of the class go out now, in order.
    const cs = peer.classes[link.cls]!;
    const staged = cs.staged.splice(0);
    if (staged.length) {
      this.#spawn((async () => {
        for (const s of staged) await this.#send(peer, link.cls, s, sduKind(s) === "ip" ? s : undefined);
      })());
    }
  }

  #linkDown(peer: Peer, link: Link, why: string): void {
    if (link.state === "closed") return;
    link.state = "closed";
    peer.remove(link);
    this.#spawn((this.#fast?.leave(link) ?? Promise.resolve()).finally(() => link.flow.close()));
    if (this.#stopped) return;
    const cs = peer.classes[link.cls]!;
    const used = this.#now() - Math.max(cs.lastUsed, link.lastTx) < this.#t.reconnectIfUsedWithinMs;
    if (link.dir === "out" && (used || cs.wanted) && !peer.linkFor(link.cls)) {
      cs.wanted = true;
      cs.backoffMs = Math.max(cs.backoffMs, this.#t.backoffMinMs / 2);
      cs.nextTryAt = this.#now() + cs.backoffMs;
    }
    this.#log.info(`peer ${peer.cfg.name}: flow ${link.flow.id} down (${why})`);
  }

  // ---- peers → device ----

  async #readLoop(peer: Peer, link: Link): Promise<void> {
    for (;;) {
      const sdu = await link.flow.read();
      if (sdu === null || link.state === "closed") {
        this.#linkDown(peer, link, "flow ended");
        return;
      }
      const now = this.#now();
      link.lastRx = now;
      link.rxBytes += sdu.length;
      switch (sduKind(sdu)) {
        case "ip":
          if (this.config.mode === "tun") await this.#toDevice(peer, sdu, sdu, now);
          else peer.counters.dropMalformed++;
          break;
        case "tap": {
          const frame = sdu.subarray(1);
          if (this.config.mode !== "tap" || frame.length < 14) {
            peer.counters.dropMalformed++;
            break;
          }
          if ((frame[6]! & 1) === 0) this.#macs.set(macKey(frame, 6), peer);
          await this.#toDevice(peer, frame, innerIp(frame), now);
          break;
        }
        case "control":
          this.#control(peer, link, sdu, now);
          break;
        default:
          peer.counters.dropMalformed++;
      }
    }
  }

  /**
   * Write a packet from `peer` to the device if its source routes back to
   * the peer. TAP mode checks only IP packets, only for peers with
   * allowed-ips, and lets link-local and unspecified sources through
   * (neighbour discovery, DHCP).
   */
  async #toDevice(peer: Peer, packet: Uint8Array, ip: Uint8Array | undefined, now: number): Promise<void> {
    const check = this.config.mode === "tun" ||
      (ip !== undefined && peer.cfg.allowedIps.length > 0 && !isLinkLocalSource(ip));
    if (check) {
      const src = ip ? ipSource(ip) : undefined;
      if (!src || this.#routes.lookup(src) !== peer) {
        peer.counters.dropSpoofed++;
        return;
      }
    }
    // Wait for room rather than drop: the wait holds this flow's reads, and
    // the flow's queue then pushes back towards the sender.
    if (!(await this.#device.drain()) || !this.#device.write(packet)) {
      peer.counters.dropDevice++;
      return;
    }
    peer.counters.rxPackets++;
    peer.counters.rxBytes += packet.length;
    peer.counters.lastRxAt = now;
  }

  #control(peer: Peer, link: Link, sdu: Uint8Array, now: number): void {
    let m: ControlMsg;
    try {
      m = decodeControl(sdu);
    } catch {
      peer.counters.dropMalformed++;
      return;
    }
    if (m.type === "ping") {
      this.#send1(peer, link, encodeControl({ type: "pong", id: m.id }));
    } else if (m.type === "pong" && m.id === link.pingId && link.pingAt) {
      link.rttMs = now - link.pingAt;
      link.pingAt = 0;
    } else if (m.type === "reject") {
      this.#linkDown(peer, link, `peer closed it: ${m.reason}`);
    }
  }

  // ---- timers ----

  #housekeeping(): void {
    const now = this.#now();
    for (const peer of this.peers) {
      for (const link of peer.links) if (link.fast) this.#spawn(this.#fast!.poll(peer, link));
    }
    const ka = this.config.keepaliveS * 1000;
    for (const peer of this.peers) {
      for (const link of [...peer.links]) {
        if (ka <= 0 || link.state !== "up") continue;
        if (now - link.lastRx > ka * this.#t.deadAfterKeepalives) {
          this.#linkDown(peer, link, `nothing received for ${Math.round((now - link.lastRx) / 1000)} s`);
          continue;
        }
        if (now - link.lastPingAt >= ka) {
          link.pingId = (link.pingId + 1) >>> 0;
          link.pingAt = now;
          link.lastPingAt = now;
          this.#send1(peer, link, encodeControl({ type: "ping", id: link.pingId }));
        }
      }
      peer.classes.forEach((cs, i) => {
        if ((cs.wanted || cs.staged.length) && !peer.linkFor(i)) this.#allocate(peer, i);
      });
    }
  }
}

function newLink(flow: TunnelFlow, dir: "out" | "in", cls: number, className: string, qos: string, now: number): Link {
  return {
    flow,
    dir,
    cls,
    className,
    qos,
    state: "handshake",
    since: now,
    lastRx: now,
    lastTx: 0,
    pingId: 0,
    pingAt: 0,
    lastPingAt: 0,
    rxBytes: 0,
    txBytes: 0,
  };
}

function macKey(frame: Uint8Array, at: number): string {
  let s = "";
  for (let i = at; i < at + 6; i++) s += String.fromCharCode(frame[i]!);
  return s;
}

/** The IP packet inside an Ethernet frame, or undefined. */
function innerIp(frame: Uint8Array): Uint8Array | undefined {
  const type = (frame[12]! << 8) | frame[13]!;
  if (type === 0x0800 || type === 0x86dd) return frame.subarray(14);
  return undefined;
}

/** Is the source of an IP packet link-local (fe80::/10, 169.254/16) or unspecified? */
function isLinkLocalSource(ip: Uint8Array): boolean {
  const src = ipSource(ip);
  if (!src) return true;
  if (src.length === 4) return (src[0] === 169 && src[1] === 254) || src.every((b) => b === 0);
  return (src[0] === 0xfe && (src[1]! & 0xc0) === 0x80) || src.every((b) => b === 0);
}
