/**
 * Layer configuration messages (`ipcp_config.proto`, `model.proto`): the
 * `ipcp_config_msg` a layer is bootstrapped with and that an enroller sends
 * to a new member, and `layer_info_msg` (spec 10 §2.1, spec 05 §2).
 *
 * Field names are camelCase versions of the wire names; times carry their
 * unit (`tRecalcS` = `t_recalc`, seconds); 64-bit fields are bigint.
 *
 * @example
 * ```ts
 * import { decodeIpcpConfig, defaultUniConfig, encodeIpcpConfig } from "./config.ts";
 * const conf = { layerInfo: { name: "net", hashAlgo: 1 }, ipcpType: 1, // unicast
 *   unicast: defaultUniConfig() };
 * console.log(decodeIpcpConfig(encodeIpcpConfig(conf)).unicast?.dt.maxTtl); // 60
 * ```
 * @module
 */
import { DecodeError } from "../../../lib/errors.ts";
import { Reader, type ReaderOptions, required, Writer } from "../../../lib/pb.ts";

/**
 * `ipcp_type` wire values this codec cares about (spec 10 §1.1); the full
 * enum with names is `IpcpType` in src/ipcp/types.ts.
 */
const TYPE_UNICAST = 1, TYPE_ETH_LLC = 3, TYPE_ETH_DIX = 4, TYPE_UDP4 = 5, TYPE_UDP6 = 6;

/** `routing_config_msg.pol` values. */
export const RoutingPolicy = { LINK_STATE: 0 } as const;
/** `ls_config_msg.pol` values. */
export const LsPolicy = { SIMPLE: 0, LFA: 1, ECMP: 2 } as const;
/** `dir_config_msg.pol` values. */
export const DirPolicy = { DHT: 0 } as const;
/** `uni_config_msg.addr_auth_type` values. */
export const AddrAuthPolicy = { FLAT_RANDOM: 0 } as const;
/** `uni_config_msg.cong_avoid` values. */
export const CongAvoidPolicy = { NONE: 0, MB_ECN: 1 } as const;

/** Largest `ipcp_config_msg` this port accepts (the IRMd socket buffer, spec 05 §1). */
export const IPCP_CONFIG_MAX_BYTES = 10240;

/** `layer_info_msg`. */
export interface LayerInfo {
  /** Layer name (≤ 255 chars). */
  name: string;
  /** `dir_hash_algo`: the directory hash algorithm (`HashAlgo` value). */
  hashAlgo: number;
}

/** `ls_config_msg`: link-state routing parameters. */
export interface LsConfig {
  /** {@link LsPolicy} value. */
  pol: number;
  /** PFF recomputation period (s). */
  tRecalcS: number;
  /** LSU refresh period (s). */
  tUpdateS: number;
  /** Adjacency expiry (s). */
  tTimeoS: number;
}

/** `routing_config_msg`. `ls` is present iff `pol` is link state. */
export interface RoutingConfig {
  /** {@link RoutingPolicy} value. */
  pol: number;
  /** Link-state parameters. */
  ls?: LsConfig;
}

/** `dt_config_msg`: data-transfer parameters. */
export interface DtConfig {
  /** Address size in bytes. */
  addrSize: number;
  /** Endpoint-id size in bytes. */
  eidSize: number;
  /** Initial TTL. */
  maxTtl: number;
  /** Routing policy and its parameters. */
  routing: RoutingConfig;
}

/** `dir_dht_config_msg`: DHT parameters. */
export interface DhtConfig {
  /** Parallel requests per lookup (1–10). */
  alpha: number;
  /** Bucket size and replication factor (1–20). */
  k: number;
  /** Lifetime of a published value (s, 10–86400). */
  tExpireS: number;
  /** Bucket refresh period (s, 3–3600). */
  tRefreshS: number;
  /** Replication period (s, 3–3600). */
  tReplicateS: number;
  /** Bootstrap peer address (0 = none). */
  peer: bigint;
}

/** `dir_config_msg`. `dht` is present iff `pol` is DHT. */
export interface DirConfig {
  /** {@link DirPolicy} value. */
  pol: number;
  /** DHT parameters. */
  dht?: DhtConfig;
}

