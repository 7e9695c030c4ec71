/**
 * The FRCT engine (spec 03): sequencing, in-order delivery, duplicate
 * suppression, optional retransmission, receiver-driven flow control and
 * data runs (DRF) for one flow end. Pure logic: the clock is injected
 * (monotonic ns as a JS number, see `timers.ts`) and time only moves when
 * the caller passes `nowNs`; {@link FrctEngine.tick} fires the timers.
 *
 * Every packet the engine returns is a fresh **plaintext** FRCT packet
 * (12-byte header + SDU) owned by the caller, who encrypts/CRCs it per
 * transmission. Retransmissions are rebuilt from a stored plaintext copy,
 * so they are re-encrypted like any other packet (fixes spec 03 §5 quirk).
 *
 * Deviations from the reference, all wire-compatible (see the report in
 * the commit and `engine_test.ts`):
 * - ACKs acknowledge SDUs delivered in order to the library's read queue;
 *   the window (`rwe = lwe + RQ_SIZE − unconsumed`) still only advances when
 *   the application consumes ({@link FrctEngine.consumed}). A slow reader
 *   therefore no longer causes spurious retransmissions.
 * - The advertised window stays `RQ_SIZE` past the consumption point after
 *   a non-RTX gap skip (the reference shrinks it by one per lost packet).
 * - Window updates are sent when the application consumes (delayed, like
 *   ACKs), for RTX and non-RTX flows, so one-way non-RTX flows do not stall.
 * - An ACK|FC also goes out at once, unspaced, when `ACK_BATCH_PKTS` (a
 *   quarter window) were delivered, or consumed, since the last one: at full
 *   rate the window went by in ~8 ms, under one delayed-ACK slot, and the
 *   sender stalled on rendez-vous (local layer `qos data` 450 → ~1100 Mb/s).
 * - Rendez-vous works before the first window update (`open` quirk) and the
 *   first RDVS goes out at once; a deferred ACK (recent send) is re-armed
 *   instead of lost.
 * - A run only starts with a DRF DATA packet (control packets no longer make
 *   an idle receiver accept a run it never saw start); ACKs beyond what was
 *   sent are ignored; the peer's window only moves forward and is capped at
 *   `RQ_SIZE` past the oldest unacked packet (bounded memory).
 * - Retransmission without selective ACKs: only the oldest unacked packet
 *   is resent on timeout (others wait until they become the oldest; a
 *   packet that expired meanwhile, or was sent before a retransmission the
 *   ACK covers — NewReno partial ACK — is resent as soon as it does). The
 *   reference resends every packet on its own timer, duplicating what the
 *   receiver already holds. If the run's DRF packet was lost, everything the
 *   peer dropped for lack of a run is resent at once on the first ACK.
 * - The receiver acknowledges a new hole (first packet past it) and a
 *   repaired one at once, not spaced by TICTIME; a hole ACK that also moves
 *   the sender's left edge is sent twice, so the sender sees a duplicate
 *   ACK and resends the hole's packet on it (1% loss kept 0.35 of the
 *   loss-free throughput through the relay; now ~1.0).
 * - RTO back-off doubles per timeout of the oldest packet and is reset by
 *   progress (the reference backs off only on the RTT probe); RTT samples come
 *   from ACKs (see `#onAck`), not one probe per RTT. A silent peer takes the
 *   flow down after ~2 minutes (R-timer) without hammering it.
 * @module
 */
import { Errno, OuroError } from "../lib/errors.ts";
import type { QosSpec } from "../lib/qos.ts";
import {
  ACK_BATCH_PKTS,
  ACK_SLOT_NS,
  DELT_A_NS,
  DELT_R_NS,
  DELT_RDV_NS,
  DUPACK_THRESHOLD,
  FRCT_HEADER_LEN,
  FrctFlag,
  MAX_RDV_NS,
  rcvInactS,
  RQ_SIZE,
  RTO_MAX_NS,
  sndInactS,
  START_WINDOW,
  TICTIME_NS,
} from "./constants.ts";
import { rttInit, rttSample, type RttState } from "./rtt.ts";
import { after, before, seqAdd, unwrapWindow } from "./seq.ts";
import { type RtxEntry, RtxQueue } from "./rtx_queue.ts";
import type { FrctEngineOptions, FrctStats, PeerGone, ReceiveResult, TickResult } from "./types.ts";
import { decodeFrct, rewriteAckno, writeFrct } from "./wire.ts";

