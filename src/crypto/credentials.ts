/**
 * Per-name security material of OAP (spec 04 §3.1, §3.3, §7): where the
 * files live, loading them, and the daemon-wide trust store.
 *
 * ```
 * <sec>/cacert/*, <sec>/untrusted/*          PEM certificates → one TrustStore
 * <sec>/<role>/<name>/enc.conf               see enc_conf.ts
 * <sec>/<role>/<name>/crt.pem, key.pem       our certificate + private key (both or none)
 * <sec>/<role>/<name>/peers/*                ouro extension: pinned peer keys (PEM
 *                                            PUBLIC KEY or CERTIFICATE); when present
 *                                            the peer must prove one of these keys
 * <sec>/client/<name>/kex.srv.pub.{pem,raw}  server's static KEM key (client-encap)
 * <sec>/server/<name>/kex.key.{pem,raw}      our static KEM private key (client-encap)
 * ```
 * `<role>` is `server` (accepting flows for the name) or `client`
 * (allocating flows to it).
 * @module
 */
import { Buffer } from "node:buffer";
import { createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from "node:crypto";
import { Errno, OuroError } from "../lib/errors.ts";
import { type EncConf, parseEncConf } from "./enc_conf.ts";
import type { KexKeyPair } from "./kex.ts";
import { KexNid } from "./nid.ts";

/** Default security directory (`<sysconfdir>/ouroboros/security`). */
export const SECURITY_DIR = "/etc/ouroboros/security";
/** Longest certificate chain walked when verifying a peer. */
export const MAX_CHAIN_DEPTH = 10;

/** Which side of the handshake the material is for. */
export type OapRole = "server" | "client";

/** Paths of one name's security files for one role. */
export interface SecurityPaths {
  /** enc.conf */
  enc: string;
  /** Our certificate (PEM). */
  crt: string;
  /** Our private key (PEM). */
  key: string;
  /** Directory of pinned peer keys (ouro extension). */
  peers: string;
  /** Static KEM key, PEM (client: server's public key; server: our private key). */
  kemPem: string;
  /** Static KEM key, raw hybrid encoding. */
  kemRaw: string;
}

/**
 * The default paths for `name` in `role`, with optional overrides
 * (config keys `server_enc_file`, `server_crt_file`, … of `[name.X]`).
 */
export function securityPaths(
  role: OapRole,
  name: string,
  secDir: string = SECURITY_DIR,
  overrides: Partial<SecurityPaths> = {},
): SecurityPaths {
  const d = `${secDir}/${role}/${name}`;
  const kem = role === "client" ? `${d}/kex.srv.pub` : `${d}/kex.key`;
  return {
    enc: `${d}/enc.conf`,
    crt: `${d}/crt.pem`,
    key: `${d}/key.pem`,
    peers: `${d}/peers`,
    kemPem: `${kem}.pem`,
    kemRaw: `${kem}.raw`,
    ...overrides,
  };
}

/** Security material for one name and role, as the OAP procedures use it. */
export interface Credentials {
  /** Our certificate (DER). Sent and signed with only if {@link privateKey} is set too. */
  certificate?: Uint8Array;
  /** Our private key (EC, RSA, Ed25519, Ed448). */
  privateKey?: KeyObject;
  /** Trust anchors for peer certificates (daemon-wide). */
  trust?: TrustStore;
  /**
   * Pinned peer public keys (DER SPKI). If non-empty, the peer must present a
   * certificate carrying one of them and a valid signature; the trust store
   * is then not consulted. (Ouro extension; the reference has no pinning.)
   */
  pinnedKeys?: Uint8Array[];
  /** Refuse a peer that presents no certificate (implied by {@link pinnedKeys}). */
  requirePeerAuth?: boolean;
  /** Client, KEM client-encap: the server's static public key (DER SPKI and/or raw hybrid). */
  kemPeerPublic?: { pem?: Uint8Array; raw?: Uint8Array };
  /** Server, KEM client-encap: our static key pair(s) (`.pem` ML-KEM, `.raw` hybrid). */
  kemStatic?: { pem?: KexKeyPair; raw?: KexKeyPair };
}

function authFail(msg: string, cause?: unknown): never {
  const why = cause instanceof Error ? `: ${cause.message}` : "";
  throw new OuroError(Errno.EAUTH, msg + why);
}

/** Parse a DER certificate; OuroError(EAUTH) if it is not one. */
export function parseCertificate(der: Uint8Array): X509Certificate {
  try {
    return new X509Certificate(Buffer.from(der));
  } catch (e) {
    authFail("Cannot parse certificate", e);
  }
}

/** DER SubjectPublicKeyInfo of a key or certificate's key. */
export function spkiOf(k: KeyObject | X509Certificate): Uint8Array {
  const key = k instanceof X509Certificate ? k.publicKey : k;
  return new Uint8Array(key.export({ type: "spki", format: "der" }));
}

/**
 * The certificate's common name as the reference extracts it: the text
 * after `CN=` up to the next `,` or `/` (spec 04 §7). Undefined if none.
 */
export function certCommonName(c: X509Certificate): string | undefined {
  for (const line of c.subject.split("\n")) {
    if (line.startsWith("CN=")) return line.slice(3).split(/[,/]/)[0];
  }
  return undefined;
}

function validAt(c: X509Certificate, nowMs: number): boolean {
  const from = Date.parse(c.validFrom), to = Date.parse(c.validTo);
  return !(nowMs < from || nowMs > to);
}

function selfSigned(c: X509Certificate): boolean {
  try {
    return c.checkIssued(c) && c.verify(c.publicKey);
  } catch {
    return false;
  }
}

/**
 * The trusted certificates of a daemon: every file of `<sec>/cacert/` and
 * `<sec>/untrusted/` (quirk kept: "untrusted" intermediates become trust
 * anchors too).
 */
export class TrustStore {
  readonly #certs: X509Certificate[] = [];

  /** Number of certificates. */
  get size(): number {
    return this.#certs.length;
  }

  /** Add a certificate (PEM text, or DER bytes). @throws OuroError EAUTH if unparsable */
  add(cert: string | Uint8Array): void {
    try {
      this.#certs.push(
        new X509Certificate(typeof cert === "string" ? cert : Buffer.from(cert)),
      );
    } catch (e) {
      authFail("Cannot add certificate to the trust store", e);
    }
  }

  /**
   * Load `<secDir>/cacert/` and `<secDir>/untrusted/`. Missing directories
   * are fine; a non-regular entry or an unparsable file fails (EAUTH).
   */
  static async load(secDir: string = SECURITY_DIR): Promise<TrustStore> {
    const s = new TrustStore();
    for (const sub of ["cacert", "untrusted"]) {
      const dir = `${secDir}/${sub}`;
      let entries: Deno.DirEntry[];
      try {
        entries = await Array.fromAsync(Deno.readDir(dir));
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) continue;
        throw e;
      }
      for (const e of entries.sort((a, b) => a.name < b.name ? -1 : 1)) {
        if (!e.isFile) authFail(`Cannot load trust store: ${dir}/${e.name} is not a regular file`);
        const text = await Deno.readTextFile(`${dir}/${e.name}`);
        const pems = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
        if (!pems) authFail(`Cannot load trust store: ${dir}/${e.name} holds no certificate`);
        for (const p of pems) s.add(p);
      }
    }
    return s;
  }

  /**
   * Does `leaf` chain up to a self-signed certificate of this store, with
   * every link valid at `nowMs` and every issuer a CA? (OpenSSL's default
   * verification without purpose or hostname checks.)
   */
  verify(leaf: X509Certificate, nowMs: number): boolean {
    let cur = leaf;
    for (let depth = 0; depth <= MAX_CHAIN_DEPTH; depth++) {
      if (!validAt(cur, nowMs)) return false;
      if (selfSigned(cur)) return this.#certs.some((c) => c.raw.equals(cur.raw));
      const issuer = this.#certs.find((c) => {
        try {
          return (c.ca || selfSigned(c)) && cur.checkIssued(c) && cur.verify(c.publicKey);
        } catch {
          return false;
        }
      });
      if (!issuer) return false;
      cur = issuer;
    }
    return false;
  }
}