/** `uni_config_msg`: the unicast layer's parameters. */
export interface UniConfig {
  /** Data transfer and routing. */
  dt: DtConfig;
  /** Directory. */
  dir: DirConfig;
  /** {@link AddrAuthPolicy} value. */
  addrAuthType: number;
  /** {@link CongAvoidPolicy} value. */
  congAvoid: number;
}

/** `eth_config_msg` (eth-llc, eth-dix). */
export interface EthConfig {
  /** Interface name (< 16 chars). */
  dev: string;
  /** Host integer, e.g. 0xA000. */
  ethertype: number;
}

/**
 * `udp4_config_msg`. Addresses are dotted quads here; on the wire they are
 * the `in_addr` word (network-order bytes read as a little-endian u32).
 */
export interface Udp4Config {
  /** Local bind address ("0.0.0.0" = unset). */
  ipAddr: string;
  /** UDP port (bind and remote). */
  port: number;
  /** DDNS server ("0.0.0.0" = unset). */
  dnsAddr: string;
}

/** `udp6_config_msg`. Addresses are 16 raw bytes (all zero = unset). */
export interface Udp6Config {
  /** Local bind address. */
  ipAddr: Uint8Array;
  /** UDP port (bind and remote). */
  port: number;
  /** DDNS server. */
  dnsAddr: Uint8Array;
}

/**
 * `ipcp_config_msg`. Which optional part is present follows `ipcpType`:
 * unicast → `unicast`; eth-llc/eth-dix → `eth`; udp4 → `udp4`; udp6 →
 * `udp6`; local and broadcast → none.
 */
export interface IpcpConfig {
  /** Layer name and directory hash. */
  layerInfo: LayerInfo;
  /** `ipcp_type` wire value (`IpcpType` of src/ipcp/types.ts). */
  ipcpType: number;
  /** Unicast layer parameters. */
  unicast?: UniConfig;
  /** udp4 shim parameters. */
  udp4?: Udp4Config;
  /** udp6 shim parameters. */
  udp6?: Udp6Config;
  /** Ethernet shim parameters. */
  eth?: EthConfig;
}

/** The reference's unicast defaults (spec 10 §2.2); `dir.dht.peer` is 0. */
export function defaultUniConfig(): UniConfig {
  return {
    dt: {
      addrSize: 4,
      eidSize: 8,
      maxTtl: 60,
      routing: {
        pol: RoutingPolicy.LINK_STATE,
        ls: { pol: LsPolicy.SIMPLE, tRecalcS: 4, tUpdateS: 15, tTimeoS: 60 },
      },
    },
    dir: {
      pol: DirPolicy.DHT,
      dht: { alpha: 3, k: 8, tExpireS: 86400, tRefreshS: 900, tReplicateS: 900, peer: 0n },
    },
    addrAuthType: AddrAuthPolicy.FLAT_RANDOM,
    congAvoid: CongAvoidPolicy.MB_ECN,
  };
}

/** Default DIX ethertype. */
export const ETH_DIX_DEFAULT_ETHERTYPE = 0xa000;
/** Default UDP port of the udp4/udp6 IPCPs. */
export const UDP_DEFAULT_PORT = 3435;

// ---- layer_info_msg ---------------------------------------------------------

/** Write the fields of a `layer_info_msg` into `w`. */
export function writeLayerInfo(w: Writer, m: LayerInfo): void {
  w.string(1, m.name).uint32(2, m.hashAlgo);
}

/** Read a `layer_info_msg` from a Reader over its bytes. */
export function readLayerInfo(r: Reader): LayerInfo {
  let name: string | undefined, algo: number | undefined;
  while (r.next()) {
    if (r.field === 1) name = r.string();
    else if (r.field === 2) algo = r.uint32();
    else r.skip();
  }
  return {
    name: required(name, "layer_info_msg", "name"),
    hashAlgo: required(algo, "layer_info_msg", "dir_hash_algo"),
  };
}

