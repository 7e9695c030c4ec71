/**
 * The link-state routing component (spec 14 §1): the LSDB, the graph
 * algorithm chosen by the layer's policy, and one PFF per QoS cube. Driven
 * entirely from outside: connection events and LSUs as method calls, time
 * through `tick(now)`, LSUs out through the injected `send`. The owner runs a
 * timer that calls `tick()` at `nextTickAtMs()` (or simply every second).
 *
 * @example
 * ```ts
 * import { LinkState } from "./link_state.ts";
 * const ls = new LinkState({ self: 1, pol: 0, send: () => {} });
 * ls.dtConnAdd(2, 10);
 * ls.receiveLsu(11, { src: 2, dst: 1, seqno: 0n }); // both ends announced
 * ls.pff(0).nextHop(2); // 10
 * ```
 * @module
 */
import type { Logger } from "../../../lib/log.ts";
import { createPff } from "../pff/factory.ts";
import type { Fd, FdRoute, Pff } from "../pff/pff.ts";
import { LS_QOS_CUBES, LS_T_RECALC_S, LS_T_TIMEO_S, LS_T_UPDATE_S } from "./constants.ts";
import type { Addr, RoutingTable } from "./graph.ts";
import { type LinkUpdate, Lsdb } from "./lsdb.ts";
import { lsPolicy, type LsPolicyInfo } from "./policy.ts";

/** Options of {@link LinkState}. */
export interface LinkStateOptions {
  /** Own address. */
  self: Addr;
  /** `ls_config_msg.pol` (0 simple, 1 LFA, 2 ECMP). */
  pol: number;
  /** LSDB update period (s), default 15. */
  tUpdateS?: number;
  /** Link expiry (s), default 60. */
  tTimeoS?: number;
  /** Recalculation period (s), default 4. */
  tRecalcS?: number;
  /** Number of PFFs (QoS cubes), default 3. */
  cubes?: number;
  /** Send one LSU on a MGMT fd (encode with `encodeLsu`); must not throw. */
  send(fd: Fd, lsu: LinkUpdate): void;
  /** Monotonic clock in ms, default `performance.now`. */
  clock?: () => number;
  /** Logger (component "routing"). */
  log?: Logger;
}

/** Link-state routing with its forwarding tables. */
export class LinkState {
  /** The database (read-only use outside: RIB, tests). */
  readonly lsdb: Lsdb;
  /** The selected policy. */
  readonly policy: LsPolicyInfo;
  readonly #pffs: Pff[];
  readonly #clock: () => number;
  readonly #tUpdateMs: number;
  readonly #tRecalcMs: number;
  readonly #log?: Logger;
  #modified = false;
  #nextUpdateMs = -Infinity;
  #nextRecalcMs: number;
  #table: RoutingTable = [];

