/**
 * OpenSSL NIDs fixed on the OAP wire (spec 04 §2.1): ciphers, key
 * exchanges and digests with their sizes and negotiation ranks.
 * @module
 */

/** A per-packet cipher. */
export interface CipherInfo {
  /** OpenSSL NID on the wire. */
  readonly nid: number;
  /** Name as in `enc.conf` and node:crypto. */
  readonly name: string;
  /** Key bytes used (prefix of the 32-byte derived key). */
  readonly keyLen: number;
  /** IV bytes at the start of every packet. */
  readonly ivLen: number;
  /** Authentication tag bytes at the end (0 = not AEAD). */
  readonly tagLen: number;
  /** Negotiation rank, higher = stronger (0 = none). */
  readonly rank: number;
}

/** Kinds of key exchange. */
export type KexKind = "ffdhe" | "ecdh" | "kem" | "hybrid-kem";

/** A key-exchange algorithm (carried implicitly by the key, not by a NID field). */
export interface KexInfo {
  /** OpenSSL NID (Ouroboros-private for the hybrids). */
  readonly nid: number;
  /** Name as in `enc.conf`. */
  readonly name: string;
  /** DH, KEM or hybrid KEM. */
  readonly kind: KexKind;
  /** Negotiation rank, higher = stronger. */
  readonly rank: number;
}

/** A digest (KDF hash, signature digest, request hash). */
export interface DigestInfo {
  /** OpenSSL NID on the wire. */
  readonly nid: number;
  /** Name as in `enc.conf` and node:crypto. */
  readonly name: string;
  /** Output length in bytes. */
  readonly len: number;
  /** Negotiation rank, higher = stronger. */
  readonly rank: number;
}

/** Cipher NIDs. */
export const CipherNid = {
  NONE: 0,
  AES_128_CTR: 904,
  AES_192_CTR: 905,
  AES_256_CTR: 906,
  AES_128_GCM: 895,
  AES_192_GCM: 898,
  AES_256_GCM: 901,
  CHACHA20_POLY1305: 1018,
} as const;

/** Key-exchange NIDs. */
export const KexNid = {
  NONE: 0,
  FFDHE2048: 1126,
  PRIME256V1: 415,
  X25519: 1034,
  FFDHE3072: 1127,
  SECP384R1: 715,
  FFDHE4096: 1128,
  X448: 1035,
  SECP521R1: 716,
  ML_KEM_512: 1454,
  ML_KEM_768: 1455,
  ML_KEM_1024: 1456,
  X25519MLKEM768: 2053,
  X448MLKEM1024: 2054,
} as const;

/** Digest NIDs. */
export const DigestNid = {
  NONE: 0,
  BLAKE2S256: 1057,
  SHA256: 672,
  SHA3_256: 1096,
  SHA384: 673,
  SHA3_384: 1097,
  BLAKE2B512: 1056,
  SHA512: 674,
  SHA3_512: 1098,
} as const;

function table<T extends { nid: number; name: string }>(rows: T[]) {
  return {
    byNid: new Map(rows.map((r) => [r.nid, r])),
    byName: new Map(rows.map((r) => [r.name, r])),
  };
}

const C = (
  nid: number,
  name: string,
  keyLen: number,
  ivLen: number,
  tagLen: number,
  rank: number,
): CipherInfo => ({ nid, name, keyLen, ivLen, tagLen, rank });
const CIPHERS = table<CipherInfo>([
  C(904, "aes-128-ctr", 16, 16, 0, 1),
  C(905, "aes-192-ctr", 24, 16, 0, 2),
  C(906, "aes-256-ctr", 32, 16, 0, 3),
  C(895, "aes-128-gcm", 16, 12, 16, 4),
  C(898, "aes-192-gcm", 24, 12, 16, 5),
  C(901, "aes-256-gcm", 32, 12, 16, 6),
  C(1018, "chacha20-poly1305", 32, 12, 16, 7),
]);

const K = (nid: number, name: string, kind: KexKind, rank: number): KexInfo => ({
  nid,
  name,
  kind,
  rank,
});
const KEXES = table<KexInfo>([
  K(1126, "ffdhe2048", "ffdhe", 1),
  K(415, "prime256v1", "ecdh", 2),
  K(1034, "X25519", "ecdh", 3),
  K(1127, "ffdhe3072", "ffdhe", 4),
  K(715, "secp384r1", "ecdh", 5),
  K(1128, "ffdhe4096", "ffdhe", 6),
  K(1035, "X448", "ecdh", 7),
  K(716, "secp521r1", "ecdh", 8),
  K(1454, "ML-KEM-512", "kem", 9),
  K(1455, "ML-KEM-768", "kem", 10),
  K(1456, "ML-KEM-1024", "kem", 11),
  K(2053, "X25519MLKEM768", "hybrid-kem", 12),
  K(2054, "X448MLKEM1024", "hybrid-kem", 13),
]);

const D = (nid: number, name: string, len: number, rank: number): DigestInfo => ({
  nid,
  name,
  len,
  rank,
});
const DIGESTS = table<DigestInfo>([
  D(1057, "blake2s256", 32, 1),
  D(672, "sha256", 32, 2),
  D(1096, "sha3-256", 32, 3),
  D(673, "sha384", 48, 4),
  D(1097, "sha3-384", 48, 5),
  D(1056, "blake2b512", 64, 6),
  D(674, "sha512", 64, 7),
  D(1098, "sha3-512", 64, 8),
]);

/** Cipher by NID, or undefined (also for 0). */
export function cipherByNid(nid: number): CipherInfo | undefined {
  return CIPHERS.byNid.get(nid);
}
/** Cipher by `enc.conf` name, or undefined. */
export function cipherByName(name: string): CipherInfo | undefined {
  return CIPHERS.byName.get(name);
}
/** Key exchange by NID, or undefined. */
export function kexByNid(nid: number): KexInfo | undefined {
  return KEXES.byNid.get(nid);
}
/** Key exchange by `enc.conf` name, or undefined. */
export function kexByName(name: string): KexInfo | undefined {
  return KEXES.byName.get(name);
}
/** Digest by NID, or undefined. */
export function digestByNid(nid: number): DigestInfo | undefined {
  return DIGESTS.byNid.get(nid);
}
/** Digest by `enc.conf` name, or undefined. */
export function digestByName(name: string): DigestInfo | undefined {
  return DIGESTS.byName.get(name);
}

/** Rank of a cipher NID (0 for none/unknown). */
export function cipherRank(nid: number): number {
  return cipherByNid(nid)?.rank ?? 0;
}
/** Rank of a key-exchange NID (0 for none/unknown). */
export function kexRank(nid: number): number {
  return kexByNid(nid)?.rank ?? 0;
}
/** Rank of a digest NID (0 for none/unknown). */
export function digestRank(nid: number): number {
  return digestByNid(nid)?.rank ?? 0;
}

/** Is `nid` 0 or a known cipher? (what the OAP decoder accepts) */
export function isValidCipherNid(nid: number): boolean {
  return nid === 0 || CIPHERS.byNid.has(nid);
}
/** Is `nid` 0 or a known digest? */
export function isValidDigestNid(nid: number): boolean {
  return nid === 0 || DIGESTS.byNid.has(nid);
}

/** All ciphers (for listings). */
export const ALL_CIPHERS: readonly CipherInfo[] = [...CIPHERS.byNid.values()];
/** All key exchanges. */
export const ALL_KEXES: readonly KexInfo[] = [...KEXES.byNid.values()];
/** All digests. */
export const ALL_DIGESTS: readonly DigestInfo[] = [...DIGESTS.byNid.values()];