/** Encode a `layer_info_msg`. */
export function encodeLayerInfo(m: LayerInfo): Uint8Array {
  const w = new Writer();
  writeLayerInfo(w, m);
  return w.finish();
}

/** Decode a `layer_info_msg`; throws DecodeError. */
export function decodeLayerInfo(b: Uint8Array, opts?: ReaderOptions): LayerInfo {
  return readLayerInfo(new Reader(b, opts));
}

// ---- unicast parts ------------------------------------------------------------

/** Read up to `n` required uint32 fields numbered 1..n (all other fields skipped). */
function readU32s(r: Reader, n: number, msg: string, names: string[]): number[] {
  const v: (number | undefined)[] = new Array(n).fill(undefined);
  while (r.next()) {
    if (r.field <= n) v[r.field - 1] = r.uint32();
    else r.skip();
  }
  return v.map((x, i) => required(x, msg, names[i]!));
}

function writeLs(w: Writer, m: LsConfig): void {
  w.uint32(1, m.pol).uint32(2, m.tRecalcS).uint32(3, m.tUpdateS).uint32(4, m.tTimeoS);
}

function readLs(r: Reader): LsConfig {
  const [pol, tRecalcS, tUpdateS, tTimeoS] = readU32s(r, 4, "ls_config_msg", [
    "pol",
    "t_recalc",
    "t_update",
    "t_timeo",
  ]) as [number, number, number, number];
  return { pol, tRecalcS, tUpdateS, tTimeoS };
}

function writeRouting(w: Writer, m: RoutingConfig): void {
  w.uint32(1, m.pol);
  if (m.ls) w.message(2, (s) => writeLs(s, m.ls!));
}

function readRouting(r: Reader): RoutingConfig {
  let pol: number | undefined, ls: LsConfig | undefined;
  while (r.next()) {
    if (r.field === 1) pol = r.uint32();
    else if (r.field === 2) ls = readLs(r.message());
    else r.skip();
  }
  const m: RoutingConfig = { pol: required(pol, "routing_config_msg", "pol") };
  if (ls) m.ls = ls;
  else if (m.pol === RoutingPolicy.LINK_STATE) required(ls, "routing_config_msg", "ls");
  return m;
}

function writeDt(w: Writer, m: DtConfig): void {
  w.uint32(1, m.addrSize).uint32(2, m.eidSize).uint32(3, m.maxTtl);
  w.message(4, (s) => writeRouting(s, m.routing));
}

function readDt(r: Reader): DtConfig {
  let a: number | undefined, e: number | undefined, t: number | undefined;
  let routing: RoutingConfig | undefined;
  while (r.next()) {
    switch (r.field) {
      case 1:
        a = r.uint32();
        break;
      case 2:
        e = r.uint32();
        break;
      case 3:
        t = r.uint32();
        break;
      case 4:
        routing = readRouting(r.message());
        break;
      default:
        r.skip();
    }
  }
  const M = "dt_config_msg";
  return {
    addrSize: required(a, M, "addr_size"),
    eidSize: required(e, M, "eid_size"),
    maxTtl: required(t, M, "max_ttl"),
    routing: required(routing, M, "routing"),
  };
}

function writeDht(w: Writer, m: DhtConfig): void {
  w.uint32(1, m.alpha).uint32(2, m.k).uint32(3, m.tExpireS).uint32(4, m.tRefreshS);
  w.uint32(5, m.tReplicateS).uint64(6, m.peer);
}

function readDht(r: Reader): DhtConfig {
  const v: (number | undefined)[] = [undefined, undefined, undefined, undefined, undefined];
  let peer: bigint | undefined;
  while (r.next()) {
    if (r.field <= 5) v[r.field - 1] = r.uint32();
    else if (r.field === 6) peer = r.uint64();
    else r.skip();
  }
  const M = "dir_dht_config_msg";
  return {
    alpha: required(v[0], M, "alpha"),
    k: required(v[1], M, "k"),
    tExpireS: required(v[2], M, "t_expire"),
    tRefreshS: required(v[3], M, "t_refresh"),
    tReplicateS: required(v[4], M, "t_replicate"),
    peer: required(peer, M, "peer"),
  };
}

