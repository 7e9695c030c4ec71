/**
 * Address authority (spec 12 §2): how a unicast IPCP gets its address.
 * Only the flat random policy exists: a uniformly random non-zero 32-bit
 * address, drawn at bootstrap or enrollment, no collision detection.
 *
 * @example
 * ```ts
 * import { createAddrAuth } from "./addr.ts";
 * const a = createAddrAuth(0, 4).address(); // 1 … 2^32−1
 * ```
 * @module
 */
import { Errno, OuroError } from "../../lib/errors.ts";
import { AddrAuthPolicy } from "./wire/config.ts";

/** Address size the flat policy requires (bytes). */
export const FLAT_ADDR_SIZE = 4;

/** An address authority policy. */
export interface AddrAuth {
  /** Policy name ("flat"). */
  readonly name: string;
  /** This IPCP's address (non-zero). */
  address(): number;
}

function randomNonZeroU32(): number {
  const a = new Uint32Array(1);
  do crypto.getRandomValues(a); while (a[0] === 0);
  return a[0]!;
}

/** Flat random addresses; `random` overrides the source (tests). */
export function flatRandom(random: () => number = randomNonZeroU32): AddrAuth {
  let addr = 0;
  return {
    name: "flat",
    address() {
      if (addr === 0) {
        addr = random() >>> 0;
        if (addr === 0) throw new OuroError(Errno.EINVAL, "Cannot pick an address: 0 is invalid");
      }
      return addr;
    },
  };
}

/** The policy for `addr_auth_type`; checks the address size it needs. */
export function createAddrAuth(type: number, addrSize: number, random?: () => number): AddrAuth {
  if (type !== AddrAuthPolicy.FLAT_RANDOM) {
    throw new OuroError(Errno.EINVAL, `Cannot use address authority ${type}: unknown policy`);
  }
  if (addrSize !== FLAT_ADDR_SIZE) {
    throw new OuroError(
      Errno.EINVAL,
      `Cannot use flat addresses of ${addrSize} bytes: they must be ${FLAT_ADDR_SIZE}`,
    );
  }
  return flatRandom(random);
}
