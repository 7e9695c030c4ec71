/**
 * OAP replay window (spec 04 §5 step 2): a server refuses requests whose
 * timestamp is more than 100 ms in its future or more than
 * `OAP_REPLAY_TIMER` (20 s) in its past, and requests whose exact
 * (timestamp, id) pair it has already seen within that window.
 *
 * One window per IRMd, shared by every name it serves.
 * @module
 */

/** Freshness window of OAP requests (OAP_REPLAY_TIMER). */
export const OAP_REPLAY_TIMER_MS = 20_000;
/** How far in the future a request timestamp may lie (clock skew). */
export const OAP_MAX_FUTURE_MS = 100;
/**
 * Most requests remembered at once. When full, new requests are refused
 * (fail closed) until entries age out: 65536 in 20 s is ~3300 flow
 * allocations per second. Not in the reference (which grows unbounded).
 */
export const OAP_REPLAY_MAX_ENTRIES = 65_536;

const NS_PER_MS = 1_000_000n;

/** Why {@link ReplayWindow.check} refused a request. */
export type ReplayVerdict = "ok" | "future" | "stale" | "replayed" | "full";

/** The set of recently seen OAP requests. */
export class ReplayWindow {
  readonly #seen = new Map<string, bigint>();
  readonly #maxEntries: number;

  /**
   * An empty window.
   * @param maxEntries capacity (default {@link OAP_REPLAY_MAX_ENTRIES})
   */
  constructor(maxEntries = OAP_REPLAY_MAX_ENTRIES) {
    this.#maxEntries = maxEntries;
  }

  /** Number of requests remembered. */
  get size(): number {
    return this.#seen.size;
  }

  /** Forget entries older than the window at `nowNs`. */
  prune(nowNs: bigint): void {
    const oldest = nowNs - BigInt(OAP_REPLAY_TIMER_MS) * NS_PER_MS;
    // Insertion order is arrival order; timestamps within it are off by at
    // most the accepted skew, so stopping at the first fresh entry may keep a
    // few stale ones a little longer. That is harmless: a replay of a stale
    // entry fails the age check anyway.
    for (const [k, ts] of this.#seen) {
      if (ts >= oldest) break;
      this.#seen.delete(k);
    }
  }

  /**
   * Check a request and, if it is fresh, remember it.
   *
   * @param id the 16-byte session id
   * @param timestampNs the request's timestamp (ns since the epoch)
   * @param nowNs our wall clock (ns since the epoch)
   * @returns "ok" if accepted (and recorded), else the reason for refusal
   *
   * @example
   * ```ts
   * import { ReplayWindow } from "./replay.ts";
   * const w = new ReplayWindow();
   * const now = 1_700_000_000_000_000_000n, id = new Uint8Array(16);
   * console.log(w.check(id, now, now), w.check(id, now, now)); // ok replayed
   * ```
   */
  check(id: Uint8Array, timestampNs: bigint, nowNs: bigint): ReplayVerdict {
    const deltaNs = nowNs - timestampNs;
    if (deltaNs < -BigInt(OAP_MAX_FUTURE_MS) * NS_PER_MS) return "future";
    if (deltaNs > BigInt(OAP_REPLAY_TIMER_MS) * NS_PER_MS) return "stale";
    this.prune(nowNs);
    let k = timestampNs.toString(16) + ":";
    for (const b of id) k += b.toString(16).padStart(2, "0");
    if (this.#seen.has(k)) return "replayed";
    if (this.#seen.size >= this.#maxEntries) return "full";
    this.#seen.set(k, timestampNs);
    return "ok";
  }
}
