import { assert, assertBytes, assertEquals, assertThrows } from "../../tests/util/assert.ts";
import { Errno, isErrno, OuroError } from "../lib/errors.ts";
import { fromHex } from "../lib/hash.ts";
import { cipherSupported, PacketCrypt } from "./aead.ts";
import { rotateKey, rotationSalt } from "./kdf.ts";
import { ROTATION_MASK, RX_ROTATE_AGE } from "./rotation.ts";

const KEY = Uint8Array.from({ length: 32 }, (_, i) => i);
const PT = Uint8Array.from({ length: 64 }, (_, i) => (i * 7) & 0xff);

// Packets built independently with python3 `cryptography` 48.0.0 (AESGCM,
// ChaCha20Poly1305, AES-CTR) from KEY and PT: IV ‖ ciphertext ‖ tag, IV[0] = 0x8f
// (phase bit 1), no associated data, key prefix for the 128/192-bit ciphers.
const VECTORS: [number, string][] = [
  [
    901,
    "8f0102030405060708090a0b27d1e612cd914b375d3b09933424a7fff7bc3b9bb90c0fb8cd75e891c8a089b51b200daf312f28b664b07aa47e3689b45c20fc8895ac217f8d3e0323017ee39d59bbe02894ca1cd4d73314756ea51889",
  ],
  [
    895,
    "8f0102030405060708090a0b494e141d370d927e52c96c1f90a2c1ea1deb4080299a700186e07b833a3a095ec0de8f5725cd17354a7813867df521044bf487c589672b3df14132cbc103eee97e73ad63d1328e18744362e23c45873a",
  ],
  [
    1018,
    "8f0102030405060708090a0bc9aefe9fa38fed7456b231e9aea040af9e735c22d65d70ddceeda606f523ec1d889cea67eb34b076be08ebd9cd3ee93df40dcf9c0dee3ab773e1920e9fbb259dfc997b41f8ffdefc76d8e3e0fd7bf7dd",
  ],
  [
    904,
    "8f0102030405060708090a0b0c0d0e0f26b089a1bd69598812c0dd5c6d2b8f80bfff846674a80540e24e4ba7cb11029cb65573e31481d38449de001f4ae20462f6221eb35a9fb4da068540e89a8f7e0f",
  ],
  [
    905,
    "8f0102030405060708090a0b0c0d0e0fe06b8a1db9aa7f987f37191f2143973fe4f4d6e39fd7b1d7b85534202719a43c9049f17512413469f805707835a8fb1a5bf3f768afe82e1094dea08bea362539",
  ],
  [
    906,
    "8f0102030405060708090a0b0c0d0e0f22d56fc15687eb6e556814e6f8d14cc6aea59d2354c861a9d78f78a55e03ec09a6c3ea3a528ef54ff5afc0cbefe315865060ce378501169033a9fe924ef35359",
  ],
];

Deno.test("aead: decrypts packets built by an independent implementation", () => {
  for (const [nid, hex] of VECTORS) {
    const out = new PacketCrypt(nid, KEY).decrypt(fromHex(hex));
    assert(out, `cipher ${nid}`);
    assertBytes(out, PT, `cipher ${nid}`);
  }
});

Deno.test("aead: packet layout and sizes (92 B for a 64 B oping SDU with GCM, as captured)", () => {
  const sizes: [number, number][] = [[901, 92], [895, 92], [1018, 92], [904, 80], [905, 80], [
    906,
    80,
  ]];
  for (const [nid, len] of sizes) {
    const a = new PacketCrypt(nid, KEY);
    const pkt = a.encrypt(PT);
    assertEquals(pkt.length, len, `cipher ${nid}`);
    assertEquals(a.overhead, len - 64);
    assertEquals(pkt[0]! >> 7, 0, "phase bit 0 at start");
    assertBytes(new PacketCrypt(nid, KEY).decrypt(pkt)!, PT);
  }
});

Deno.test("aead: our AES-GCM packet opens with WebCrypto (IV first, tag last, no AAD)", async () => {
  const pkt = new PacketCrypt(901, KEY).encrypt(PT);
  const k = await crypto.subtle.importKey("raw", KEY, "AES-GCM", false, ["decrypt"]);
  const iv = pkt.slice(0, 12);
  const pt = new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv }, k, pkt.slice(12)));
  assertBytes(pt, PT);
});

Deno.test("aead: random IVs differ, empty payload works", () => {
  const a = new PacketCrypt(1018, KEY);
  const ivs = new Set<string>();
  for (let i = 0; i < 2000; i++) ivs.add(Array.from(a.encrypt(PT).subarray(1, 12)).join(","));
  assertEquals(ivs.size, 2000);
  const e = a.encrypt(new Uint8Array(0));
  assertEquals(e.length, 28);
  assertEquals(new PacketCrypt(1018, KEY).decrypt(e)!.length, 0);
});

