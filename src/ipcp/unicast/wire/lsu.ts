/**
 * The link-state update (`struct lsa`, spec 14 §1.2): 24 packed bytes,
 * big-endian, **destination first**: `d_addr u64 | s_addr u64 | seqno u64`.
 * Sent raw (no protobuf, no DT header) as one SDU on each MGMT flow.
 *
 * @example
 * ```ts
 * import { decodeLsu, encodeLsu } from "./lsu.ts";
 * const b = encodeLsu({ dAddr: 2n, sAddr: 1n, seqno: 0n });
 * decodeLsu(b).sAddr; // 1n
 * ```
 * @module
 */
import { DecodeError } from "../../../lib/errors.ts";
import { U64_MAX } from "../../../lib/qos.ts";

/** Size of an LSU; SDUs of any other length are ignored. */
export const LSU_LEN = 24;

/** One directed adjacency advertisement. */
export interface Lsu {
  /** Destination (neighbour) address of the directed link. */
  dAddr: bigint;
  /** Source address: the advertising node. */
  sAddr: bigint;
  /** Sequence number of this (sAddr, dAddr) link. */
  seqno: bigint;
}

/** Encode an LSU (24 bytes). */
export function encodeLsu(m: Lsu): Uint8Array {
  for (const [k, v] of [["dAddr", m.dAddr], ["sAddr", m.sAddr], ["seqno", m.seqno]] as const) {
    if (typeof v !== "bigint" || v < 0n || v > U64_MAX) {
      throw new RangeError(`Cannot encode lsu: ${k} ${v} is not a u64`);
    }
  }
  const out = new Uint8Array(LSU_LEN);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, m.dAddr);
  dv.setBigUint64(8, m.sAddr);
  dv.setBigUint64(16, m.seqno);
  return out;
}

/** Decode an LSU; anything but exactly 24 bytes is a DecodeError. */
export function decodeLsu(b: Uint8Array): Lsu {
  if (b.length !== LSU_LEN) {
    throw new DecodeError(
      b.length < LSU_LEN ? "lsu-truncated" : "lsu-oversized",
      `lsu of ${b.length} bytes, expected ${LSU_LEN}`,
    );
  }
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { dAddr: dv.getBigUint64(0), sAddr: dv.getBigUint64(8), seqno: dv.getBigUint64(16) };
}
