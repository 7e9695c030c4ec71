/**
 * Fast UDP sockets: an IPv4 or IPv6 socket served by a Worker that moves
 * packets with batched `recvmmsg`/`sendmmsg` through shared rings (see
 * `channel.ts`). The main thread queues packets with {@link UdpSocket.send}
 * (no `postMessage`, no await) and receives batches.
 *
 * @example
 * ```ts
 * import { UdpSocket } from "./udp.ts";
 * await using a = await UdpSocket.open({ hostname: "127.0.0.1", port: 0 });
 * await using b = await UdpSocket.open({ hostname: "127.0.0.1", port: 0 });
 * a.send(b.addr, new TextEncoder().encode("hi"));
 * const [dgram] = await b.receive();
 * console.log(dgram?.data, dgram?.remote.port === a.addr.port);
 * ```
 * @module
 */

import {
  AF_INET,
  AF_INET6,
  cString,
  errno,
  IoError,
  IPPROTO_UDP,
  libc,
  setIntOption,
  SO_RCVBUF,
  SO_RCVBUFFORCE,
  SO_REUSEADDR,
  SO_SNDBUF,
  SO_SNDBUFFORCE,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
  SOL_SOCKET,
  throwErrno,
} from "./libc.ts";
import { type ChannelStats, DatagramChannel, DEFAULT_RING_SLOTS } from "./channel.ts";
import { ChannelSocket } from "./channel_socket.ts";
import {
  decodeSockaddr,
  type IpEndpoint,
  isIPv6,
  SOCKADDR_IN6_BYTES,
  writeSockaddr,
} from "./sockaddr.ts";
import { logger } from "../lib/log.ts";

const log = logger("io/udp");

/** Default largest datagram, in bytes (the slot size of both rings). */
export const DEFAULT_UDP_MAX_BYTES = 2048;
/** Default socket buffer sizes asked of the kernel, in bytes. */
export const DEFAULT_UDP_BUFFER_BYTES = 4 * 1024 * 1024;
const META_BYTES = 32; // room for a sockaddr_in6
const ENDPOINT_CACHE_MAX = 4096;

/** Options of {@link UdpSocket.open}. */
export interface UdpSocketOptions {
  /** Numeric local address; default "0.0.0.0" (use "::" for IPv6; a zone may name an interface: "fe80::1%eth0"). */
  hostname?: string;
  /** Local port; 0 (default) lets the kernel pick: read it from {@link UdpSocket.addr}. */
  port?: number;
  /** Set SO_REUSEADDR. */
  reuseAddress?: boolean;
  /** Largest datagram sent or received, in bytes; larger received ones are counted and dropped. */
  maxDatagramBytes?: number;
  /** Slots per ring. */
  slots?: number;
  /** Most packets per system call. */
  batch?: number;
  /** SO_RCVBUF/SO_SNDBUF to ask for, in bytes (0 = kernel default). */
  bufferBytes?: number;
}

/** A received datagram. */
export interface Datagram {
  /** Payload (a copy owned by the caller). */
  data: Uint8Array;
  /** Sender; pass it back to {@link UdpSocket.send} to reply (its sockaddr is cached). */
  remote: IpEndpoint;
}

/** Counters of a UDP socket. */
export type UdpStats = ChannelStats;

/**
 * What a user of a UDP socket relies on. {@link UdpSocket} implements it
 * over the kernel; `FakeUdpNetwork` (udp_fake.ts) in memory, for tests.
 */
export interface DatagramSocket extends AsyncIterable<Datagram[]>, AsyncDisposable {
  /** The bound local address. */
  readonly addr: IpEndpoint;
  /** Has close() been called? */
  readonly closed: boolean;
  /** Queue `data` for `dst`; false (a counted drop) when full or closed. */
  send(dst: IpEndpoint, data: Uint8Array): boolean;
  /** Wait for datagrams; [] once closed. */
  receive(opts?: { signal?: AbortSignal; max?: number }): Promise<Datagram[]>;
  /** Deliver every datagram to `handler` until closed or aborted. */
  onReceive(
    handler: (data: Uint8Array, remote: IpEndpoint) => void,
    opts?: { signal?: AbortSignal; copy?: boolean },
  ): Promise<void>;
  /** Resolve when another datagram can be queued (true) or the socket closed (false). */
  waitWritable(opts?: { signal?: AbortSignal }): Promise<boolean>;
  /** Counters. */
  stats(): UdpStats;
  /** Release everything. Idempotent. */
  close(): Promise<void>;
}

