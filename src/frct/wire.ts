/**
 * FRCT header codec (spec 03 §2): 12 bytes, big-endian.
 *
 * ```
 * 0      1              4              8             12
 * | flags | window (24) |    seqno     |    ackno     |
 * ```
 * @module
 */
import { DecodeError } from "../lib/errors.ts";
import { FRCT_HEADER_LEN, FRCT_WINDOW_MASK } from "./constants.ts";

/** A decoded FRCT header. */
export interface FrctHeader {
  /** Flag bits, see {@link FrctFlag}. */
  flags: number;
  /** Low 24 bits of the sender's receiver right window edge (valid with FC). */
  window: number;
  /** Sequence number (DATA packets). */
  seqno: number;
  /** Cumulative ACK: next sequence number expected (valid with ACK). */
  ackno: number;
}

function checkU32(v: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
    throw new RangeError(`Cannot encode FRCT header: ${what} ${v} is not a u32`);
  }
}

/**
 * Write an FRCT header into `buf` at `offset` (hot path, no allocation).
 * `window` is reduced to its low 24 bits, as the reference does with `rwe`.
 * Throws RangeError on out-of-range values or a short buffer.
 */
export function writeFrct(buf: Uint8Array, offset: number, h: FrctHeader): void {
  if (!Number.isInteger(h.flags) || h.flags < 0 || h.flags > 0xff) {
    throw new RangeError(`Cannot encode FRCT header: flags ${h.flags} is not a byte`);
  }
  checkU32(h.seqno, "seqno");
  checkU32(h.ackno, "ackno");
  if (offset < 0 || offset + FRCT_HEADER_LEN > buf.length) {
    throw new RangeError("Cannot encode FRCT header: buffer too short");
  }
  const w = h.window & FRCT_WINDOW_MASK;
  buf[offset] = h.flags;
  buf[offset + 1] = w >>> 16;
  buf[offset + 2] = (w >>> 8) & 0xff;
  buf[offset + 3] = w & 0xff;
  const dv = new DataView(buf.buffer, buf.byteOffset + offset, FRCT_HEADER_LEN);
  dv.setUint32(4, h.seqno);
  dv.setUint32(8, h.ackno);
}

/**
 * Encode an FRCT header to 12 bytes.
 *
 * @example
 * ```ts
 * import { encodeFrct } from "./wire.ts";
 * import { FrctFlag } from "./constants.ts";
 * const b = encodeFrct({ flags: FrctFlag.ACK | FrctFlag.FC, window: 10074676, seqno: 0, ackno: 1905899828 });
 * console.log(b.length); // 12
 * ```
 */
export function encodeFrct(h: FrctHeader): Uint8Array {
  const b = new Uint8Array(FRCT_HEADER_LEN);
  writeFrct(b, 0, h);
  return b;
}

/**
 * Decode the FRCT header at the start of `bytes` (the SDU follows at
 * offset 12, see {@link frctPayload}). Throws {@link DecodeError} if fewer
 * than 12 bytes are given. Unknown flag bits (0x80) are kept, not rejected:
 * the reference ignores them.
 */
export function decodeFrct(bytes: Uint8Array): FrctHeader {
  if (bytes.length < FRCT_HEADER_LEN) {
    throw new DecodeError("frct-short", `Cannot decode FRCT header: ${bytes.length} < 12 bytes`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, FRCT_HEADER_LEN);
  return {
    flags: bytes[0]!,
    window: (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!,
    seqno: dv.getUint32(4),
    ackno: dv.getUint32(8),
  };
}

/** The SDU after the FRCT header (a view, no copy). */
export function frctPayload(bytes: Uint8Array): Uint8Array {
  if (bytes.length < FRCT_HEADER_LEN) {
    throw new DecodeError("frct-short", `Cannot decode FRCT packet: ${bytes.length} < 12 bytes`);
  }
  return bytes.subarray(FRCT_HEADER_LEN);
}

/**
 * Overwrite the `ackno` of an encoded FRCT packet in place (used when a
 * stored packet is retransmitted, spec 03 §5 step 6).
 */
export function rewriteAckno(pkt: Uint8Array, ackno: number): void {
  checkU32(ackno, "ackno");
  if (pkt.length < FRCT_HEADER_LEN) throw new RangeError("Cannot rewrite ackno: packet too short");
  new DataView(pkt.buffer, pkt.byteOffset, FRCT_HEADER_LEN).setUint32(8, ackno);
}

/** Human-readable flags, e.g. `DATA|DRF|ACK|FC` (for logs). */
export function frctFlagsText(flags: number): string {
  const names = ["DATA", "DRF", "ACK", "FC", "RDVS", "FFGM", "MFGM", "0x80"];
  const out: string[] = [];
  for (let i = 0; i < 8; i++) if (flags & (1 << i)) out.push(names[i]!);
  return out.join("|") || "0";
}

export { FRCT_HEADER_LEN, FrctFlag } from "./constants.ts";