function writeDir(w: Writer, m: DirConfig): void {
  w.uint32(1, m.pol);
  if (m.dht) w.message(2, (s) => writeDht(s, m.dht!));
}

function readDir(r: Reader): DirConfig {
  let pol: number | undefined, dht: DhtConfig | undefined;
  while (r.next()) {
    if (r.field === 1) pol = r.uint32();
    else if (r.field === 2) dht = readDht(r.message());
    else r.skip();
  }
  const m: DirConfig = { pol: required(pol, "dir_config_msg", "pol") };
  if (dht) m.dht = dht;
  else if (m.pol === DirPolicy.DHT) required(dht, "dir_config_msg", "dht");
  return m;
}

function writeUni(w: Writer, m: UniConfig): void {
  w.message(1, (s) => writeDt(s, m.dt));
  w.message(2, (s) => writeDir(s, m.dir));
  w.uint32(3, m.addrAuthType).uint32(4, m.congAvoid);
}

function readUni(r: Reader): UniConfig {
  let dt: DtConfig | undefined, dir: DirConfig | undefined;
  let aa: number | undefined, ca: number | undefined;
  while (r.next()) {
    switch (r.field) {
      case 1:
        dt = readDt(r.message());
        break;
      case 2:
        dir = readDir(r.message());
        break;
      case 3:
        aa = r.uint32();
        break;
      case 4:
        ca = r.uint32();
        break;
      default:
        r.skip();
    }
  }
  const M = "uni_config_msg";
  return {
    dt: required(dt, M, "dt"),
    dir: required(dir, M, "dir"),
    addrAuthType: required(aa, M, "addr_auth_type"),
    congAvoid: required(ca, M, "cong_avoid"),
  };
}

// ---- shim configs -------------------------------------------------------------

/** "a.b.c.d" → the `in_addr` word as the reference puts it on the wire. */
export function ipv4ToWire(addr: string): number {
  const p = addr.split(".");
  if (p.length !== 4 || p.some((x) => !/^\d{1,3}$/.test(x) || Number(x) > 255)) {
    throw new RangeError(`Cannot encode IPv4 address ${JSON.stringify(addr)}`);
  }
  const [a, b, c, d] = p.map(Number) as [number, number, number, number];
  return (a | (b << 8) | (c << 16) | (d << 24)) >>> 0;
}

/** The `in_addr` wire word → "a.b.c.d". */
export function ipv4FromWire(v: number): string {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24].join(".");
}

function writeEth(w: Writer, m: EthConfig): void {
  w.string(1, m.dev).uint32(2, m.ethertype);
}

function readEth(r: Reader): EthConfig {
  let dev: string | undefined, et: number | undefined;
  while (r.next()) {
    if (r.field === 1) dev = r.string();
    else if (r.field === 2) et = r.uint32();
    else r.skip();
  }
  return {
    dev: required(dev, "eth_config_msg", "dev"),
    ethertype: required(et, "eth_config_msg", "ethertype"),
  };
}

function writeUdp4(w: Writer, m: Udp4Config): void {
  w.uint32(1, ipv4ToWire(m.ipAddr)).uint32(2, m.port).uint32(3, ipv4ToWire(m.dnsAddr));
}

function readUdp4(r: Reader): Udp4Config {
  const [ip, port, dns] = readU32s(r, 3, "udp4_config_msg", ["ip_addr", "port", "dns_addr"]) as [
    number,
    number,
    number,
  ];
  return { ipAddr: ipv4FromWire(ip), port, dnsAddr: ipv4FromWire(dns) };
}

function writeUdp6(w: Writer, m: Udp6Config): void {
  if (m.ipAddr.length !== 16 || m.dnsAddr.length !== 16) {
    throw new RangeError("Cannot encode udp6_config_msg: addresses must be 16 bytes");
  }
  w.bytes(1, m.ipAddr).uint32(2, m.port).bytes(3, m.dnsAddr);
}

