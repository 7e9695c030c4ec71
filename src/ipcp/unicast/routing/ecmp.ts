/**
 * ECMP routing algorithm (spec 14 §2): every neighbour n of the source with
 * `dist_n(i) + 1 == dist(i)` is a next hop for i, in neighbour order (most
 * recently added link first). Used by link-state policy 2 with the
 * `multipath` PFF. Only neighbours over usable (both-ends-announced) links
 * count, and unreachable distances never match (the reference's C int
 * overflow at INT_MAX is not reproduced).
 * @module
 */
import type { Addr, Graph, RoutingTable } from "./graph.ts";

/** Routing table from `src`: all equal-cost next hops per reachable destination. */
export function ecmpTable(graph: Graph, src: Addr): RoutingTable {
  if (graph.size < 2) return [];
  const own = graph.shortestPaths(src);
  const nbrs = graph.usableNeighbours(src).map((n) => graph.shortestPaths(n));
  const table: RoutingTable = [];
  for (const dst of own.reachable()) {
    const d = own.distance(dst);
    const nhops = nbrs.filter((sp) => sp.distance(dst) + 1 === d).map((sp) => sp.src);
    if (nhops.length > 0) table.push({ dst, nhops });
  }
  return table;
}
