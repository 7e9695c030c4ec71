/**
 * Signatures and peer authentication of OAP headers (spec 04 §7).
 *
 * The signed region is the whole encoded header up to the signature;
 * classical keys sign with digest `md_nid` (0 = SHA-256, the key type's
 * default in OpenSSL 3). EdDSA keys sign the message itself.
 * @module
 */
import { Buffer } from "node:buffer";
import { type KeyObject, sign, verify } from "node:crypto";
import { Errno, OuroError } from "../lib/errors.ts";
import { bytesEqual } from "../lib/hash.ts";
import { certCommonName, type Credentials, parseCertificate, spkiOf } from "./credentials.ts";
import { digestByNid } from "./nid.ts";
import { type OapHeader, oapSignedPart } from "./oap_wire.ts";

function isEdDsa(k: KeyObject): boolean {
  const t = k.asymmetricKeyType;
  return t === "ed25519" || t === "ed448";
}

/**
 * Digest name for signing with `key` under `mdNid`: null for EdDSA (pure
 * signatures; deviation: OpenSSL refuses EdDSA with a non-zero `md_nid`,
 * so with reference peers use EC keys), else the NID's digest, SHA-256 for 0.
 */
function digestFor(key: KeyObject, mdNid: number): string | null {
  if (isEdDsa(key)) return null;
  if (mdNid === 0) return "sha256";
  const d = digestByNid(mdNid);
  if (!d) throw new OuroError(Errno.EAUTH, `Cannot sign: unknown digest NID ${mdNid}`);
  return d.name;
}

/** Sign `data` with `key` under `mdNid`. @throws OuroError EAUTH if the key cannot sign */
export function oapSign(key: KeyObject, mdNid: number, data: Uint8Array): Uint8Array {
  try {
    return new Uint8Array(sign(digestFor(key, mdNid), data, key));
  } catch (e) {
    if (e instanceof OuroError) throw e;
    throw new OuroError(Errno.EAUTH, `Cannot sign OAP header: ${(e as Error).message}`);
  }
}

/** Verify a signature; false on any failure (never throws). */
export function oapVerify(
  key: KeyObject,
  mdNid: number,
  data: Uint8Array,
  signature: Uint8Array,
): boolean {
  try {
    return verify(digestFor(key, mdNid), data, key, Buffer.from(signature));
  } catch {
    return false;
  }
}

/** Signature over an encoded header (the whole buffer: nothing after it yet). */
export function signHeader(
  creds: Credentials | undefined,
  mdNid: number,
  unsigned: Uint8Array,
): Uint8Array {
  if (!creds?.privateKey || !creds.certificate) return new Uint8Array(0);
  return oapSign(creds.privateKey, mdNid, unsigned);
}

/** What is known about the peer after {@link authenticatePeer}. */
export interface PeerIdentity {
  /** Whether the peer proved a certificate (chain or pin) and signature. */
  authenticated: boolean;
  /** The certificate's common name, if it had one. */
  cn?: string;
}

function refuse(msg: string): never {
  throw new OuroError(Errno.EAUTH, msg);
}

/**
 * Authenticate the sender of a decoded header (spec 04 §4 step 2, §5 step 3):
 * no certificate → unauthenticated (refused if `creds.requirePeerAuth` or
 * pins are set); otherwise the certificate must be valid at `nowMs` and
 * either carry a pinned key (when pins are set) or chain to the trust store,
 * and the signature over `encoded` must verify with the header's `md_nid`.
 *
 * @param expectCn if given (client side: the destination name), the
 *   certificate's CN must equal it
 * @throws OuroError EAUTH on any failure
 */
export function authenticatePeer(
  h: OapHeader,
  encoded: Uint8Array,
  creds: Credentials | undefined,
  nowMs: number,
  expectCn?: string,
): PeerIdentity {
  const pins = creds?.pinnedKeys ?? [];
  if (h.crt.length === 0) {
    if (creds?.requirePeerAuth || pins.length > 0) {
      refuse("Cannot authenticate peer: it presented no certificate");
    }
    return { authenticated: false };
  }
  const cert = parseCertificate(h.crt);
  if (pins.length > 0) {
    const spki = spkiOf(cert);
    if (!pins.some((p) => bytesEqual(p, spki))) {
      refuse("Cannot authenticate peer: its key is not pinned");
    }
    const from = Date.parse(cert.validFrom), to = Date.parse(cert.validTo);
    if (nowMs < from || nowMs > to) refuse("Cannot authenticate peer: certificate not valid now");
  } else if (!creds?.trust || !creds.trust.verify(cert, nowMs)) {
    refuse("Cannot authenticate peer: certificate does not verify against the trust store");
  }
  if (!oapVerify(cert.publicKey, h.mdNid, oapSignedPart(encoded, h), h.signature)) {
    refuse("Cannot authenticate peer: bad signature");
  }
  const cn = certCommonName(cert);
  if (expectCn !== undefined && cn !== expectCn) {
    refuse(`Cannot authenticate peer: certificate is for ${cn ?? "(no CN)"}, not ${expectCn}`);
  }
  return cn === undefined ? { authenticated: true } : { authenticated: true, cn };
}