function readUdp6(r: Reader): Udp6Config {
  let ip: Uint8Array | undefined, port: number | undefined, dns: Uint8Array | undefined;
  while (r.next()) {
    if (r.field === 1) ip = r.bytes();
    else if (r.field === 2) port = r.uint32();
    else if (r.field === 3) dns = r.bytes();
    else r.skip();
  }
  const M = "udp6_config_msg";
  const m = {
    ipAddr: required(ip, M, "ip_addr"),
    port: required(port, M, "port"),
    dnsAddr: required(dns, M, "dns_addr"),
  };
  if (m.ipAddr.length !== 16 || m.dnsAddr.length !== 16) {
    throw new DecodeError("udp6-addr-len", "Cannot decode udp6_config_msg: address not 16 bytes");
  }
  return m;
}

// ---- ipcp_config_msg ----------------------------------------------------------

/** Which optional part an IPCP type requires. */
function partFor(type: number): "unicast" | "udp4" | "udp6" | "eth" | undefined {
  switch (type) {
    case TYPE_UNICAST:
      return "unicast";
    case TYPE_ETH_LLC:
    case TYPE_ETH_DIX:
      return "eth";
    case TYPE_UDP4:
      return "udp4";
    case TYPE_UDP6:
      return "udp6";
    default:
      return undefined;
  }
}

/** Write the fields of an `ipcp_config_msg` into `w` (for embedding). */
export function writeIpcpConfig(w: Writer, m: IpcpConfig): void {
  const part = partFor(m.ipcpType);
  if (part && m[part] === undefined) {
    throw new RangeError(`Cannot encode ipcp_config_msg: type ${m.ipcpType} needs ${part}`);
  }
  w.message(1, (s) => writeLayerInfo(s, m.layerInfo));
  w.uint32(2, m.ipcpType);
  if (m.unicast) w.message(3, (s) => writeUni(s, m.unicast!));
  if (m.udp4) w.message(4, (s) => writeUdp4(s, m.udp4!));
  if (m.udp6) w.message(5, (s) => writeUdp6(s, m.udp6!));
  if (m.eth) w.message(6, (s) => writeEth(s, m.eth!));
}

/**
 * Read an `ipcp_config_msg`. Besides the proto2 required fields, the part
 * its `ipcp_type` needs must be present (the reference would crash on its
 * absence), as must `routing.ls` / `dir.dht` when their policy selects them.
 */
export function readIpcpConfig(r: Reader): IpcpConfig {
  let li: LayerInfo | undefined, type: number | undefined;
  const m: Partial<IpcpConfig> = {};
  while (r.next()) {
    switch (r.field) {
      case 1:
        li = readLayerInfo(r.message());
        break;
      case 2:
        type = r.uint32();
        break;
      case 3:
        m.unicast = readUni(r.message());
        break;
      case 4:
        m.udp4 = readUdp4(r.message());
        break;
      case 5:
        m.udp6 = readUdp6(r.message());
        break;
      case 6:
        m.eth = readEth(r.message());
        break;
      default:
        r.skip();
    }
  }
  const out: IpcpConfig = {
    layerInfo: required(li, "ipcp_config_msg", "layer_info"),
    ipcpType: required(type, "ipcp_config_msg", "ipcp_type"),
  };
  if (m.unicast) out.unicast = m.unicast;
  if (m.udp4) out.udp4 = m.udp4;
  if (m.udp6) out.udp6 = m.udp6;
  if (m.eth) out.eth = m.eth;
  const part = partFor(out.ipcpType);
  if (part) required(out[part], "ipcp_config_msg", part);
  return out;
}

/** Encode an `ipcp_config_msg` (byte-identical to the reference's). */
export function encodeIpcpConfig(m: IpcpConfig): Uint8Array {
  const w = new Writer();
  writeIpcpConfig(w, m);
  return w.finish();
}

/** Decode an `ipcp_config_msg`; throws DecodeError on malformed input. */
export function decodeIpcpConfig(b: Uint8Array, opts: ReaderOptions = {}): IpcpConfig {
  return readIpcpConfig(new Reader(b, { maxBytes: IPCP_CONFIG_MAX_BYTES, ...opts }));
}
