import {
  assert,
  assertBytes,
  assertEquals,
  assertNotEquals,
  assertRejects,
  assertThrows,
} from "../../tests/util/assert.ts";
import { loadCapture, udpPayload } from "../../tests/util/pcap.ts";
import { Buffer } from "node:buffer";
import { createPrivateKey } from "node:crypto";
import { OuroError } from "../lib/errors.ts";
import { fromHex, toHex } from "../lib/hash.ts";
import {
  dhSharedSecret,
  kemDecapsulate,
  kemEncapsulate,
  kexClientFinish,
  kexGenerate,
  type KexKeyPair,
  kexNidOfPublic,
  kexServer,
  kexSupported,
} from "./kex.ts";
import { deriveDheKey } from "./kdf.ts";
import { ffdheAvailable } from "./ffdhe.ts";
import { decodeOapRequest, decodeOapResponse } from "./oap_wire.ts";

// [nid, client kex length, response kex length, raw]
const ALGS: [number, string, number, number, boolean][] = [
  [415, "prime256v1", 91, 91, false],
  [715, "secp384r1", 120, 120, false],
  [716, "secp521r1", 158, 158, false],
  [1034, "X25519", 44, 44, false],
  [1035, "X448", 68, 68, false],
  [1454, "ML-KEM-512", 822, 768, false],
  [1455, "ML-KEM-768", 1206, 1088, false],
  [1456, "ML-KEM-1024", 1590, 1568, false],
  [2053, "X25519MLKEM768", 1216, 1120, true],
  [2054, "X448MLKEM1024", 1624, 1624, true],
];

Deno.test("kex: every supported algorithm agrees on a key (client ↔ server)", async () => {
  for (const [nid, name, reqLen, respLen, raw] of ALGS) {
    assert(kexSupported(nid), name);
    const pair = await kexGenerate(nid);
    assertEquals([pair.publicKey.length, pair.raw], [reqLen, raw], name);
    assertEquals(kexNidOfPublic(pair.publicKey, pair.raw), nid, name);
    const srv = await kexServer(pair.publicKey, pair.raw, 672);
    assertEquals([srv.nid, srv.kex.length, srv.raw], [nid, respLen, raw], name);
    const key = await kexClientFinish(pair, srv.kex, 672);
    assertEquals(key.length, 32);
    assertBytes(key, srv.key, name);
  }
});

Deno.test("kex: FFDHE groups agree on a key where libcrypto runs, and are refused where not", async () => {
  const have = ffdheAvailable();
  for (const [nid, name, spkiLen] of [[1126, "ffdhe2048", 553], [1127, "ffdhe3072", 809], [1128, "ffdhe4096", 1065]] as const) {
    assertEquals(kexSupported(nid), have, name);
    if (!have) {
      await assertRejects(() => kexGenerate(nid), OuroError, "not supported");
      continue;
    }
    const pair = await kexGenerate(nid);
    // DER: the public value's INTEGER is a byte shorter now and then
    assert(pair.publicKey.length <= spkiLen && pair.publicKey.length >= spkiLen - 3 && !pair.raw, name);
    assertEquals(kexNidOfPublic(pair.publicKey, false), nid, name);
    const srv = await kexServer(pair.publicKey, false, 672);
    assertEquals(srv.nid, nid, name);
    assert(srv.kex.length <= spkiLen && srv.kex.length >= spkiLen - 3, name);
    assertBytes(await kexClientFinish(pair, srv.kex, 672), srv.key, name);
  }
  if (!have) return;
  // a key of another group, another algorithm or garbage: ECRYPT, never another error
  const a = await kexGenerate(1126), b = await kexGenerate(1127), e = await kexGenerate(415);
  for (const peer of [b.publicKey, e.publicKey, a.publicKey.subarray(0, 100), new Uint8Array(0)]) {
    assertThrows(() => dhSharedSecret(a, peer), OuroError);
  }
  const { fuzzDecoder } = await import("../../tests/util/fuzz.ts");
  fuzzDecoder((k) => {
    try {
      dhSharedSecret(a, k);
    } catch (err) {
      if (!(err instanceof OuroError)) throw err;
    }
  }, [a.publicKey], 300, 3);
});

