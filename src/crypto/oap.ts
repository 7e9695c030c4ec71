/**
 * The OAP flow-allocation handshake procedures (spec 04 §4, §5): pure
 * functions over bytes, no sockets. The allocating IRMd calls
 * {@link oapClientPrepare} before `flowAlloc` and {@link oapClientComplete}
 * on the reply; the accepting IRMd calls {@link oapServerProcess} on the
 * request with its daemon-wide {@link ReplayWindow}.
 *
 * ```
 * client IRMd                                  server IRMd
 * oapClientPrepare ── request (≥36 B) ──────▶  oapServerProcess (replay, auth,
 *                                              negotiate, key agreement, sign)
 * oapClientComplete ◀── response (≥36+H B) ──
 *  → {cipherNid, key}                           → {cipherNid, key}
 * ```
 *
 * Every failure is an `OuroError`: EAUTH for anything about who the peer is
 * or whether the bytes belong to this handshake (undecodable header, replay,
 * id or request-hash mismatch, certificate, signature, pin, CN), ECRYPT for
 * negotiation and key agreement. (The reference reports every client-side
 * failure to the application as ECRYPT; the broker may map EAUTH to that.)
 * @module
 */
import { DecodeError, Errno, OuroError } from "../lib/errors.ts";
import { bytesEqual } from "../lib/hash.ts";
import { cipherSupported } from "./aead.ts";
import type { Credentials } from "./credentials.ts";
import { ENC_CONF_NONE, type EncConf } from "./enc_conf.ts";
import {
  isKem,
  kemDecapsulate,
  kemEncapsulate,
  kexClientFinish,
  kexGenerate,
  type KexKeyPair,
  kexNidOfPublic,
  kexServer,
} from "./kex.ts";
import { deriveKemKey } from "./kdf.ts";
import { cipherByNid, cipherRank, digestRank, kexByNid, kexRank } from "./nid.ts";
import { authenticatePeer, type PeerIdentity, signHeader } from "./oap_auth.ts";
import {
  decodeOapRequest,
  decodeOapResponse,
  encodeOap,
  OAP_ID_LEN,
  type OapHeader,
  oapRequestHash,
} from "./oap_wire.ts";
import type { ReplayWindow } from "./replay.ts";

/** Wall clock in ns since the Unix epoch (sub-ms resolution). */
export function wallClockNs(): bigint {
  return BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n;
}

function randomBytes(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

/** Inputs of one side of a handshake for one name. */
export interface OapContext {
  /** Client: the destination name (CN checked); server: the name served. */
  name: string;
  /** The name's `enc.conf` for this role; undefined = no file (no encryption). */
  encConf?: EncConf;
  /** The name's certificate/key, trust store, pins, static KEM keys. */
  credentials?: Credentials;
  /** Wall clock, ns since the epoch (default {@link wallClockNs}). */
  now?: () => bigint;
  /** Random bytes for the session id (default WebCrypto). */
  random?: (n: number) => Uint8Array;
}

/** Server inputs: a context plus the daemon-wide replay window. */
export interface OapServerContext extends OapContext {
  /** One per IRMd, shared by all names. */
  replay: ReplayWindow;
}

/** What the client keeps between prepare and complete. Opaque to callers. */
export interface OapClientState {
  /** Session id (log it with `oapIdText`). */
  readonly id: Uint8Array;
  /** @internal */
  readonly name: string;
  /** @internal */
  readonly encConf: EncConf | undefined;
  /** @internal */
  readonly credentials: Credentials | undefined;
  /** @internal request md_nid */
  readonly reqMdNid: number;
  /** @internal hash of the request bytes */
  readonly reqHash: Uint8Array;
  /** @internal ephemeral key pair (DHE / server-encap KEM) */
  readonly kexPair?: KexKeyPair;
  /** @internal key derived at prepare time (client-encap KEM) */
  readonly encapKey?: Uint8Array;
  /** @internal */
  readonly now: () => bigint;
}

/** Result of a handshake, on either side. */
export interface OapResult {
  /** Session id. */
  id: Uint8Array;
  /** Negotiated cipher, 0 = no encryption. */
  cipherNid: number;
  /** 32-byte symmetric key; present iff `cipherNid !== 0`. */
  key?: Uint8Array;
  /** Key exchange used (for the "Negotiated <kex> + <cipher>." log), 0 = none. */
  kexNid: number;
  /** KDF digest the key was derived with (0 = SHA-256 fallback). */
  kdfNid: number;
  /** Who the peer proved to be. */
  peer: PeerIdentity;
}

/** Server result: the response to send back, plus the handshake result. */
export interface OapServerResult extends OapResult {
  /** Encoded OAP response header. */
  response: Uint8Array;
}

const E: Uint8Array = new Uint8Array(0);

function crypt(msg: string): never {
  throw new OuroError(Errno.ECRYPT, msg);
}

/** Run `fn`, turning anything that is not an OuroError into one (typed errors only). */
async function typed<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof OuroError) throw e;
    const msg = (e as Error)?.message ?? String(e);
    const code = e instanceof DecodeError ? Errno.EAUTH : Errno.ECRYPT;
    const err = new OuroError(code, `Cannot ${what}: ${msg}`);
    Object.defineProperty(err, "cause", { value: e });
    throw err;
  }
}

