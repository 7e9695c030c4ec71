/**
 * Key exchange of OAP (spec 04 §4–§6): ephemeral ECDH (P-256, P-384,
 * P-521, X25519, X448) with DER SubjectPublicKeyInfo keys, ML-KEM-512/768/
 * 1024 (WebCrypto) with DER SPKI keys, and the hybrids X25519MLKEM768 /
 * X448MLKEM1024 with raw encodings (ML-KEM part first), and FFDHE
 * (ffdhe2048/3072/4096) with DER SPKI keys where the system's libcrypto
 * can be used (`ffdhe.ts`: node:crypto in Deno has no ffdhe groups).
 *
 * All functions are async because ML-KEM runs on WebCrypto. Failures are
 * `OuroError(ECRYPT)` (bad peer key, unsupported algorithm).
 * @module
 */
import { Buffer } from "node:buffer";
import { createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject } from "node:crypto";
import { Errno, OuroError } from "../lib/errors.ts";
import { deriveDheKey, deriveKemKey } from "./kdf.ts";
import { kexByNid, KexNid } from "./nid.ts";
import { ffdheAvailable, ffdheDerive, ffdheGenerate, type FfdheGroup, ffdheGroupOf, type FfdheKey } from "./ffdhe.ts";

/** An ephemeral (or loaded) key pair for one handshake. */
export interface KexKeyPair {
  /** Key-exchange NID (spec 04 §2.1). */
  readonly nid: number;
  /** Public key as sent in the OAP `kex` field: DER SPKI, or raw for hybrids. */
  readonly publicKey: Uint8Array;
  /** Whether {@link publicKey} is raw (OAP `kex_len` F bit). */
  readonly raw: boolean;
  /** @internal private parts */
  readonly priv: { ec?: KeyObject; kem?: CryptoKey; dh?: FfdheKey };
}

interface EcAlg {
  type: "ec" | "x25519" | "x448";
  curve?: string;
  rawLen: number;
  spkiPrefix?: string;
}
const EC: Record<number, EcAlg> = {
  [KexNid.PRIME256V1]: { type: "ec", curve: "prime256v1", rawLen: 65 },
  [KexNid.SECP384R1]: { type: "ec", curve: "secp384r1", rawLen: 97 },
  [KexNid.SECP521R1]: { type: "ec", curve: "secp521r1", rawLen: 133 },
  [KexNid.X25519]: { type: "x25519", rawLen: 32, spkiPrefix: "302a300506032b656e032100" },
  [KexNid.X448]: { type: "x448", rawLen: 56, spkiPrefix: "3042300506032b656f033900" },
};

interface KemAlg {
  name: string;
  spkiLen: number;
  oidLast: number;
  ekLen: number;
  ctLen: number;
}
const KEM: Record<number, KemAlg> = {
  [KexNid.ML_KEM_512]: { name: "ML-KEM-512", spkiLen: 822, oidLast: 1, ekLen: 800, ctLen: 768 },
  [KexNid.ML_KEM_768]: { name: "ML-KEM-768", spkiLen: 1206, oidLast: 2, ekLen: 1184, ctLen: 1088 },
  [KexNid.ML_KEM_1024]: {
    name: "ML-KEM-1024",
    spkiLen: 1590,
    oidLast: 3,
    ekLen: 1568,
    ctLen: 1568,
  },
};

/** FFDHE groups (RFC 7919) by NID. */
const FFDHE: Record<number, FfdheGroup> = {
  [KexNid.FFDHE2048]: "ffdhe2048",
  [KexNid.FFDHE3072]: "ffdhe3072",
  [KexNid.FFDHE4096]: "ffdhe4096",
};

/** Hybrid = ML-KEM part ‖ classical part in every field (spec 04 §6.2). */
const HYBRID: Record<number, { kem: number; ec: number }> = {
  [KexNid.X25519MLKEM768]: { kem: KexNid.ML_KEM_768, ec: KexNid.X25519 },
  [KexNid.X448MLKEM1024]: { kem: KexNid.ML_KEM_1024, ec: KexNid.X448 },
};

// deno-lint-ignore no-explicit-any
const subtle = crypto.subtle as any; // ML-KEM methods are not in the DOM typings yet
const ML_KEM_OID = [0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x04];

