/**
 * Raw Ethernet through AF_PACKET sockets (SOCK_RAW: whole frames, header
 * included), bound to one interface and one ethertype (or all), served by a
 * Worker with batched `recvmmsg`/`sendmmsg` like {@link UdpSocket}. Our
 * own transmissions are not looped back (PACKET_IGNORE_OUTGOING).
 *
 * @example
 * ```ts ignore
 * import { PacketSocket } from "./packet_socket.ts";
 * await using s = await PacketSocket.open({ ifname: "veth0", ethertype: 0x88b5 });
 * const frame = new Uint8Array(60);
 * frame.fill(0xff, 0, 6); // broadcast
 * frame.set(s.mac, 6);
 * frame[12] = 0x88, frame[13] = 0xb5;
 * s.send(frame);
 * for await (const batch of s) console.log(batch.length, "frames");
 * ```
 * @module
 */

import { ChannelSocket } from "./channel_socket.ts";
import {
  AF_PACKET,
  errno,
  ETH_P_ALL,
  IFF_UP,
  ifreq,
  inNetns,
  IoError,
  libc,
  PACKET_IGNORE_OUTGOING,
  setIntOption,
  SIOCGIFFLAGS,
  SIOCGIFHWADDR,
  SIOCGIFMTU,
  SO_RCVBUF,
  SO_RCVBUFFORCE,
  SOCK_CLOEXEC,
  SOCK_NONBLOCK,
  SOCK_RAW,
  SOL_PACKET,
  SOL_SOCKET,
  throwErrno,
} from "./libc.ts";
import { type ChannelStats, DatagramChannel, DEFAULT_RING_SLOTS } from "./channel.ts";
import { decodeSockaddrLl, encodeSockaddrLl, SOCKADDR_LL_BYTES } from "./sockaddr.ts";
import { logger } from "../lib/log.ts";

const log = logger("io/packet");

/** Bytes of an Ethernet header (no VLAN tag). */
export const ETH_HEADER_BYTES = 14;
/** Default receive buffer asked of the kernel, in bytes. */
export const DEFAULT_PACKET_BUFFER_BYTES = 4 * 1024 * 1024;

/** Options of {@link PacketSocket.open}. */
export interface PacketSocketOptions {
  /** Interface name, e.g. "eth0". */
  ifname: string;
  /** Ethertype to receive (host order, e.g. 0x88b5); default ETH_P_ALL (every frame). */
  ethertype?: number;
  /** Open the socket inside network namespace /var/run/netns/<netns>. */
  netns?: string;
  /** Largest frame (header included), in bytes; default MTU + 18 (header and a VLAN tag). */
  maxFrameBytes?: number;
  /** Slots per ring. */
  slots?: number;
  /** Most frames per system call. */
  batch?: number;
  /** SO_RCVBUF to ask for, in bytes (0 = kernel default). */
  bufferBytes?: number;
}

/** Counters of a packet socket. */
export type PacketStats = ChannelStats;

/** A received frame. */
export interface Frame {
  /** The whole Ethernet frame (a copy owned by the caller). */
  data: Uint8Array;
  /** Packet type: 0 to us, 1 broadcast, 2 multicast, 3 to another host. */
  pkttype: number;
}

interface Opened {
  fd: number;
  ifindex: number;
  mac: Uint8Array;
  mtu: number;
}

function openRaw(opts: PacketSocketOptions): Opened {
  const c = libc();
  const name = opts.ifname;
  const proto = opts.ethertype ?? ETH_P_ALL;
  const what = `open packet socket on ${name}`;
  if (!Number.isInteger(proto) || proto < 0 || proto > 0xffff) {
    throw new IoError(22, `Cannot ${what}: bad ethertype ${proto} (EINVAL)`);
  }
  const req = ifreq(name);
  const ifindex = c.if_nametoindex(req);
  if (ifindex === 0) {
    throwErrno(
      what,
      `no interface "${name}" here (see \`ip link\`)${opts.netns ? ` in netns ${opts.netns}` : ""}`,
    );
  }
  // Protocol 0 receives nothing until bind() names the protocol and interface,
  // so no frame from another interface slips in before the bind.
  const fd = c.socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    const e = errno();
    throwErrno(what, e === 1 || e === 13 ? "raw sockets need root or CAP_NET_RAW" : "", e);
  }
  try {
    if (c.ioctl(fd, BigInt(SIOCGIFFLAGS), req) < 0) throwErrno(`read flags of ${name}`);
    const flags = new DataView(req.buffer).getUint16(16, true);
    if ((flags & IFF_UP) === 0) {
      throw new IoError(
        100,
        `Cannot ${what}: device is down (ENETDOWN); bring it up with \`ip link set ${name} up\``,
      );
    }
    const hw = ifreq(name);
    if (c.ioctl(fd, BigInt(SIOCGIFHWADDR), hw) < 0) {
      throwErrno(`read the hardware address of ${name}`);
    }
    const mac = hw.slice(18, 24);
    const mr = ifreq(name);
    if (c.ioctl(fd, BigInt(SIOCGIFMTU), mr) < 0) throwErrno(`read the MTU of ${name}`);
    const mtu = new DataView(mr.buffer).getInt32(16, true);
    setIntOption(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1); // Linux >= 4.20; harmless if refused
    const buf = opts.bufferBytes ?? DEFAULT_PACKET_BUFFER_BYTES;
    if (buf > 0 && setIntOption(fd, SOL_SOCKET, SO_RCVBUFFORCE, buf) < 0) {
      setIntOption(fd, SOL_SOCKET, SO_RCVBUF, buf);
    }
    const sll = new Uint8Array(new ArrayBuffer(SOCKADDR_LL_BYTES));
    sll.set(encodeSockaddrLl({ protocol: proto, ifindex }));
    if (c.bind(fd, sll, SOCKADDR_LL_BYTES) < 0) throwErrno(`bind packet socket to ${name}`);
    return { fd, ifindex, mac, mtu };
  } catch (e) {
    c.close(fd);
    throw e;
  }
}

