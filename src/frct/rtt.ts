/**
 * RTT estimator and RTO (spec 03 §6): Jacobson/Karels with the Linux
 * variant for decreasing deviation. Pure functions over {@link RttState};
 * all values in nanoseconds.
 * @module
 */
import {
  MDEV_INIT_NS,
  MDEV_MIN_NS,
  MDEV_MUL,
  RTO_DIV,
  RTO_INIT_NS,
  RTO_MIN_NS,
  SRTT_MIN_NS,
} from "./constants.ts";

/** Estimator state, ns. `srttNs == 0` means "no sample yet". */
export interface RttState {
  /** Smoothed RTT, ns. */
  readonly srttNs: number;
  /** Mean deviation, ns. */
  readonly mdevNs: number;
  /** Retransmission timeout, ns. */
  readonly rtoNs: number;
}

/** Arithmetic right shift of a (possibly negative) integer, like C `>>` on int64. */
function sar(v: number, n: number): number {
  return Math.floor(v / 2 ** n);
}

/** The state of a fresh flow: srtt 0, mdev 10 ms, rto 1 s. */
export function rttInit(): RttState {
  return { srttNs: 0, mdevNs: MDEV_INIT_NS, rtoNs: RTO_INIT_NS };
}

/**
 * Fold one RTT measurement `mNs` (ns, ≥ 0) into the state.
 *
 * @example
 * ```ts
 * import { rttInit, rttSample } from "./rtt.ts";
 * const s = rttSample(rttInit(), 800_000); // 0.8 ms
 * console.log(s.srttNs, s.mdevNs, s.rtoNs); // 800000 400000 2400000
 * ```
 */
export function rttSample(s: RttState, mNs: number): RttState {
  const m = Math.max(0, Math.floor(mNs));
  let srtt = s.srttNs;
  let rttvar = s.mdevNs;
  if (srtt === 0) {
    srtt = m;
    rttvar = sar(m, 1);
  } else {
    let d = m - srtt;
    srtt += sar(d, 3);
    d = sar(Math.abs(d) - rttvar, 2);
    if (d < 0) d = sar(d, 3); // Linux RTT estimator
    rttvar += d;
  }
  const srttNs = Math.max(SRTT_MIN_NS, srtt);
  const mdevNs = Math.max(MDEV_MIN_NS, rttvar);
  const rtoNs = Math.max(RTO_MIN_NS, srttNs + mdevNs * 2 ** MDEV_MUL);
  return { srttNs, mdevNs, rtoNs };
}

/** Back off after a timeout of the RTT probe packet: `rto += rto >> RTO_DIV` (doubling). */
export function rttBackoff(s: RttState): RttState {
  return { ...s, rtoNs: s.rtoNs + sar(s.rtoNs, RTO_DIV) };
}
