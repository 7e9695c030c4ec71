/**
 * SIMPLE routing algorithm (spec 14 §2): one next hop per reachable
 * destination, from a single Dijkstra run. Used by link-state policy 0 with
 * the `simple` PFF.
 * @module
 */
import type { Addr, Graph, RoutingTable } from "./graph.ts";

/** Routing table from `src`: `{dst, [nhop]}` for every reachable vertex ≠ src. */
export function simpleTable(graph: Graph, src: Addr): RoutingTable {
  if (graph.size < 2) return [];
  const sp = graph.shortestPaths(src);
  return sp.reachable().map((dst) => ({ dst, nhops: [sp.nextHop(dst)!] }));
}