function fail(msg: string, cause?: unknown): never {
  throw new OuroError(Errno.ECRYPT, cause ? `${msg}: ${(cause as Error).message ?? cause}` : msg);
}

function hex(h: string): Uint8Array {
  return Uint8Array.from(h.match(/../g)!, (x) => parseInt(x, 16));
}

/** Can this platform run the key exchange `nid`? (FFDHE only with libcrypto) */
export function kexSupported(nid: number): boolean {
  return nid in EC || nid in KEM || nid in HYBRID || (nid in FFDHE && ffdheAvailable());
}

function spki(k: KeyObject): Uint8Array {
  return new Uint8Array(k.export({ type: "spki", format: "der" }));
}

function ecGenerate(nid: number): { key: KeyObject; pub: Uint8Array } {
  const a = EC[nid]!;
  // deno-lint-ignore no-explicit-any
  const kp = generateKeyPairSync(
    a.type as any,
    a.curve ? { namedCurve: a.curve } : {},
  ) as unknown as {
    publicKey: KeyObject;
    privateKey: KeyObject;
  };
  return { key: kp.privateKey, pub: spki(kp.publicKey) };
}

function ecDerive(nid: number, priv: KeyObject, peerDer: Uint8Array): Uint8Array {
  let pub: KeyObject;
  try {
    pub = createPublicKey({ key: Buffer.from(peerDer), format: "der", type: "spki" });
  } catch (e) {
    fail("Cannot derive key: bad peer public key", e);
  }
  if (ecNidOf(pub) !== nid) fail("Cannot derive key: peer key is of another algorithm");
  try {
    return new Uint8Array(diffieHellman({ privateKey: priv, publicKey: pub }));
  } catch (e) {
    fail("Cannot derive key: key agreement failed", e);
  }
}

function ecNidOf(k: KeyObject): number | undefined {
  const t = k.asymmetricKeyType;
  if (t === "x25519") return KexNid.X25519;
  if (t === "x448") return KexNid.X448;
  if (t === "ec") {
    const c = k.asymmetricKeyDetails?.namedCurve;
    for (const [nid, a] of Object.entries(EC)) if (a.curve === c) return Number(nid);
  }
  return undefined;
}

function mlKemNidOfSpki(der: Uint8Array): number | undefined {
  // SEQUENCE { SEQUENCE { OID id-alg-ml-kem-* } BIT STRING } — OID at offset 6.
  for (const [nid, a] of Object.entries(KEM)) {
    if (der.length !== a.spkiLen) continue;
    if (ML_KEM_OID.every((b, i) => der[6 + i] === b) && der[16] === a.oidLast) return Number(nid);
  }
  return undefined;
}

/**
 * Identify the algorithm of a received `kex` public key (server side,
 * spec 04 §5 step 4): DER SPKI by key type / named group, raw by length
 * (1216 or 1120 → X25519MLKEM768, 1624 → X448MLKEM1024).
 */
export function kexNidOfPublic(key: Uint8Array, raw: boolean): number {
  if (raw) {
    if (key.length === 1216 || key.length === 1120) return KexNid.X25519MLKEM768;
    if (key.length === 1624) return KexNid.X448MLKEM1024;
    fail(`Cannot identify key exchange: raw key of ${key.length} bytes`);
  }
  const kem = mlKemNidOfSpki(key);
  if (kem !== undefined) return kem;
  const group = ffdheGroupOf(key);
  if (group !== undefined) return Number(Object.entries(FFDHE).find(([, g]) => g === group)![0]);
  let k: KeyObject;
  try {
    k = createPublicKey({ key: Buffer.from(key), format: "der", type: "spki" });
  } catch (e) {
    fail("Cannot identify key exchange: unparsable public key", e);
  }
  const nid = ecNidOf(k);
  if (nid === undefined) {
    fail(`Cannot identify key exchange: unsupported key type ${k.asymmetricKeyType}`);
  }
  return nid;
}

async function kemGenerate(
  nid: number,
): Promise<{ key: CryptoKey; spki: Uint8Array; ek: Uint8Array }> {
  const a = KEM[nid]!;
  const kp = await subtle.generateKey({ name: a.name }, true, [
    "encapsulateBits",
    "decapsulateBits",
  ]);
  const spkiB = new Uint8Array(await subtle.exportKey("spki", kp.publicKey));
  const ek = new Uint8Array(await subtle.exportKey("raw-public", kp.publicKey));
  return { key: kp.privateKey, spki: spkiB, ek };
}

