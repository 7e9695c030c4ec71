/**
 * The state the tunnel keeps per peer: its flows ("links", one or more
 * per traffic class, allocated by us or accepted from it), the allocation
 * and back-off state of each class, packets staged while a flow is being
 * set up, and the counters `show` prints.
 * @module
 */

import type { FastRxCounters } from "../io/fast_rx.ts";
import type { FastTxCounters } from "../io/fast_tx.ts";
import { qosByName, type QosSpec } from "../lib/qos.ts";
import type { PeerConfig, TrafficClass } from "./config.ts";
import { type FlowKey, flowKey } from "./ippacket.ts";
import type { TunnelFlow } from "./transport.ts";

/** Implementation tunables of the engine (not configuration), each in one place. */
export const tunnelTiming = {
  /** First wait before re-allocating a failed or lost flow, ms. */
  backoffMinMs: 500,
  /** Longest wait between allocation attempts, ms. */
  backoffMaxMs: 16_000,
  /** Give up one allocation after this long, ms. */
  allocTimeoutMs: 10_000,
  /** A flow must complete HELLO/WELCOME within this long, ms. */
  helloTimeoutMs: 5_000,
  /** Packets held per class while its flow is being allocated. */
  stageMaxPackets: 128,
  /** First keepalive PING on a new flow after this long (an early RTT), ms. */
  firstPingMs: 1_000,
  /** Period of the housekeeping timer, ms. */
  tickMs: 250,
  /** A flow with nothing received for this many keepalive intervals is declared dead. */
  deadAfterKeepalives: 3,
  /** A class whose flow went down is re-allocated if it carried traffic this recently, ms. */
  reconnectIfUsedWithinMs: 120_000,
} as const;

/** The engine's tunables (defaults: {@link tunnelTiming}). */
export type TunnelTiming = { -readonly [K in keyof typeof tunnelTiming]: number };

/** Lifecycle of a link. */
export type LinkState = "handshake" | "up" | "closed";

/** One flow to or from a peer. */
export interface Link {
  /** The flow. */
  readonly flow: TunnelFlow;
  /** `out`: we allocated it; `in`: the peer did. */
  readonly dir: "out" | "in";
  /** Index of our class it carries. */
  cls: number;
  /** Class name as announced in HELLO. */
  className: string;
  /** QoS preset name. */
  qos: string;
  /** Lifecycle state. */
  state: LinkState;
  /** When it came up (ms since epoch), or when it was made. */
  since: number;
  /** Last SDU received, ms since epoch. */
  lastRx: number;
  /** Last SDU sent, ms since epoch. */
  lastTx: number;
  /** Latest round-trip time, ms. */
  rttMs?: number;
  /** Outstanding PING id and when it was sent. */
  pingId: number;
  /** When the outstanding PING (or HELLO) was sent, ms since epoch (0: none). */
  pingAt: number;
  /** When the last PING was sent, ms since epoch. */
  lastPingAt: number;
  /** Counters. */
  rxBytes: number;
  /** Bytes sent on this link. */
  txBytes: number;
  /** On the fast path: the device Worker's send slot (-1: sends go through the IRMd), and the counters as last seen. */
  fast?: {
    slot: number;
    rx: FastRxCounters;
    tx: FastTxCounters;
  };
}

/** Per-class allocation state. */
export interface ClassState {
  /** The class. */
  readonly cls: TrafficClass;
  /** Its QoS. */
  readonly qos: QosSpec;
  /** An allocation is in progress. */
  allocating: boolean;
  /** Current back-off, ms (0 after a success). */
  backoffMs: number;
  /** No attempt before this time (ms since epoch). */
  nextTryAt: number;
  /** Packets waiting for the flow. */
  staged: Uint8Array[];
  /** Last time a packet was sent (or staged) in this class. */
  lastUsed: number;
  /** Keep re-allocating (a flow of this class went down while in use, or `connect = "always"`). */
  wanted: boolean;
  /** Last allocation error, for `show`. */
  lastError?: string;
}