function nsToMs(ns: bigint): number {
  return Number(ns / 1_000_000n);
}

/** Encode `h` and append the signature if we have a certificate and key. */
function encodeSigned(h: OapHeader, creds: Credentials | undefined): Uint8Array {
  const signing = !!(creds?.certificate && creds.privateKey);
  const unsigned = encodeOap({ ...h, crt: signing ? creds!.certificate! : E, signature: E });
  const sig = signing ? signHeader(creds, h.mdNid, unsigned) : E;
  if (sig.length === 0) return unsigned;
  const out = new Uint8Array(unsigned.length + sig.length);
  out.set(unsigned);
  out.set(sig, unsigned.length);
  return out;
}

/**
 * Client side, before `IPCP_FLOW_ALLOC` (spec 04 §4 "Prepare"): a fresh
 * session id, our key-exchange material if the name's client `enc.conf`
 * asks for it, our certificate and signature if we have them.
 * Without enc.conf and credentials the request is the bare 36-byte header.
 *
 * @returns the request bytes for the `pk` field and the state for
 *   {@link oapClientComplete}
 * @throws OuroError ECRYPT if the configured key exchange cannot run
 *   (FFDHE, client-encap without the server's static key), EAUTH if signing fails
 *
 * @example
 * ```ts
 * import { oapClientPrepare } from "./oap.ts";
 * const { request } = await oapClientPrepare({ name: "oping.srv" });
 * console.log(request.length); // 36
 * ```
 */
export function oapClientPrepare(
  ctx: OapContext,
): Promise<{ request: Uint8Array; state: OapClientState }> {
  return typed("prepare OAP request", async () => {
    const now = ctx.now ?? wallClockNs;
    const id = (ctx.random ?? randomBytes)(OAP_ID_LEN).slice(0, OAP_ID_LEN);
    if (id.length !== OAP_ID_LEN) crypt("Cannot prepare OAP request: short random id");
    const conf = ctx.encConf ?? ENC_CONF_NONE;
    let kex = E, kexRaw = false, kexClientEncap = false;
    let kexPair: KexKeyPair | undefined, encapKey: Uint8Array | undefined;
    if (conf.kexNid !== 0) {
      const hybrid = kexByNid(conf.kexNid)?.kind === "hybrid-kem";
      if (isKem(conf.kexNid) && conf.kemMode === "client") {
        const peers = ctx.credentials?.kemPeerPublic;
        const pub = hybrid ? peers?.raw : peers?.pem;
        if (!pub) crypt(`Cannot prepare OAP request: no static KEM key of ${ctx.name}`);
        const r = await kemEncapsulate(conf.kexNid, pub);
        encapKey = deriveKemKey(conf.kdfNid, r.sharedSecret, pub);
        kex = r.ciphertext;
        kexClientEncap = true;
        kexRaw = hybrid;
      } else {
        kexPair = await kexGenerate(conf.kexNid);
        kex = kexPair.publicKey;
        kexRaw = kexPair.raw;
      }
    }
    const request = encodeSigned({
      id,
      timestampNs: now(),
      cipherNid: conf.cipherNid,
      kdfNid: conf.kdfNid,
      mdNid: conf.mdNid,
      crt: E,
      kex,
      kexRaw,
      kexClientEncap,
      data: E,
      signature: E,
    }, ctx.credentials);
    const state: OapClientState = {
      id,
      name: ctx.name,
      encConf: ctx.encConf,
      credentials: ctx.credentials,
      reqMdNid: conf.mdNid,
      reqHash: oapRequestHash(request, conf.mdNid),
      now,
      ...(kexPair ? { kexPair } : {}),
      ...(encapKey ? { encapKey } : {}),
    };
    return { request, state };
  });
}

/** The higher-ranked of two NIDs; ties keep the server's. */
function stronger(rank: (n: number) => number, client: number, server: number): number {
  return rank(client) > rank(server) ? client : server;
}

/**
 * Server side, when a flow request with OAP bytes is accepted (spec 04 §5):
 * decode, replay check, authenticate the client if it signed (or if we
 * require it), negotiate cipher/KDF, run our half of the key agreement,
 * and build the (signed) response binding the request's hash.
 *
 * @throws OuroError EAUTH (bad header, stale/future/replayed request,
 *   client authentication failed), ECRYPT (encryption required but not
 *   offered, nothing to negotiate, weaker kex than ours, key agreement failed)
 */
