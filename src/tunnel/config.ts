/**
 * The tunnel's TOML configuration: one `[interface]` and any number of
 * `[[peer]]` entries, each with optional `[[peer.class]]` traffic classes.
 * Every mistake (syntax, unknown key, wrong type, bad address, host bits in
 * a prefix, a prefix given to two peers) is one {@link TunnelConfigError}
 * whose message names the file and line.
 *
 * ```toml
 * [interface]
 * name = "ouro0"                      # TUN/TAP interface, also the tunnel's name
 * address = ["10.9.0.1/24", "fd00:9::1/64"]
 * mtu = 1400                          # default 1400
 * mode = "tun"                        # "tun" (IP, default) or "tap" (Ethernet)
 * listen = "tunnel.a"                 # Ouroboros name this node binds
 * layer = "mylayer"                   # layer to register that name in (optional)
 * keepalive = 10                      # s between probes of an idle flow; 0 = never
 * routes = true                       # add routes to the peers' allowed-ips
 * encryption = "required"             # "required" (default), "preferred" or "off" (security.ts)
 *
 * [[peer]]
 * name = "tunnel.b"                   # Ouroboros name that reaches the peer
 * allowed-ips = ["10.9.0.2/32", "fd00:9::2/128"]
 * qos = "raw"                         # QoS of the default class
 * connect = "on-demand"               # "on-demand", "always" or "never" (accept only)
 * mtu = 1400                          # largest packet sent to this peer (default: interface)
 * encryption = "preferred"            # this peer's policy (default: the interface's)
 *
 * [[peer.class]]                      # traffic matching all given fields gets its own flow
 * name = "voice"
 * qos = "voice"
 * dscp = [46]                         # EF
 * protocol = ["udp"]                  # names (tcp udp icmp icmpv6 sctp) or numbers
 * port = [5004]                       # source or destination port
 * ```
 * @module
 */

import { parse, TomlError } from "smol-toml";
import { qosByName } from "../lib/qos.ts";
import { locateLines } from "./config_lines.ts";
import { defaultEncryption, type EncryptionPolicy, encryptionPolicies } from "./security.ts";
import { ipProtocols } from "./ippacket.ts";
import {
  formatPrefix,
  type IfaceAddress,
  parseIfaceAddress,
  parsePrefix,
  type Prefix,
  PrefixError,
  prefixEqual,
} from "./router.ts";

/** Defaults of the configuration, each in one place. */
export const tunnelDefaults = {
  /** Interface MTU in bytes (leaves room for lower layers' headers in a 1500-byte path). */
  mtuBytes: 1400,
  /** Seconds between keepalive probes on an idle flow. */
  keepaliveS: 10,
  /** QoS of a peer's default class. */
  qos: "raw",
  /** Traffic class name of everything no class matches. */
  defaultClass: "default",
} as const;

/** Smallest MTU accepted (the IPv4 minimum; IPv6 addresses need 1280). */
export const minMtuBytes = 68;
/** Largest MTU accepted. */
export const maxMtuBytes = 65535;
/** Longest interface name. */
export const maxIfNameBytes = 15;

/** How a peer's flows are set up. */
export type ConnectMode = "on-demand" | "always" | "never";

/** A traffic class: matching packets use their own flow with their own QoS. */
export interface TrafficClass {
  /** Class name (shown, sent in HELLO). */
  name: string;
  /** QoS preset name: raw, best, video, voice, data. */
  qos: string;
  /** DSCP values (any matches); undefined = any. */
  dscp?: number[];
  /** Transport protocol numbers; undefined = any. */
  protocol?: number[];
  /** Ports (source or destination); undefined = any. */
  port?: number[];
}

/** One `[[peer]]`. */
export interface PeerConfig {
  /** Ouroboros name that reaches the peer (and the name it says in HELLO). */
  name: string;
  /** Prefixes routed to this peer and accepted as source from it. */
  allowedIps: Prefix[];
  /** Classes in match order; the last is always the default class. */
  classes: TrafficClass[];
  /** Flow setup. */
  connect: ConnectMode;
  /** Largest packet sent to this peer, bytes. */
  mtu: number;
  /** What this peer's flows must be (default: the interface's). */
  encryption: EncryptionPolicy;
  /** Line of the `[[peer]]` header. */
  line: number;
}

