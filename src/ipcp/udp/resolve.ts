/**
 * Name resolution of the udp4/udp6 IPCPs (spec 11 §2.4).
 *
 * A destination is known only by its MD5 hash. It resolves to an IP
 * address, in this order:
 * 1. the static peer table given at bootstrap (`peers` option, our addition):
 *    `name=ip[:port],…` — names are hashed, so they can be written plainly;
 * 2. the hosts file: a line `<ip> <32-hex-md5-of-name>` (what the reference's
 *    `getaddrinfo` finds first);
 * 3. DNS: an A (udp4) or AAAA (udp6) record for the 32-hex label, asked of
 *    the configured `dns` server, else of the system resolver.
 *
 * Only addresses of the IPCP's family count.
 * @module
 */
import { HashAlgo, hashName, toHex } from "../../lib/hash.ts";
import {
  formatIPv4,
  formatIPv6,
  type IpEndpoint,
  parseIPv4,
  parseIPv6,
} from "../../io/sockaddr.ts";

/** IP version of a udp IPCP. */
export type IpFamily = 4 | 6;

/** The hosts file read by the system resolver. */
export const HOSTS_FILE = "/etc/hosts";
/** Longest wait for one DNS answer, in ms. */
export const DNS_QUERY_TIMEOUT_MS = 1000;
/** DNS server port. */
export const DNS_PORT = 53;

/**
 * Canonical text of a numeric address of `family` (RFC 5952 for IPv6), or
 * undefined if `s` is not one. Brackets around IPv6 are accepted.
 */
export function canonicalIp(s: string, family: IpFamily): string | undefined {
  if (family === 4) {
    const b = parseIPv4(s);
    return b ? formatIPv4(b) : undefined;
  }
  const t = s.startsWith("[") && s.endsWith("]") ? s.slice(1, -1) : s;
  const b = parseIPv6(t);
  return b ? formatIPv6(b) : undefined;
}

/** Is canonical `ip` the unspecified address (0.0.0.0 or ::)? */
export function isUnspecified(ip: string): boolean {
  return ip === "0.0.0.0" || ip === "::";
}

/** One entry of the static peer table. */
export interface PeerEntry {
  /** The name as written. */
  name: string;
  /** Canonical IP address. */
  ip: string;
  /** Destination port; undefined = the IPCP's own port (as the reference). */
  port?: number;
}

/**
 * Parse a static peer table `name=ip[:port],…` (IPv6: `name=[addr]:port`
 * or `name=addr` without port). Whitespace around entries is ignored.
 * Throws RangeError naming the first bad entry.
 *
 * @example
 * ```ts
 * import { parsePeers } from "./resolve.ts";
 * parsePeers("uni.a=10.0.0.1,net=10.0.0.2:4000", 4);
 * // [{ name: "uni.a", ip: "10.0.0.1" }, { name: "net", ip: "10.0.0.2", port: 4000 }]
 * ```
 */
export function parsePeers(text: string, family: IpFamily): PeerEntry[] {
  const out: PeerEntry[] = [];
  for (const raw of text.split(",")) {
    const item = raw.trim();
    if (item === "") continue;
    const eq = item.lastIndexOf("=");
    const name = item.slice(0, eq).trim();
    const addr = item.slice(eq + 1).trim();
    if (eq <= 0 || name === "" || addr === "") {
      throw new RangeError(`Cannot use peer "${item}": write it as name=ip or name=ip:port`);
    }
    let host = addr;
    let portText: string | undefined;
    if (addr.startsWith("[")) {
      const close = addr.indexOf("]");
      if (close < 0) {
        throw new RangeError(`Cannot use peer "${item}": missing ] after the IPv6 address`);
      }
      host = addr.slice(1, close);
      const rest = addr.slice(close + 1);
      if (rest !== "") {
        if (!rest.startsWith(":")) {
          throw new RangeError(`Cannot use peer "${item}": expected :port after ]`);
        }
        portText = rest.slice(1);
      }
    } else if (addr.indexOf(":") === addr.lastIndexOf(":") && addr.includes(":")) {
      // one colon: IPv4 with a port
      host = addr.slice(0, addr.indexOf(":"));
      portText = addr.slice(addr.indexOf(":") + 1);
    }
    const ip = canonicalIp(host, family);
    if (!ip) {
      throw new RangeError(`Cannot use peer "${item}": ${host} is not an IPv${family} address`);
    }
    if (isUnspecified(ip)) {
      throw new RangeError(`Cannot use peer "${item}": the unspecified address is not a peer`);
    }
    const e: PeerEntry = { name, ip };
    if (portText !== undefined) {
      const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
      if (!(port >= 1 && port <= 65535)) {
        throw new RangeError(`Cannot use peer "${item}": bad port ${portText}`);
      }
      e.port = port;
    }
    out.push(e);
  }
  return out;
}