export function oapServerProcess(
  request: Uint8Array,
  ctx: OapServerContext,
): Promise<OapServerResult> {
  return typed("process OAP request", async () => {
    const req = decodeOapRequest(request);
    const nowNs = (ctx.now ?? wallClockNs)();
    const verdict = ctx.replay.check(req.id, req.timestampNs, nowNs);
    if (verdict !== "ok") {
      throw new OuroError(Errno.EAUTH, `Cannot accept OAP request: ${verdict}`);
    }
    const peer = authenticatePeer(req, request, ctx.credentials, nsToMs(nowNs));
    const srv = ctx.encConf ?? ENC_CONF_NONE;
    let cipherNid = 0, kdfNid = srv.kdfNid, kexNid = 0;
    let key: Uint8Array | undefined, kex = E, kexRaw = false;
    if (req.kex.length === 0) {
      if (srv.kexNid !== 0) crypt(`Cannot accept flow for ${ctx.name}: encryption required`);
    } else {
      cipherNid = stronger(cipherRank, req.cipherNid, srv.cipherNid);
      if (cipherRank(cipherNid) === 0) crypt("Cannot negotiate: no cipher on either side");
      if (!cipherSupported(cipherNid)) {
        crypt(`Cannot negotiate: ${cipherByNid(cipherNid)?.name} is not available here`);
      }
      if (req.kexClientEncap) {
        if (digestRank(srv.kdfNid) > digestRank(req.kdfNid)) {
          crypt("Cannot negotiate: client's KDF is weaker than ours (client-encap)");
        }
        kdfNid = req.kdfNid;
        if (!isKem(srv.kexNid)) crypt("Cannot negotiate: client-encap needs a KEM kex here");
        const st = ctx.credentials?.kemStatic;
        const pair = req.kexRaw ? st?.raw : st?.pem;
        if (!pair) crypt(`Cannot negotiate: no static KEM key for ${ctx.name}`);
        const ss = await kemDecapsulate(pair, req.kex);
        key = deriveKemKey(kdfNid, ss, pair.publicKey);
        kexNid = pair.nid;
      } else {
        kdfNid = stronger(digestRank, req.kdfNid, srv.kdfNid);
        const nid = kexNidOfPublic(req.kex, req.kexRaw);
        if (kexRank(nid) < kexRank(srv.kexNid)) {
          crypt(
            `Cannot negotiate: ${kexByNid(nid)?.name} is weaker than ${kexByNid(srv.kexNid)?.name}`,
          );
        }
        const r = await kexServer(req.kex, req.kexRaw, kdfNid);
        key = r.key;
        kex = r.kex;
        kexRaw = r.raw;
        kexNid = r.nid;
      }
    }
    const response = encodeSigned({
      id: req.id,
      timestampNs: nowNs,
      cipherNid,
      kdfNid,
      mdNid: srv.mdNid,
      crt: E,
      kex,
      kexRaw,
      kexClientEncap: false,
      data: E,
      reqHash: oapRequestHash(request, req.mdNid),
      signature: E,
    }, ctx.credentials);
    const out: OapServerResult = { id: req.id, response, cipherNid, kexNid, kdfNid, peer };
    if (key) out.key = key;
    return out;
  });
}

/**
 * Client side, on `IPCP_FLOW_ALLOC_REPLY` with response 0 (spec 04 §4
 * "Complete"): check the id echo, authenticate the server (CN must equal
 * the destination name; pins/requirement from the client credentials),
 * check the request hash, check the negotiated cipher/KDF are not weaker
 * than ours and finish the key agreement.
 *
 * @throws OuroError EAUTH (bad header, id/hash mismatch, server
 *   authentication failed), ECRYPT (weaker cipher/KDF, missing or bad kex)
 */
export function oapClientComplete(
  state: OapClientState,
  response: Uint8Array,
): Promise<OapResult> {
  return typed("complete OAP", async () => {
    const h = decodeOapResponse(response, state.reqMdNid);
    if (!bytesEqual(h.id, state.id)) {
      throw new OuroError(Errno.EAUTH, "Cannot complete OAP: response is for another session");
    }
    const peer = authenticatePeer(
      h,
      response,
      state.credentials,
      nsToMs(state.now()),
      state.name,
    );
    if (!h.reqHash || !bytesEqual(h.reqHash, state.reqHash)) {
      throw new OuroError(Errno.EAUTH, "Cannot complete OAP: request hash mismatch");
    }
    const conf = state.encConf;
    if (!conf || conf.kexNid === 0) {
      return { id: state.id, cipherNid: 0, kexNid: 0, kdfNid: 0, peer };
    }
    const c = h.cipherNid;
    if (cipherRank(c) === 0 || cipherRank(c) < cipherRank(conf.cipherNid)) {
      crypt(`Cannot complete OAP: server chose a weaker cipher (${c})`);
    }
    if (!cipherSupported(c)) crypt(`Cannot complete OAP: cipher ${c} is not available here`);
    let key: Uint8Array, kdfNid = conf.kdfNid;
    if (state.encapKey) {
      key = state.encapKey;
    } else {
      if (h.kdfNid !== 0) {
        if (digestRank(h.kdfNid) < digestRank(conf.kdfNid)) {
          crypt("Cannot complete OAP: server chose a weaker KDF");
        }
        kdfNid = h.kdfNid;
      }
      if (!state.kexPair) crypt("Cannot complete OAP: no key pair");
      if (h.kex.length === 0) crypt("Cannot complete OAP: response carries no key exchange");
      key = await kexClientFinish(state.kexPair, h.kex, kdfNid);
    }
    return { id: state.id, cipherNid: c, key, kexNid: conf.kexNid, kdfNid, peer };
  });
}
