/**
 * Interface configuration over rtnetlink (an AF_NETLINK socket through FFI,
 * no `ip` subprocess): look up a link, set its MTU, bring it up or down,
 * add and delete IPv4/IPv6 addresses and device routes. Every call is one
 * request and its acknowledgement, synchronous (the kernel answers at once;
 * a 2 s receive timeout guards against a lost reply). Failures are
 * {@link TunError}s with a reason (`permission`, `no-device`, `exists`,
 * `bad-address`, ...).
 *
 * @example
 * ```ts ignore
 * import { Netlink } from "./netlink.ts";
 * using nl = Netlink.open();
 * nl.setMtu("tun0", 1400);
 * nl.addAddress("tun0", "10.9.0.1/24");
 * nl.setUp("tun0");
 * nl.addRoute("10.10.0.0/16", "tun0");
 * ```
 * @module
 */

import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from "../../src/io/sockaddr.ts";
import { adviceFor, reasonOf, TunError } from "../errors.ts";
import {
  AF_NETLINK,
  cstr,
  errno,
  errnoName,
  libc,
  SO_RCVTIMEO,
  SOCK_CLOEXEC,
  SOCK_RAW,
  SOL_SOCKET,
} from "./libc.ts";
import {
  decodeAttrs,
  decodeIfinfo,
  decodeNlError,
  decodeNlMessages,
  encodeIfaddr,
  encodeIfinfo,
  encodeNlMessage,
  encodeRtmsg,
  IFA_ADDRESS,
  IFA_LOCAL,
  IFINFO_BYTES,
  IFLA_ADDRESS,
  IFLA_IFNAME,
  IFLA_MTU,
  IFLA_TXQLEN,
  type NlAttr,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_EXCL,
  NLM_F_REQUEST,
  NLMSG_ERROR,
  RTA_DST,
  RTA_GATEWAY,
  RTA_OIF,
  RTA_PRIORITY,
  RTM_DELADDR,
  RTM_DELROUTE,
  RTM_GETLINK,
  RTM_NEWADDR,
  RTM_NEWLINK,
  RTM_NEWROUTE,
  u32,
} from "./netlink_msg.ts";

const NETLINK_ROUTE = 0;
const IFF_UP = 0x1;
const IFA_F_NODAD = 0x02;
const RT_TABLE_MAIN = 254;
const RTPROT_STATIC = 4;
const RT_SCOPE_UNIVERSE = 0;
const RT_SCOPE_LINK = 253;
const RT_SCOPE_NOWHERE = 255;
const RTN_UNICAST = 1;
/** Receive timeout of the netlink socket, ms. */
const netlinkReplyTimeoutMs = 2000;

/** An interface given by name or by index. */
export type Iface = string | number;

/** A parsed `address/prefix`. */
export interface Cidr {
  /** 2 (AF_INET) or 10 (AF_INET6). */
  family: 2 | 10;
  /** 4 or 16 address bytes. */
  address: Uint8Array;
  /** Prefix length in bits. */
  prefixLen: number;
}

/**
 * Parse `10.0.0.1/24`, `fd00::1/64`, or a bare address (full-length prefix).
 * Throws {@link TunError} `bad-address`.
 */
export function parseCidr(text: string): Cidr {
  const slash = text.indexOf("/");
  const host = slash < 0 ? text : text.slice(0, slash);
  const v4 = parseIPv4(host);
  const address = v4 ?? parseIPv6(host);
  if (!address) {
    throw new TunError(
      "bad-address",
      `Cannot parse address "${text}": expected IPv4 or IPv6 [/prefix]`,
    );
  }
  const max = address.length * 8;
  let prefixLen = max;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > max) {
      throw new TunError("bad-address", `Cannot parse prefix of "${text}": expected 0..${max}`);
    }
    prefixLen = Number(p);
  }
  return { family: v4 ? 2 : 10, address, prefixLen };
}

