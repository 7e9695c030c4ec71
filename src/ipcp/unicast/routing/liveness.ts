/**
 * Neighbour liveness from the routing timers (a local addition: the
 * reference trusts its N−1 flows to report their own death, which a udp4
 * flow never does). Every packet received on a neighbour's DT or MGMT flow
 * counts as life; the link-state component sends every MGMT neighbour an LSU
 * at least every `t_update`, so a neighbour silent for longer than
 * `t_timeo` is declared DOWN, and the first packet after that brings it UP.
 *
 * Pure logic: `heard` only bumps a counter (it sits on the packet path), and
 * `check(nowMs)` — run by the owner every {@link Liveness.checkPeriodMs} —
 * turns counters into timestamps and returns the transitions.
 *
 * @example
 * ```ts
 * import { Liveness } from "./liveness.ts";
 * const lv = new Liveness({ timeoutMs: 3000 });
 * lv.watch(7, 0);
 * lv.check(3500); // [{ addr: 7, up: false, silentMs: 3500 }]
 * lv.heard(7);
 * lv.check(3600); // [{ addr: 7, up: true, silentMs: 3500 }]
 * ```
 * @module
 */
import type { Addr } from "./graph.ts";

/** Shortest pause between two liveness checks (ms). */
export const LIVENESS_CHECK_MIN_MS = 100;
/** Longest pause between two liveness checks (ms). */
export const LIVENESS_CHECK_MAX_MS = 1000;
/** Checks per timeout: the detection delay exceeds the timeout by at most 1/this. */
export const LIVENESS_CHECKS_PER_TIMEOUT = 10;

/**
 * The silence after which a neighbour is down: `t_timeo`, but never less than
 * two update periods, so that one lost LSU on an idle link is no outage.
 */
export function livenessTimeoutMs(tTimeoS: number, tUpdateS: number): number {
  return Math.max(tTimeoS, 2 * tUpdateS) * 1000;
}

/** A neighbour changed state. */
export interface LivenessEvent {
  /** The neighbour's address. */
  addr: Addr;
  /** `false`: silent too long (DOWN); `true`: heard again (UP). */
  up: boolean;
  /** How long it had been silent (ms, at check resolution). */
  silentMs: number;
}

/** What is known about one watched neighbour. */
export interface NeighbourLiveness {
  /** The neighbour's address. */
  addr: Addr;
  /** Is it alive? */
  up: boolean;
  /** Packets heard from it. */
  rxPkts: number;
  /** Silence at the last check (ms). */
  silentMs: number;
  /** Times it went DOWN. */
  downs: number;
  /** Times it came back UP. */
  ups: number;
}

/** Options of {@link Liveness}. */
export interface LivenessOptions {
  /** Silence after which a neighbour is DOWN (ms, > 0). */
  timeoutMs: number;
}

interface Entry {
  rx: number;
  rxSeen: number;
  lastMs: number;
  silentMs: number;
  up: boolean;
  downs: number;
  ups: number;
}

/** Liveness of the watched neighbours. */
export class Liveness {
  /** Silence after which a neighbour is DOWN (ms). */
  readonly timeoutMs: number;
  /** How often `check` should run (ms). */
  readonly checkPeriodMs: number;
  readonly #n = new Map<Addr, Entry>();

  /** Nothing watched yet. */
  constructor(opts: LivenessOptions) {
    if (!(opts.timeoutMs > 0)) {
      throw new RangeError(`Cannot watch neighbours: timeout ${opts.timeoutMs} ms is not > 0`);
    }
    this.timeoutMs = opts.timeoutMs;
    this.checkPeriodMs = Math.min(
      LIVENESS_CHECK_MAX_MS,
      Math.max(LIVENESS_CHECK_MIN_MS, Math.floor(opts.timeoutMs / LIVENESS_CHECKS_PER_TIMEOUT)),
    );
  }

  /** Start watching `addr` (alive as of `nowMs`); a no-op if already watched. */
  watch(addr: Addr, nowMs: number): void {
    if (this.#n.has(addr)) return;
    this.#n.set(addr, { rx: 0, rxSeen: 0, lastMs: nowMs, silentMs: 0, up: true, downs: 0, ups: 0 });
  }

  /** Stop watching `addr`; returns whether it was DOWN. */
  unwatch(addr: Addr): boolean {
    const e = this.#n.get(addr);
    this.#n.delete(addr);
    return e !== undefined && !e.up;
  }

  /** Is `addr` watched? */
  watched(addr: Addr): boolean {
    return this.#n.has(addr);
  }

  /** Is `addr` alive? Unwatched neighbours are. */
  isUp(addr: Addr): boolean {
    return this.#n.get(addr)?.up ?? true;
  }

  /** A packet came from `addr` (packet path: only a counter). */
  heard(addr: Addr): void {
    const e = this.#n.get(addr);
    if (e) e.rx++;
  }

  /** Stamp what was heard since the last check and return the state changes. */
  check(nowMs: number): LivenessEvent[] {
    const out: LivenessEvent[] = [];
    for (const [addr, e] of this.#n) {
      if (e.rx !== e.rxSeen) {
        e.rxSeen = e.rx;
        if (!e.up) {
          e.up = true;
          e.ups++;
          out.push({ addr, up: true, silentMs: Math.max(0, nowMs - e.lastMs) });
        }
        e.lastMs = nowMs;
        e.silentMs = 0;
        continue;
      }
      e.silentMs = Math.max(0, nowMs - e.lastMs);
      if (e.up && e.silentMs > this.timeoutMs) {
        e.up = false;
        e.downs++;
        out.push({ addr, up: false, silentMs: e.silentMs });
      }
    }
    return out;
  }

  /** Every watched neighbour, by ascending address. */
  neighbours(): NeighbourLiveness[] {
    return [...this.#n].sort(([a], [b]) => a - b).map(([addr, e]) => ({
      addr,
      up: e.up,
      rxPkts: e.rx,
      silentMs: e.silentMs,
      downs: e.downs,
      ups: e.ups,
    }));
  }
}
