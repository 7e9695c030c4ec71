/**
 * Finite-field Diffie-Hellman on the RFC 7919 groups (ffdhe2048/3072/4096)
 * for OAP (spec 04 §2.1, §6.1), through the system's libcrypto by FFI:
 * node:crypto in Deno has no ffdhe groups. Public keys travel as DER
 * SubjectPublicKeyInfo, the shared secret is libcrypto's unpadded
 * `EVP_PKEY_derive` output, as the reference does.
 *
 * @example
 * ```ts ignore
 * const a = ffdheGenerate("ffdhe2048"), b = ffdheGenerate("ffdhe2048");
 * ffdheDerive(a, b.spki); // same bytes as ffdheDerive(b, a.spki)
 * ```
 * @module
 */
import { openLibcrypto } from "./evp.ts";
import { addressOf, cString } from "../io/libc.ts";

const SYMBOLS = {
  EVP_PKEY_CTX_new_from_name: { parameters: ["pointer", "buffer", "pointer"], result: "pointer" },
  EVP_PKEY_CTX_new: { parameters: ["pointer", "pointer"], result: "pointer" },
  EVP_PKEY_CTX_free: { parameters: ["pointer"], result: "void" },
  EVP_PKEY_keygen_init: { parameters: ["pointer"], result: "i32" },
  EVP_PKEY_CTX_set_group_name: { parameters: ["pointer", "buffer"], result: "i32" },
  EVP_PKEY_generate: { parameters: ["pointer", "buffer"], result: "i32" },
  EVP_PKEY_free: { parameters: ["pointer"], result: "void" },
  EVP_PKEY_is_a: { parameters: ["pointer", "buffer"], result: "i32" },
  EVP_PKEY_get_group_name: { parameters: ["pointer", "buffer", "usize", "buffer"], result: "i32" },
  i2d_PUBKEY: { parameters: ["pointer", "buffer"], result: "i32" },
  d2i_PUBKEY: { parameters: ["pointer", "buffer", "i64"], result: "pointer" },
  EVP_PKEY_derive_init: { parameters: ["pointer"], result: "i32" },
  EVP_PKEY_derive_set_peer: { parameters: ["pointer", "pointer"], result: "i32" },
  EVP_PKEY_derive: { parameters: ["pointer", "buffer", "buffer"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

type Lib = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
let lib: Lib | null | undefined;

/** The FFDHE groups by name. */
export const FFDHE_GROUPS = ["ffdhe2048", "ffdhe3072", "ffdhe4096"] as const;
/** One of {@link FFDHE_GROUPS}. */
export type FfdheGroup = typeof FFDHE_GROUPS[number];

function c(): Lib | null {
  if (lib === undefined) lib = openLibcrypto(SYMBOLS).lib;
  return lib;
}

/** Can this thread do FFDHE (libcrypto usable)? */
export function ffdheAvailable(): boolean {
  return c() !== null;
}

const freeKey = new FinalizationRegistry<Deno.PointerObject>((p) => lib?.EVP_PKEY_free(p));

/** An ephemeral FFDHE key pair; the private half stays in libcrypto. */
export class FfdheKey {
  /** @internal */
  readonly pkey: Deno.PointerObject;
  /** The group. */
  readonly group: FfdheGroup;
  /** The public key, DER SubjectPublicKeyInfo. */
  readonly spki: Uint8Array;

  /** @internal */
  constructor(pkey: Deno.PointerObject, group: FfdheGroup, spki: Uint8Array) {
    this.pkey = pkey;
    this.group = group;
    this.spki = spki;
    freeKey.register(this, pkey);
  }
}

/** The pointer an out-parameter buffer holds. */
function pointerIn(b: BigUint64Array): Deno.PointerObject | null {
  return Deno.UnsafePointer.create(b[0]!);
}

function spkiOf(s: Lib, pkey: Deno.PointerObject): Uint8Array | undefined {
  const n = s.i2d_PUBKEY(pkey, null);
  if (n <= 0) return undefined;
  const der = new Uint8Array(n);
  const pp = new BigUint64Array([addressOf(der)]);
  return s.i2d_PUBKEY(pkey, new Uint8Array(pp.buffer)) === n ? der : undefined;
}

/** Generate a key pair in `group`. Throws Error when libcrypto is missing or fails. */
export function ffdheGenerate(group: FfdheGroup): FfdheKey {
  const s = c();
  if (!s) throw new Error("FFDHE needs the system's libcrypto");
  const ctx = s.EVP_PKEY_CTX_new_from_name(null, cString("DH"), null);
  if (!ctx) throw new Error("libcrypto has no DH");
  try {
    const out = new BigUint64Array(1);
    if (
      s.EVP_PKEY_keygen_init(ctx) !== 1 || s.EVP_PKEY_CTX_set_group_name(ctx, cString(group)) !== 1 ||
      s.EVP_PKEY_generate(ctx, new Uint8Array(out.buffer)) !== 1
    ) throw new Error(`libcrypto could not generate a ${group} key`);
    const pkey = pointerIn(out)!;
    const spki = spkiOf(s, pkey);
    if (!spki) {
      s.EVP_PKEY_free(pkey);
      throw new Error(`libcrypto could not encode a ${group} key`);
    }
    return new FfdheKey(pkey, group, spki);
  } finally {
    s.EVP_PKEY_CTX_free(ctx);
  }
}

/** Parse a DER public key; null if it is not one libcrypto reads. */
function parse(s: Lib, der: Uint8Array): Deno.PointerObject | null {
  if (der.length === 0 || der.length > 16384) return null;
  const pp = new BigUint64Array([addressOf(der)]);
  return s.d2i_PUBKEY(null, new Uint8Array(pp.buffer), BigInt(der.length));
}

/** The FFDHE group of a DER public key, or undefined (another key type, or unparsable). */
export function ffdheGroupOf(der: Uint8Array): FfdheGroup | undefined {
  const s = c();
  const pkey = s && parse(s, der);
  if (!s || !pkey) return undefined;
  try {
    if (s.EVP_PKEY_is_a(pkey, cString("DH")) !== 1) return undefined;
    const name = new Uint8Array(64), len = new BigUint64Array(1);
    if (s.EVP_PKEY_get_group_name(pkey, name, 64n, new Uint8Array(len.buffer)) !== 1) return undefined;
    const g = new TextDecoder().decode(name.subarray(0, Number(len[0]))) as FfdheGroup;
    return FFDHE_GROUPS.includes(g) ? g : undefined;
  } finally {
    s.EVP_PKEY_free(pkey);
  }
}

/**
 * The raw shared secret of `key` with the peer's DER public key.
 * Throws Error when the peer key is not a key of the same group.
 */
export function ffdheDerive(key: FfdheKey, peerDer: Uint8Array): Uint8Array {
  const s = c();
  if (!s) throw new Error("FFDHE needs the system's libcrypto");
  if (ffdheGroupOf(peerDer) !== key.group) throw new Error(`peer key is not a ${key.group} key`);
  const peer = parse(s, peerDer);
  if (!peer) throw new Error("unparsable peer key");
  const ctx = s.EVP_PKEY_CTX_new(key.pkey, null);
  try {
    const len = new BigUint64Array(1);
    const lb = new Uint8Array(len.buffer);
    if (
      !ctx || s.EVP_PKEY_derive_init(ctx) !== 1 || s.EVP_PKEY_derive_set_peer(ctx, peer) !== 1 ||
      s.EVP_PKEY_derive(ctx, null, lb) !== 1
    ) throw new Error("key agreement failed");
    const out = new Uint8Array(Number(len[0]));
    if (s.EVP_PKEY_derive(ctx, out, lb) !== 1) throw new Error("key agreement failed");
    return out.subarray(0, Number(len[0]));
  } finally {
    if (ctx) s.EVP_PKEY_CTX_free(ctx);
    s.EVP_PKEY_free(peer);
  }
}