/** Replace an IPv6 zone given as an interface name ("fe80::1%eth0") by its index. */
function numericZone(hostname: string): string {
  const m = /^(\[?[^%\]]+)%([^\]]*[^\d\]][^\]]*)(\]?)$/.exec(hostname);
  if (!m) return hostname;
  const index = libc().if_nametoindex(cString(m[2]!));
  return index === 0 ? hostname : `${m[1]}%${index}${m[3]}`;
}

/** A UDP socket served by a Worker; see the module documentation. */
export class UdpSocket extends ChannelSocket<Datagram> implements DatagramSocket {
  /** The bound local address (with the kernel-chosen port when 0 was asked). */
  readonly addr: IpEndpoint;
  /** AF_INET or AF_INET6. */
  readonly family: number;
  /** Largest datagram, in bytes. */
  readonly maxDatagramBytes: number;
  readonly #sockaddrs = new WeakMap<IpEndpoint, Uint8Array>();
  readonly #scratch = new Uint8Array(SOCKADDR_IN6_BYTES);
  #remotes = new Map<number | string, IpEndpoint>();

  private constructor(ch: DatagramChannel, addr: IpEndpoint, family: number, max: number) {
    super(ch);
    this.addr = addr;
    this.family = family;
    this.maxDatagramBytes = max;
  }

  /**
   * Open and bind a socket and start its Worker. Throws {@link IoError}
   * with code EINVAL (bad address), EADDRINUSE, EADDRNOTAVAIL, EACCES
   * (privileged port), EAFNOSUPPORT (no IPv6 on this host).
   */
  static async open(opts: UdpSocketOptions = {}): Promise<UdpSocket> {
    const hostname = opts.hostname ?? "0.0.0.0";
    const port = opts.port ?? 0;
    const family = isIPv6(hostname) ? AF_INET6 : AF_INET;
    const where = `${family === AF_INET6 ? `[${hostname}]` : hostname}:${port}`;
    const sa = new Uint8Array(new ArrayBuffer(SOCKADDR_IN6_BYTES));
    const saLen = writeSockaddr(sa, { hostname: numericZone(hostname), port }, family);
    if (saLen < 0) {
      throw new IoError(
        22,
        `Cannot bind UDP socket to ${where}: not a numeric IPv4/IPv6 address and port (EINVAL)`,
      );
    }
    const max = opts.maxDatagramBytes ?? DEFAULT_UDP_MAX_BYTES;
    if (!(max > 0 && max <= 65535)) {
      throw new IoError(22, `Cannot open UDP socket: bad maxDatagramBytes ${max} (EINVAL)`);
    }
    const c = libc();
    const fd = c.socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
    if (fd < 0) throwErrno(`open UDP socket for ${where}`);
    let local: IpEndpoint;
    try {
      if (opts.reuseAddress) setIntOption(fd, SOL_SOCKET, SO_REUSEADDR, 1);
      const buf = opts.bufferBytes ?? DEFAULT_UDP_BUFFER_BYTES;
      if (buf > 0) {
        // FORCE works for root and ignores net.core.*mem_max; fall back to the capped call.
        if (setIntOption(fd, SOL_SOCKET, SO_RCVBUFFORCE, buf) < 0) {
          setIntOption(fd, SOL_SOCKET, SO_RCVBUF, buf);
        }
        if (setIntOption(fd, SOL_SOCKET, SO_SNDBUFFORCE, buf) < 0) {
          setIntOption(fd, SOL_SOCKET, SO_SNDBUF, buf);
        }
      }
      if (c.bind(fd, sa, saLen) < 0) {
        const e = errno();
        const hint = e === 13
          ? "ports below 1024 need root or CAP_NET_BIND_SERVICE"
          : e === 99
          ? "use an address assigned to a local interface, or 0.0.0.0 / ::"
          : e === 98
          ? "another socket holds this address and port; pick another port or 0"
          : "";
        throwErrno(`bind UDP socket to ${where}`, hint, e);
      }
      const out = new Uint8Array(new ArrayBuffer(SOCKADDR_IN6_BYTES));
      const outLen = new Uint8Array(new ArrayBuffer(4));
      new DataView(outLen.buffer).setUint32(0, SOCKADDR_IN6_BYTES, true);
      if (c.getsockname(fd, out, outLen) < 0) throwErrno(`read the bound address of ${where}`);
      local = decodeSockaddr(out) ?? { hostname, port };
    } catch (e) {
      c.close(fd);
      throw e;
    }
    const ch = await DatagramChannel.start(fd, {
      slots: opts.slots ?? DEFAULT_RING_SLOTS,
      slotBytes: max,
      rxMetaBytes: META_BYTES,
      txMetaBytes: META_BYTES,
      batch: opts.batch,
    });
    log.debug(`bound ${local.hostname} port ${local.port} fd ${fd}`);
    return new UdpSocket(ch, local, family, max);
  }