export type { FrctEngineOptions, FrctStats, PeerGone, ReceiveResult, TickResult } from "./types.ts";

const { DATA, DRF, ACK, FC, RDVS } = FrctFlag;
const RQ_MASK = RQ_SIZE - 1;

function sec(ns: number): number {
  return Math.floor(ns / 1e9);
}

function cryptoU32(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]!;
}

/** Deadline of a delayed ACK scheduled at `nowNs` (spec 03 §8: ≈ 10.3 ms later). */
export function delayedAckDeadlineNs(nowNs: number): number {
  return (Math.floor((nowNs + 2 * TICTIME_NS) / ACK_SLOT_NS) + 1) * ACK_SLOT_NS;
}

/**
 * The FRCT instance a flow with QoS `qos` needs (spec 03 §1), or undefined
 * when `qos.inOrder == 0` (no FRCT).
 */
export function frctEngineForQos(
  qos: QosSpec,
  mplMs: number,
  nowNs: number,
  randomU32?: () => number,
): FrctEngine | undefined {
  if (qos.inOrder === 0) return undefined;
  return new FrctEngine({ rtx: qos.loss === 0, mplMs, nowNs, randomU32 });
}

/**
 * One flow end's FRCT state machine.
 *
 * @example
 * ```ts
 * import { FrctEngine } from "./engine.ts";
 * const a = new FrctEngine({ rtx: true, mplMs: 100, nowNs: 0 });
 * const b = new FrctEngine({ rtx: true, mplMs: 100, nowNs: 0 });
 * const pkt = a.send(new TextEncoder().encode("hi"), 0);
 * if (pkt !== "window-closed") {
 *   const r = b.receive(pkt, 1_000_000);
 *   console.log(new TextDecoder().decode(r.deliver[0])); // "hi"
 *   b.consumed(1, 1_000_000);
 * }
 * ```
 */
export class FrctEngine {
  /** Retransmission on (`FRCTFRTX`); also means linger on close. */
  readonly rtx: boolean;
  /** Sender obeys the receiver's window (`FRCTFRESCNTL`). */
  readonly resCntl: boolean;
  /** Inactivity thresholds, whole seconds (spec 03 §3.1). */
  readonly sndInactS: number;
  readonly rcvInactS: number;
  readonly #rand: () => number;

  // sender
  #sndSeq = 0;
  #sndLwe = 0;
  #sndRwe = START_WINDOW;
  #sndActNs: number;
  #rtt: RttState = rttInit();
  #lastRttNs = 0;
  /** RTO back-off exponent: doubles per timeout of the oldest packet, reset by progress. */
  #backoff = 0;
  /** An ACK of the current run arrived (the peer's receiver saw the DRF packet). */
  #runAcked = false;
  /** Pure ACKs in a row that did not move `sndLwe` while data was in flight. */
  #dupAcks = 0;
  readonly #rtxq = new RtxQueue();
  #waiting = false;
  #closedAtNs = 0;
  #rdvsAtNs = -Infinity;
  #rdvGaveUp = false;
  #down = false;
  #downReport: PeerGone | undefined;
  #lastTxNs = -Infinity;

  // receiver
  #rcvRun = false;
  #rcvLwe = 0;
  #rcvLastAck = 0;
  #rcvActNs: number;
  #lastAdvRwe = 0;
  #unconsumed = 0;
  /** SDUs consumed since the window was last advertised. */
  #consumedSinceAdv = 0;
  readonly #rq: (Uint8Array | undefined)[] = new Array(RQ_SIZE);
  #rqCount = 0;
  #ackDueNs: number | undefined;
  /** A packet arrived beyond a hole: tell the sender (duplicate ACK) even though rcvLwe did not move. */
  #holeAck = false;
  /** `rcvLwe` when the last ACK reporting a hole there went out (one unspaced hole ACK per hole). */
  #holeAckedLwe: number | undefined;