/** A whole tunnel configuration. */
export interface TunnelConfig {
  /** Interface and tunnel name. */
  name: string;
  /** `tun` or `tap`. */
  mode: "tun" | "tap";
  /** Interface addresses. */
  addresses: IfaceAddress[];
  /** Interface MTU, bytes. */
  mtu: number;
  /** Ouroboros name this node binds. */
  listen: string;
  /** Layer to register `listen` in, if any. */
  layer?: string;
  /** Keepalive interval in s (0 = off). */
  keepaliveS: number;
  /** Add routes to the peers' prefixes. */
  routes: boolean;
  /** Default encryption policy of the peers. */
  encryption: EncryptionPolicy;
  /** Peers. */
  peers: PeerConfig[];
  /** File name used in messages. */
  file: string;
}

/** A bad configuration: the message names the file and line. */
export class TunnelConfigError extends Error {
  /** 1-based line, when known. */
  readonly line: number | undefined;
  /** An error at `line` of `file`. */
  constructor(file: string, line: number | undefined, message: string) {
    super(`${file}${line ? `:${line}` : ""}: ${message}`);
    this.name = "TunnelConfigError";
    this.line = line;
  }
}

const IFACE_KEYS = new Set(["name", "address", "mtu", "mode", "listen", "layer", "keepalive", "routes", "encryption"]);
const PEER_KEYS = new Set(["name", "allowed-ips", "qos", "connect", "mtu", "class", "encryption"]);
const CLASS_KEYS = new Set(["name", "qos", "dscp", "protocol", "port"]);
const QOS_NAMES = "raw, best, video, voice or data";

type Table = Record<string, unknown>;

class Checker {
  constructor(readonly file: string, readonly lines: Map<string, number>) {}

  fail(path: string, message: string): never {
    throw new TunnelConfigError(this.file, this.lineOf(path), message);
  }

  lineOf(path: string): number | undefined {
    for (let p = path; p; p = p.includes(".") ? p.slice(0, p.lastIndexOf(".")) : "") {
      const l = this.lines.get(p);
      if (l !== undefined) return l;
    }
    return undefined;
  }

  keys(t: Table, allowed: Set<string>, path: string, what: string): void {
    for (const k of Object.keys(t)) {
      if (!allowed.has(k)) {
        this.fail(`${path}.${k}`, `unknown key "${k}" in ${what} (allowed: ${[...allowed].join(", ")})`);
      }
    }
  }

  string(t: Table, k: string, path: string, required: boolean): string | undefined {
    const v = t[k];
    if (v === undefined) {
      if (required) this.fail(path, `missing "${k}"`);
      return undefined;
    }
    if (typeof v !== "string" || v.length === 0) this.fail(`${path}.${k}`, `"${k}" must be a non-empty string`);
    return v;
  }

  int(t: Table, k: string, path: string, min: number, max: number): number | undefined {
    const v = t[k];
    if (v === undefined) return undefined;
    const n = typeof v === "bigint" ? Number(v) : v;
    if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) {
      this.fail(`${path}.${k}`, `"${k}" must be a whole number from ${min} to ${max}`);
    }
    return n;
  }

  list(t: Table, k: string): unknown[] | undefined {
    const v = t[k];
    if (v === undefined) return undefined;
    return Array.isArray(v) ? v : [v];
  }

  encryption(t: Table, path: string, fallback: EncryptionPolicy): EncryptionPolicy {
    const e = this.string(t, "encryption", path, false) ?? fallback;
    if (!(encryptionPolicies as readonly string[]).includes(e)) {
      this.fail(`${path}.encryption`, `encryption must be ${encryptionPolicies.map((x) => `"${x}"`).join(", ")}, not "${e}"`);
    }
    return e as EncryptionPolicy;
  }

  qos(t: Table, path: string): string {
    const q = this.string(t, "qos", path, false) ?? tunnelDefaults.qos;
    if (!qosByName(q)) this.fail(`${path}.qos`, `unknown QoS "${q}" (use ${QOS_NAMES})`);
    return q;
  }
}

