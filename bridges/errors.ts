/**
 * Typed errors of the TUN/TAP bridge: what went wrong (`reason`), the
 * system's errno when there is one, and a message that says what to do.
 * @module
 */

/** Why a bridge operation failed. */
export type TunErrorReason =
  /** `/dev/net/tun` is missing (no tun module, or not in a container that exposes it). */
  | "no-tun"
  /** Not allowed: needs root or CAP_NET_ADMIN. */
  | "permission"
  /** The requested interface name is held by another process or queue. */
  | "busy"
  /** An address, prefix or name that cannot be parsed or is refused. */
  | "bad-address"
  /** The interface (or route) does not exist. */
  | "no-device"
  /** The address or route is already there. */
  | "exists"
  /** The operation is not supported on this platform. */
  | "unsupported"
  /** The device was closed. */
  | "closed"
  /** Any other system error. */
  | "system";

/**
 * An error of the TUN bridge or its configuration.
 *
 * @example
 * ```ts
 * import { TunError } from "./errors.ts";
 * const e = new TunError("permission", "Cannot open /dev/net/tun: run as root", 1);
 * console.log(e.name, e.reason, e.errno); // TunError permission 1
 * ```
 */
export class TunError extends Error {
  /** Category of the failure. */
  readonly reason: TunErrorReason;
  /** The positive Linux errno, or 0 if none. */
  readonly errno: number;
  /** An error with a reason, a message saying what to do, and the errno (if any). */
  constructor(reason: TunErrorReason, message: string, errno = 0) {
    super(message);
    this.name = "TunError";
    this.reason = reason;
    this.errno = errno;
  }
}

/** Map a Linux errno to a reason (for calls that configure or open devices). */
export function reasonOf(errno: number): TunErrorReason {
  switch (errno) {
    case 1: // EPERM
    case 13: // EACCES
      return "permission";
    case 16: // EBUSY
      return "busy";
    case 17: // EEXIST
      return "exists";
    case 19: // ENODEV
    case 3: // ESRCH (no such route)
    case 6: // ENXIO
      return "no-device";
    case 22: // EINVAL
    case 99: // EADDRNOTAVAIL
    case 97: // EAFNOSUPPORT
    case 101: // ENETUNREACH
      return "bad-address";
    default:
      return "system";
  }
}

/** Advice appended to a message for a reason. */
export function adviceFor(reason: TunErrorReason): string {
  switch (reason) {
    case "no-tun":
      return "load the tun module (modprobe tun) or expose /dev/net/tun to this container";
    case "permission":
      return "run as root or grant CAP_NET_ADMIN";
    case "busy":
      return "another process holds this interface; pick another name or stop it";
    case "no-device":
      return "check the interface name (ip link)";
    case "exists":
      return "it is configured already";
    case "bad-address":
      return "check the address and prefix length";
    default:
      return "";
  }
}
