/**
 * Error codes of the Ouroboros API (spec 02 §6), as typed errors.
 *
 * POSIX codes are the Linux values; Ouroboros-specific codes start at 1000.
 * Every error a caller can see is an {@link OuroError} carrying `code`
 * (positive) and `errno` (the negated value the C API returns).
 * @module
 */

/** Linux POSIX error numbers used by the API. */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  EINTR: 4,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EEXIST: 17,
  EINVAL: 22,
  EPIPE: 32,
  EMSGSIZE: 90,
  ENOTSUP: 95,
  ECONNRESET: 104,
  ETIMEDOUT: 110,
  ENOTALLOC: 1000,
  EIPCPTYPE: 1001,
  EIRMD: 1002,
  EIPCP: 1003,
  EIPCPSTATE: 1004,
  EFLOWDOWN: 1005,
  EFLOWPEER: 1006,
  ENAME: 1007,
  ECRYPT: 1008,
  EAUTH: 1009,
} as const;

/** Name of an error code, e.g. `"ENAME"`. */
export type ErrnoName = keyof typeof Errno;

const NAMES = new Map<number, ErrnoName>(
  Object.entries(Errno).map(([k, v]) => [v, k as ErrnoName]),
);

const TEXT: Partial<Record<ErrnoName, string>> = {
  EPERM: "operation not permitted",
  ENOENT: "no such entry",
  EBADF: "bad flow descriptor",
  EAGAIN: "try again (would block)",
  ENOMEM: "out of memory",
  EEXIST: "already exists",
  EINVAL: "invalid argument",
  EPIPE: "cancelled",
  EMSGSIZE: "message too long",
  ENOTSUP: "not supported",
  ECONNRESET: "connection reset",
  ETIMEDOUT: "timed out",
  ENOTALLOC: "flow not allocated",
  EIPCPTYPE: "unknown IPCP type",
  EIRMD: "cannot reach the IRMd",
  EIPCP: "no suitable IPCP",
  EIPCPSTATE: "IPCP in wrong state",
  EFLOWDOWN: "flow is down",
  EFLOWPEER: "peer timed out",
  ENAME: "naming error",
  ECRYPT: "encryption error",
  EAUTH: "authentication error",
};

/** The symbolic name of a code (positive or negative), or `E<n>`. */
export function errnoName(code: number): string {
  return NAMES.get(Math.abs(code)) ?? `E${Math.abs(code)}`;
}

/** A short human text for a code. */
export function errnoText(code: number): string {
  const n = NAMES.get(Math.abs(code));
  return (n && TEXT[n]) ?? `error ${Math.abs(code)}`;
}

/**
 * An error of the Ouroboros API with its stable code.
 *
 * @example
 * ```ts
 * import { OuroError, Errno } from "./errors.ts";
 * const e = new OuroError(Errno.ENAME, "Cannot allocate flow: unknown name");
 * console.log(e.name, e.code, e.errno); // ENAME 1007 -1007
 * ```
 */
export class OuroError extends Error {
  /** Positive error code (e.g. 1007 for ENAME). */
  readonly code: number;
  /** An error with `code` (either sign) and an optional message. */
  constructor(code: number, message?: string) {
    const c = Math.abs(code);
    super(message ?? errnoText(c));
    this.code = c;
    this.name = errnoName(c);
  }
  /** The negated code, as the C API returns it. */
  get errno(): number {
    return -this.code;
  }
}

/** Is `e` an {@link OuroError} with the given code? */
export function isErrno(e: unknown, code: number): e is OuroError {
  return e instanceof OuroError && e.code === Math.abs(code);
}

/** Base of all errors raised by wire decoders on hostile input. */
export class DecodeError extends Error {
  /** Short machine-readable reason, used as a counter key. */
  readonly reason: string;
  constructor(reason: string, message?: string) {
    super(message ?? reason);
    this.reason = reason;
    this.name = "DecodeError";
  }
}
