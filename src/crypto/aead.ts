/**
 * Per-packet encryption of flows (spec 04 §8):
 *
 * ```
 * | IV (12 or 16, bit 7 of byte 0 = key phase) | ciphertext (n) | tag (16, AEAD only) |
 * ```
 *
 * Random IV per packet, no associated data, one context for both
 * directions, key rotation every 2^20 packets ({@link KeyRotation}).
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

/** Ciphers node:crypto in Deno cannot run (aes-192-gcm is missing there). */
const UNSUPPORTED = new Set<number>([CipherNid.AES_192_GCM]);

/** Is this cipher NID usable for per-packet encryption on this platform? */
export function cipherSupported(nid: number): boolean {
  return cipherByNid(nid) !== undefined && !UNSUPPORTED.has(nid);
}

const IV_POOL_LEN = 4096;

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
  #pool = new Uint8Array(IV_POOL_LEN);
  #poolPos = IV_POOL_LEN;

  /**
   * Create the context of one flow from the OAP result.
   * @param cipherNid negotiated cipher NID (non-zero)
   * @param key the 32-byte symmetric key from OAP (shorter ciphers use its prefix)
   * @throws OuroError ECRYPT for an unknown cipher or a key that is not 32 bytes,
   *   ENOTSUP for a cipher this platform lacks (aes-192-gcm)
   */
  constructor(cipherNid: number, key: Uint8Array, start?: RotationStart) {
    const c = cipherByNid(cipherNid);
    if (!c) {
      throw new OuroError(
        Errno.ECRYPT,
        `Cannot set up encryption: unknown cipher NID ${cipherNid}`,
      );
    }
    if (UNSUPPORTED.has(cipherNid)) {
      throw new OuroError(
        Errno.ENOTSUP,
        `Cannot set up encryption: ${c.name} is not available on this platform`,
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
    this.rotation = new KeyRotation(key, start);
  }

  #fillIv(dst: Uint8Array): void {
    const n = dst.length;
    if (this.#poolPos + n > IV_POOL_LEN) {
      randomFillSync(this.#pool);
      this.#poolPos = 0;
    }
    dst.set(this.#pool.subarray(this.#poolPos, this.#poolPos + n));
    // Never reuse pooled randomness.
    this.#pool.fill(0, this.#poolPos, this.#poolPos + n);
    this.#poolPos += n;
  }

  /** Encrypt one packet: returns IV ‖ ciphertext ‖ tag. */
  encrypt(plain: Uint8Array): Uint8Array {
    const { ivLen, tagLen, name, keyLen } = this.cipher;
    const { key, phaseBit } = this.rotation.nextTx();
    const out = new Uint8Array(ivLen + plain.length + tagLen);
    const iv = out.subarray(0, ivLen);
    this.#fillIv(iv);
    iv[0] = (iv[0]! & 0x7f) | (phaseBit << 7);
    const c = newCipher(name, key.subarray(0, keyLen), iv, this.#opts);
    const body = c.update(plain);
    out.set(body, ivLen);
    const fin = c.final();
    if (fin.length) out.set(fin, ivLen + body.length);
    if (this.#aead) out.set(c.getAuthTag(), ivLen + plain.length);
    return out;
  }

  /**
   * Decrypt one packet. Returns the plaintext, or undefined if the packet
   * must be dropped (shorter than IV + tag, or authentication failed with
   * both the current and the previous key).
   */
  decrypt(pkt: Uint8Array): Uint8Array | undefined {
    const { ivLen, tagLen, name, keyLen } = this.cipher;
    if (pkt.length < ivLen + tagLen) return undefined;
    const iv = pkt.subarray(0, ivLen);
    const ct = pkt.subarray(ivLen, pkt.length - tagLen);
    const tag = pkt.subarray(pkt.length - tagLen);
    const keys = this.rotation.nextRx((iv[0]! >> 7) as 0 | 1);
    for (const key of keys) {
      try {
        const d = newDecipher(name, key.subarray(0, keyLen), iv, this.#opts);
        if (this.#aead) d.setAuthTag(tag);
        const body = d.update(ct);
        const fin = d.final();
        if (fin.length === 0) return new Uint8Array(body.buffer, body.byteOffset, body.length);
        const out = new Uint8Array(body.length + fin.length);
        out.set(body);
        out.set(fin, body.length);
        return out;
      } catch {
        // authentication failure: try the previous key, then drop
      }
    }
    return undefined;
  }
}
