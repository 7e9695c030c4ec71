/**
 * Directory hash algorithms (spec 01 §2, spec 10 §1.4).
 * @module
 */
import { createHash } from "node:crypto";

/** `dir_hash_algo` wire values. */
export const HashAlgo = {
  SHA3_224: 0,
  SHA3_256: 1,
  SHA3_384: 2,
  SHA3_512: 3,
  CRC32: 4,
  MD5: 5,
} as const;
export type HashAlgo = typeof HashAlgo[keyof typeof HashAlgo];

const NODE_NAME: Record<number, string> = {
  0: "sha3-224",
  1: "sha3-256",
  2: "sha3-384",
  3: "sha3-512",
  5: "md5",
};

const LEN: Record<number, number> = { 0: 28, 1: 32, 2: 48, 3: 64, 4: 4, 5: 16 };

/** Length in bytes of a hash of the given algorithm. */
export function hashLen(algo: number): number {
  const l = LEN[algo];
  if (l === undefined) throw new RangeError(`unknown hash algorithm ${algo}`);
  return l;
}

const enc = new TextEncoder();

/** hash(name) over the name bytes without a terminating NUL. */
export function hashName(algo: number, name: string | Uint8Array): Uint8Array {
  const n = NODE_NAME[algo];
  if (!n) throw new RangeError(`unknown directory hash algorithm ${algo}`);
  const data = typeof name === "string" ? enc.encode(name) : name;
  return new Uint8Array(createHash(n).update(data).digest());
}

/** Lowercase hex of bytes. */
export function toHex(b: Uint8Array): string {
  let s = "";
  for (const x of b) s += x.toString(16).padStart(2, "0");
  return s;
}

/** Bytes from a hex string (even length, hex digits only). */
export function fromHex(h: string): Uint8Array {
  if (h.length % 2 !== 0 || /[^0-9a-fA-F]/.test(h)) throw new RangeError("bad hex string");
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** The 8-hex-digit short id used in log lines (first 4 bytes of the hash). */
export function shortHash(h: Uint8Array): string {
  return toHex(h.subarray(0, 4));
}

/** Names of hash algorithms as the CLI and config spell them. */
export const HASH_NAMES: Record<string, number> = {
  SHA3_224: 0,
  SHA3_256: 1,
  SHA3_384: 2,
  SHA3_512: 3,
};

/** Constant-time-ish byte equality. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}
