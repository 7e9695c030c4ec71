/**
 * The routing component of the unicast IPCP (spec 14 §1): link-state
 * routing (routing/link_state.ts) fed by connection events, LSUs read from
 * and flooded on the "Management" N−1 flows, and a timer that runs the
 * periodic update and recalculation at the layer's `t_update`/`t_recalc`.
 * Links (adjacencies) are the DT connections; a neighbour silent on all its
 * N−1 flows for longer than `t_timeo` has its link taken down until it is
 * heard again (routing/liveness.ts), each change logged on one line.
 *
 * @example
 * ```ts
 * import { Routing } from "./mgmt.ts";
 * const r = new Routing({ addr: 7, ls: { pol: 0, tRecalcS: 4, tUpdateS: 15, tTimeoS: 60 } });
 * r.start();
 * r.pff(0).nextHop(9); // undefined until routes exist
 * r.stop();
 * ```
 * @module
 */
import { type Logger, logger } from "../../lib/log.ts";
import type { N1Flow } from "../../irmd/n1.ts";
import type { Pff } from "./pff/pff.ts";
import { LinkState } from "./routing/link_state.ts";
import type { LivenessEvent } from "./routing/liveness.ts";
import type { LsConfig } from "./wire/config.ts";
import { decodeLsu, encodeLsu } from "./wire/lsu.ts";

/** Longest the routing timer sleeps (it also wakes for earlier deadlines). */
export const ROUTING_MAX_SLEEP_MS = 1000;

/** Options of {@link Routing}. */
export interface RoutingOptions {
  /** Own address. */
  addr: number;
  /** Link-state parameters of the layer. */
  ls: LsConfig;
  log?: Logger;
  /** Monotonic clock (ms), default `performance.now`. */
  clock?: () => number;
  /** The name of neighbour `addr` if known (for log lines). */
  nameOf?: (addr: number) => string | undefined;
}

/** Counters of the routing component. */
export interface RoutingCounters {
  /** LSUs received. */
  lsuRx: number;
  /** LSUs sent (originated and flooded). */
  lsuTx: number;
  /** SDUs on MGMT flows that were not LSUs, or named addresses out of range. */
  badLsus: number;
  /** Neighbours declared down after a silence of `t_timeo`. */
  linkDowns: number;
  /** Neighbours heard again after being declared down. */
  linkUps: number;
}

/** Link-state routing on MGMT flows. */
export class Routing {
  readonly ls: LinkState;
  readonly counters: RoutingCounters = {
    lsuRx: 0,
    lsuTx: 0,
    badLsus: 0,
    linkDowns: 0,
    linkUps: 0,
  };
  readonly #mgmt = new Map<number, N1Flow>();
  readonly #log: Logger;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running = false;

  /** Empty LSDB; nothing runs before {@link start}. */
  constructor(readonly opts: RoutingOptions) {
    this.#log = opts.log ?? logger("routing");
    this.ls = new LinkState({
      self: opts.addr,
      pol: opts.ls.pol,
      tUpdateS: opts.ls.tUpdateS,
      tTimeoS: opts.ls.tTimeoS,
      tRecalcS: opts.ls.tRecalcS,
      clock: opts.clock,
      log: this.#log,
      onLiveness: (ev) => this.#onLiveness(ev),
      send: (fd, lsu) => {
        const f = this.#mgmt.get(fd);
        if (!f) return;
        this.counters.lsuTx++;
        try {
          f.write(encodeLsu({ dAddr: BigInt(lsu.dst), sAddr: BigInt(lsu.src), seqno: lsu.seqno }))
            ?.catch(() => {});
        } catch { /* flow gone: it will be removed */ }
      },
    });
  }

  #onLiveness(ev: LivenessEvent): void {
    const name = this.opts.nameOf?.(ev.addr);
    const who = `Neighbour ${ev.addr}${name ? ` (${name})` : ""}`;
    const s = (ev.silentMs / 1000).toFixed(1);
    if (ev.up) {
      this.counters.linkUps++;
      this.#log.info(`${who} back after ${s} s: link up.`);
    } else {
      this.counters.linkDowns++;
      this.#log.warn(`${who} silent for ${s} s: link down.`);
    }
  }

  /** A packet came from neighbour `addr` on one of its N−1 flows (packet path). */
  heard(addr: number): void {
    this.ls.heard(addr);
  }

  /** The PFF of cube `qc`. */
  pff(qc: number): Pff {
    return this.ls.pff(qc);
  }

  /** Run the periodic pass now (the reference runs it at start) and keep running it. */
  start(): void {
    this.#running = true;
    this.#run();
  }

  #run(): void {
    if (!this.#running) return;
    this.ls.tick();
    const wait = Math.max(0, Math.min(ROUTING_MAX_SLEEP_MS, this.ls.nextTickAtMs() - this.#now()));
    this.#timer = setTimeout(() => this.#run(), wait);
  }

  #now(): number {
    return this.opts.clock ? this.opts.clock() : performance.now();
  }

  /** DT_CONN_ADD. */
  dtConnAdd(addr: number, fd: number): void {
    this.ls.dtConnAdd(addr, fd);
  }

  /** DT_CONN_DEL. */
  dtConnDel(addr: number, fd: number): void {
    this.ls.dtConnDel(addr, fd);
  }

  /**
   * MGMT_CONN_ADD: send `flow` the whole LSDB; returns the handler for its
   * packets (the caller installs it as `flow.onPacket`).
   */
  mgmtConnAdd(addr: number, flow: N1Flow): (sdu: Uint8Array) => void {
    const fd = flow.id;
    this.#mgmt.set(fd, flow);
    this.ls.mgmtConnAdd(addr, fd);
    return (sdu) => {
      this.ls.heard(addr);
      this.#onLsu(fd, sdu);
    };
  }

  /** MGMT_CONN_DEL. */
  mgmtConnDel(addr: number, fd: number): void {
    if (!this.#mgmt.delete(fd)) return;
    this.ls.mgmtConnDel(addr, fd);
  }

  #onLsu(fd: number, sdu: Uint8Array): void {
    let m;
    try {
      m = decodeLsu(sdu);
    } catch {
      this.counters.badLsus++;
      return;
    }
    if (m.sAddr > 0xffffffffn || m.dAddr > 0xffffffffn) {
      this.counters.badLsus++;
      return;
    }
    this.counters.lsuRx++;
    this.ls.receiveLsu(fd, { src: Number(m.sAddr), dst: Number(m.dAddr), seqno: m.seqno });
  }

  /** Stop the timer. */
  stop(): void {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#mgmt.clear();
  }
}