async function readOptional(path: string): Promise<Uint8Array | undefined> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

function pemToDer(text: string, label: string): Uint8Array | undefined {
  const m = text.match(new RegExp(`-----BEGIN ${label}-----([\\s\\S]+?)-----END ${label}-----`));
  return m ? new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ""), "base64")) : undefined;
}

/** Public keys (DER SPKI) of every PEM `PUBLIC KEY` / `CERTIFICATE` in a file's text. */
export function pinnedKeysFromPem(text: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  const re = /-----BEGIN (PUBLIC KEY|CERTIFICATE)-----[\s\S]+?-----END \1-----/g;
  for (const m of text.matchAll(re)) {
    try {
      out.push(
        m[1] === "CERTIFICATE" ? spkiOf(new X509Certificate(m[0])) : spkiOf(createPublicKey(m[0])),
      );
    } catch (e) {
      authFail("Cannot load pinned key", e);
    }
  }
  return out;
}

// deno-lint-ignore no-explicit-any
const subtle = crypto.subtle as any; // ML-KEM is not in the DOM typings yet

async function loadKemPrivatePem(text: string): Promise<KexKeyPair> {
  const der = pemToDer(text, "PRIVATE KEY");
  if (!der) throw new OuroError(Errno.ECRYPT, "Cannot load KEM key: no PEM PRIVATE KEY");
  const algs = [
    [KexNid.ML_KEM_512, "ML-KEM-512"],
    [KexNid.ML_KEM_768, "ML-KEM-768"],
    [KexNid.ML_KEM_1024, "ML-KEM-1024"],
  ] as const;
  for (const [nid, alg] of algs) {
    try {
      const priv = await subtle.importKey("pkcs8", der, { name: alg }, false, ["decapsulateBits"]);
      const pub = await subtle.getPublicKey(priv, ["encapsulateBits"]);
      const spki = new Uint8Array(await subtle.exportKey("spki", pub));
      return { nid, publicKey: spki, raw: false, priv: { kem: priv } };
    } catch {
      // another parameter set, or a format WebCrypto cannot read
    }
  }
  throw new OuroError(
    Errno.ECRYPT,
    "Cannot load KEM key: not an ML-KEM private key in seed-only PKCS#8 (the only form supported)",
  );
}