/**
 * Find `name` (case-insensitive) in hosts-file text and return the first
 * address of `family` listed for it, canonical, or undefined.
 */
export function lookupHosts(text: string, name: string, family: IpFamily): string | undefined {
  const want = name.toLowerCase();
  for (const line of text.split("\n")) {
    const hash = line.indexOf("#");
    const fields = (hash >= 0 ? line.slice(0, hash) : line).trim().split(/\s+/);
    if (fields.length < 2) continue;
    if (!fields.slice(1).some((f) => f.toLowerCase() === want)) continue;
    // a link-local zone (fe80::1%eth0) is not kept: it names an interface
    const ip = canonicalIp(fields[0]!.split("%")[0]!, family);
    if (ip) return ip;
  }
  return undefined;
}

/** How a {@link Resolver} looks names up; everything is optional. */
export interface ResolverOptions {
  family: IpFamily;
  /** The IPCP's own port: the destination port of every resolved peer. */
  port: number;
  /** The static peer table. */
  peers?: PeerEntry[];
  /** DNS server to ask (numeric IP); undefined = the system resolver. */
  dns?: string;
  /** Hosts file path (default {@link HOSTS_FILE}). */
  hostsFile?: string;
  /** Ask DNS at all (default true). */
  useDns?: boolean;
  /** Replaceable DNS lookup (tests); default `Deno.resolveDns`. */
  resolveDns?: (
    label: string,
    type: "A" | "AAAA",
    dns: string | undefined,
    signal: AbortSignal,
  ) => Promise<string[]>;
}

/** Where a hash resolved, and from which source. */
export interface Resolved {
  endpoint: IpEndpoint;
  source: "peers" | "hosts" | "dns";
}

function systemResolveDns(
  label: string,
  type: "A" | "AAAA",
  dns: string | undefined,
  signal: AbortSignal,
): Promise<string[]> {
  const opts: Deno.ResolveDnsOptions = { signal };
  if (dns) opts.nameServer = { ipAddr: dns, port: DNS_PORT };
  return Deno.resolveDns(label, type, opts);
}

/** Resolves destination hashes to endpoints; see the module documentation. */
export class Resolver {
  readonly #opts: ResolverOptions;
  readonly #peers = new Map<string, IpEndpoint>();

  constructor(opts: ResolverOptions) {
    this.#opts = opts;
    for (const p of opts.peers ?? []) {
      const hex = toHex(hashName(HashAlgo.MD5, p.name));
      // the first entry for a name wins, as in a hosts file
      if (!this.#peers.has(hex)) {
        this.#peers.set(hex, { hostname: p.ip, port: p.port ?? opts.port });
      }
    }
  }

  /** Number of static peers. */
  get peerCount(): number {
    return this.#peers.size;
  }

  /** Resolve `hash` (16-byte MD5) to an endpoint, or undefined if unknown. Never throws. */
  async resolve(hash: Uint8Array): Promise<Resolved | undefined> {
    const hex = toHex(hash);
    const peer = this.#peers.get(hex);
    if (peer) return { endpoint: peer, source: "peers" };
    const { family, port } = this.#opts;
    let hosts: string | undefined;
    try {
      hosts = await Deno.readTextFile(this.#opts.hostsFile ?? HOSTS_FILE);
    } catch { /* no hosts file: DNS only */ }
    const fromHosts = hosts === undefined ? undefined : lookupHosts(hosts, hex, family);
    if (fromHosts) return { endpoint: { hostname: fromHosts, port }, source: "hosts" };
    if (this.#opts.useDns === false) return undefined;
    const lookup = this.#opts.resolveDns ?? systemResolveDns;
    try {
      const answers = await lookup(
        hex,
        family === 4 ? "A" : "AAAA",
        this.#opts.dns,
        AbortSignal.timeout(DNS_QUERY_TIMEOUT_MS),
      );
      for (const a of answers) {
        const ip = canonicalIp(a, family);
        if (ip && !isUnspecified(ip)) return { endpoint: { hostname: ip, port }, source: "dns" };
      }
    } catch { /* NXDOMAIN, timeout, no resolver: unknown */ }
    return undefined;
  }
}
