/**
 * The link-state routing component (spec 14 §1): the LSDB, the graph
 * algorithm chosen by the layer's policy, and one PFF per QoS cube. Driven
 * entirely from outside: connection events and LSUs as method calls, time
 * through `tick(now)`, LSUs out through the injected `send`. The owner runs a
 * timer that calls `tick()` at `nextTickAtMs()` (or simply every second).
 *
 * Neighbour liveness (routing/liveness.ts): the owner reports every packet
 * from a neighbour with `heard(addr)`; a MGMT neighbour silent for longer than
 * `t_timeo` has its DT link taken down (PFF alternates switch at once, the
 * own link leaves the LSDB, tables are recalculated), and it comes back up
 * at the first packet heard again.
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
import { Liveness, type LivenessEvent, livenessTimeoutMs } from "./liveness.ts";
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
  /** A neighbour went silent or was heard again (after the tables were updated). */
  onLiveness?(ev: LivenessEvent): void;
}

/** Link-state routing with its forwarding tables. */
export class LinkState {
  /** The database (read-only use outside: RIB, tests). */
  readonly lsdb: Lsdb;
  /** The selected policy. */
  readonly policy: LsPolicyInfo;
  /** Liveness of the MGMT neighbours. */
  readonly liveness: Liveness;
  readonly #onLiveness?: (ev: LivenessEvent) => void;
  #nextCheckMs: number;
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
    this.liveness = new Liveness({
      timeoutMs: livenessTimeoutMs(opts.tTimeoS ?? LS_T_TIMEO_S, opts.tUpdateS ?? LS_T_UPDATE_S),
    });
    this.#nextCheckMs = this.#clock() + this.liveness.checkPeriodMs;
    this.#onLiveness = opts.onLiveness;
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
    this.liveness.heard(addr); // its CEP just came in
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

  /** MGMT_CONN_ADD: a management (LSP) connection to `addr` on `fd`; watch its liveness. */
  mgmtConnAdd(addr: Addr, fd: Fd): void {
    this.lsdb.mgmtConnAdd(addr, fd);
    this.liveness.watch(addr, this.#clock());
  }

  /**
   * MGMT_CONN_DEL. With the last MGMT connection to `addr` gone its liveness
   * is no longer known: a DT link taken down is trusted again.
   */
  mgmtConnDel(addr: Addr, fd: Fd): void {
    this.lsdb.mgmtConnDel(addr, fd);
    if (this.lsdb.neighbours().some((n) => n.type === "mgmt" && n.addr === addr)) return;
    if (this.liveness.unwatch(addr)) this.#up(addr);
  }

  /** A packet arrived from neighbour `addr` (any N−1 flow of it): it is alive. */
  heard(addr: Addr): void {
    this.liveness.heard(addr);
  }

  /** Run the liveness check now; returns the transitions (already applied). */
  checkLiveness(nowMs = this.#clock()): LivenessEvent[] {
    const evs = this.liveness.check(nowMs);
    for (const ev of evs) {
      if (ev.up) this.#up(ev.addr);
      else this.#down(ev.addr);
      this.#onLiveness?.(ev);
    }
    return evs;
  }

  #down(addr: Addr): void {
    const fd = this.lsdb.dtFdAny(addr);
    if (fd !== undefined) this.dtConnDown(fd);
    if (this.lsdb.linkDown(addr)) this.recalc();
  }

  #up(addr: Addr): void {
    const fd = this.lsdb.dtFdAny(addr);
    if (fd !== undefined) this.dtConnUp(fd);
    this.lsdb.linkUp(addr);
  }

  /** An LSU arrived on MGMT fd `inFd`; `true` if it was new and got flooded. */
  receiveLsu(inFd: Fd, lsu: LinkUpdate): boolean {
    return this.lsdb.receive(inFd, lsu);
  }

  /**
   * Run whatever is due at `nowMs`: the LSDB pass (at the first tick, then
   * every t_update), the liveness check (every `liveness.checkPeriodMs`) and,
   * if the LSDB changed, the recalculation (every t_recalc).
   */
  tick(nowMs = this.#clock()): void {
    if (nowMs >= this.#nextCheckMs) {
      this.checkLiveness(nowMs);
      this.#nextCheckMs = nextAfter(this.#nextCheckMs, this.liveness.checkPeriodMs, nowMs);
    }
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
    return Math.min(this.#nextUpdateMs, this.#nextRecalcMs, this.#nextCheckMs);
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
