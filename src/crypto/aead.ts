/**
 * Per-packet encryption of flows (spec 04 §8):
 *
 * ```
 * | IV (12 or 16, bit 7 of byte 0 = key phase) | ciphertext (n) | tag (16, AEAD only) |
 * ```
 *
 * Random IV per packet, no associated data, one context for both
 * directions, key rotation every 2^20 packets ({@link KeyRotation}).
 * Runs on the system's libcrypto through FFI when it can ({@link EvpCipher},
 * 3–15× cheaper per packet), on node:crypto otherwise; same bytes either way.
 * @module
 */
import {
  type CipherGCM,
  createCipheriv,
  createDecipheriv,
  type DecipherGCM,
  randomFillSync,
} from "node:crypto";
import { Errno, OuroError } from "../lib/errors.ts";
import { cipherByNid, type CipherInfo, CipherNid } from "./nid.ts";
import { KeyRotation, type RotationStart } from "./rotation.ts";
import { SYM_KEY_LEN } from "./kdf.ts";
import { aeadBackend, EvpCipher } from "./evp.ts";

/** Ciphers node:crypto in Deno cannot run (aes-192-gcm is missing there; libcrypto has it). */
const NODE_LACKS = new Set<number>([CipherNid.AES_192_GCM]);

/** Is this cipher NID usable for per-packet encryption on this platform? */
export function cipherSupported(nid: number): boolean {
  return cipherByNid(nid) !== undefined && (!NODE_LACKS.has(nid) || aeadBackend().name === "libcrypto");
}

const IV_POOL_LEN = 4096;
/**
 * Sealed packets are carved out of shared slabs of this size: a fresh
 * `Uint8Array` of packet size costs an off-heap allocation each (about as
 * much as sealing a small packet), a view into a slab does not. Views never
 * overlap, so callers may keep them; a slab is freed when its last view is.
 */
const SLAB_BYTES = 64 * 1024;
let slab = new ArrayBuffer(SLAB_BYTES);
let slabPos = 0;

/** A fresh, zeroed n-byte array that shares no bytes with any earlier one. */
function take(n: number): Uint8Array {
  if (n > SLAB_BYTES / 4) return new Uint8Array(n);
  if (slabPos + n > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    slabPos = 0;
  }
  const v = new Uint8Array(slab, slabPos, n);
  slabPos = (slabPos + n + 7) & ~7; // keep views 8-byte aligned
  return v;
}

// node's overloads are keyed on literal cipher names; all ours share this shape.
type Opts = { authTagLength: number } | undefined;
const newCipher = createCipheriv as unknown as (
  n: string,
  k: Uint8Array,
  iv: Uint8Array,
  o: Opts,
) => CipherGCM;
const newDecipher = createDecipheriv as unknown as (
  n: string,
  k: Uint8Array,
  iv: Uint8Array,
  o: Opts,
) => DecipherGCM;

/**
 * Encryption context of one flow.
 *
 * @example
 * ```ts
 * import { PacketCrypt } from "./aead.ts";
 * const key = new Uint8Array(32);
 * const a = new PacketCrypt(901, key), b = new PacketCrypt(901, key);
 * const pkt = a.encrypt(new TextEncoder().encode("hello"));
 * console.log(pkt.length, new TextDecoder().decode(b.decrypt(pkt))); // 33 hello
 * ```
 */
export class PacketCrypt {
  /** The cipher in use. */
  readonly cipher: CipherInfo;
  /** Bytes added per packet: IV + tag. */
  readonly overhead: number;
  /** Key rotation state (exposed for tests and statistics). */
  readonly rotation: KeyRotation;
  readonly #aead: boolean;
  readonly #opts: Opts;
  readonly #name: string;
  readonly #keyLen: number;
  readonly #ivLen: number;
  readonly #tagLen: number;
  #pool = new Uint8Array(IV_POOL_LEN);
  #poolPos = IV_POOL_LEN;
  // the last rotation key seen and its cipher-length prefix (a view per packet costs)
  #keySrc: Uint8Array | undefined;
  #keyUse: Uint8Array | undefined;
  // IV and tag handed to node:crypto, which copies them during the call
  readonly #iv: Uint8Array;
  readonly #tag: Uint8Array;
  // libcrypto contexts, or undefined: node:crypto per packet
  readonly #evp: EvpCipher | undefined;

  /**
   * Create the context of one flow from the OAP result.
   * @param cipherNid negotiated cipher NID (non-zero)
   * @param key the 32-byte symmetric key from OAP (shorter ciphers use its prefix)
   * @param start where key rotation starts (tests)
   * @param backend force node:crypto even where libcrypto is available
   * @throws OuroError ECRYPT for an unknown cipher or a key that is not 32 bytes,
   *   ENOTSUP for aes-192-gcm without libcrypto (node:crypto lacks it)
   */
  constructor(
    cipherNid: number,
    key: Uint8Array,
    start?: RotationStart,
    backend?: "node:crypto",
  ) {
    const c = cipherByNid(cipherNid);
    if (!c) {
      throw new OuroError(
        Errno.ECRYPT,
        `Cannot set up encryption: unknown cipher NID ${cipherNid}`,
      );
    }
    if (key.length !== SYM_KEY_LEN) {
      throw new OuroError(
        Errno.ECRYPT,
        `Cannot set up encryption: key must be 32 bytes, got ${key.length}`,
      );
    }
    this.cipher = c;
    this.#aead = c.tagLen > 0;
    this.#opts = this.#aead ? { authTagLength: c.tagLen } : undefined;
    this.overhead = c.ivLen + c.tagLen;
    this.#name = c.name;
    this.#keyLen = c.keyLen;
    this.#ivLen = c.ivLen;
    this.#tagLen = c.tagLen;
    this.#iv = new Uint8Array(c.ivLen);
    this.#tag = new Uint8Array(c.tagLen);
    this.rotation = new KeyRotation(key, start);
    this.#evp = backend ? undefined : EvpCipher.open(c.name, c.ivLen, c.tagLen);
    if (!this.#evp && NODE_LACKS.has(cipherNid)) {
      throw new OuroError(
        Errno.ENOTSUP,
        `Cannot set up encryption: ${c.name} needs the system's libcrypto (${aeadBackend().reason || "forced node:crypto"})`,
      );
    }
  }

