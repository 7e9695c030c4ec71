/**
 * IPCP state checks shared by the IPCP types (spec 10 §1.3): each refusal
 * is an EIPCPSTATE error that says what to do.
 * @module
 */
import { Errno, OuroError } from "../../lib/errors.ts";
import type { IpcpStateName } from "../types.ts";

/** Throw unless the IPCP is still in BOOT (bootstrap and enroll happen once). */
export function requireBoot(ipcp: { name: string; state: IpcpStateName }, what: string): void {
  if (ipcp.state !== "BOOT") {
    throw new OuroError(
      Errno.EIPCPSTATE,
      `Cannot ${what} ${ipcp.name}: it is ${ipcp.state}, not BOOT`,
    );
  }
}

/** Throw unless the IPCP is OPERATIONAL with its running part `x`; returns `x`. */
export function requireRunning<T>(
  ipcp: { name: string; state: IpcpStateName },
  x: T | undefined,
  what: string,
): T {
  if (x === undefined || ipcp.state !== "OPERATIONAL") {
    throw new OuroError(
      Errno.EIPCPSTATE,
      `Cannot ${what}: ${ipcp.name} is not operational (bootstrap or enroll it first)`,
    );
  }
  return x;
}