Deno.test("aead: tampered or short packets are dropped; counters as in spec 04 §8", () => {
  const b = new PacketCrypt(901, KEY);
  const pkt = new PacketCrypt(901, KEY).encrypt(PT);
  assertEquals(b.decrypt(pkt.subarray(0, 27)), undefined); // < IV + tag
  assertEquals(b.rotation.cntr, 0, "short packet does not touch the counter");
  for (const at of [0 + 1, 20, pkt.length - 1]) {
    const t = pkt.slice();
    t[at]! ^= 0x01;
    assertEquals(b.decrypt(t), undefined, `flip at ${at}`);
  }
  assertEquals(b.rotation.cntr, 3, "tag failures count");
  assertEquals(new PacketCrypt(901, KEY.map((x) => x ^ 1)).decrypt(pkt), undefined);
  assertEquals(new PacketCrypt(1018, KEY).decrypt(pkt), undefined);
});

Deno.test("aead: constructor errors", () => {
  assertThrows(() => new PacketCrypt(0, KEY), OuroError, "unknown cipher");
  assertThrows(() => new PacketCrypt(901, new Uint8Array(16)), OuroError, "32 bytes");
  const e = assertThrows(() => new PacketCrypt(898, KEY, undefined, "node:crypto"), OuroError);
  assert(isErrno(e, Errno.ENOTSUP));
  assertEquals(cipherSupported(898), new PacketCrypt(901, KEY).backend === "libcrypto");
  assertEquals(cipherSupported(901), true);
  assertEquals(cipherSupported(0), false);
});

Deno.test("aead: phase bit and key change across the 2^20 boundary", () => {
  const k1 = rotateKey(KEY, rotationSalt(KEY));
  const a = new PacketCrypt(901, KEY, { cntr: ROTATION_MASK - 2, age: ROTATION_MASK - 2 });
  const b = new PacketCrypt(901, KEY, { cntr: ROTATION_MASK - 2, age: RX_ROTATE_AGE });
  const pkts = [a.encrypt(PT), a.encrypt(PT), a.encrypt(PT), a.encrypt(PT)];
  assertEquals(pkts.map((p) => p[0]! >> 7), [0, 0, 1, 1]);
  assertBytes(a.rotation.current, k1);
  assertEquals(a.rotation.phase, 1);
  for (const p of pkts) assertBytes(b.decrypt(p)!, PT);
  assertBytes(b.rotation.current, k1);
  // The old phase-0 key still opens late packets at the receiver.
  const late = new PacketCrypt(901, KEY).encrypt(PT);
  assertBytes(b.decrypt(late)!, PT);
  // Packets sealed with k1 directly (as a fresh context on k1) open too.
  const fromK1 = new PacketCrypt(901, k1, { cntr: ROTATION_MASK }).encrypt(PT);
  assertBytes(b.decrypt(fromK1)!, PT);
});

Deno.test("aead: fuzz decrypt never throws", async () => {
  const { fuzzDecoder } = await import("../../tests/util/fuzz.ts");
  for (const nid of [901, 1018, 904]) {
    const rx = new PacketCrypt(nid, KEY);
    const seeds = [
      new PacketCrypt(nid, KEY).encrypt(PT),
      new PacketCrypt(nid, KEY).encrypt(new Uint8Array(0)),
    ];
    const r = fuzzDecoder((b) => rx.decrypt(b), seeds, 3000, nid);
    assertEquals(r.rejected, 0);
  }
});

Deno.test("aead: sealed packets share no bytes, across slabs and for large SDUs", () => {
  const a = new PacketCrypt(1018, KEY), b = new PacketCrypt(1018, KEY);
  const sizes = [1400, 0, 1, 63, 1400, 100_000, 1400];
  const plains = Array.from(
    { length: 300 },
    (_, i) => new Uint8Array(sizes[i % sizes.length]!).fill(i & 0xff),
  );
  const sealed = plains.map((p) => a.encrypt(p)); // > 64 KiB in all: several slabs
  sealed[1]!.fill(0); // ruining one packet leaves its neighbours intact
  for (let i = 0; i < plains.length; i++) {
    const out = b.decrypt(sealed[i]!);
    if (i === 1) assertEquals(out, undefined);
    else {
      assert(out, `packet ${i}`);
      assertBytes(out, plains[i]!, `packet ${i}`);
      assertEquals(
        Object.getPrototypeOf(out),
        Uint8Array.prototype,
        "a plain Uint8Array, not a Buffer",
      );
    }
  }
});