  /** Which implementation runs this flow's cipher. */
  get backend(): "libcrypto" | "node:crypto" {
    return this.#evp ? "libcrypto" : "node:crypto";
  }

  /** The key bytes the cipher takes: all 32, or the prefix for 128-bit keys. */
  #keyBytes(key: Uint8Array): Uint8Array {
    if (key.length === this.#keyLen) return key;
    if (key !== this.#keySrc) {
      this.#keySrc = key;
      this.#keyUse = key.subarray(0, this.#keyLen);
    }
    return this.#keyUse!;
  }

  /** Random IV into `dst[0, n)`, from a pool refilled 4 KiB at a time. */
  #fillIv(dst: Uint8Array, n: number): void {
    if (this.#poolPos + n > IV_POOL_LEN) {
      randomFillSync(this.#pool);
      this.#poolPos = 0;
    }
    const pool = this.#pool;
    for (let i = 0, j = this.#poolPos; i < n; i++, j++) {
      dst[i] = pool[j]!;
      pool[j] = 0; // never reuse pooled randomness
    }
    this.#poolPos += n;
  }

  /**
   * Encrypt one packet: returns IV ‖ ciphertext ‖ tag, in a new array
   * (a view of a shared slab that no other packet overlaps).
   */
  encrypt(plain: Uint8Array): Uint8Array {
    const out = take(this.overhead + plain.length);
    this.sealInto(plain, out);
    return out;
  }

  /**
   * Encrypt one packet into `out` (at least {@link PacketCrypt.overhead}
   * bytes longer than `plain`, not overlapping it): IV ‖ ciphertext ‖ tag.
   * Returns the bytes written. For a caller that has its own send buffer.
   */
  sealInto(plain: Uint8Array, out: Uint8Array): number {
    const ivLen = this.#ivLen, n = plain.length, iv = this.#iv, len = this.overhead + n;
    if (out.length < len) throw new RangeError(`Cannot encrypt: ${out.length} bytes of room for ${len}`);
    const { key, phaseBit } = this.rotation.nextTx();
    this.#fillIv(iv, ivLen);
    iv[0] = (iv[0]! & 0x7f) | (phaseBit << 7);
    for (let i = 0; i < ivLen; i++) out[i] = iv[i]!;
    const k = this.#keyBytes(key);
    const tagAt = ivLen + n;
    if (this.#evp) {
      const ok = this.#evp.seal(k, iv, plain, out.subarray(ivLen, tagAt), out.subarray(tagAt, len));
      if (!ok) throw new OuroError(Errno.ECRYPT, `Cannot encrypt: libcrypto ${this.#name} failed`);
      return len;
    }
    const c = newCipher(this.#name, k, iv, this.#opts);
    out.set(c.update(plain), ivLen);
    c.final(); // stream modes: nothing left over
    if (this.#aead) out.set(c.getAuthTag(), tagAt);
    return len;
  }

  /**
   * Decrypt one packet. Returns the plaintext (a new array), or undefined
   * if the packet must be dropped (shorter than IV + tag, or authentication
   * failed with both the current and the previous key).
   */
  decrypt(pkt: Uint8Array): Uint8Array | undefined {
    const ivLen = this.#ivLen, tagLen = this.#tagLen, end = pkt.length - tagLen;
    if (end < ivLen) return undefined;
    const keys = this.rotation.nextRx((pkt[0]! >> 7) as 0 | 1);
    const iv = this.#iv, tag = this.#tag;
    for (let i = 0; i < ivLen; i++) iv[i] = pkt[i]!;
    for (let i = 0; i < tagLen; i++) tag[i] = pkt[end + i]!;
    const ct = pkt.subarray(ivLen, end);
    if (this.#evp) {
      const out = take(ct.length);
      for (let i = 0; i < keys.length; i++) {
        if (this.#evp.open(this.#keyBytes(keys[i]!), iv, ct, tag, out)) return out;
      }
      return undefined;
    }
    for (let i = 0; i < keys.length; i++) {
      try {
        const d = newDecipher(this.#name, this.#keyBytes(keys[i]!), iv, this.#opts);
        if (this.#aead) d.setAuthTag(tag);
        const body = d.update(ct);
        d.final(); // verifies the tag; stream modes leave nothing over
        // a plain Uint8Array view: Buffer's slice() would not copy for the app
        return new Uint8Array(body.buffer, body.byteOffset, body.length);
      } catch {
        // authentication failure: try the previous key, then drop
      }
    }
    return undefined;
  }
}
