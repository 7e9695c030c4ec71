/**
 * DHT node ids and keys (spec 13 §1, §4): byte strings of the directory hash
 * length, compared by XOR distance.
 *
 * @example
 * ```ts
 * import { distance, randomId } from "./id.ts";
 * const a = randomId(32);
 * distance(a, a); // 0n
 * ```
 * @module
 */
import { toHex } from "../../../lib/hash.ts";
import { DHT_MIN_KEY_BYTES } from "./constants.ts";

/** A node id or key. */
export type DhtId = Uint8Array;

/** A DHT contact: a node id and the unicast address of that node (≤ 4 bytes, a `number`). */
export interface DhtPeer {
  /** Node id. */
  id: DhtId;
  /** Unicast address (non-zero). */
  addr: number;
}

/** Fresh random id of `len` bytes (≥ 8). */
export function randomId(len: number): DhtId {
  if (!Number.isInteger(len) || len < DHT_MIN_KEY_BYTES) {
    throw new RangeError(`Cannot create dht id: length ${len} < ${DHT_MIN_KEY_BYTES}`);
  }
  return crypto.getRandomValues(new Uint8Array(len));
}

/** Random non-zero u64 cookie. */
export function randomCookie(): bigint {
  const b = new BigUint64Array(1);
  do crypto.getRandomValues(b); while (b[0] === 0n);
  return b[0]!;
}

/** The reference's distance: first 8 bytes of `a XOR b`, big-endian u64. */
export function distance(a: DhtId, b: DhtId): bigint {
  let d = 0n;
  for (let i = 0; i < 8; i++) d = (d << 8n) | BigInt(((a[i] ?? 0) ^ (b[i] ?? 0)) & 0xff);
  return d;
}

/**
 * Order `a` and `b` by XOR distance to `key` over all bytes (refines
 * {@link distance}): negative if `a` is closer.
 */
export function compareDistance(key: DhtId, a: DhtId, b: DhtId): number {
  const n = Math.max(key.length, a.length, b.length);
  for (let i = 0; i < n; i++) {
    const k = key[i] ?? 0;
    const x = (a[i] ?? 0) ^ k, y = (b[i] ?? 0) ^ k;
    if (x !== y) return x - y;
  }
  return 0;
}

/** Byte equality of two ids. */
export function idEquals(a: DhtId, b: DhtId): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Map key for an id (lower-case hex). */
export function idKey(id: DhtId): string {
  return toHex(id);
}
