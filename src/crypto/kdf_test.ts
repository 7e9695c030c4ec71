import { assert, assertEquals, assertThrows } from "../../tests/util/assert.ts";
import { fromHex, toHex } from "../lib/hash.ts";
import { OuroError } from "../lib/errors.ts";
import {
  compareBytes,
  deriveDheKey,
  deriveKemKey,
  dheSalt,
  hkdf,
  kdfDigestName,
  rotateKey,
  rotationSalt,
} from "./kdf.ts";

// Expected values below were computed independently with python3 hmac/hashlib
// (HKDF written out from RFC 5869); the rotation key k1 was also confirmed with
// `openssl kdf -kdfopt digest:SHA256 ... HKDF` (OpenSSL 3.0.19).

const IKM = fromHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
const A = fromHex("3059010203");
const B = fromHex("305901"); // prefix of A: shorter sorts first

Deno.test("kdf: HKDF matches RFC 5869 test case 1", () => {
  const okm = hkdf(
    "sha256",
    fromHex("0b".repeat(22)),
    fromHex("000102030405060708090a0b0c"),
    fromHex("f0f1f2f3f4f5f6f7f8f9"),
    42,
  );
  assertEquals(
    toHex(okm),
    "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
  );
});

Deno.test("kdf: memcmp order and DHE salt", () => {
  assert(compareBytes(B, A) < 0 && compareBytes(A, B) > 0 && compareBytes(A, A) === 0);
  assert(compareBytes(fromHex("02"), fromHex("0100")) > 0);
  const want = "ef1f3df64bd02b767e17c2d8e82cdc2f1b6213fd3ac7aee5ffd3de9f4da083de"; // SHA-256(B ‖ A)
  assertEquals(toHex(dheSalt(A, B)), want);
  assertEquals(toHex(dheSalt(B, A)), want);
});

Deno.test("kdf: DHE key known answers per KDF digest", () => {
  const cases: [number, string][] = [
    [672, "61c3e87dccfc3ef82d129f37b117260d8d95e41763d856badaf67ae7f0a93eae"], // sha256
    [0, "61c3e87dccfc3ef82d129f37b117260d8d95e41763d856badaf67ae7f0a93eae"], // none → sha256
    [673, "f103df14a7e00d22c8eea592f866653c23e16ab37da5d02910999e4cdad929e4"], // sha384
    [1057, "de74097064a802d395c48306089ce3452da112a570b43aefe4ca3d241b0b13c4"], // blake2s256
    [1098, "06ff26e47f4e420e80726ae20d05923507610d36d9539ea4f3fe6037d2b52e98"], // sha3-512
    [1056, "8b370583e8e33c5a353dcab35505bd9b29e79829e3e8f4e8b3824cd0d02fd776"], // blake2b512
  ];
  for (const [nid, want] of cases) {
    assertEquals(toHex(deriveDheKey(nid, IKM, A, B)), want, `kdf ${nid}`);
    assertEquals(toHex(deriveDheKey(nid, IKM, B, A)), want, `kdf ${nid} (other side)`);
  }
  assertEquals(kdfDigestName(12345), "sha256");
});

Deno.test("kdf: DHE salt over the two P-256 keys of udp4-encrypted.pcap", () => {
  const req = fromHex(
    "3059301306072a8648ce3d020106082a8648ce3d03010703420004dc2a895755f1aa3bd62d1baef5ee03387672712dac710e2be3f213e308d5057036b367c16df32bd0f89dac8fac72527a2599498ef4eadd4b28265ff68b008695",
  );
  const resp = fromHex(
    "3059301306072a8648ce3d020106082a8648ce3d030107034200047884e152f548502d614312347018e33f9d513fd783178083431343c4c457d1e45bf028a900aa2bd3480c0c2e4b5afe37f8c24368b89c5cc92b1227d5fb133694",
  );
  assertEquals(
    toHex(dheSalt(req, resp)),
    "5df95a5be51e837fc245af4306e0dfd80f4de85d6be929cf930c261c6032391e",
  );
  const ss = new Uint8Array(32).fill(0x5a);
  assertEquals(
    toHex(deriveDheKey(672, ss, resp, req)),
    "25a9b4da3a57ee5c0db28c9e1a12acfaa7858a3d2f1c5b09a899d90f14fcfff6",
  );
});

Deno.test("kdf: short shared secret is ECRYPT", () => {
  assertThrows(() => deriveDheKey(672, new Uint8Array(31), A, B), OuroError, "31");
});

Deno.test("kdf: KEM key known answer", () => {
  const ss = new Uint8Array(64);
  ss.fill(0xaa, 0, 32);
  ss.fill(0xbb, 32);
  const pub = Uint8Array.from({ length: 1216 }, (_, i) => i & 0xff);
  assertEquals(
    toHex(deriveKemKey(672, ss, pub)),
    "940cd379593e9a0875a1d75ab33aaa298f63b840bb40957be65eb6fa73d70c42",
  );
});

Deno.test("kdf: key rotation chain known answers", () => {
  const salt = rotationSalt(IKM);
  assertEquals(toHex(salt), "630dcd2966c4336691125448bbb25b4ff412a49c732db2c8abc1b8581bd710dd");
  const k1 = rotateKey(IKM, salt);
  assertEquals(toHex(k1), "cf95b6c68e77b8713cdfd62033f2bea52f621b894e197be6934c6ff99735d1a5");
  assertEquals(
    toHex(rotateKey(k1, salt)),
    "4c3544057ff00629fb982b8c17201efcbee072bc377c0496131bc840903559b9",
  );
});
