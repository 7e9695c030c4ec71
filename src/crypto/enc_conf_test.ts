import { assertEquals, assertThrows } from "../../tests/util/assert.ts";
import { Errno, OuroError } from "../lib/errors.ts";
import { ENC_CONF_DEFAULTS, ENC_CONF_NONE, parseEncConf } from "./enc_conf.ts";

Deno.test("enc_conf: an empty file means the defaults (P-256, AES-256-GCM, SHA-256)", () => {
  assertEquals(parseEncConf(""), { ...ENC_CONF_DEFAULTS });
  assertEquals(
    [ENC_CONF_DEFAULTS.kexNid, ENC_CONF_DEFAULTS.cipherNid, ENC_CONF_DEFAULTS.kdfNid],
    [415, 901, 672],
  );
  assertEquals([ENC_CONF_DEFAULTS.mdNid, ENC_CONF_DEFAULTS.kemMode], [672, "server"]);
});

Deno.test("enc_conf: keys, whitespace, comments, unknown keys, lines without '='", () => {
  const c = parseEncConf([
    "# Ouroboros encryption configuration",
    "  kex   =   X448  ",
    "cipher=chacha20-poly1305\r",
    "kdf = sha3-512",
    "digest = sha384",
    "kem_mode = client",
    "colour = blue",
    "just some words",
    "#cipher = aes-128-ctr",
    "",
  ].join("\n"));
  assertEquals(c, { kexNid: 1035, cipherNid: 1018, kdfNid: 1098, mdNid: 673, kemMode: "client" });
});

Deno.test("enc_conf: a bare 'none' clears everything and stops parsing", () => {
  assertEquals(parseEncConf("kex=X25519\n  none  \nkex=X448\ncipher=bogus\n"), {
    ...ENC_CONF_NONE,
  });
  // 'none' as a value is not the bare line.
  assertThrows(() => parseEncConf("kex = none"), OuroError, "unknown kex");
});

Deno.test("enc_conf: unknown values and overlong lines are refused (EINVAL)", () => {
  for (const t of ["kex=X25520", "cipher=aes-512-gcm", "kdf=md5", "digest=sha1", "kem_mode=both"]) {
    const e = assertThrows(() => parseEncConf(`# x\n${t}\n`), OuroError, "line 2");
    assertEquals((e as OuroError).code, Errno.EINVAL);
  }
  assertThrows(() => parseEncConf("# " + "x".repeat(254)), OuroError, "too long");
  parseEncConf("# " + "x".repeat(253)); // 255 bytes is fine
});

Deno.test("enc_conf: every name of the spec tables parses", () => {
  const kex = [
    "ffdhe2048",
    "prime256v1",
    "X25519",
    "ffdhe3072",
    "secp384r1",
    "ffdhe4096",
    "X448",
    "secp521r1",
    "ML-KEM-512",
    "ML-KEM-768",
    "ML-KEM-1024",
    "X25519MLKEM768",
    "X448MLKEM1024",
  ];
  const nids = [1126, 415, 1034, 1127, 715, 1128, 1035, 716, 1454, 1455, 1456, 2053, 2054];
  kex.forEach((k, i) => assertEquals(parseEncConf(`kex=${k}`).kexNid, nids[i]));
  const ciphers = [
    "aes-128-ctr",
    "aes-192-ctr",
    "aes-256-ctr",
    "aes-128-gcm",
    "aes-192-gcm",
    "aes-256-gcm",
    "chacha20-poly1305",
  ];
  const cn = [904, 905, 906, 895, 898, 901, 1018];
  ciphers.forEach((c, i) => assertEquals(parseEncConf(`cipher=${c}`).cipherNid, cn[i]));
  const md = [
    "blake2s256",
    "sha256",
    "sha3-256",
    "sha384",
    "sha3-384",
    "blake2b512",
    "sha512",
    "sha3-512",
  ];
  const mn = [1057, 672, 1096, 673, 1097, 1056, 674, 1098];
  md.forEach((d, i) => assertEquals(parseEncConf(`kdf=${d}\ndigest=${d}`).mdNid, mn[i]));
});
