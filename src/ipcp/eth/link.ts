/**
 * The link under an Ethernet IPCP: one interface that sends and receives
 * whole frames. The real one is an AF_PACKET socket ({@link PacketSocket},
 * served by a Worker with batched recvmmsg/sendmmsg); tests use the
 * in-memory hub of `link_fake.ts`.
 * @module
 */
import { PacketSocket } from "../../io/packet_socket.ts";
import { ETH_P_ALL } from "../../io/libc.ts";
import type { FastRxControl } from "../../io/fast_rx.ts";

/** Ethertype value of 802.2 LLC frames in the Linux stack (`ETH_P_802_2`). */
export const ETH_P_802_2 = 0x0004;

/** Counters a link reports (all optional: fakes report fewer). */
export interface EthLinkStats {
  rxPackets?: number;
  txPackets?: number;
  /** Frames not queued because the send ring was full. */
  txDrops?: number;
  /** Frames the kernel refused. */
  txErrors?: number;
  /** Frames cut to the slot size on receive. */
  rxTruncated?: number;
}

/** One Ethernet interface as an IPCP sees it. */
export interface EthLink {
  /** Interface name. */
  readonly ifname: string;
  /** Own hardware address (6 bytes). */
  readonly mac: Uint8Array;
  /** Interface MTU in bytes (payload after the 14-byte Ethernet header). */
  readonly mtu: number;
  /** Has close() been called? */
  readonly closed: boolean;
  /** Queue one whole frame; false if the send ring is full or the link closed. */
  send(frame: Uint8Array): boolean;
  /**
   * Call `handler` for every received frame until the link closes. With
   * `copy: false` the frame is a view valid only during the call.
   */
  onReceive(handler: (frame: Uint8Array) => void, opts?: { copy?: boolean }): Promise<void>;
  /** Resolve true when a frame can be queued again, false once closed. */
  waitWritable(): Promise<boolean>;
  /** Counters. */
  stats(): EthLinkStats;
  /** Release the interface. Idempotent. */
  close(): Promise<void>;
  /** The packet socket's fd (real links only: for a fast path). */
  readonly fd?: number;
  /** The I/O Worker's fast receive path (real links only). */
  readonly fastRx?: FastRxControl;
}

/** What an IPCP asks of a link opener. */
export interface EthLinkOptions {
  /** Interface name. */
  ifname: string;
  /**
   * Protocol to bind to: the DIX Ethertype, {@link ETH_P_802_2}, or
   * undefined for every frame (ETH_P_ALL, as the reference does).
   */
  protocol?: number;
  /** Open inside this network namespace (/var/run/netns/NAME). */
  netns?: string;
}

/** Opens the link of an IPCP at bootstrap. */
export type EthLinkOpener = (opts: EthLinkOptions) => Promise<EthLink>;

/**
 * Open a real interface through an AF_PACKET socket. Throws the socket's
 * IoError (ENODEV, ENETDOWN, EPERM, ENOENT) unchanged.
 */
export const openPacketLink: EthLinkOpener = (o) =>
  PacketSocket.open({ ifname: o.ifname, ethertype: o.protocol ?? ETH_P_ALL, netns: o.netns });

/** Render a MAC address as `aa:bb:cc:dd:ee:ff`. */
export function macToString(mac: Uint8Array): string {
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join(":");
}
