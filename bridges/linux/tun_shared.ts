/**
 * What the main thread and the TUN Worker share: the init message and the
 * layout of the counters array (a Float64Array over a SharedArrayBuffer;
 * each slot has exactly one writer, so plain stores are enough).
 * @module
 */
import type { FastTxShared } from "../../src/io/fast_tx.ts";

/** Index of each counter in the shared Float64Array. */
export const Stat = {
  rxPackets: 0,
  rxBytes: 1,
  rxDropped: 2,
  rxErrors: 3,
  txPackets: 4,
  txBytes: 5,
  txErrors: 6,
  /** Written by the main thread only. */
  txDropped: 7,
} as const;

/** Number of counters. */
export const STAT_COUNT = 8;

/** The one message the main thread posts to a TUN Worker. */
export interface TunWorkerInit {
  /** The non-blocking TUN/TAP fd. */
  fd: number;
  /** The doorbell eventfd. */
  efd: number;
  /** Ring the Worker fills with packets read from the device. */
  rx: SharedArrayBuffer;
  /** Ring the Worker drains into the device. */
  tx: SharedArrayBuffer;
  /** Counters, see {@link Stat}. */
  stats: SharedArrayBuffer;
  /** Most packets read per batch. */
  batchPackets: number;
  /** Longest sleep in poll(2) before re-checking for close, ms. */
  pollTimeoutMs: number;
  /** The fast send path's shared memory (`src/io/fast_tx.ts`). */
  fastTx: FastTxShared;
}
