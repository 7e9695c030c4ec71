/**
 * Public types of the FRCT engine ({@link FrctEngine} in `engine.ts`):
 * options, results of each call and statistics.
 * @module
 */
import type { Errno } from "../lib/errors.ts";

/** Options of one FRCT instance (one flow end). */
export interface FrctEngineOptions {
  /** Retransmission and linger (`FRCTFRTX`, QoS `loss == 0`). */
  rtx: boolean;
  /** Maximum packet lifetime reported by the IPCP for this flow, ms. */
  mplMs: number;
  /** Monotonic clock at creation, ns (see `timers.ts`). */
  nowNs: number;
  /** Obey the receiver's window (`FRCTFRESCNTL`); default true. */
  resCntl?: boolean;
  /** Source of uniformly random u32 for new-run sequence numbers; default WebCrypto. */
  randomU32?: () => number;
}

/** What {@link FrctEngine.receive} produced. */
export interface ReceiveResult {
  /** In-order SDUs now ready for the application (views into the packets given). */
  deliver: Uint8Array[];
  /** Control packets to write at once (plaintext FRCT packets: encrypt each). */
  reply?: Uint8Array[];
  /** True when this packet opened the send window for a writer that found it closed. */
  windowOpened?: boolean;
}

/** Why the engine gave up on the peer. */
export interface PeerGone {
  /**
   * `Errno.EFLOWDOWN`: retransmission gave up (R-timer 120 s, or RTO ≥ 2^36
   * ns); terminal, reads and writes should fail with EFLOWDOWN.
   * `Errno.ECONNRESET`: the send window stayed closed for more than
   * `MAX_RDV` (1 s) with no window update answering the rendez-vous probes;
   * a blocked write should fail with ECONNRESET. Not terminal: a later write
   * starts a new rendez-vous.
   */
  errno: typeof Errno.EFLOWDOWN | typeof Errno.ECONNRESET;
  /** Human text for logs. */
  reason: string;
}

/** What {@link FrctEngine.tick} produced. */
export interface TickResult {
  /** Packets to write now, in order: retransmissions, ACK/window updates, RDVS probes. */
  packets: Uint8Array[];
  /** Reported once per event; see {@link PeerGone}. */
  peerGone?: PeerGone;
}

/** Counters and state of one engine (spec 03 §11 and more). */
export interface FrctStats {
  /** Last RTT measurement, ns (0 before the first). */
  rttNs: number;
  /** Smoothed RTT, ns. */
  srttNs: number;
  /** Mean deviation, ns. */
  mdevNs: number;
  /** Retransmission timeout in force (with back-off), ns. */
  rtoNs: number;
  /** Sender: next sequence number. */
  sndSeqno: number;
  /** Sender: oldest unacknowledged sequence number. */
  sndLwe: number;
  /** Sender: the peer's right window edge. */
  sndRwe: number;
  /** Sender: packets it may still send before the window closes. */
  window: number;
  /** Sender: packets sent and not yet acknowledged (RTX), kept for retransmission. */
  inFlight: number;
  /** Receiver: next in-order sequence number (= ackno). */
  rcvLwe: number;
  /** Receiver: advertised right window edge. */
  rcvRwe: number;
  /** Receiver: SDUs delivered but not yet consumed by the application. */
  unconsumed: number;
  /** Receiver: out-of-order SDUs held in the reorder queue. */
  reorderQueued: number;
  /** Packets sent again. */
  retransmissions: number;
  /** Of those, sent on duplicate ACKs before the RTO expired. */
  fastRetransmissions: number;
  /** Retransmissions of the oldest packet on its RTO (each backs the RTO off). */
  timeouts: number;
  /** RTT samples taken. */
  rttEstimates: number;
  /** Duplicate packets received (dropped). */
  duplicates: number;
  /** Packets outside the receive window (dropped). */
  outOfWindow: number;
  /** DATA packets dropped because no run had been started (no DRF). */
  noRun: number;
  /** Packets shorter than the FRCT header. */
  malformed: number;
  /** Rendez-vous probes sent. */
  rdvsSent: number;
  /** Rendez-vous probes received. */
  rdvsReceived: number;
  /** ACK packets sent. */
  acksSent: number;
  /** DATA packets sent (first transmissions). */
  dataSent: number;
  /** SDUs delivered in order. */
  dataDelivered: number;
}
