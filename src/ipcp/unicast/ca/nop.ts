/**
 * The "nop" congestion-avoidance policy (`CA_NONE`, spec 12 §8.1): no
 * marking, no window, never an update.
 * @module
 */
import type { CaPolicy } from "./ca.ts";

/** No congestion avoidance. */
export const nopCa: CaPolicy = Object.freeze({
  name: "nop",
  ctxCreate: () => ({}),
  txUpdate: () => 0,
  rxUpdate: () => undefined,
  updateEce: () => {},
  calcEcn: (ecn: number) => ecn,
  stats: () => ({}),
});