function parseInterface(c: Checker, t: unknown): Omit<TunnelConfig, "peers" | "file"> {
  if (typeof t !== "object" || t === null || Array.isArray(t)) c.fail("", 'missing [interface] table');
  const i = t as Table;
  c.keys(i, IFACE_KEYS, "interface", "[interface]");
  const name = c.string(i, "name", "interface", true)!;
  if (new TextEncoder().encode(name).length > maxIfNameBytes || /[\s/:]/.test(name)) {
    c.fail("interface.name", `interface name "${name}" must be 1 to ${maxIfNameBytes} bytes without spaces, "/" or ":"`);
  }
  const mode = c.string(i, "mode", "interface", false) ?? "tun";
  if (mode !== "tun" && mode !== "tap") c.fail("interface.mode", `mode must be "tun" or "tap", not "${mode}"`);
  const addresses: IfaceAddress[] = [];
  for (const a of c.list(i, "address") ?? []) {
    if (typeof a !== "string") c.fail("interface.address", "address must be a string or a list of strings");
    try {
      addresses.push(parseIfaceAddress(a));
    } catch (e) {
      if (e instanceof PrefixError) c.fail("interface.address", `bad address: ${e.message}`);
      throw e;
    }
  }
  const mtu = c.int(i, "mtu", "interface", minMtuBytes, maxMtuBytes) ?? tunnelDefaults.mtuBytes;
  if (mtu < 1280 && addresses.some((a) => a.family === 6)) {
    c.fail("interface.mtu", `mtu ${mtu} is below 1280, the IPv6 minimum, but an IPv6 address is configured`);
  }
  const listen = c.string(i, "listen", "interface", true)!;
  const layer = c.string(i, "layer", "interface", false);
  const keepaliveS = c.int(i, "keepalive", "interface", 0, 3600) ?? tunnelDefaults.keepaliveS;
  const routes = i.routes ?? true;
  if (typeof routes !== "boolean") c.fail("interface.routes", "routes must be true or false");
  const encryption = c.encryption(i, "interface", defaultEncryption);
  return { name, mode, addresses, mtu, listen, layer, keepaliveS, routes, encryption };
}

function parseNumbers(
  c: Checker,
  t: Table,
  k: string,
  path: string,
  max: number,
  names?: Readonly<Record<string, number>>,
): number[] | undefined {
  const l = c.list(t, k);
  if (l === undefined) return undefined;
  return l.map((v) => {
    if (typeof v === "string" && names && Object.hasOwn(names, v.toLowerCase())) return names[v.toLowerCase()]!;
    const n = typeof v === "bigint" ? Number(v) : v;
    if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > max) {
      const hint = names ? ` or one of ${Object.keys(names).join(", ")}` : "";
      c.fail(`${path}.${k}`, `${k} values must be whole numbers 0..${max}${hint}; got ${JSON.stringify(String(v))}`);
    }
    return n;
  });
}

function parseClass(c: Checker, t: unknown, path: string): TrafficClass {
  if (typeof t !== "object" || t === null || Array.isArray(t)) c.fail(path, "a class must be a table");
  const k = t as Table;
  c.keys(k, CLASS_KEYS, path, "[[peer.class]]");
  const name = c.string(k, "name", path, true)!;
  if (name === tunnelDefaults.defaultClass) c.fail(`${path}.name`, `class name "${name}" is reserved`);
  const dscp = parseNumbers(c, k, "dscp", path, 63);
  const protocol = parseNumbers(c, k, "protocol", path, 255, ipProtocols);
  const port = parseNumbers(c, k, "port", path, 65535);
  if (!dscp && !protocol && !port) c.fail(path, `class "${name}" matches nothing: give dscp, protocol or port`);
  return { name, qos: c.qos(k, path), dscp, protocol, port };
}

