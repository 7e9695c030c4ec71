/**
 * Per-packet ciphers through the system's libcrypto (OpenSSL 3) by
 * synchronous FFI, with one reusable context per direction.
 *
 * node:crypto builds a new cipher object per packet (~4 µs for
 * ChaCha20-Poly1305, ~9 µs for AES-256-GCM per 1400 B in Deno 2.9.5,
 * most of it fixed cost); re-keying a kept EVP context with a fresh IV and
 * four FFI calls takes ~1.3 µs (ChaCha20-Poly1305) and ~0.5 µs (AES-256-GCM
 * with AES-NI). The wire format is the same; {@link PacketCrypt} falls back
 * to node:crypto when libcrypto is missing, FFI is not permitted, or
 * `OURO_CRYPTO=node` is set.
 *
 * @example
 * ```ts
 * import { EvpCipher } from "./evp.ts";
 * const c = EvpCipher.open("aes-256-gcm", 12, 16);
 * console.log(c ? "libcrypto" : "node:crypto fallback");
 * ```
 * @module
 */

import { cString } from "../io/libc.ts";

const SYMBOLS = {
  EVP_get_cipherbyname: { parameters: ["buffer"], result: "pointer" },
  EVP_CIPHER_CTX_new: { parameters: [], result: "pointer" },
  EVP_CIPHER_CTX_free: { parameters: ["pointer"], result: "void" },
  EVP_CipherInit_ex: {
    parameters: ["pointer", "pointer", "pointer", "buffer", "buffer", "i32"],
    result: "i32",
  },
  EVP_CipherUpdate: {
    parameters: ["pointer", "buffer", "buffer", "buffer", "i32"],
    result: "i32",
  },
  EVP_CipherFinal_ex: { parameters: ["pointer", "buffer", "buffer"], result: "i32" },
  EVP_CIPHER_CTX_ctrl: { parameters: ["pointer", "i32", "i32", "buffer"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

type Evp = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

const EVP_CTRL_AEAD_GET_TAG = 0x10;
const EVP_CTRL_AEAD_SET_TAG = 0x11;
const LIB_NAMES = ["libcrypto.so.3", "libcrypto.so"];

let evp: Evp | null | undefined;
let why = "";

/** Is permission `desc` granted without asking (never prompts)? */
function granted(desc: Deno.PermissionDescriptor): boolean {
  try {
    return Deno.permissions.querySync(desc).state === "granted";
  } catch {
    return false;
  }
}

/**
 * Bind `symbols` of the system's libcrypto in this isolate, or null when
 * it cannot be used (`OURO_CRYPTO=node`, not Linux, no FFI permission —
 * never prompted for —, no libcrypto.so.3); then `reason` says why.
 */
export function openLibcrypto<S extends Deno.ForeignLibraryInterface>(
  symbols: S,
): { lib: Deno.DynamicLibrary<S>["symbols"] | null; reason: string } {
  if (granted({ name: "env", variable: "OURO_CRYPTO" }) && Deno.env.get("OURO_CRYPTO") === "node") {
    return { lib: null, reason: "OURO_CRYPTO=node" };
  }
  if (Deno.build.os !== "linux") return { lib: null, reason: "not Linux" };
  if (!granted({ name: "ffi" })) return { lib: null, reason: "no FFI permission" };
  for (const name of LIB_NAMES) {
    try {
      return { lib: Deno.dlopen(name, symbols).symbols, reason: "" };
    } catch {
      // try the next name
    }
  }
  return { lib: null, reason: "libcrypto.so.3 not found" };
}

/** libcrypto of this isolate, or null (and {@link why} says why). */
function library(): Evp | null {
  if (evp === undefined) ({ lib: evp, reason: why } = openLibcrypto(SYMBOLS));
  return evp;
}

/** Which implementation per-packet ciphers use in this thread, and why. */
export function aeadBackend(): { name: "libcrypto" | "node:crypto"; reason: string } {
  return library() ? { name: "libcrypto", reason: "" } : { name: "node:crypto", reason: why };
}

const ctxFree = new FinalizationRegistry<[Deno.PointerObject, Deno.PointerObject]>(
  ([a, b]) => {
    evp?.EVP_CIPHER_CTX_free(a);
    evp?.EVP_CIPHER_CTX_free(b);
  },
);

/**
 * One cipher with an encryption and a decryption context that are kept
 * and re-initialised per packet with its IV (and the key only when it
 * changes: after a rotation or when trying the previous key).
 */
export class EvpCipher {
  readonly #s: Evp;
  readonly #enc: Deno.PointerObject;
  readonly #dec: Deno.PointerObject;
  readonly #tagLen: number;
  #encKey: Uint8Array | undefined;
  #decKey: Uint8Array | undefined;
  readonly #outl = new Uint8Array(4);
  /** Where Final may write: AEAD and CTR modes write nothing there. */
  readonly #spare = new Uint8Array(32);

  private constructor(s: Evp, enc: Deno.PointerObject, dec: Deno.PointerObject, tagLen: number) {
    this.#s = s;
    this.#enc = enc;
    this.#dec = dec;
    this.#tagLen = tagLen;
  }

  /**
   * The cipher named as in OpenSSL (`aes-256-gcm`, `chacha20-poly1305`,
   * `aes-128-ctr`, …), or undefined when libcrypto is unavailable or lacks
   * it, or its IV length is not `ivLen` (callers then use node:crypto).
   */
  static open(name: string, ivLen: number, tagLen: number): EvpCipher | undefined {
    const s = library();
    if (!s) return undefined;
    const cipher = s.EVP_get_cipherbyname(cString(name));
    if (!cipher) return undefined;
    const enc = s.EVP_CIPHER_CTX_new(), dec = s.EVP_CIPHER_CTX_new();
    const free = () => {
      if (enc) s.EVP_CIPHER_CTX_free(enc);
      if (dec) s.EVP_CIPHER_CTX_free(dec);
    };
    if (!enc || !dec) {
      free();
      return undefined;
    }
    // bind the cipher now; key and IV come per packet (ivLen checked by a dry run)
    const key = new Uint8Array(32), iv = new Uint8Array(ivLen);
    if (
      s.EVP_CipherInit_ex(enc, cipher, null, key, iv, 1) !== 1 ||
      s.EVP_CipherInit_ex(dec, cipher, null, key, iv, 0) !== 1
    ) {
      free();
      return undefined;
    }
    const c = new EvpCipher(s, enc, dec, tagLen);
    ctxFree.register(c, [enc, dec]);
    return c;
  }

  /**
   * Encrypt `plain` with `key` and `iv` into `ct` (same length) and the tag
   * into `tag` (AEAD only). Returns false if libcrypto reports an error.
   */
  seal(
    key: Uint8Array,
    iv: Uint8Array,
    plain: Uint8Array,
    ct: Uint8Array,
    tag: Uint8Array,
  ): boolean {
    const s = this.#s, ctx = this.#enc, outl = this.#outl;
    const k = key === this.#encKey ? null : key;
    if (s.EVP_CipherInit_ex(ctx, null, null, k, iv, 1) !== 1) return false;
    this.#encKey = key;
    if (plain.length > 0 && s.EVP_CipherUpdate(ctx, ct, outl, plain, plain.length) !== 1) {
      return false;
    }
    if (s.EVP_CipherFinal_ex(ctx, this.#spare, outl) !== 1) return false;
    return this.#tagLen === 0 ||
      s.EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, this.#tagLen, tag) === 1;
  }

  /**
   * Decrypt `ct` with `key`, `iv` and `tag` into `plain` (same length).
   * Returns false when authentication fails (then `plain` holds garbage).
   */
  open(
    key: Uint8Array,
    iv: Uint8Array,
    ct: Uint8Array,
    tag: Uint8Array,
    plain: Uint8Array,
  ): boolean {
    const s = this.#s, ctx = this.#dec, outl = this.#outl;
    const k = key === this.#decKey ? null : key;
    if (s.EVP_CipherInit_ex(ctx, null, null, k, iv, 0) !== 1) {
      this.#decKey = undefined;
      return false;
    }
    this.#decKey = key;
    if (
      this.#tagLen > 0 &&
      s.EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, this.#tagLen, tag) !== 1
    ) return false;
    if (ct.length > 0 && s.EVP_CipherUpdate(ctx, plain, outl, ct, ct.length) !== 1) return false;
    return s.EVP_CipherFinal_ex(ctx, this.#spare, outl) === 1;
  }
}

/**
 * The AEAD that `encryption: true` asks for: AES-256-GCM where libcrypto
 * runs flow ciphers (AES-NI: the cheapest here), ChaCha20-Poly1305 on the
 * node:crypto fallback (where AES-GCM costs twice as much).
 */
export function fastestAead(): "aes-256-gcm" | "chacha20-poly1305" {
  return library() ? "aes-256-gcm" : "chacha20-poly1305";
}
