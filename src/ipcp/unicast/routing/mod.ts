/**
 * Link-state routing of the unicast layer (spec 14 §1–2): the graph and its
 * algorithms, the LSDB, and the {@link LinkState} component that owns one PFF
 * per QoS cube. Re-exports only.
 * @module
 */
export * from "./constants.ts";
export * from "./graph.ts";
export * from "./lsdb.ts";
export * from "./link_state.ts";
export * from "./policy.ts";
export { simpleTable } from "./simple.ts";
export { lfaTable } from "./lfa.ts";
export { ecmpTable } from "./ecmp.ts";
export * from "./liveness.ts";
