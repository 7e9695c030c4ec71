/**
 * Bootstrap configuration of the Ethernet IPCPs (spec 10 §2.2, 06): the
 * options, their checks, and the errors that tell the user what to do.
 * @module
 */
import { Errno, OuroError } from "../../lib/errors.ts";
import type { Logger } from "../../lib/log.ts";
import { IoError } from "../../io/libc.ts";
import { ETH_DIX_ETHERTYPE_DEFAULT, ETH_ETHERTYPE_MIN } from "./wire.ts";

/** The two Ethernet IPCP types. */
export type EthIpcpType = "eth-dix" | "eth-llc";
/** Bootstrap options of each type (by CLI keyword). */
export const ETH_OPTIONS: Record<EthIpcpType, readonly string[]> = {
  "eth-dix": ["dev", "ethertype"],
  "eth-llc": ["dev"],
};
/** Longest interface name (IFNAMSIZ − 1). */
export const ETH_IFNAME_MAX = 15;
/** Largest DIX Ethertype a layer may use (0xFFFF is reserved). */
export const ETH_ETHERTYPE_MAX = 0xfffe;

/** A checked configuration. */
export interface EthConf {
  /** Interface name. */
  dev: string;
  /** DIX Ethertype; undefined for eth-llc. */
  ethertype: number | undefined;
}

/**
 * Parse a DIX Ethertype option: hex with or without `0x` (spec 06), or a
 * number taken as the value itself. Undefined if unparseable.
 *
 * @example
 * ```ts
 * import { parseEthertype } from "./conf.ts";
 * console.log(parseEthertype("0xA000"), parseEthertype("88b5")); // 40960 34997
 * ```
 */
export function parseEthertype(v: string | number | boolean): number | undefined {
  if (typeof v === "number") return Number.isInteger(v) ? v : undefined;
  if (typeof v !== "string" || !/^(0[xX])?[0-9a-fA-F]{1,4}$/.test(v)) return undefined;
  return parseInt(v.replace(/^0[xX]/, ""), 16);
}

/**
 * Check the bootstrap options of `type`; throws OuroError EINVAL with a
 * message that says what to give instead. Unknown options are logged.
 */
export function parseEthConf(
  type: EthIpcpType,
  o: Record<string, string | number | boolean>,
  what: string,
  log: Logger,
): EthConf {
  const known = ETH_OPTIONS[type];
  for (const k of Object.keys(o)) {
    if (!known.includes(k)) log.warn(`Ignoring option ${k}: ${type} takes ${known.join(", ")}.`);
  }
  if (o.dev === undefined || o.dev === "" || o.dev === true) {
    throw new OuroError(
      Errno.EINVAL,
      `${what}: option dev is required (the interface, e.g. dev eth0)`,
    );
  }
  const dev = String(o.dev);
  if (dev.length > ETH_IFNAME_MAX || /[\s/]/.test(dev)) {
    throw new OuroError(
      Errno.EINVAL,
      `${what}: "${dev}" is not an interface name (at most ${ETH_IFNAME_MAX} characters)`,
    );
  }
  if (type === "eth-llc") return { dev, ethertype: undefined };
  const ethertype = o.ethertype === undefined
    ? ETH_DIX_ETHERTYPE_DEFAULT
    : parseEthertype(o.ethertype);
  if (ethertype === undefined || ethertype < ETH_ETHERTYPE_MIN || ethertype > ETH_ETHERTYPE_MAX) {
    throw new OuroError(
      Errno.EINVAL,
      `${what}: ethertype ${o.ethertype} is not 0x0600..0xFFFE; ` +
        `give it in hex, e.g. ethertype 0xA000`,
    );
  }
  return { dev, ethertype };
}

/** Turn a failure to open the interface into an OuroError that says what to do. */
export function linkError(
  what: string,
  dev: string,
  netns: string | undefined,
  e: unknown,
): OuroError {
  const code = e instanceof IoError ? e.code : "";
  const where = netns ? ` in network namespace ${netns}` : "";
  switch (code) {
    case "ENODEV":
      return new OuroError(Errno.EINVAL, `${what}: no interface ${dev}${where}; see \`ip link\``);
    case "ENETDOWN":
      return new OuroError(
        Errno.EIPCP,
        `${what}: ${dev} is down; bring it up with \`ip link set ${dev} up\``,
      );
    case "EPERM":
    case "EACCES":
      return new OuroError(
        Errno.EPERM,
        `${what}: raw Ethernet needs root or CAP_NET_RAW; run the IRMd as root ` +
          `or give deno the capability (setcap cap_net_raw+ep)`,
      );
    default:
      return new OuroError(Errno.EIPCP, `${what}: ${(e as Error)?.message ?? e}`);
  }
}
