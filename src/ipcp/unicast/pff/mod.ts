/**
 * Packet forwarding function of the unicast layer (spec 12 §7): the
 * {@link Pff} interface and {@link createPff}. Re-exports only.
 * @module
 */
export * from "./pff.ts";
export * from "./factory.ts";
export { Pft, PFT_SIZE } from "./pft.ts";