/** Options of {@link loadCredentials}. */
export interface LoadOptions {
  /** Security directory (default {@link SECURITY_DIR}). */
  secDir?: string;
  /** Path overrides from the IRMd configuration. */
  paths?: Partial<SecurityPaths>;
  /** The daemon's trust store (load once with {@link TrustStore.load}). */
  trust?: TrustStore;
}

/**
 * Load `enc.conf` and credentials of `name` for `role` (spec 04 §3.1).
 * `encConf` is undefined when the file does not exist (no encryption).
 *
 * @throws OuroError EINVAL for a bad enc.conf; EAUTH if the certificate or
 *   key exists but cannot be loaded, or a pinned key is unreadable
 */
export async function loadCredentials(
  role: OapRole,
  name: string,
  opts: LoadOptions = {},
): Promise<{ encConf?: EncConf; credentials: Credentials }> {
  const p = securityPaths(role, name, opts.secDir, opts.paths);
  const td = new TextDecoder();
  const credentials: Credentials = {};
  if (opts.trust) credentials.trust = opts.trust;
  const encText = await readOptional(p.enc);
  const crt = await readOptional(p.crt), key = await readOptional(p.key);
  if (crt && key) {
    try {
      const c = new X509Certificate(Buffer.from(crt));
      credentials.certificate = new Uint8Array(c.raw);
      credentials.privateKey = createPrivateKey(td.decode(key));
    } catch (e) {
      authFail(`Cannot load credentials of ${name}`, e);
    }
  }
  try {
    const pins: Uint8Array[] = [];
    for await (const e of Deno.readDir(p.peers)) {
      if (!e.isFile) continue;
      pins.push(...pinnedKeysFromPem(await Deno.readTextFile(`${p.peers}/${e.name}`)));
    }
    credentials.pinnedKeys = pins;
    credentials.requirePeerAuth = true;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const kemPem = await readOptional(p.kemPem), kemRaw = await readOptional(p.kemRaw);
  if (role === "client" && (kemPem || kemRaw)) {
    credentials.kemPeerPublic = {};
    if (kemPem) {
      const der = pemToDer(td.decode(kemPem), "PUBLIC KEY");
      if (der) credentials.kemPeerPublic.pem = der;
    }
    if (kemRaw) credentials.kemPeerPublic.raw = kemRaw;
  }
  if (role === "server" && kemPem) {
    credentials.kemStatic = { pem: await loadKemPrivatePem(td.decode(kemPem)) };
  }
  // A raw hybrid private key (expanded ML-KEM dk ‖ X25519/X448 key) cannot be
  // imported by WebCrypto, which only takes ML-KEM seeds: `.raw` is ignored.
  const out: { encConf?: EncConf; credentials: Credentials } = { credentials };
  if (encText) out.encConf = parseEncConf(td.decode(encText));
  return out;
}