  /**
   * Queue `data` for `dst`. Never blocks: returns false (and counts a drop)
   * when the tx ring is full or the socket closed. Throws IoError EMSGSIZE
   * for datagrams above maxDatagramBytes and EINVAL for a malformed or
   * wrong-family address. Reuse the same `dst` object for a peer: its
   * sockaddr is encoded once.
   */
  send(dst: IpEndpoint, data: Uint8Array): boolean {
    if (data.length > this.maxDatagramBytes) {
      throw new IoError(
        90,
        `Cannot send ${data.length} bytes: larger than maxDatagramBytes ${this.maxDatagramBytes} (EMSGSIZE)`,
      );
    }
    let sa = this.#sockaddrs.get(dst);
    if (!sa) {
      const n = writeSockaddr(this.#scratch, {
        hostname: numericZone(dst.hostname),
        port: dst.port,
      }, this.family);
      if (n < 0) {
        throw new IoError(
          22,
          `Cannot send to ${dst.hostname} port ${dst.port}: bad address for this socket (EINVAL)`,
        );
      }
      sa = this.#scratch.slice(0, n);
      this.#sockaddrs.set(dst, sa);
    }
    return this.ch.enqueue(data, sa);
  }

  /**
   * Wait for datagrams and return up to `max` of them (copies), in arrival
   * order. Resolves to [] once the socket is closed; rejects if `signal`
   * aborts. One receiver at a time.
   */
  async receive(opts: { signal?: AbortSignal; max?: number } = {}): Promise<Datagram[]> {
    const out: Datagram[] = [];
    await this.ch.receive(
      (data, meta) => {
        out.push({ data: data.slice(), remote: this.#remote(meta) });
      },
      opts.max,
      opts.signal,
    );
    return out;
  }

  /**
   * Call `handler` for every datagram until the socket closes (or `signal`
   * aborts). A throwing handler is logged and does not stop delivery. The
   * `data` view is valid only during the call unless `copy` is true (default).
   */
  onReceive(
    handler: (data: Uint8Array, remote: IpEndpoint) => void,
    opts: { signal?: AbortSignal; copy?: boolean } = {},
  ): Promise<void> {
    const copy = opts.copy ?? true;
    return this.deliverAll((data, meta) => handler(copy ? data.slice() : data, this.#remote(meta)), opts.signal);
  }

  // Source sockaddr → endpoint, cached so replies reuse the encoded sockaddr.
  #remote(meta: Uint8Array): IpEndpoint {
    let key: number | string;
    const fam = meta[0]! | (meta[1]! << 8);
    if (fam === AF_INET) {
      key = (((meta[4]! << 24) | (meta[5]! << 16) | (meta[6]! << 8) | meta[7]!) >>> 0) * 65536 +
        ((meta[2]! << 8) | meta[3]!);
    } else {
      key = String.fromCharCode(...meta.subarray(2, 4), ...meta.subarray(8, 28));
    }
    let ep = this.#remotes.get(key);
    if (!ep) {
      ep = Object.freeze(decodeSockaddr(meta) ?? { hostname: "", port: 0 });
      if (this.#remotes.size >= ENDPOINT_CACHE_MAX) this.#remotes = new Map();
      this.#remotes.set(key, ep);
      const len = fam === AF_INET ? 16 : SOCKADDR_IN6_BYTES;
      this.#sockaddrs.set(ep, meta.slice(0, len));
    }
    return ep;
  }
}
