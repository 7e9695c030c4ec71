/**
 * FRCT protocol constants (spec 03 §2, §3.1), the reference's build
 * defaults. Every FRCT timing or size value lives here, with its unit in
 * the name.
 * @module
 */

/** Length of the FRCT header (PCI) in bytes. */
export const FRCT_HEADER_LEN = 12;

/** FRCT header flag bits (byte 0 of the header). */
export const FrctFlag = {
  /** Packet carries an application SDU after the header. */
  DATA: 0x01,
  /** Data Run Flag: the sender had nothing unacknowledged. */
  DRF: 0x02,
  /** `ackno` is valid. */
  ACK: 0x04,
  /** `window` is valid (flow-control update). */
  FC: 0x08,
  /** Rendez-vous: the sender's window is closed. */
  RDVS: 0x10,
  /** First fragment (defined, unused). */
  FFGM: 0x20,
  /** More fragments (defined, unused). */
  MFGM: 0x40,
} as const;

/** Mask of the 24-bit window field. */
export const FRCT_WINDOW_MASK = 0xffffff;

/** Reorder queue size and receiver window, in packets (power of 2). */
export const RQ_SIZE = 256;
/** Initial sender window after a new run, in packets. */
export const START_WINDOW = 64;
/** A-timer: maximum time to acknowledge, ns (10 s). */
export const DELT_A_NS = 10_000_000_000;
/** R-timer: maximum time to retransmit before giving up, ns (120 s). */
export const DELT_R_NS = 120_000_000_000;
/** Tick of the tx/rx helpers and minimum ACK spacing, ns (5 ms). */
export const TICTIME_NS = 5_000_000;
/** Minimum retransmission timeout, ns (250 µs). */
export const RTO_MIN_NS = 250_000;
/** RTO = srtt + (mdev << MDEV_MUL). */
export const MDEV_MUL = 2;
/** Back-off: rto += rto >> RTO_DIV (0 = doubling). */
export const RTO_DIV = 0;
/** Initial retransmission timeout, ns (1 s). */
export const RTO_INIT_NS = 1_000_000_000;
/** Initial mean deviation, ns (10 ms). */
export const MDEV_INIT_NS = 10_000_000;
/** Lower bound of srtt after a sample, ns. */
export const SRTT_MIN_NS = 1_000;
/** Lower bound of mdev after a sample, ns. */
export const MDEV_MIN_NS = 100;
/** Minimum interval between rendez-vous packets, ns (100 ms). */
export const DELT_RDV_NS = 100_000_000;
/** Give up rendez-vous after the window was closed this long, ns (1 s). */
export const MAX_RDV_NS = 1_000_000_000;
/** Retransmissions whose RTO reaches this (2^36 ns ≈ 68.7 s) take the flow down. */
export const RTO_MAX_NS = 2 ** 36;
/**
 * Pure ACKs in a row that leave the oldest unacknowledged packet unacked
 * before it is resent without waiting for its RTO (ouro extension: the
 * receiver acknowledges at once when a packet lands beyond a hole).
 */
export const DUPACK_THRESHOLD = 1;
/**
 * Packets delivered, or consumed, since the last ACK / window update after
 * which the receiver sends one at once instead of on the delayed-ACK slot
 * (ouro tunable, wire-compatible): at full rate the whole {@link RQ_SIZE}
 * window goes by in well under one slot, so waiting stalled the sender.
 */
export const ACK_BATCH_PKTS = RQ_SIZE / 4;
/** Delayed-ACK wheel slot, ns (2^18). */
export const ACK_SLOT_NS = 2 ** 18;

/**
 * Inactivity threshold of the sender in whole seconds for an MPL in ms
 * (spec 03 §3.1): `(3·mpl + A + R) / 1e9 + 1` with integer division.
 */
export function sndInactS(mplMs: number): number {
  return Math.floor((3 * mplMs * 1e6 + DELT_A_NS + DELT_R_NS) / 1e9) + 1;
}

/** Inactivity threshold of the receiver in whole seconds for an MPL in ms. */
export function rcvInactS(mplMs: number): number {
  return Math.floor((2 * mplMs * 1e6 + DELT_A_NS + DELT_R_NS) / 1e9) + 1;
}
