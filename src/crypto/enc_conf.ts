/**
 * The per-name `enc.conf` file (spec 04 §3.2): which key exchange, cipher,
 * KDF and signature digest a name asks for.
 *
 * ```
 * # comment
 * kex = X25519
 * cipher = chacha20-poly1305
 * kdf = sha384
 * digest = sha256
 * kem_mode = server
 * none            # bare line: no encryption, stop parsing
 * ```
 * @module
 */
import { Errno, OuroError } from "../lib/errors.ts";
import { cipherByName, CipherNid, digestByName, DigestNid, kexByName, KexNid } from "./nid.ts";

/** Who encapsulates when the key exchange is a KEM. */
export type KemMode = "server" | "client";

/** A parsed `enc.conf`. NIDs are 0 for "none". */
export interface EncConf {
  /** Key-exchange NID (0 = no key exchange, no encryption). */
  kexNid: number;
  /** Cipher NID asked for. */
  cipherNid: number;
  /** KDF digest NID. */
  kdfNid: number;
  /** Signature digest NID (OAP `md_nid`). */
  mdNid: number;
  /** KEM encapsulation side (only meaningful for KEM `kex`). */
  kemMode: KemMode;
}

/** Values in effect when an `enc.conf` exists, before its lines apply. */
export const ENC_CONF_DEFAULTS: Readonly<EncConf> = Object.freeze({
  kexNid: KexNid.PRIME256V1,
  cipherNid: CipherNid.AES_256_GCM,
  kdfNid: DigestNid.SHA256,
  mdNid: DigestNid.SHA256,
  kemMode: "server",
});

/** What a `none` line leaves (and what a missing file means): everything 0. */
export const ENC_CONF_NONE: Readonly<EncConf> = Object.freeze({
  kexNid: 0,
  cipherNid: 0,
  kdfNid: 0,
  mdNid: 0,
  kemMode: "server",
});

/** Longest line the reference reads (its line buffer is 256 bytes with the NUL). */
export const ENC_CONF_MAX_LINE = 255;

function bad(lineNo: number, msg: string): never {
  throw new OuroError(Errno.EINVAL, `Cannot load enc.conf: line ${lineNo}: ${msg}`);
}

/**
 * Parse the text of an `enc.conf`. Lines starting with `#` and lines
 * without `=` are skipped, unknown keys ignored; a bare `none` clears
 * everything and ends parsing.
 *
 * @throws OuroError EINVAL for an unknown value of a known key or a line
 *   longer than 255 bytes (the reference would split it; we refuse it)
 *
 * @example
 * ```ts
 * import { parseEncConf } from "./enc_conf.ts";
 * const c = parseEncConf("kex = X25519\ncipher = chacha20-poly1305\n");
 * console.log(c.kexNid, c.cipherNid, c.kdfNid); // 1034 1018 672
 * ```
 */
export function parseEncConf(text: string): EncConf {
  const c: EncConf = { ...ENC_CONF_DEFAULTS };
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, "");
    const no = i + 1;
    if (new TextEncoder().encode(line).length > ENC_CONF_MAX_LINE) bad(no, "line too long");
    if (line.length === 0 || line[0] === "#") continue;
    if (line.trim() === "none") return { ...ENC_CONF_NONE };
    const eq = line.indexOf("=");
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    switch (key) {
      case "kex": {
        const k = kexByName(value);
        if (!k) bad(no, `unknown kex '${value}'`);
        c.kexNid = k.nid;
        break;
      }
      case "cipher": {
        const x = cipherByName(value);
        if (!x) bad(no, `unknown cipher '${value}'`);
        c.cipherNid = x.nid;
        break;
      }
      case "kdf":
      case "digest": {
        const d = digestByName(value);
        if (!d) bad(no, `unknown ${key} '${value}'`);
        if (key === "kdf") c.kdfNid = d.nid;
        else c.mdNid = d.nid;
        break;
      }
      case "kem_mode":
        if (value !== "server" && value !== "client") bad(no, `unknown kem_mode '${value}'`);
        c.kemMode = value;
        break;
      default:
        break; // unknown keys are ignored
    }
  }
  return c;
}