Deno.test("aead: 128-bit ciphers take the prefix of the rotated key too", async () => {
  const k1 = rotateKey(KEY, rotationSalt(KEY));
  const start = { cntr: ROTATION_MASK - 1, age: ROTATION_MASK - 1 };
  const a = new PacketCrypt(895, KEY, start); // aes-128-gcm
  const [p0, p1] = [a.encrypt(PT), a.encrypt(PT)];
  assertEquals([p0[0]! >> 7, p1[0]! >> 7], [0, 1]);
  for (const [pkt, key] of [[p0, KEY], [p1, k1]] as const) {
    const k = await crypto.subtle.importKey("raw", key.slice(0, 16), "AES-GCM", false, ["decrypt"]);
    const pt = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: pkt.slice(0, 12) },
      k,
      pkt.slice(12),
    );
    assertBytes(new Uint8Array(pt), PT);
  }
  const b = new PacketCrypt(904, KEY, { cntr: ROTATION_MASK - 2, age: RX_ROTATE_AGE }); // aes-128-ctr
  const tx = new PacketCrypt(904, KEY, { cntr: ROTATION_MASK - 2, age: ROTATION_MASK - 2 });
  for (let i = 0; i < 4; i++) assertBytes(b.decrypt(tx.encrypt(PT))!, PT, `packet ${i}`);
  assertBytes(b.rotation.current, k1);
});

Deno.test("aead: libcrypto and node:crypto backends make and open each other's packets", async () => {
  const { aeadBackend } = await import("./evp.ts");
  // libcrypto ships with Debian (libssl3); .ci/run installs it where it is missing
  const hasLib = ["/lib/x86_64-linux-gnu/libcrypto.so.3", "/usr/lib/x86_64-linux-gnu/libcrypto.so.3"]
    .some((p) => {
      try {
        return Deno.statSync(p).isFile;
      } catch {
        return false;
      }
    });
  if (hasLib) assertEquals(aeadBackend().name, "libcrypto", aeadBackend().reason);
  for (const [nid, hex] of VECTORS) {
    const out = new PacketCrypt(nid, KEY, undefined, "node:crypto").decrypt(fromHex(hex));
    assertBytes(out!, PT, `node:crypto opens the vector of cipher ${nid}`);
  }
  if (hasLib) {
    // aes-192-gcm, which node:crypto lacks: a packet from python3 `cryptography` (24-byte key prefix)
    const v = "8f0102030405060708090a0bbc4dbb19cf6cf2a4c47a01f3928cd3bcabd768292159b5fe410eb23eaa6698d0a6ca95b52cc5bfd347fe29fbef6b60d399e47c9aee292feec197e003d1fa61cca87814e4ef226e8ebd0a081f751c957a";
    const a = new PacketCrypt(898, KEY);
    assertBytes(a.decrypt(fromHex(v))!, PT);
    assertBytes(a.decrypt(new PacketCrypt(898, KEY).encrypt(PT))!, PT);
  }
  for (const nid of [901, 895, 1018, 904, 905, 906]) {
    const fast = new PacketCrypt(nid, KEY);
    const slow = new PacketCrypt(nid, KEY, undefined, "node:crypto");
    if (hasLib) assertEquals(fast.backend, "libcrypto");
    assertEquals(slow.backend, "node:crypto");
    for (const n of [0, 1, 15, 16, 17, 64, 1400, 9000]) {
      const pt = Uint8Array.from({ length: n }, (_, i) => (i * 31 + n) & 0xff);
      assertBytes(slow.decrypt(fast.encrypt(pt))!, pt, `${nid} fast→slow ${n} B`);
      assertBytes(fast.decrypt(slow.encrypt(pt))!, pt, `${nid} slow→fast ${n} B`);
    }
    // a tampered AEAD packet fails on both; the context still works afterwards
    const pkt = fast.encrypt(PT);
    pkt[pkt.length - 1]! ^= 1;
    if (nid === 901 || nid === 895 || nid === 1018) {
      assertEquals(slow.decrypt(pkt), undefined);
      assertEquals(fast.decrypt(pkt), undefined);
    }
    assertBytes(fast.decrypt(slow.encrypt(PT))!, PT, `${nid} after a failure`);
  }
});

Deno.test("aead: sealInto writes IV ‖ ciphertext ‖ tag into the caller's buffer, or refuses a short one", () => {
  for (const backend of [undefined, "node:crypto"] as const) {
    const a = new PacketCrypt(901, KEY, undefined, backend), b = new PacketCrypt(901, KEY);
    const buf = new Uint8Array(200).fill(0xee);
    const n = a.sealInto(PT, buf.subarray(10));
    assertEquals(n, PT.length + a.overhead);
    assertEquals(buf[9], 0xee, "nothing before the buffer given");
    assertEquals(buf[10 + n], 0xee, "nothing after the packet");
    assertBytes(b.decrypt(buf.subarray(10, 10 + n))!, PT);
    assertThrows(() => a.sealInto(PT, new Uint8Array(PT.length + a.overhead - 1)), RangeError);
  }
});
