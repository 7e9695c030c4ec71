/**
 * The packet forwarding function interface (spec 12 §7): one instance per QoS
 * cube, rebuilt wholesale by its routing instance and queried by DT for every
 * packet. Policies: `simple` (simple.ts), `alternate` (alternate.ts),
 * `multipath` (multipath.ts); `createPff` in factory.ts picks one.
 * @module
 */
import type { Addr } from "../routing/graph.ts";
import type { Fd } from "./pft.ts";

export type { Fd } from "./pft.ts";

/** PFF policy names. */
export type PffPolicy = "simple" | "alternate" | "multipath";

/** One destination with its next-hop fds, primary first. */
export interface FdRoute {
  /** Destination address. */
  dst: Addr;
  /** Next-hop N−1 fds (non-empty), primary first. */
  fds: readonly Fd[];
}

/** A packet forwarding function. */
export interface Pff {
  /** Which policy this is (for the RIB and logs). */
  readonly policy: PffPolicy;
  /**
   * Replace the whole table (the routing instance's "lock, flush, add each,
   * unlock"). Routes with no fds are skipped; for a duplicate `dst` the first wins.
   */
  update(table: Iterable<FdRoute>): void;
  /** Remove every entry (and, for `alternate`, forget down flows). */
  flush(): void;
  /**
   * The fd to send a packet for `dst` on, or `undefined` when there is no route.
   * `multipath` rotates its next hops on every call (per-packet round robin).
   */
  nextHop(dst: Addr): Fd | undefined;
  /** The current next hops for `dst`, first = what `nextHop` returns next (no side effects). */
  nextHops(dst: Addr): readonly Fd[];
  /** An N−1 flow went down (DT_CONN_DOWN / DT_CONN_DEL); only `alternate` reacts. */
  flowDown(fd: Fd): void;
  /** An N−1 flow came back up (DT_CONN_UP); only `alternate` reacts. */
  flowUp(fd: Fd): void;
  /** Current table (copies), for the RIB and tests. */
  entries(): FdRoute[];
}