/** The network part of an address (host bits cleared). */
export function networkOf(c: Cidr): Uint8Array {
  const out = c.address.slice();
  for (let bit = c.prefixLen; bit < out.length * 8; bit++) out[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return out;
}

/** Format a {@link Cidr} back to text. */
export function formatCidr(c: Cidr): string {
  return `${c.family === 2 ? formatIPv4(c.address) : formatIPv6(c.address)}/${c.prefixLen}`;
}

/** What {@link Netlink.getLink} reports. */
export interface LinkInfo {
  /** Interface index. */
  index: number;
  /** Interface name. */
  name: string;
  /** MTU in bytes. */
  mtu: number;
  /** IFF_* flags. */
  flags: number;
  /** Administratively up. */
  up: boolean;
  /** Hardware address bytes (empty for TUN). */
  hwAddress: Uint8Array;
}

/** Options of {@link Netlink.addAddress}. */
export interface AddressOptions {
  /** Skip IPv6 duplicate address detection so the address is usable at once (default true). */
  noDad?: boolean;
}

/** Options of {@link Netlink.addRoute}. */
export interface RouteOptions {
  /** Next hop (same family as the destination); default: on-link via the device. */
  gateway?: string;
  /** Route metric. */
  metric?: number;
  /** Routing table (default main, 254). */
  table?: number;
}

/** An rtnetlink socket. Close it (or `using`) when done. */
export class Netlink implements Disposable {
  readonly #fd: number;
  #seq = 1;
  #closed = false;
  readonly #buf = new Uint8Array(65536);

  private constructor(fd: number) {
    this.#fd = fd;
  }

  /** Open and bind an rtnetlink socket. */
  static open(): Netlink {
    if (Deno.build.os !== "linux") {
      throw new TunError("unsupported", `Cannot use rtnetlink on ${Deno.build.os}`);
    }
    const c = libc();
    const fd = c.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) throw sysError("open netlink socket", errno());
    const sa = new Uint8Array(12);
    new DataView(sa.buffer).setUint16(0, AF_NETLINK, true);
    const tv = new Uint8Array(16);
    new DataView(tv.buffer).setBigInt64(0, BigInt(Math.floor(netlinkReplyTimeoutMs / 1000)), true);
    new DataView(tv.buffer).setBigInt64(8, BigInt((netlinkReplyTimeoutMs % 1000) * 1000), true);
    if (c.bind(fd, sa, 12) < 0 || c.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, tv, 16) < 0) {
      const e = errno();
      c.close(fd);
      throw sysError("bind netlink socket", e);
    }
    return new Netlink(fd);
  }

  /** Look up an interface by name or index. Throws `no-device`. */
  getLink(iface: Iface): LinkInfo {
    const byName = typeof iface === "string";
    const attrs: NlAttr[] = byName ? [{ type: IFLA_IFNAME, data: ifname(iface) }] : [];
    const msg = encodeNlMessage(
      RTM_GETLINK,
      NLM_F_REQUEST,
      this.#nextSeq(),
      encodeIfinfo({ index: byName ? 0 : iface }),
      attrs,
    );
    const reply = this.#transact(msg, `find interface ${iface}`, RTM_NEWLINK);
    const info = decodeIfinfo(reply);
    const out: LinkInfo = {
      index: info.index,
      name: "",
      mtu: 0,
      flags: info.flags,
      up: (info.flags & IFF_UP) !== 0,
      hwAddress: new Uint8Array(0),
    };
    for (const a of decodeAttrs(reply, IFINFO_BYTES)) {
      if (a.type === IFLA_IFNAME) out.name = new TextDecoder().decode(a.data).replace(/\0.*$/s, "");
      else if (a.type === IFLA_MTU && a.data.length >= 4) {
        out.mtu = new DataView(a.data.buffer, a.data.byteOffset, 4).getUint32(0, true);
      } else if (a.type === IFLA_ADDRESS) out.hwAddress = a.data.slice();
    }
    return out;
  }

  /** The interface index of `name`. Throws `no-device`. */
  ifindex(name: Iface): number {
    return typeof name === "number" ? name : this.getLink(name).index;
  }

  /** Set the MTU in bytes. */
  setMtu(iface: Iface, mtu: number): void {
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) {
      throw new TunError("bad-address", `Cannot set MTU ${mtu}: expected 68..65535`);
    }
    const index = this.ifindex(iface);
    this.#ack(
      encodeNlMessage(
        RTM_NEWLINK,
        NLM_F_REQUEST | NLM_F_ACK,
        this.#nextSeq(),
        encodeIfinfo({ index }),
        [
          { type: IFLA_MTU, data: u32(mtu) },
        ],
      ),
      `set MTU of ${iface} to ${mtu}`,
    );
  }

  /**
   * Set the transmit queue length in packets: for a TUN device, how many
   * packets the kernel holds for the reader before it drops (default 500).
   */
  setTxQueueLen(iface: Iface, packets: number): void {
    if (!Number.isInteger(packets) || packets < 1 || packets > 1_000_000) {
      throw new TunError("bad-address", `Cannot set txqueuelen ${packets}: expected 1..1000000`);
    }
    const index = this.ifindex(iface);
    this.#ack(
      encodeNlMessage(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, this.#nextSeq(), encodeIfinfo({ index }), [
        { type: IFLA_TXQLEN, data: u32(packets) },
      ]),
      `set txqueuelen of ${iface} to ${packets}`,
    );
  }

  /** Bring the interface up (default) or down. */
  setUp(iface: Iface, up = true): void {
    const index = this.ifindex(iface);
    const body = encodeIfinfo({ index, flags: up ? IFF_UP : 0, change: IFF_UP });
    this.#ack(
      encodeNlMessage(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, this.#nextSeq(), body, []),
      `set ${iface} ${up ? "up" : "down"}`,
    );
  }

  /** Add `address/prefix` (IPv4 or IPv6) to the interface. Throws `exists` if present. */
  addAddress(iface: Iface, cidr: string, options: AddressOptions = {}): void {
    this.#address(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, iface, cidr, options.noDad ?? true);
  }

  /** Remove `address/prefix` from the interface. Throws `bad-address` if absent. */
  deleteAddress(iface: Iface, cidr: string): void {
    this.#address(RTM_DELADDR, 0, iface, cidr, false);
  }

  #address(type: number, flags: number, iface: Iface, cidr: string, noDad: boolean): void {
    const c = parseCidr(cidr);
    const index = this.ifindex(iface);
    const body = encodeIfaddr({
      family: c.family,
      prefixLen: c.prefixLen,
      flags: c.family === 10 && noDad ? IFA_F_NODAD : 0,
      index,
    });
    const attrs: NlAttr[] = [{ type: IFA_LOCAL, data: c.address }, {
      type: IFA_ADDRESS,
      data: c.address,
    }];
    const verb = type === RTM_NEWADDR ? "add" : "delete";
    this.#ack(
      encodeNlMessage(type, NLM_F_REQUEST | NLM_F_ACK | flags, this.#nextSeq(), body, attrs),
      `${verb} address ${cidr} on ${iface}`,
    );
  }

  /** Add a route to `destination/prefix` through the interface (optionally via a gateway). */
  addRoute(destination: string, iface: Iface, options: RouteOptions = {}): void {
    this.#route(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, destination, iface, options);
  }

  /** Delete the route to `destination/prefix` through the interface. Throws `no-device` if absent. */
  deleteRoute(destination: string, iface: Iface, options: RouteOptions = {}): void {
    this.#route(RTM_DELROUTE, 0, destination, iface, options);
  }

  #route(type: number, flags: number, destination: string, iface: Iface, o: RouteOptions): void {
    const dst = parseCidr(destination);
    const index = this.ifindex(iface);
    const attrs: NlAttr[] = [];
    if (dst.prefixLen > 0) attrs.push({ type: RTA_DST, data: networkOf(dst) });
    attrs.push({ type: RTA_OIF, data: u32(index) });
    if (o.gateway !== undefined) {
      const gw = parseCidr(o.gateway);
      if (gw.family !== dst.family) {
        throw new TunError(
          "bad-address",
          `Cannot route ${destination} via ${o.gateway}: address families differ`,
        );
      }
      attrs.push({ type: RTA_GATEWAY, data: gw.address });
    }
    if (o.metric !== undefined) attrs.push({ type: RTA_PRIORITY, data: u32(o.metric) });
    const add = type === RTM_NEWROUTE;
    const body = encodeRtmsg({
      family: dst.family,
      dstLen: dst.prefixLen,
      table: o.table ?? RT_TABLE_MAIN,
      protocol: add ? RTPROT_STATIC : 0,
      scope: add ? (o.gateway === undefined ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE) : RT_SCOPE_NOWHERE,
      type: add ? RTN_UNICAST : 0,
    });
    this.#ack(
      encodeNlMessage(type, NLM_F_REQUEST | NLM_F_ACK | flags, this.#nextSeq(), body, attrs),
      `${add ? "add" : "delete"} route ${destination} dev ${iface}`,
    );
  }

  /** Close the socket. Idempotent. */
  close(): void {
    if (!this.#closed) {
      this.#closed = true;
      libc().close(this.#fd);
    }
  }

  /** Same as {@link Netlink.close}, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  #nextSeq(): number {
    this.#seq = (this.#seq + 1) >>> 0;
    return this.#seq;
  }

  #ack(msg: Uint8Array, what: string): void {
    this.#transact(msg, what, -1);
  }

  /** Send `msg`; return the payload of the reply of type `want` (or nothing for an ACK). */
  #transact(msg: Uint8Array, what: string, want: number): Uint8Array {
    if (this.#closed) throw new TunError("closed", `Cannot ${what}: netlink socket closed`);
    const c = libc();
    const seq = new DataView(msg.buffer).getUint32(8, true);
    if (Number(c.send(this.#fd, msg, BigInt(msg.length), 0)) < 0) throw sysError(what, errno());
    for (;;) {
      const n = Number(c.recv(this.#fd, this.#buf, BigInt(this.#buf.length), 0));
      if (n < 0) {
        const e = errno();
        if (e === 4) continue; // EINTR
        throw sysError(what, e);
      }
      for (const m of decodeNlMessages(this.#buf.subarray(0, n))) {
        if (m.seq !== seq) continue; // a stale reply
        if (m.type === NLMSG_ERROR) {
          const e = decodeNlError(m.payload);
          if (e !== 0) throw sysError(what, e);
          if (want < 0) return new Uint8Array(0);
        } else if (m.type === want) {
          return m.payload.slice();
        }
      }
    }
  }
}

function ifname(name: string): Uint8Array {
  const b = cstr(name);
  if (b.length > 16 || b.length < 2) {
    throw new TunError("bad-address", `Cannot use interface name "${name}": 1 to 15 bytes`);
  }
  return b;
}

function sysError(what: string, e: number): TunError {
  const reason = reasonOf(e);
  const advice = adviceFor(reason);
  return new TunError(reason, `Cannot ${what}: ${errnoName(e)}${advice ? `; ${advice}` : ""}`, e);
}