function parsePeer(c: Checker, t: unknown, path: string, ifaceMtu: number, ifaceEnc: EncryptionPolicy): PeerConfig {
  if (typeof t !== "object" || t === null || Array.isArray(t)) c.fail(path, "[[peer]] must be a table");
  const p = t as Table;
  c.keys(p, PEER_KEYS, path, "[[peer]]");
  const name = c.string(p, "name", path, true)!;
  const allowedIps: Prefix[] = [];
  for (const a of c.list(p, "allowed-ips") ?? []) {
    if (typeof a !== "string") c.fail(`${path}.allowed-ips`, "allowed-ips must be a list of strings");
    try {
      const pre = parsePrefix(a);
      if (allowedIps.some((q) => prefixEqual(q, pre))) {
        c.fail(`${path}.allowed-ips`, `prefix ${formatPrefix(pre)} is listed twice`);
      }
      allowedIps.push(pre);
    } catch (e) {
      if (e instanceof PrefixError) c.fail(`${path}.allowed-ips`, `bad prefix: ${e.message}`);
      throw e;
    }
  }
  const connect = c.string(p, "connect", path, false) ?? "on-demand";
  if (connect !== "on-demand" && connect !== "always" && connect !== "never") {
    c.fail(`${path}.connect`, `connect must be "on-demand", "always" or "never", not "${connect}"`);
  }
  const mtu = c.int(p, "mtu", path, minMtuBytes, maxMtuBytes) ?? ifaceMtu;
  const classes: TrafficClass[] = [];
  const raw = p.class;
  if (raw !== undefined) {
    if (!Array.isArray(raw)) c.fail(`${path}.class`, "classes must be [[peer.class]] tables");
    raw.forEach((k, j) => {
      const cls = parseClass(c, k, `${path}.class#${j}`);
      if (classes.some((x) => x.name === cls.name)) c.fail(`${path}.class#${j}.name`, `class "${cls.name}" is defined twice`);
      classes.push(cls);
    });
  }
  classes.push({ name: tunnelDefaults.defaultClass, qos: c.qos(p, path) });
  const encryption = c.encryption(p, path, ifaceEnc);
  return { name, allowedIps, classes, connect, mtu, encryption, line: c.lineOf(path) ?? 0 };
}

/**
 * Parse and check a configuration text. `file` names it in messages.
 * Throws {@link TunnelConfigError}.
 */
export function parseTunnelConfig(text: string, file = "config"): TunnelConfig {
  let doc: Table;
  try {
    doc = parse(text) as Table;
  } catch (e) {
    if (e instanceof TomlError) {
      throw new TunnelConfigError(file, e.line, `TOML syntax error (column ${e.column}): ${e.message.split("\n")[0]}`);
    }
    throw new TunnelConfigError(file, undefined, `TOML syntax error: ${(e as Error).message}`);
  }
  const c = new Checker(file, locateLines(text));
  for (const k of Object.keys(doc)) {
    if (k !== "interface" && k !== "peer") c.fail(k, `unknown table or key "${k}" (allowed: [interface], [[peer]])`);
  }
  const iface = parseInterface(c, doc.interface);
  const rawPeers: unknown = doc.peer ?? [];
  if (!Array.isArray(rawPeers)) c.fail("peer", "peers must be [[peer]] tables");
  const peers: PeerConfig[] = (rawPeers as unknown[]).map((p, i) => parsePeer(c, p, `peer#${i}`, iface.mtu, iface.encryption));
  // A prefix given to two peers is ambiguous (nested prefixes are fine: longest match wins).
  for (let i = 0; i < peers.length; i++) {
    for (let j = 0; j < i; j++) {
      if (peers[i]!.name === peers[j]!.name) {
        c.fail(`peer#${i}.name`, `peer "${peers[i]!.name}" is already defined at line ${peers[j]!.line}`);
      }
      for (const a of peers[i]!.allowedIps) {
        if (peers[j]!.allowedIps.some((b) => prefixEqual(a, b))) {
          c.fail(
            `peer#${i}.allowed-ips`,
            `prefix ${formatPrefix(a)} is also given to peer "${peers[j]!.name}" (line ${peers[j]!.line})`,
          );
        }
      }
    }
  }
  if (iface.mode === "tun" && peers.length > 1 && peers.some((p) => p.allowedIps.length === 0)) {
    const p = peers.find((p) => p.allowedIps.length === 0)!;
    c.fail(`peer#${peers.indexOf(p)}`, `peer "${p.name}" needs allowed-ips when there is more than one peer`);
  }
  return { ...iface, peers, file };
}

/** Read and parse a configuration file. */
export async function loadTunnelConfig(path: string): Promise<TunnelConfig> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new TunnelConfigError(path, undefined, `cannot read: ${(e as Error).message}`);
  }
  return parseTunnelConfig(text, path);
}