async function kemEncapRaw(nid: number, pub: Uint8Array, format: "spki" | "raw-public") {
  const a = KEM[nid]!;
  let key: CryptoKey;
  try {
    key = await subtle.importKey(format, pub, { name: a.name }, false, ["encapsulateBits"]);
  } catch (e) {
    fail("Cannot encapsulate: bad peer public key", e);
  }
  const r = await subtle.encapsulateBits({ name: a.name }, key);
  return { ct: new Uint8Array(r.ciphertext), ss: new Uint8Array(r.sharedKey) };
}

async function kemDecapRaw(nid: number, priv: CryptoKey, ct: Uint8Array): Promise<Uint8Array> {
  const a = KEM[nid]!;
  if (ct.length !== a.ctLen) {
    fail(`Cannot decapsulate: ciphertext of ${ct.length} bytes, want ${a.ctLen}`);
  }
  try {
    return new Uint8Array(await subtle.decapsulateBits({ name: a.name }, priv, ct));
  } catch (e) {
    fail("Cannot decapsulate", e);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const o = new Uint8Array(a.length + b.length);
  o.set(a);
  o.set(b, a.length);
  return o;
}

/**
 * Generate an ephemeral key pair for `nid` (the client's `kex` in
 * DHE or server-encapsulation mode).
 *
 * @example
 * ```ts
 * import { kexGenerate } from "./kex.ts";
 * const kp = await kexGenerate(415); // prime256v1
 * console.log(kp.publicKey.length); // 91
 * ```
 */
export async function kexGenerate(nid: number): Promise<KexKeyPair> {
  if (nid in EC) {
    const { key, pub } = ecGenerate(nid);
    return { nid, publicKey: pub, raw: false, priv: { ec: key } };
  }
  if (nid in KEM) {
    const k = await kemGenerate(nid);
    return { nid, publicKey: k.spki, raw: false, priv: { kem: k.key } };
  }
  if (nid in FFDHE && ffdheAvailable()) {
    let dh: FfdheKey;
    try {
      dh = ffdheGenerate(FFDHE[nid]!);
    } catch (e) {
      fail("Cannot generate key", e);
    }
    return { nid, publicKey: dh.spki, raw: false, priv: { dh } };
  }
  const h = HYBRID[nid];
  if (h) {
    const k = await kemGenerate(h.kem);
    const e = ecGenerate(h.ec);
    const ecRaw = e.pub.subarray(EC[h.ec]!.spkiPrefix!.length / 2);
    return { nid, publicKey: concat(k.ek, ecRaw), raw: true, priv: { kem: k.key, ec: e.key } };
  }
  const name = kexByNid(nid)?.name ?? String(nid);
  throw new OuroError(Errno.ECRYPT, `Cannot generate key: key exchange ${name} is not supported`);
}

/** Is `nid` a KEM (pure or hybrid)? */
export function isKem(nid: number): boolean {
  return nid in KEM || nid in HYBRID;
}

/**
 * DH agreement: raw shared secret of our pair with the peer's DER SPKI
 * public key (which must be of the same algorithm).
 */
export function dhSharedSecret(pair: KexKeyPair, peerPublic: Uint8Array): Uint8Array {
  if (pair.priv.dh) {
    try {
      return ffdheDerive(pair.priv.dh, peerPublic);
    } catch (e) {
      fail("Cannot derive key", e);
    }
  }
  if (!(pair.nid in EC) || !pair.priv.ec) fail("Cannot derive key: not a DH key pair");
  return ecDerive(pair.nid, pair.priv.ec, peerPublic);
}

/**
 * Encapsulate to a KEM public key (DER SPKI for ML-KEM, raw for hybrids).
 * Returns the ciphertext to send and the shared secret (hybrids: ML-KEM ss ‖ DH output).
 */
export async function kemEncapsulate(
  nid: number,
  peerPublic: Uint8Array,
): Promise<{ ciphertext: Uint8Array; sharedSecret: Uint8Array }> {
  if (nid in KEM) {
    const r = await kemEncapRaw(nid, peerPublic, "spki");
    return { ciphertext: r.ct, sharedSecret: r.ss };
  }
  const h = HYBRID[nid];
  if (!h) fail(`Cannot encapsulate: ${nid} is not a KEM`);
  const ek = KEM[h.kem]!.ekLen, ec = EC[h.ec]!;
  if (peerPublic.length !== ek + ec.rawLen) {
    fail(`Cannot encapsulate: raw key of ${peerPublic.length} bytes`);
  }
  const r = await kemEncapRaw(h.kem, peerPublic.subarray(0, ek), "raw-public");
  const eph = ecGenerate(h.ec);
  const peerEc = concat(hex(ec.spkiPrefix!), peerPublic.subarray(ek));
  const dh = ecDerive(h.ec, eph.key, peerEc);
  const ephRaw = eph.pub.subarray(ec.spkiPrefix!.length / 2);
  return { ciphertext: concat(r.ct, ephRaw), sharedSecret: concat(r.ss, dh) };
}

/** Decapsulate a KEM ciphertext with our key pair; returns the shared secret. */
export async function kemDecapsulate(
  pair: KexKeyPair,
  ciphertext: Uint8Array,
): Promise<Uint8Array> {
  if (pair.nid in KEM && pair.priv.kem) {
    return await kemDecapRaw(pair.nid, pair.priv.kem, ciphertext);
  }
  const h = HYBRID[pair.nid];
  if (!h || !pair.priv.kem || !pair.priv.ec) fail("Cannot decapsulate: not a KEM key pair");
  const ct = KEM[h.kem]!.ctLen, ec = EC[h.ec]!;
  if (ciphertext.length !== ct + ec.rawLen) {
    fail(`Cannot decapsulate: ciphertext of ${ciphertext.length} bytes`);
  }
  const ss = await kemDecapRaw(h.kem, pair.priv.kem, ciphertext.subarray(0, ct));
  const dh = ecDerive(h.ec, pair.priv.ec, concat(hex(ec.spkiPrefix!), ciphertext.subarray(ct)));
  return concat(ss, dh);
}

/** Result of the server's half of the key exchange. */
export interface KexServerResult {
  /** Algorithm identified from the client's key. */
  nid: number;
  /** Response `kex`: our DER public key (DHE) or the KEM ciphertext. */
  kex: Uint8Array;
  /** F bit for the response (hybrid ciphertexts). */
  raw: boolean;
  /** The 32-byte symmetric key. */
  key: Uint8Array;
}

/**
 * Server side for DHE and server-encapsulation KEM (spec 04 §5 step 4):
 * identify the algorithm of the request's `kex`, answer it, derive the key
 * with `kdfNid`. The caller does the rank checks on the returned `nid`.
 */
export async function kexServer(
  reqKex: Uint8Array,
  reqRaw: boolean,
  kdfNid: number,
): Promise<KexServerResult> {
  const nid = kexNidOfPublic(reqKex, reqRaw);
  if (isKem(nid)) {
    const { ciphertext, sharedSecret } = await kemEncapsulate(nid, reqKex);
    return {
      nid,
      kex: ciphertext,
      raw: nid in HYBRID,
      key: deriveKemKey(kdfNid, sharedSecret, reqKex),
    };
  }
  const pair = await kexGenerate(nid);
  const ss = dhSharedSecret(pair, reqKex);
  return {
    nid,
    kex: pair.publicKey,
    raw: false,
    key: deriveDheKey(kdfNid, ss, pair.publicKey, reqKex),
  };
}

/**
 * Client side completion (spec 04 §4 "Complete" step 4): derive the key
 * from our ephemeral pair and the response's `kex` with `kdfNid`.
 */
export async function kexClientFinish(
  pair: KexKeyPair,
  respKex: Uint8Array,
  kdfNid: number,
): Promise<Uint8Array> {
  if (respKex.length === 0) fail("Cannot complete key exchange: response carries no key");
  if (isKem(pair.nid)) {
    const ss = await kemDecapsulate(pair, respKex);
    return deriveKemKey(kdfNid, ss, pair.publicKey);
  }
  return deriveDheKey(kdfNid, dhSharedSecret(pair, respKex), pair.publicKey, respKex);
}