Deno.test("kex: X25519 known answer (RFC 7748 §6.1 keys) through the OAP KDF", () => {
  const pkcs8 = (h: string) =>
    createPrivateKey({
      key: Buffer.from("302e020100300506032b656e04220420" + h, "hex"),
      format: "der",
      type: "pkcs8",
    });
  const aPub = fromHex(
    "302a300506032b656e0321008520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
  );
  const bPub = fromHex(
    "302a300506032b656e032100de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
  );
  const alice: KexKeyPair = {
    nid: 1034,
    publicKey: aPub,
    raw: false,
    priv: { ec: pkcs8("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a") },
  };
  const ss = dhSharedSecret(alice, bPub);
  assertEquals(toHex(ss), "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
  // HKDF expected values from python3 hmac/hashlib.
  assertEquals(
    toHex(deriveDheKey(672, ss, aPub, bPub)),
    "027f4ac391ca6220db591ec4eee481d3e9c72ef82ff9d4697c2a97f0e5a6dedb",
  );
  assertEquals(
    toHex(deriveDheKey(673, ss, bPub, aPub)),
    "f2d35dd0634972a5ad235b5165ccd2cd3204f9b184b1d49b79626cb357cef439",
  );
});

Deno.test("kex: P-256 known answer against the OpenSSL 3.0 CLI (genpkey, pkeyutl -derive, kdf HKDF)", () => {
  const a8 =
    "308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b02010104204bafca283dc402e445d1ed7e8da91fca906d063026306a5558d8011c3e4bb957a14403420004f6855b78b535039c516217dffe0477555164ab89772ebce1afff7bc90a660ea2a34437356342672b28de2d5e55ea54152629a3d15e4122e839bfe82af34a92f5";
  const aPub = fromHex(
    "3059301306072a8648ce3d020106082a8648ce3d03010703420004f6855b78b535039c516217dffe0477555164ab89772ebce1afff7bc90a660ea2a34437356342672b28de2d5e55ea54152629a3d15e4122e839bfe82af34a92f5",
  );
  const bPub = fromHex(
    "3059301306072a8648ce3d020106082a8648ce3d03010703420004245f6ae2f27ffa313ca7462fc3ec88fefb432f3b32c0670edf7c7bbbf90c3e4726360bfd6371fb55ae86c72ddef1e4ec28bb3afa6360dcd15e7175937664adf3",
  );
  const a: KexKeyPair = {
    nid: 415,
    publicKey: aPub,
    raw: false,
    priv: { ec: createPrivateKey({ key: Buffer.from(a8, "hex"), format: "der", type: "pkcs8" }) },
  };
  assertEquals(kexNidOfPublic(bPub, false), 415);
  const ss = dhSharedSecret(a, bPub);
  assertEquals(toHex(ss), "354c6bbfc4b04ac2fbdbe3592814917b06ac7f4d51ee03c396040309bcf0e6ea");
  assertEquals(
    toHex(deriveDheKey(672, ss, aPub, bPub)),
    "f7d9d2572e1c425e054308af2eeadbfdd20ba83d289b711dc12484c5cd226607",
  );
});

Deno.test("kex: P-256 keys of udp4-encrypted.pcap are understood, ours have the same encoding", async () => {
  const f = loadCapture("udp4-encrypted.pcap");
  const req = decodeOapRequest(udpPayload(f[24]!.data)!.payload.subarray(4 + 15 + 61 + 32));
  const resp = decodeOapResponse(udpPayload(f[25]!.data)!.payload.subarray(4 + 15 + 61), req.mdNid);
  assertEquals(kexNidOfPublic(req.kex, false), 415);
  assertEquals(kexNidOfPublic(resp.kex, false), 415);
  const ours = await kexGenerate(415);
  assertEquals(ours.publicKey.length, req.kex.length);
  assertBytes(ours.publicKey.subarray(0, 27), req.kex.subarray(0, 27));
  // A server answering the captured request, and a client finishing against the captured response.
  const srv = await kexServer(req.kex, false, req.kdfNid);
  assertEquals(srv.kex.length, 91);
  assertEquals((await kexClientFinish(ours, resp.kex, 672)).length, 32);
});

Deno.test("kex: hostile keys and ciphertexts are ECRYPT", async () => {
  const p256 = await kexGenerate(415);
  const x25519 = await kexGenerate(1034);
  assertThrows(() => kexNidOfPublic(new Uint8Array(91), false), OuroError);
  assertThrows(() => kexNidOfPublic(new Uint8Array(1000), true), OuroError);
  assertThrows(() => dhSharedSecret(p256, x25519.publicKey), OuroError, "another algorithm");
  const badPoint = p256.publicKey.slice();
  badPoint[40]! ^= 0xff; // point off the curve
  assertThrows(() => dhSharedSecret(p256, badPoint), OuroError);
  await assertRejects(() => kexClientFinish(p256, new Uint8Array(0), 672), OuroError, "no key");
  const kem = await kexGenerate(1455);
  await assertRejects(() => kemDecapsulate(kem, new Uint8Array(100)), OuroError);
  await assertRejects(() => kemEncapsulate(1455, new Uint8Array(1206)), OuroError);
  const hyb = await kexGenerate(2053);
  await assertRejects(() => kemEncapsulate(2053, hyb.publicKey.subarray(1)), OuroError);
  await assertRejects(() => kemDecapsulate(hyb, new Uint8Array(1119)), OuroError);
});

Deno.test("kex: tampered KEM ciphertext yields a different key (implicit rejection)", async () => {
  for (const nid of [1455, 2053]) {
    const pair = await kexGenerate(nid);
    const srv = await kexServer(pair.publicKey, pair.raw, 672);
    const ct = srv.kex.slice();
    ct[5]! ^= 1;
    assertNotEquals(Array.from(await kexClientFinish(pair, ct, 672)), Array.from(srv.key));
  }
});

Deno.test("kex: fuzz public-key identification throws only ECRYPT", async () => {
  const { mutate, rng } = await import("../../tests/util/fuzz.ts");
  const seeds = [
    (await kexGenerate(415)).publicKey,
    (await kexGenerate(1034)).publicKey,
    (await kexGenerate(1455)).publicKey,
  ];
  const r = rng(7);
  for (let i = 0; i < 3000; i++) {
    const input = mutate(seeds[i % seeds.length]!, r);
    try {
      kexNidOfPublic(input, r() < 0.2);
    } catch (e) {
      if (!(e instanceof OuroError)) throw new Error(`threw ${e} on ${toHex(input)}`);
    }
  }
});
