/**
 * The DHT directory of the unicast layer (spec 13): ids, the k-bucket table,
 * the value store, iterative lookups and the {@link DhtNode} that ties them to
 * the protocol. Re-exports only.
 * @module
 */
export * from "./constants.ts";
export * from "./id.ts";
export * from "./buckets.ts";
export * from "./store.ts";
export * from "./lookup.ts";
export * from "./node.ts";
