/**
 * Bootstrap options of a unicast layer (spec 10 §2.2) → `ipcp_config_msg`.
 * Options come by their CLI keyword (`addr`, `eid`, `ttl`, `routing`,
 * `congestion`, `dht_*`, `ls_*`, …) or by their config-file key
 * (`addr_size`, `eid_size`, `max_ttl`, `addr-auth`, …); anything not given
 * takes the reference's default.
 *
 * @example
 * ```ts
 * import { unicastConfig } from "./options.ts";
 * const c = unicastConfig({ layer: "net", options: { routing: "ecmp", dht_k: 4 } });
 * c.unicast!.dt.routing.ls!.pol; // 2
 * ```
 * @module
 */
import { Errno, OuroError } from "../../lib/errors.ts";
import { HashAlgo } from "../../lib/hash.ts";
import { type BootstrapConf, IpcpType } from "../types.ts";
import {
  AddrAuthPolicy,
  CongAvoidPolicy,
  defaultUniConfig,
  DirPolicy,
  type IpcpConfig,
  LsPolicy,
} from "./wire/config.ts";

/** DHT parameter limits (spec 10 §2.2). */
export const DHT_LIMITS = {
  alpha: [1, 10],
  k: [1, 20],
  tExpireS: [10, 86400],
  tRefreshS: [3, 3600],
  tReplicateS: [3, 3600],
} as const;
/** The only endpoint-id size the reference supports; others are replaced. */
export const EID_SIZE_ONLY = 8;

const ROUTING: Record<string, number> = {
  link_state: LsPolicy.SIMPLE,
  "link-state": LsPolicy.SIMPLE,
  simple: LsPolicy.SIMPLE,
  lfa: LsPolicy.LFA,
  ecmp: LsPolicy.ECMP,
};
// "lfa" meaning mb-ecn is a quirk of the reference's config file parser (spec 05 §7)
const CONGESTION: Record<string, number> = {
  none: CongAvoidPolicy.NONE,
  "mb-ecn": CongAvoidPolicy.MB_ECN,
  lfa: 1,
};

function bad(msg: string): never {
  throw new OuroError(Errno.EINVAL, `Cannot bootstrap unicast layer: ${msg}`);
}

function int(v: string | number | boolean, key: string, min: number, max: number): number {
  const n = typeof v === "number"
    ? v
    : typeof v === "string" && /^[0-9]+$/.test(v)
    ? Number(v)
    : NaN;
  if (!Number.isInteger(n) || n < min || n > max) {
    bad(`${key} must be an integer in ${min}..${max}`);
  }
  return n;
}

function pick(v: string | number | boolean, key: string, table: Record<string, number>): number {
  const n = table[String(v).toLowerCase()];
  if (n === undefined) bad(`${key} must be one of ${Object.keys(table).join(", ")}`);
  return n;
}

/**
 * The layer configuration for a bootstrap request. Throws `EINVAL` for an
 * unknown option or a value out of range. `warn` hears about replaced values.
 */
export function unicastConfig(
  conf: BootstrapConf,
  warn: (msg: string) => void = () => {},
): IpcpConfig {
  const u = defaultUniConfig();
  const ls = u.dt.routing.ls!;
  const dht = u.dir.dht!;
  for (const [key, v] of Object.entries(conf.options ?? {})) {
    switch (key) {
      case "addr":
      case "addr_size":
        u.dt.addrSize = int(v, key, 1, 8);
        break;
      case "eid":
      case "eid_size":
        u.dt.eidSize = int(v, key, 1, 8);
        if (u.dt.eidSize !== EID_SIZE_ONLY) {
          warn(`Endpoint ids of ${u.dt.eidSize} bytes are not supported; using ${EID_SIZE_ONLY}.`);
          u.dt.eidSize = EID_SIZE_ONLY;
        }
        break;
      case "ttl":
      case "max_ttl":
        u.dt.maxTtl = int(v, key, 1, 255);
        break;
      case "routing":
        ls.pol = pick(v, key, ROUTING);
        break;
      case "ls_t_recalc":
        ls.tRecalcS = int(v, key, 1, 0xffffffff);
        break;
      case "ls_t_update":
        ls.tUpdateS = int(v, key, 1, 0xffffffff);
        break;
      case "ls_t_timeo":
        ls.tTimeoS = int(v, key, 1, 0xffffffff);
        break;
      case "addr_auth":
      case "addr-auth":
        u.addrAuthType = pick(v, key, { flat: AddrAuthPolicy.FLAT_RANDOM });
        break;
      case "directory":
        u.dir.pol = pick(v, key, { dht: DirPolicy.DHT });
        break;
      case "congestion":
        u.congAvoid = pick(v, key, CONGESTION);
        break;
      case "dht_alpha":
        dht.alpha = int(v, key, ...DHT_LIMITS.alpha);
        break;
      case "dht_k":
        dht.k = int(v, key, ...DHT_LIMITS.k);
        break;
      case "dht_t_expire":
        dht.tExpireS = int(v, key, ...DHT_LIMITS.tExpireS);
        break;
      case "dht_t_refresh":
        dht.tRefreshS = int(v, key, ...DHT_LIMITS.tRefreshS);
        break;
      case "dht_t_replicate":
        dht.tReplicateS = int(v, key, ...DHT_LIMITS.tReplicateS);
        break;
      default:
        bad(`option ${key} does not apply to unicast IPCPs`);
    }
  }
  const hashAlgo = conf.hashAlgo ?? HashAlgo.SHA3_256;
  if (hashAlgo > HashAlgo.SHA3_512) bad("hash must be SHA3_224, SHA3_256, SHA3_384 or SHA3_512");
  if (conf.layer.length === 0 || conf.layer.length > 255) {
    bad("layer name must be 1..255 characters");
  }
  return { layerInfo: { name: conf.layer, hashAlgo }, ipcpType: IpcpType.unicast, unicast: u };
}