  /** Empty LSDB and PFFs; throws `EINVAL` for an unknown policy. */
  constructor(opts: LinkStateOptions) {
    this.policy = lsPolicy(opts.pol);
    this.#clock = opts.clock ?? (() => performance.now());
    this.#tUpdateMs = (opts.tUpdateS ?? LS_T_UPDATE_S) * 1000;
    this.#tRecalcMs = (opts.tRecalcS ?? LS_T_RECALC_S) * 1000;
    this.#nextRecalcMs = this.#clock() + this.#tRecalcMs;
    this.#log = opts.log;
    this.#pffs = Array.from(
      { length: opts.cubes ?? LS_QOS_CUBES },
      () => createPff(this.policy.pff),
    );
    this.lsdb = new Lsdb({
      self: opts.self,
      tTimeoMs: (opts.tTimeoS ?? LS_T_TIMEO_S) * 1000,
      send: opts.send,
      clock: this.#clock,
      onChange: (urgent) => {
        this.#modified = true;
        if (urgent) this.recalc();
      },
    });
  }

  /** The PFF of QoS cube `qc`. */
  pff(qc: number): Pff {
    const p = this.#pffs[qc];
    if (!p) throw new RangeError(`Cannot get pff: no QoS cube ${qc}`);
    return p;
  }

  /** The last computed routing table (addresses), for the RIB and tests. */
  table(): RoutingTable {
    return this.#table.map((e) => ({ dst: e.dst, nhops: [...e.nhops] }));
  }

  /** DT_CONN_ADD: a data-transfer adjacency to `addr` on `fd`. */
  dtConnAdd(addr: Addr, fd: Fd): void {
    this.#log?.debug(`dt conn add ${addr} fd ${fd}`);
    this.lsdb.dtConnAdd(addr, fd);
  }

  /** DT_CONN_DEL: the adjacency is gone (PFFs see the flow down first). */
  dtConnDel(addr: Addr, fd: Fd): void {
    this.#log?.debug(`dt conn del ${addr} fd ${fd}`);
    for (const p of this.#pffs) p.flowDown(fd);
    this.lsdb.dtConnDel(addr, fd);
  }

  /** DT_CONN_UP: the N−1 flow is usable again (alternate PFF switches back). */
  dtConnUp(fd: Fd): void {
    for (const p of this.#pffs) p.flowUp(fd);
  }

  /** DT_CONN_DOWN: the N−1 flow is down (alternate PFF switches to an alternate). */
  dtConnDown(fd: Fd): void {
    for (const p of this.#pffs) p.flowDown(fd);
  }

  /** MGMT_CONN_ADD: a management (LSP) connection to `addr` on `fd`. */
  mgmtConnAdd(addr: Addr, fd: Fd): void {
    this.lsdb.mgmtConnAdd(addr, fd);
  }

  /** MGMT_CONN_DEL. */
  mgmtConnDel(addr: Addr, fd: Fd): void {
    this.lsdb.mgmtConnDel(addr, fd);
  }

  /** An LSU arrived on MGMT fd `inFd`; `true` if it was new and got flooded. */
  receiveLsu(inFd: Fd, lsu: LinkUpdate): boolean {
    return this.lsdb.receive(inFd, lsu);
  }

  /**
   * Run whatever is due at `nowMs`: the LSDB pass (at the first tick, then
   * every t_update) and, if the LSDB changed, the recalculation (every t_recalc).
   */
  tick(nowMs = this.#clock()): void {
    if (nowMs >= this.#nextUpdateMs) {
      this.lsdb.update(nowMs);
      this.#nextUpdateMs = nextAfter(this.#nextUpdateMs, this.#tUpdateMs, nowMs);
    }
    if (nowMs >= this.#nextRecalcMs) {
      if (this.#modified) this.recalc();
      this.#nextRecalcMs = nextAfter(this.#nextRecalcMs, this.#tRecalcMs, nowMs);
    }
  }

  /** When `tick` next has something to do (monotonic ms). */
  nextTickAtMs(): number {
    return Math.min(this.#nextUpdateMs, this.#nextRecalcMs);
  }

  /**
   * Recompute the routing table and rebuild every PFF: next-hop addresses map
   * to the fd of the DT neighbour with that address; unknown ones are skipped.
   * All cubes get the same table (weights ignore QoS, as in the reference).
   */
  recalc(): void {
    this.#modified = false;
    this.#table = this.policy.table(this.lsdb.graph, this.lsdb.self);
    const routes: FdRoute[] = [];
    for (const e of this.#table) {
      const fds = e.nhops.map((a) => this.lsdb.dtFd(a)).filter((f): f is Fd => f !== undefined);
      if (fds.length > 0) routes.push({ dst: e.dst, fds });
    }
    for (const p of this.#pffs) p.update(routes);
    this.#log?.debug(`recalculated ${routes.length} routes`);
  }
}

function nextAfter(prev: number, period: number, now: number): number {
  const next = prev + period;
  return next > now ? next : now + period;
}
