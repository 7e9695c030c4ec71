/**
 * Multi-bit ECN congestion avoidance (`CA_MB_ECN`, spec 12 §8.2–8.4), the
 * reference's default.
 *
 * - Marking (every hop): `ecn |= queued >> 4`.
 * - Receiver: an EWMA of the marks (`rx_ece`) is echoed to the sender in
 *   FLOW_UPDATE messages when congestion starts, ends, and every 8 packets.
 * - Sender: a byte window per time slot (2^tx_mul ns), slow start until the
 *   first update, then additive increase / multiplicative decrease; the slot
 *   length is rescaled to keep 8–64 packets per slot, but never below
 *   {@link MB_ECN_TX_MUL_MIN} (timer granularity).
 * @module
 */
import type { CaCtx, CaPolicy } from "./ca.ts";

/** Queue-length shift for marking (`ECN_Q_SHFT`). */
export const MB_ECN_Q_SHIFT = 4;
/** Packets without feedback after which the sender forgets the ece (`CA_WND`). */
export const MB_ECN_WND = 32;
/** Receiver sends an update every this many marked packets (`CA_UPD`). */
export const MB_ECN_UPD = 8;
/** EWMA shift of the receiver (`CA_SHFT`). */
export const MB_ECN_SHIFT = 5;
/** Initial slot exponent: 2^24 ns ≈ 16.8 ms. */
export const MB_ECN_TX_MUL_INIT = 24;
/**
 * Shortest slot exponent: 2^23 ns ≈ 8.4 ms. The reference shortens slots
 * without bound (to keep ≤ 64 packets each) and sleeps with nanosecond
 * precision; a Deno timer fires 1–2 ms late at best, so a sub-millisecond
 * slot followed by a wait loses the slots in between and caps a flow at
 * ~64 packets per timer tick (≈ 300 Mb/s at 1400 B). Above this length a
 * slot holds more than 64 packets instead (sender-local behaviour, spec
 * 12 §8.4).
 */
export const MB_ECN_TX_MUL_MIN = 23;
/** Initial window byte limit and additive increment. */
export const MB_ECN_TX_WBL_INIT = 65536;
/** Packets per slot the rescaling aims for. */
export const MB_ECN_MIN_PKT_SLOT = 8;
/** See {@link MB_ECN_MIN_PKT_SLOT}. */
export const MB_ECN_MAX_PKT_SLOT = 64;
/** Longest wait before a packet (ns). */
export const MB_ECN_MAX_WAIT_NS = 1e9;
/** Multiplicative decrease shift: `wbl -= wbl * ece >> 13`. */
const MD_SHIFT = 13;

/** mb-ecn per-flow state. */
export interface MbEcnCtx extends CaCtx {
  rxEce: number;
  rxCtr: number;
  txEce: number;
  txCtr: number;
  txCav: boolean;
  txMul: number;
  /** Current slot; -1 until the first packet. */
  txSlot: number;
  txWbl: number;
  txWbc: number;
  txWpc: number;
  txInc: number;
}

const pow2 = (n: number) => 2 ** n;

function newCtx(): MbEcnCtx {
  return {
    rxEce: 0,
    rxCtr: 0,
    txEce: 0,
    txCtr: 0,
    txCav: false,
    txMul: MB_ECN_TX_MUL_INIT,
    txSlot: -1,
    txWbl: MB_ECN_TX_WBL_INIT,
    txWbc: 0,
    txWpc: 0,
    txInc: MB_ECN_TX_WBL_INIT,
  };
}

function txUpdate(c: CaCtx, len: number, nowNs: number): number {
  const x = c as MbEcnCtx;
  const slot = Math.floor(nowNs / pow2(x.txMul));
  if (x.txSlot < 0) x.txSlot = slot;
  x.txCtr++;
  x.txWpc++;
  x.txWbc += len;
  if (x.txCtr > MB_ECN_WND) x.txEce = 0;
  if (slot > x.txSlot) {
    x.txSlot = slot;
    if (!x.txCav) {
      if (x.txWbc > x.txWbl) x.txWbl *= 2;
    } else if (x.txEce !== 0) {
      x.txWbl -= Math.floor((x.txWbl * x.txEce) / pow2(MD_SHIFT));
    } else {
      x.txWbl = x.txWbc + x.txInc;
    }
    let carry = false;
    if (x.txWpc < MB_ECN_MIN_PKT_SLOT) {
      let f = 0;
      while (x.txWpc * pow2(f) < MB_ECN_MIN_PKT_SLOT) f++;
      x.txMul += f;
      x.txSlot = Math.floor(x.txSlot / pow2(f));
      if (x.txSlot % pow2(f) === 0) {
        carry = true;
        x.txSlot += 1;
      }
      x.txWbl *= pow2(f);
      x.txInc *= pow2(f);
    } else if (x.txWpc > MB_ECN_MAX_PKT_SLOT && x.txMul > MB_ECN_TX_MUL_MIN) {
      let f = 0;
      while (Math.floor(x.txWpc / pow2(f)) > MB_ECN_MAX_PKT_SLOT) f++;
      f = Math.min(f, x.txMul - MB_ECN_TX_MUL_MIN);
      x.txMul -= f;
      x.txSlot *= pow2(f);
      x.txWbl = Math.floor(x.txWbl / pow2(f));
      x.txInc = Math.floor(x.txInc / pow2(f));
    }
    if (!carry) x.txWbc = x.txWpc = 0;
  }
  if (x.txWbc > x.txWbl) {
    const wait = (x.txSlot + 1) * pow2(x.txMul) - nowNs;
    return wait <= 0 ? 0 : Math.min(wait, MB_ECN_MAX_WAIT_NS);
  }
  return 0;
}

function rxUpdate(c: CaCtx, _len: number, ecn: number): number | undefined {
  const x = c as MbEcnCtx;
  if (x.rxEce === 0 && ecn === 0) return undefined;
  if (ecn === 0) { // congestion ending
    x.rxEce >>= 2;
    return x.rxEce === 0 ? 0 : undefined;
  }
  if (x.rxEce === 0) { // congestion starting
    x.rxEce = ecn;
    x.rxCtr = 0;
    return x.rxEce;
  }
  x.rxEce = (x.rxEce - (x.rxEce >> MB_ECN_SHIFT) + ecn) & 0xffff;
  const send = (x.rxCtr & (MB_ECN_UPD - 1)) === 1;
  x.rxCtr++;
  return send ? x.rxEce : undefined;
}

function updateEce(c: CaCtx, ece: number): void {
  const x = c as MbEcnCtx;
  x.txEce = ece;
  x.txCtr = 0;
  x.txCav = true;
}

/** The mb-ecn policy. */
export const mbEcn: CaPolicy = Object.freeze({
  name: "mb-ecn",
  ctxCreate: newCtx,
  txUpdate,
  rxUpdate,
  updateEce,
  calcEcn: (ecn: number, queued: number) => (ecn | (queued >> MB_ECN_Q_SHIFT)) & 0xff,
  stats: (c: CaCtx) => {
    const x = c as MbEcnCtx;
    return { rxEce: x.rxEce, txEce: x.txEce, txCav: x.txCav, txMul: x.txMul, txWbl: x.txWbl };
  },
});
