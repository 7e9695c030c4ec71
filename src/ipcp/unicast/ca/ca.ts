/**
 * Congestion avoidance (spec 12 §8): the interface every policy implements
 * and the facade that picks one from the layer's `cong_avoid`. Nobody
 * outside this file branches on the policy.
 *
 * Per-flow state lives in an opaque context created per N+1 flow at both
 * ends; marking (`calcEcn`) happens at every hop, including the source.
 *
 * @example
 * ```ts
 * import { createCa } from "./ca.ts";
 * const ca = createCa(1); // mb-ecn
 * const ctx = ca.ctxCreate();
 * ca.rxUpdate(ctx, 100, 3); // 3: first congestion mark → send a FLOW_UPDATE with ece 3
 * ```
 * @module
 */
import { CongAvoidPolicy } from "../wire/config.ts";
import { Errno, OuroError } from "../../../lib/errors.ts";
import { mbEcn } from "./mb_ecn.ts";
import { nopCa } from "./nop.ts";

/** Per-flow congestion state; its shape belongs to the policy. */
export type CaCtx = Record<string, unknown>;

/** A congestion-avoidance policy. */
export interface CaPolicy {
  /** Policy name for logs and the RIB ("nop", "mb-ecn"). */
  readonly name: string;
  /** Fresh per-flow state. */
  ctxCreate(): CaCtx;
  /**
   * A packet of `len` bytes is about to be sent on the flow at monotonic
   * time `nowNs`. Returns how long to wait before sending it (ns, 0 = none).
   */
  txUpdate(ctx: CaCtx, len: number, nowNs: number): number;
  /**
   * A data packet of `len` bytes with congestion mark `ecn` arrived.
   * Returns the ece to send back in a FLOW_UPDATE, or undefined for none.
   */
  rxUpdate(ctx: CaCtx, len: number, ecn: number): number | undefined;
  /** The peer's FLOW_UPDATE carried `ece`. */
  updateEce(ctx: CaCtx, ece: number): void;
  /** Mark a packet leaving on an N−1 flow with `queued` packets waiting: the new ECN byte. */
  calcEcn(ecn: number, queued: number): number;
  /** Per-flow state for the RIB. */
  stats(ctx: CaCtx): Record<string, number | boolean>;
}

/** The policy for a layer's `cong_avoid` value; throws EINVAL for an unknown one. */
export function createCa(congAvoid: number): CaPolicy {
  switch (congAvoid) {
    case CongAvoidPolicy.NONE:
      return nopCa;
    case CongAvoidPolicy.MB_ECN:
      return mbEcn;
    default:
      throw new OuroError(
        Errno.EINVAL,
        `Cannot use congestion avoidance ${congAvoid}: unknown policy`,
      );
  }
}