/** Counters of a peer. */
export interface PeerCounters {
  /** IP packets (or frames) received from the peer and written to the device. */
  rxPackets: number;
  /** Their bytes. */
  rxBytes: number;
  /** Packets sent to the peer. */
  txPackets: number;
  /** Their bytes. */
  txBytes: number;
  /** Dropped: no flow could be set up (or the staging queue was full). */
  dropNoFlow: number;
  /** Dropped: arrived from the peer with a source outside its allowed-ips. */
  dropSpoofed: number;
  /** Dropped: larger than the peer's MTU (an ICMP error went back when possible). */
  dropTooBig: number;
  /** Dropped: the device's queue was full. */
  dropDevice: number;
  /** Dropped: malformed SDUs from the peer. */
  dropMalformed: number;
  /**
   * Dropped on the fast path: the socket refused them (its buffer full)
   * on the way out, or they failed authentication on the way in.
   */
  dropFast: number;
  /** ICMP "too big" errors sent back. */
  icmpTooBig: number;
  /** IPv4 packets fragmented to fit the peer's MTU. */
  fragmented: number;
  /** Last packet received / sent, ms since epoch (0: never). */
  lastRxAt: number;
  /** Last packet sent, ms since epoch. */
  lastTxAt: number;
  /** Last completed HELLO/WELCOME, ms since epoch. */
  lastHandshakeAt: number;
}

/** A peer and everything the engine knows about it. */
export class Peer {
  readonly links: Link[] = [];
  readonly classes: ClassState[];
  readonly counters: PeerCounters = {
    rxPackets: 0,
    rxBytes: 0,
    txPackets: 0,
    txBytes: 0,
    dropNoFlow: 0,
    dropSpoofed: 0,
    dropTooBig: 0,
    dropDevice: 0,
    dropFast: 0,
    dropMalformed: 0,
    icmpTooBig: 0,
    fragmented: 0,
    lastRxAt: 0,
    lastTxAt: 0,
    lastHandshakeAt: 0,
  };

  /** State for peer `cfg`. */
  constructor(readonly cfg: PeerConfig) {
    this.classes = cfg.classes.map((cls) => ({
      cls,
      qos: qosByName(cls.qos)!,
      allocating: false,
      backoffMs: 0,
      nextTryAt: 0,
      staged: [],
      lastUsed: 0,
      wanted: false,
    }));
  }

  /** Index of the default class (always last). */
  get defaultClass(): number {
    return this.classes.length - 1;
  }

  /** The class index of an IP packet (first matching class, else the default). */
  classify(packet: Uint8Array): number {
    if (this.classes.length === 1) return 0;
    const k = flowKey(packet);
    if (!k) return this.defaultClass;
    for (let i = 0; i < this.classes.length - 1; i++) if (matches(this.classes[i]!.cls, k)) return i;
    return this.defaultClass;
  }

  /** Our class index for a class name announced by the peer (default if unknown). */
  classByName(name: string): number {
    const i = this.classes.findIndex((c) => c.cls.name === name);
    return i < 0 ? this.defaultClass : i;
  }

  /**
   * The link to send class `cls` on: the oldest up link of that class; for
   * an accept-only peer any up link (default class first) will do.
   */
  linkFor(cls: number): Link | undefined {
    let any: Link | undefined;
    for (const l of this.links) {
      if (l.state !== "up") continue;
      if (l.cls === cls) return l;
      if (!any || l.cls === this.defaultClass) any = l;
    }
    return this.cfg.connect === "never" ? any : undefined;
  }

  /** Is any link up? */
  get up(): boolean {
    return this.links.some((l) => l.state === "up");
  }

  /** Forget a link. */
  remove(link: Link): void {
    const i = this.links.indexOf(link);
    if (i >= 0) this.links.splice(i, 1);
  }
}

function matches(c: TrafficClass, k: FlowKey): boolean {
  if (c.dscp && !c.dscp.includes(k.dscp)) return false;
  if (c.protocol && !c.protocol.includes(k.protocol)) return false;
  if (c.port && !c.port.includes(k.srcPort) && !c.port.includes(k.dstPort)) return false;
  return true;
}
