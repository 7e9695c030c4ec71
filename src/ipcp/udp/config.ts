/**
 * Bootstrap options of the udp4/udp6 IPCPs (spec 11 §2.1), checked once:
 * `ip` (required, an interface address), `port` (default 3435), `dns`
 * (optional server) and `peers` (our static peer table, `name=ip[:port],…`).
 * @module
 */
import { Errno, OuroError } from "../../lib/errors.ts";
import { UDP_PORT_DEFAULT } from "./wire.ts";
import {
  canonicalIp,
  type IpFamily,
  isUnspecified,
  parsePeers,
  type PeerEntry,
} from "./resolve.ts";

/** Bootstrap options this type understands (by CLI keyword). */
export const UDP_OPTIONS = ["ip", "port", "dns", "peers"] as const;

/** A checked udp configuration. */
export interface UdpConfig {
  /** Canonical local address to bind. */
  ip: string;
  /** Local port, also the destination port of peers without their own. */
  port: number;
  /** DNS server to ask (canonical IPv4 or IPv6), if any. */
  dns?: string;
  /** The static peer table. */
  peers: PeerEntry[];
  /** Option keys that are not udp options (the caller may warn). */
  unknown: string[];
}

/**
 * Check bootstrap options for an IPCP of `family`. Throws OuroError EINVAL
 * with a message beginning with `what` ("Cannot bootstrap …").
 *
 * @example
 * ```ts
 * import { parseUdpOptions } from "./config.ts";
 * parseUdpOptions({ ip: "10.0.0.1", peers: "srv=10.0.0.2" }, 4, "Cannot bootstrap u");
 * // { ip: "10.0.0.1", port: 3435, peers: [{ name: "srv", ip: "10.0.0.2" }], unknown: [] }
 * ```
 */
export function parseUdpOptions(
  o: Record<string, string | number | boolean>,
  family: IpFamily,
  what: string,
): UdpConfig {
  const bad = (msg: string) => new OuroError(Errno.EINVAL, `${what}: ${msg}`);
  if (o.ip === undefined) throw bad(`option ip is required (the local IPv${family} address)`);
  const ip = canonicalIp(String(o.ip), family);
  if (!ip) throw bad(`ip ${o.ip} is not an IPv${family} address`);
  if (isUnspecified(ip)) throw bad(`ip ${ip} is unspecified; give the address of an interface`);
  const port = o.port === undefined ? UDP_PORT_DEFAULT : Number(o.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw bad(`port ${o.port} is not 1..65535`);
  }
  const cfg: UdpConfig = {
    ip,
    port,
    peers: [],
    unknown: Object.keys(o).filter((k) => !(UDP_OPTIONS as readonly string[]).includes(k)),
  };
  if (o.dns !== undefined) {
    const dns = canonicalIp(String(o.dns), 4) ?? canonicalIp(String(o.dns), 6);
    if (!dns || isUnspecified(dns)) throw bad(`dns ${o.dns} is not an IP address`);
    cfg.dns = dns;
  }
  if (o.peers !== undefined && o.peers !== "") {
    try {
      cfg.peers = parsePeers(String(o.peers), family);
    } catch (e) {
      throw bad((e as Error).message);
    }
  }
  return cfg;
}
