/**
 * The one place that maps the layer's link-state policy (`ls_config_msg.pol`,
 * spec 14 §1.1) to a graph algorithm and a PFF policy:
 * SIMPLE → simple + simple, LFA → lfa + alternate, ECMP → ecmp + multipath.
 *
 * @example
 * ```ts
 * import { lsPolicy } from "./policy.ts";
 * lsPolicy(2).pff; // "multipath"
 * ```
 * @module
 */
import { Errno, OuroError } from "../../../lib/errors.ts";
import type { PffPolicy } from "../pff/pff.ts";
import { LsPolicy } from "../wire/config.ts";
import { ecmpTable } from "./ecmp.ts";
import type { Addr, Graph, RoutingTable } from "./graph.ts";
import { lfaTable } from "./lfa.ts";
import { simpleTable } from "./simple.ts";

/** A graph algorithm: routing table of `graph` as seen from `src`. */
export type RoutingAlgorithm = (graph: Graph, src: Addr) => RoutingTable;

/** What a link-state policy selects. */
export interface LsPolicyInfo {
  /** Short name for logs and the RIB. */
  name: "simple" | "lfa" | "ecmp";
  /** The graph algorithm. */
  table: RoutingAlgorithm;
  /** The matching PFF policy. */
  pff: PffPolicy;
}

const POLICIES: ReadonlyMap<number, LsPolicyInfo> = new Map([
  [LsPolicy.SIMPLE, { name: "simple", table: simpleTable, pff: "simple" }],
  [LsPolicy.LFA, { name: "lfa", table: lfaTable, pff: "alternate" }],
  [LsPolicy.ECMP, { name: "ecmp", table: ecmpTable, pff: "multipath" }],
]);

/** Look up a link-state policy value; unknown values are `EINVAL`. */
export function lsPolicy(pol: number): LsPolicyInfo {
  const p = POLICIES.get(pol);
  if (!p) {
    throw new OuroError(Errno.EINVAL, `Cannot configure routing: unknown link-state policy ${pol}`);
  }
  return p;
}