/** An AF_PACKET socket served by a Worker; see the module documentation. */
export class PacketSocket extends ChannelSocket<Frame> {
  /** Interface name. */
  readonly ifname: string;
  /** Interface index. */
  readonly ifindex: number;
  /** Interface hardware address (6 bytes for Ethernet). */
  readonly mac: Uint8Array;
  /** Interface MTU (payload bytes after the Ethernet header). */
  readonly mtu: number;
  /** Largest frame sent or received, in bytes. */
  readonly maxFrameBytes: number;

  private constructor(ch: DatagramChannel, ifname: string, o: Opened, max: number) {
    super(ch);
    this.ifname = ifname;
    this.ifindex = o.ifindex;
    this.mac = o.mac;
    this.mtu = o.mtu;
    this.maxFrameBytes = max;
  }

  /**
   * Open, bind to `ifname` and start the Worker. Throws {@link IoError}
   * with code ENODEV (no such interface), ENETDOWN (interface down), EPERM
   * (no CAP_NET_RAW), ENOENT (no such netns) or EINVAL.
   */
  static async open(opts: PacketSocketOptions): Promise<PacketSocket> {
    const o = opts.netns ? inNetns(opts.netns, () => openRaw(opts)) : openRaw(opts);
    const max = opts.maxFrameBytes ?? o.mtu + ETH_HEADER_BYTES + 4;
    const ch = await DatagramChannel.start(o.fd, {
      slots: opts.slots ?? DEFAULT_RING_SLOTS,
      slotBytes: max,
      rxMetaBytes: SOCKADDR_LL_BYTES,
      txMetaBytes: 0,
      batch: opts.batch,
    });
    log.debug(`bound ${opts.ifname} (index ${o.ifindex}) fd ${o.fd}`);
    return new PacketSocket(ch, opts.ifname, o, max);
  }

  /**
   * Queue one whole Ethernet frame. Never blocks: returns false (and counts
   * a drop) when the tx ring is full or the socket closed. Throws IoError
   * EMSGSIZE above maxFrameBytes and EINVAL below a header.
   */
  send(frame: Uint8Array): boolean {
    if (frame.length > this.maxFrameBytes) {
      throw new IoError(
        90,
        `Cannot send a ${frame.length}-byte frame on ${this.ifname}: above ${this.maxFrameBytes} (EMSGSIZE)`,
      );
    }
    if (frame.length < ETH_HEADER_BYTES) {
      throw new IoError(
        22,
        `Cannot send a ${frame.length}-byte frame: shorter than an Ethernet header (EINVAL)`,
      );
    }
    return this.ch.enqueue(frame);
  }

  /** Wait for frames and return up to `max` (copies) in arrival order; [] once closed. */
  async receive(opts: { signal?: AbortSignal; max?: number } = {}): Promise<Frame[]> {
    const out: Frame[] = [];
    await this.ch.receive(
      (data, meta) => {
        out.push({ data: data.slice(), pkttype: decodeSockaddrLl(meta)?.pkttype ?? 0 });
      },
      opts.max,
      opts.signal,
    );
    return out;
  }

  /**
   * Call `handler` for every frame until the socket closes or `signal`
   * aborts; with `copy: false` the view is valid only during the call.
   */
  onReceive(
    handler: (frame: Uint8Array) => void,
    opts: { signal?: AbortSignal; copy?: boolean } = {},
  ): Promise<void> {
    const copy = opts.copy ?? true;
    return this.deliverAll((data) => handler(copy ? data.slice() : data), opts.signal);
  }
}
