/**
 * Key derivation of OAP and per-packet key rotation (spec 04 §6, §8.1):
 * HKDF (RFC 5869, extract + expand) with the negotiated digest.
 * @module
 */
import { createHash, createHmac } from "node:crypto";
import { Errno, OuroError } from "../lib/errors.ts";
import { digestByNid } from "./nid.ts";

/** Length of the symmetric key handed to both applications. */
export const SYM_KEY_LEN = 32;
/** HKDF info for ECDH/FFDHE-derived keys. */
export const INFO_DHE = "o7s-ossl-dhe";
/** HKDF info for KEM-derived keys. */
export const INFO_KEM = "o7s-ossl-encap";
/** HKDF info for per-packet key rotation. */
export const INFO_ROTATION = "o7s-key-rotation";

const te = new TextEncoder();

/**
 * HKDF-Extract-then-Expand (RFC 5869) with the node:crypto digest `digest`
 * (e.g. `"sha256"`, `"blake2s256"`), returning `len` bytes.
 */
export function hkdf(
  digest: string,
  ikm: Uint8Array,
  salt: Uint8Array,
  info: Uint8Array | string,
  len: number,
): Uint8Array {
  const infoB = typeof info === "string" ? te.encode(info) : info;
  const prk = createHmac(digest, salt).update(ikm).digest();
  const out = new Uint8Array(len);
  let t: Uint8Array = new Uint8Array(0);
  let off = 0;
  for (let i = 1; off < len; i++) {
    if (i > 255) throw new RangeError("Cannot derive key: HKDF output too long");
    t = createHmac(digest, prk).update(t).update(infoB).update(new Uint8Array([i])).digest();
    out.set(t.subarray(0, Math.min(t.length, len - off)), off);
    off += t.length;
  }
  return out;
}

/** node:crypto digest name for a KDF NID; 0 and unknown NIDs fall back to SHA-256. */
export function kdfDigestName(kdfNid: number): string {
  return digestByNid(kdfNid)?.name ?? "sha256";
}

function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

/** Byte-wise `memcmp` order over the common length, shorter first on a tie. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** DHE salt: SHA-256(min(A,B) ‖ max(A,B)) over the two DER SPKI public keys. */
export function dheSalt(a: Uint8Array, b: Uint8Array): Uint8Array {
  return compareBytes(a, b) <= 0 ? sha256(a, b) : sha256(b, a);
}

/**
 * Symmetric key from an ECDH/FFDHE agreement (spec 04 §6.1).
 * `ourPub`/`theirPub` are the DER SubjectPublicKeyInfo encodings.
 * Throws OuroError(ECRYPT) if the shared secret is shorter than 32 bytes.
 *
 * @example
 * ```ts
 * import { deriveDheKey } from "./kdf.ts";
 * const k = deriveDheKey(672, new Uint8Array(32), new Uint8Array([1]), new Uint8Array([2]));
 * console.log(k.length); // 32
 * ```
 */
export function deriveDheKey(
  kdfNid: number,
  sharedSecret: Uint8Array,
  ourPub: Uint8Array,
  theirPub: Uint8Array,
): Uint8Array {
  if (sharedSecret.length < SYM_KEY_LEN) {
    throw new OuroError(
      Errno.ECRYPT,
      `Cannot derive key: shared secret of ${sharedSecret.length} < 32 bytes`,
    );
  }
  return hkdf(
    kdfDigestName(kdfNid),
    sharedSecret,
    dheSalt(ourPub, theirPub),
    INFO_DHE,
    SYM_KEY_LEN,
  );
}

/**
 * Symmetric key from a KEM shared secret (spec 04 §6.2). `encapPub` is the
 * public key that was encapsulated to (DER SPKI for ML-KEM, raw for hybrids).
 */
export function deriveKemKey(
  kdfNid: number,
  sharedSecret: Uint8Array,
  encapPub: Uint8Array,
): Uint8Array {
  return hkdf(kdfDigestName(kdfNid), sharedSecret, sha256(encapPub), INFO_KEM, SYM_KEY_LEN);
}

/** Salt of the key-rotation chain: SHA-256(initial key). */
export function rotationSalt(initialKey: Uint8Array): Uint8Array {
  return sha256(initialKey);
}

/** Next key of the rotation chain: HKDF-SHA256(ikm = prv, salt, "o7s-key-rotation", 32). */
export function rotateKey(prv: Uint8Array, salt: Uint8Array): Uint8Array {
  return hkdf("sha256", prv, salt, INFO_ROTATION, SYM_KEY_LEN);
}
