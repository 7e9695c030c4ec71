import type { FastRxShared } from "./fast_rx.ts";
/**
 * Shared layout between `channel.ts` (main side) and `dgram_worker.ts`
 * (Worker side): the init message, the control words and the counters.
 * @module
 */

/** Indices into the control Int32Array. */
export const CTL = { STOP: 0 } as const;
/** Bytes of the control SharedArrayBuffer. */
export const CTL_BYTES = 64;

/** Indices into the counters Float64Array (written only by the Worker). */
export const STAT = {
  RX_PACKETS: 0,
  RX_BYTES: 1,
  TX_PACKETS: 2,
  TX_BYTES: 3,
  RX_ERRORS: 4,
  TX_ERRORS: 5,
  RX_TRUNCATED: 6,
  LAST_ERRNO: 7,
  /** Datagrams the fast receive path consumed (never in the rx ring). */
  RX_FAST: 8,
} as const;
/** Bytes of the counters SharedArrayBuffer. */
export const STATS_BYTES = 9 * 8;

/** The one message the Worker receives. */
export interface InitMessage {
  /** Socket fd (process-wide). */
  fd: number;
  /** eventfd the main thread rings to wake the Worker. */
  doorbell: number;
  /** Ring the Worker fills (received packets). */
  rx: SharedArrayBuffer;
  /** Ring the Worker drains (packets to send). */
  tx: SharedArrayBuffer;
  /** Control words ({@link CTL}). */
  ctl: SharedArrayBuffer;
  /** Counters ({@link STAT}). */
  stats: SharedArrayBuffer;
  /** Most packets per recvmmsg/sendmmsg call. */
  batch: number;
  /** Longest poll(2) sleep, in ms (bounds how long a lost wake-up could last). */
  pollMs: number;
  /** Fast receive path's mailbox and counters (`fast_rx.ts`). */
  fast: FastRxShared;
}
