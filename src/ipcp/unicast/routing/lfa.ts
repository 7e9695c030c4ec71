/**
 * LFA routing algorithm (spec 14 §2): the SIMPLE table plus loop-free
 * alternates. For destination v and neighbour n ≠ v of the source s, n is an
 * alternate when `dist_n(v) < dist_s(n) + dist_s(v)`. Used by link-state
 * policy 1 with the `alternate` PFF.
 *
 * Two local deviations, neither visible to peers: only neighbours over usable
 * (both-ends-announced) links are considered — the reference also tries
 * half-announced ones, whose unreachable distance then overflows a C int —
 * and a next hop is never listed twice (the reference lets the primary reappear
 * as an alternate, which the alternate PFF skips anyway since it is down).
 * @module
 */
import type { Addr, Graph, RoutingTable } from "./graph.ts";
import { simpleTable } from "./simple.ts";

/** Routing table from `src`: primary next hop first, then alternates in neighbour order. */
export function lfaTable(graph: Graph, src: Addr): RoutingTable {
  const table = simpleTable(graph, src);
  if (table.length === 0) return table;
  const own = graph.shortestPaths(src);
  const nbrs = graph.usableNeighbours(src).map((n) => ({ n, sp: graph.shortestPaths(n) }));
  for (const e of table) {
    const viaSrc = own.distance(e.dst);
    for (const { n, sp } of nbrs) {
      if (n === e.dst || e.nhops.includes(n)) continue;
      if (sp.distance(e.dst) < own.distance(n) + viaSrc) e.nhops.push(n);
    }
  }
  return table;
}