  readonly #c = {
    retransmissions: 0,
    fastRetransmissions: 0,
    timeouts: 0,
    rttEstimates: 0,
    duplicates: 0,
    outOfWindow: 0,
    noRun: 0,
    malformed: 0,
    rdvsSent: 0,
    rdvsReceived: 0,
    acksSent: 0,
    dataSent: 0,
    dataDelivered: 0,
  };

  /** Create the state of one flow end. */
  constructor(opts: FrctEngineOptions) {
    this.rtx = opts.rtx;
    this.resCntl = opts.resCntl ?? true;
    this.sndInactS = sndInactS(opts.mplMs);
    this.rcvInactS = rcvInactS(opts.mplMs);
    this.#rand = opts.randomU32 ?? cryptoU32;
    // both directions start idle, so the first packet each way starts a run
    this.#sndActNs = opts.nowNs - (this.sndInactS + 1) * 1e9;
    this.#rcvActNs = opts.nowNs - (this.rcvInactS + 1) * 1e9;
  }

  // ------------------------------------------------------------ sender

  /**
   * Build the packet for one SDU (spec 03 §4), or report that the peer's
   * window is closed (nothing changes then, except that rendez-vous probes
   * start on the next ticks). Throws `OuroError(EFLOWDOWN)` once the flow
   * is down. The returned buffer is the caller's (encrypt it in place if
   * you like); the engine keeps its own copy for retransmission.
   */
  send(sdu: Uint8Array, nowNs: number): Uint8Array | "window-closed" {
    if (this.#down) {
      throw new OuroError(Errno.EFLOWDOWN, "Cannot send: flow is down (retransmission gave up)");
    }
    this.#maybeNewSndRun(nowNs);
    if (!this.#windowOpen()) {
      if (!this.#waiting || this.#rdvGaveUp) {
        this.#waiting = true;
        this.#rdvGaveUp = false;
        this.#closedAtNs = nowNs;
      }
      return "window-closed";
    }
    this.#waiting = false;
    let flags = DATA;
    if (this.#sndSeq === this.#sndLwe) flags |= DRF;
    let window = 0;
    let ackno = 0;
    if (this.#rcvActive(nowNs)) {
      flags |= FC;
      window = this.#rcvRwe();
      this.#advertised(window);
    }
    const seqno = this.#sndSeq;
    if (!this.rtx) {
      this.#sndLwe = seqAdd(this.#sndLwe, 1);
    } else {
      if (this.#rcvRun && (sec(nowNs) - sec(this.#rcvActNs)) * 1e9 <= DELT_A_NS) {
        flags |= ACK;
        ackno = this.#rcvLwe;
        this.#rcvLastAck = this.#rcvLwe;
      }
    }
    this.#sndSeq = seqAdd(seqno, 1);
    this.#sndActNs = nowNs;
    this.#lastTxNs = nowNs;
    this.#c.dataSent++;
    const pkt = new Uint8Array(FRCT_HEADER_LEN + sdu.length);
    writeFrct(pkt, 0, { flags, window, seqno, ackno });
    pkt.set(sdu, FRCT_HEADER_LEN);
    if (this.rtx) this.#rtxq.add(seqno, pkt, nowNs, nowNs + this.#rtoNs());
    return pkt;
  }

  /** Whether {@link send} would accept an SDU now. */
  canSend(nowNs: number): boolean {
    if (this.#down) return false;
    if (sec(nowNs) - sec(this.#sndActNs) > this.sndInactS) return true; // a new run opens it
    return this.#windowOpen();
  }

  /** True while sent data is unacknowledged (RTX flows): keep the flow for linger. */
  get lingering(): boolean {
    return this.rtx && !this.#down && before(this.#sndLwe, this.#sndSeq);
  }

  /** True once retransmission gave up (EFLOWDOWN). */
  get down(): boolean {
    return this.#down;
  }

  #maybeNewSndRun(nowNs: number): void {
    if (sec(nowNs) - sec(this.#sndActNs) <= this.sndInactS) return;
    const seq = this.#rand() >>> 0;
    this.#sndSeq = this.#sndLwe = seq;
    this.#sndRwe = seqAdd(seq, START_WINDOW);
    this.#rtxq.clear();
    this.#backoff = 0;
    this.#dupAcks = 0;
    this.#runAcked = false;
    this.#waiting = false;
  }

  /** The effective right edge: the peer's, capped at RQ_SIZE past the oldest unacked (RTX). */
  #edge(): number {
    const cap = seqAdd(this.#sndLwe, RQ_SIZE);
    return this.rtx && after(this.#sndRwe, cap) ? cap : this.#sndRwe;
  }

  /** The peer's window (not our in-flight cap) keeps the sender from sending. */
  #peerClosed(): boolean {
    return this.resCntl && !before(this.#sndSeq, this.#sndRwe);
  }

  #windowOpen(): boolean {
    return !this.resCntl || before(this.#sndSeq, this.#edge());
  }

  /** Effective retransmission timeout: the estimator's, backed off. */
  #rtoNs(): number {
    return this.#rtt.rtoNs * 2 ** this.#backoff;
  }

  /**
   * Cumulative ACK. RTT sample from the oldest newly acknowledged packet that
   * was sent once and after every retransmission this ACK covers (no sample
   * inflated by waiting for a repaired hole); failing that, from the latest
   * retransmission it covers. That relaxes Karn's rule: without it a lossy
   * flow with a full window never gets a sample, since every ACK then covers
   * a repaired hole; the original of a retransmitted packet is at least an
   * RTO old, so the ACK is almost always the retransmission's. If the new oldest packet is
   * presumed lost — its timer already expired, or it was sent before a
   * retransmission this ACK covers (NewReno partial ACK) — it is
   * retransmitted at once (returned). If the run's first (DRF) packet had to
   * be retransmitted before this first ACK, the peer dropped everything sent
   * before that retransmission (no run yet): all of it is resent at once.
   */
  #onAck(ackno: number, nowNs: number): Uint8Array[] {
    if (!after(ackno, this.#sndLwe) || after(ackno, this.#sndSeq)) return [];
    const acked = this.#rtxq.ack(this.#sndLwe, ackno);
    let rtxAt = -Infinity; // latest retransmission among the acknowledged
    for (const e of acked) if (e.rtx) rtxAt = Math.max(rtxAt, e.lastTxNs);
    this.#sndLwe = ackno;
    this.#backoff = 0;
    this.#dupAcks = 0;
    const clean = acked.find((e) => !e.rtx && e.t0Ns >= rtxAt);
    const sentNs = clean?.t0Ns ?? rtxAt;
    if (sentNs > -Infinity) {
      this.#lastRttNs = nowNs - sentNs;
      this.#rtt = rttSample(this.#rtt, this.#lastRttNs);
      this.#c.rttEstimates++;
    }
    const firstAck = !this.#runAcked;
    this.#runAcked = true;
    const out: Uint8Array[] = [];
    for (let s = ackno; s !== this.#sndSeq && !this.#down; s = seqAdd(s, 1)) {
      const e = this.#rtxq.get(s);
      if (e === undefined) continue;
      const lost = e.lastTxNs < rtxAt || (s === ackno && e.expired);
      if (!lost) break;
      const p = this.#retransmitArm(e, nowNs);
      if (p) out.push(p);
      if (!firstAck) break; // otherwise only the new oldest one
    }
    return out;
  }

  /**
   * Fast retransmit (ouro extension, wire-compatible): a pure ACK that does
   * not move the left edge while data is in flight means the receiver got
   * something past a hole (see `#holeAck`), or only opened its window. After
   * {@link DUPACK_THRESHOLD} of them, resend the oldest packet at once if it
   * has been out longer than the smoothed RTT, instead of waiting for its
   * RTO: with a full window every loss would otherwise stall the flow for
   * an RTO (1% loss cost 90% of the throughput).
   */
  #onDupAck(ackno: number, nowNs: number, pureDup: boolean): Uint8Array | undefined {
    if (ackno !== this.#sndLwe || this.#rtxq.size === 0 || this.#down) return undefined;
    if (++this.#dupAcks < DUPACK_THRESHOLD) return undefined;
    const e = this.#rtxq.get(this.#sndLwe);
    if (!e) return undefined;
    // a hole report on a packet sent once: the receiver got something sent after it
    const waitNs = pureDup && !e.rtx ? 0 : Math.max(this.#rtt.srttNs, TICTIME_NS);
    if (nowNs - e.lastTxNs < waitNs) return undefined;
    this.#dupAcks = 0;
    this.#c.fastRetransmissions++;
    return this.#retransmitArm(e, nowNs);
  }

  #onFc(window: number, nowNs: number): void {
    const rwe = unwrapWindow(window, this.#sndRwe);
    if (after(rwe, this.#sndRwe)) this.#sndRwe = rwe;
    this.#closedAtNs = nowNs; // the peer answered: restart the rendez-vous clock
    this.#rdvGaveUp = false;
  }

  // ---------------------------------------------------------- receiver

  /**
   * Process one plaintext FRCT packet from the peer (after CRC check and
   * decryption; spec 03 §8). Never throws on bad input: malformed packets
   * are counted and dropped. Delivered SDUs are views into `pkt`.
   */
  receive(pkt: Uint8Array, nowNs: number): ReceiveResult {
    const res: ReceiveResult = { deliver: [] };
    if (pkt.length < FRCT_HEADER_LEN) {
      this.#c.malformed++;
      return res;
    }
    const h = decodeFrct(pkt);
    const isData = (h.flags & DATA) !== 0;
    if (!this.#rcvRun || sec(nowNs) - sec(this.#rcvActNs) > this.rcvInactS) {
      if (isData && (h.flags & DRF)) this.#newRcvRun(h.seqno);
      else if (isData) {
        this.#c.noRun++;
        return res;
      }
    }
    this.#rcvActNs = nowNs;
    if (h.flags & RDVS) {
      this.#c.rdvsReceived++;
      res.reply = [this.#control(FC, this.#rcvRwe(), 0, nowNs)];
      this.#advertised(this.#rcvRwe());
      return res;
    }
    const blocked = this.#waiting && !this.#windowOpen();
    if (h.flags & ACK) {
      // a hole report: neither the left edge nor the window moved
      const pureDup = h.ackno === this.#sndLwe &&
        !((h.flags & FC) && after(unwrapWindow(h.window, this.#sndRwe), this.#sndRwe));
      const p = this.#onAck(h.ackno, nowNs);
      if (p.length > 0) (res.reply ??= []).push(...p);
      else if (!isData && this.rtx) {
        const f = this.#onDupAck(h.ackno, nowNs, pureDup);
        if (f) (res.reply ??= []).push(f);
      }
    }
    if (h.flags & FC) this.#onFc(h.window, nowNs);
    if (blocked && this.#windowOpen()) res.windowOpened = true;
    if (!isData) return this.#dropped(res, nowNs);

    const seq = h.seqno;
    if (before(seq, this.#rcvLwe)) {
      this.#c.duplicates++;
      this.#rcvLastAck = seq; // force a fresh ACK
      return this.#dropped(res, nowNs);
    }
    if (!before(seq, this.#rcvRwe())) {
      this.#c.outOfWindow++;
      return this.#dropped(res, nowNs);
    }
    const sdu = pkt.subarray(FRCT_HEADER_LEN);
    if (!this.rtx) {
      this.#rcvLwe = seqAdd(seq, 1); // skip over gaps, late packets are dropped above
      this.#deliverOne(res, sdu);
      return res;
    }
    const pos = seq & RQ_MASK;
    if (this.#rq[pos] !== undefined) {
      this.#c.duplicates++;
      return this.#dropped(res, nowNs);
    }
    const lwe0 = this.#rcvLwe;
    const filled = seq === lwe0 && this.#rqCount > 0;
    this.#rq[pos] = sdu;
    this.#rqCount++;
    if (seq !== this.#rcvLwe) this.#holeAck = true;
    for (;;) {
      const p = this.#rcvLwe & RQ_MASK;
      const next = this.#rq[p];
      if (next === undefined) break;
      this.#rq[p] = undefined;
      this.#rqCount--;
      this.#rcvLwe = seqAdd(this.#rcvLwe, 1);
      this.#deliverOne(res, next);
    }
    if (this.#rqCount === 0) this.#holeAck = false;
    // A new hole, or a (partly) filled one, is acknowledged at once, unspaced:
    // the sender repairs holes one per round trip (no SACK) and its window
    // stays stuck at the hole until it hears.
    const newHole = seq !== lwe0 && lwe0 !== this.#holeAckedLwe;
    const behind = this.#rcvLastAck !== this.#rcvLwe; // the sender's left edge is short of ours
    const batch = ((this.#rcvLwe - this.#rcvLastAck) | 0) >= ACK_BATCH_PKTS;
    const p = filled || newHole || batch ? this.#ackSender(nowNs, true) : undefined;
    if (p) {
      (res.reply ??= []).push(p);
      // The sender only recognises a hole in an ACK that leaves its left edge
      // where it is (no SACK): when this ACK moves it, repeat it as such.
      if (newHole && behind) {
        res.reply.push(p.slice());
        this.#c.acksSent++;
      }
    } else this.#scheduleAck(this.#holeAck ? nowNs : delayedAckDeadlineNs(nowNs));
    return res;
  }

  /**
   * The application consumed `n` delivered SDUs (a whole SDU each; partial
   * reads are the library's business). Opens the window by `n`; the update
   * goes out on a later {@link tick} (delayed like an ACK; on the next tick,
   * unspaced, when the peer is close to the edge or {@link ACK_BATCH_PKTS}
   * were consumed since the last update).
   */
  consumed(n: number, nowNs: number): void {
    if (!(n > 0)) return;
    const k = Math.min(Math.floor(n), this.#unconsumed);
    this.#unconsumed -= k;
    this.#consumedSinceAdv += k;
    if (!this.#rcvRun) return;
    const room = (this.#lastAdvRwe - this.#rcvLwe) | 0; // what the peer believes it may still send
    const soon = room < START_WINDOW / 2 || this.#consumedSinceAdv >= ACK_BATCH_PKTS;
    this.#scheduleAck(soon ? nowNs : delayedAckDeadlineNs(nowNs));
  }

  #advertised(rwe: number): void {
    this.#lastAdvRwe = rwe;
    this.#consumedSinceAdv = 0;
  }

  #deliverOne(res: ReceiveResult, sdu: Uint8Array): void {
    res.deliver.push(sdu);
    this.#unconsumed++;
    this.#c.dataDelivered++;
  }

  #newRcvRun(seq: number): void {
    this.#rcvRun = true;
    this.#rcvLwe = seq;
    this.#rcvLastAck = seq;
    this.#advertised(seqAdd(seq, START_WINDOW)); // what a fresh sender assumes
    this.#rq.fill(undefined);
    this.#rqCount = 0;
    this.#holeAck = false;
    this.#holeAckedLwe = undefined;
  }

  #rcvActive(nowNs: number): boolean {
    return this.#rcvRun && sec(nowNs) - sec(this.#rcvActNs) < this.rcvInactS;
  }

  /** Advertised right window edge: RQ_SIZE past what the application consumed. */
  #rcvRwe(): number {
    return seqAdd(this.#rcvLwe, RQ_SIZE - Math.min(this.#unconsumed, RQ_SIZE));
  }

  #scheduleAck(atNs: number): void {
    if (this.#ackDueNs === undefined || atNs < this.#ackDueNs) this.#ackDueNs = atNs;
  }

  /** Every drop path runs the ACK sender (spec 03 §8 step 10). */
  #dropped(res: ReceiveResult, nowNs: number): ReceiveResult {
    const p = this.#ackSender(nowNs);
    if (p) (res.reply ??= []).push(p);
    return res;
  }

  /**
   * Standalone `ACK|FC` if there is something new to acknowledge or
   * advertise; at most one per {@link TICTIME_NS} unless `urgent`.
   */
  #ackSender(nowNs: number, urgent = false): Uint8Array | undefined {
    if (!this.#rcvRun) return undefined;
    // a batch's worth delivered or consumed unannounced: the sender is about to stall
    urgent ||= (this.rtx && ((this.#rcvLwe - this.#rcvLastAck) | 0) >= ACK_BATCH_PKTS) ||
      this.#consumedSinceAdv >= ACK_BATCH_PKTS;
    const rwe = this.#rcvRwe();
    const needAck = this.rtx && (after(this.#rcvLwe, this.#rcvLastAck) || this.#holeAck);
    const needWnd = after(rwe, this.#lastAdvRwe);
    if (!needAck && !needWnd) return undefined;
    if (nowNs - this.#rcvActNs > DELT_A_NS) return undefined;
    if (!urgent && nowNs - this.#lastTxNs < TICTIME_NS) {
      this.#scheduleAck(this.#lastTxNs + TICTIME_NS); // not lost, only deferred
      return undefined;
    }
    if (this.#rqCount > 0) this.#holeAckedLwe = this.#rcvLwe;
    this.#rcvLastAck = this.#rcvLwe;
    this.#advertised(rwe);
    this.#holeAck = false;
    this.#c.acksSent++;
    return this.#control(ACK | FC, rwe, this.#rcvLwe, nowNs);
  }

  #control(flags: number, window: number, ackno: number, nowNs: number): Uint8Array {
    const p = new Uint8Array(FRCT_HEADER_LEN);
    writeFrct(p, 0, { flags, window, seqno: 0, ackno });
    this.#lastTxNs = nowNs;
    return p;
  }

  // ------------------------------------------------------------ timers

  /**
   * Fire due timers: retransmissions (with RTO back-off), delayed ACKs and
   * window updates, rendez-vous probes while a writer waits on a closed
   * window. Call every {@link TICTIME_NS} (5 ms) or at
   * {@link nextDeadlineNs}.
   */
  tick(nowNs: number): TickResult {
    const packets: Uint8Array[] = [];
    const res: TickResult = { packets };
    if (!this.#down) {
      for (const e of this.#rtxq.due(nowNs)) {
        if (e.seq !== this.#sndLwe) {
          // Without selective ACKs the receiver may well hold it: resend it
          // only once it is the oldest unacknowledged packet (see #onAck).
          e.expired = true;
          continue;
        }
        this.#backoff++;
        this.#c.timeouts++;
        const p = this.#retransmitArm(e, nowNs);
        if (p === undefined) break;
        packets.push(p);
      }
    }
    if (this.#ackDueNs !== undefined && nowNs >= this.#ackDueNs) {
      this.#ackDueNs = undefined;
      const p = this.#ackSender(nowNs);
      if (p) packets.push(p);
    }
    if (this.#waiting && !this.#down && !this.#rdvGaveUp && this.#peerClosed()) {
      if (nowNs - this.#closedAtNs > MAX_RDV_NS) {
        this.#rdvGaveUp = true;
        res.peerGone = {
          errno: Errno.ECONNRESET,
          reason: `send window closed for more than ${MAX_RDV_NS / 1e6} ms without an update`,
        };
      } else if (nowNs - this.#rdvsAtNs >= DELT_RDV_NS) {
        this.#rdvsAtNs = nowNs;
        this.#c.rdvsSent++;
        packets.push(this.#control(RDVS, 0, 0, nowNs));
      }
    }
    if (this.#downReport) {
      res.peerGone = this.#downReport;
      this.#downReport = undefined;
    }
    return res;
  }

  /** When {@link tick} next has work, ns (undefined: nothing scheduled). */
  nextDeadlineNs(): number | undefined {
    let t = this.#down ? undefined : this.#rtxq.nextDueNs();
    const m = (x: number) => (t = t === undefined ? x : Math.min(t, x));
    if (this.#ackDueNs !== undefined) m(this.#ackDueNs);
    if (this.#waiting && !this.#down && !this.#rdvGaveUp && this.#peerClosed()) {
      m(Math.min(this.#rdvsAtNs + DELT_RDV_NS, this.#closedAtNs + MAX_RDV_NS + 1));
    }
    return t;
  }

  /** Retransmit `e` and re-arm its timer; undefined if the flow went down instead. */
  #retransmitArm(e: RtxEntry, nowNs: number): Uint8Array | undefined {
    if (nowNs - e.t0Ns > DELT_R_NS) {
      this.#goDown(`no ACK for seqno ${e.seq} within ${DELT_R_NS / 1e9} s`);
      return undefined;
    }
    const rto = this.#rtoNs();
    if (rto >= RTO_MAX_NS) {
      this.#goDown(`RTO ${rto} ns too large`);
      return undefined;
    }
    e.rtx = true;
    e.expired = false;
    e.lastTxNs = nowNs;
    this.#rtxq.arm(e, nowNs + rto);
    return this.#retransmit(e, nowNs);
  }

  #retransmit(e: RtxEntry, nowNs: number): Uint8Array {
    const p = e.pkt.slice();
    rewriteAckno(p, this.#rcvLwe);
    if (p[0]! & ACK) this.#rcvLastAck = this.#rcvLwe;
    if ((p[0]! & FC) && this.#rcvRun) {
      const w = this.#rcvRwe();
      p[1] = (w >>> 16) & 0xff;
      p[2] = (w >>> 8) & 0xff;
      p[3] = w & 0xff;
      this.#advertised(w);
    }
    this.#lastTxNs = nowNs;
    this.#c.retransmissions++;
    return p;
  }

  #goDown(reason: string): void {
    this.#down = true;
    this.#downReport = { errno: Errno.EFLOWDOWN, reason };
    this.#rtxq.clear();
  }

  // ----------------------------------------------------------- closing

  /**
   * The final `ACK` to send on deallocation if the last data received was
   * not acknowledged yet (spec 03 §10), else undefined.
   */
  finalAck(nowNs: number): Uint8Array | undefined {
    if (!this.#rcvRun || this.#rcvLwe === this.#rcvLastAck) return undefined;
    this.#rcvLastAck = this.#rcvLwe;
    this.#c.acksSent++;
    return this.#control(ACK, 0, this.#rcvLwe, nowNs);
  }

  /**
   * Seconds the IPCP should keep the N−1 flow after deallocation (spec 03
   * §10: the inactivity wait), ≥ 0. Check {@link lingering} first.
   */
  deallocWaitS(nowNs: number): number {
    const r = this.rcvInactS - (sec(nowNs) - sec(this.#rcvActNs));
    const s = this.sndInactS - (sec(nowNs) - sec(this.#sndActNs));
    return Math.max(r, s, 0);
  }

  /** Counters and state. */
  stats(): FrctStats {
    return {
      rttNs: this.#lastRttNs,
      ...this.#rtt,
      rtoNs: this.#rtoNs(),
      sndSeqno: this.#sndSeq,
      sndLwe: this.#sndLwe,
      sndRwe: this.#sndRwe,
      window: this.#windowOpen() ? ((this.#edge() - this.#sndSeq) | 0) : 0,
      inFlight: this.#rtxq.size,
      rcvLwe: this.#rcvLwe,
      rcvRwe: this.#rcvRwe(),
      unconsumed: this.#unconsumed,
      reorderQueued: this.#rqCount,
      ...this.#c,
    };
  }
}
