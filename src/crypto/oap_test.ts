import {
  assert,
  assertBytes,
  assertEquals,
  assertNotEquals,
  assertRejects,
} from "../../tests/util/assert.ts";
import { loadCapture, udpPayload } from "../../tests/util/pcap.ts";
import { Errno, isErrno, OuroError } from "../lib/errors.ts";
import { parseEncConf } from "./enc_conf.ts";
import { kexGenerate } from "./kex.ts";
import { CipherNid, DigestNid, KexNid } from "./nid.ts";
import {
  oapClientComplete,
  oapClientPrepare,
  type OapClientState,
  oapServerProcess,
  wallClockNs,
} from "./oap.ts";
import { decodeOapRequest, decodeOapResponse, encodeOap, oapRequestHash } from "./oap_wire.ts";
import { assertCode, handshake, roundTrip } from "./testdata/oap/fixtures.ts";
import { ReplayWindow } from "./replay.ts";

const udp4 = loadCapture("udp4-unicast.pcap");
const enc = loadCapture("udp4-encrypted.pcap");
function oapAt(frames: typeof udp4, no: number, offset: number): Uint8Array {
  const u = udpPayload(frames[no - 1]!.data);
  assert(u, `frame ${no} is udp`);
  return new Uint8Array(u.payload.subarray(offset));
}
// Offsets of the OAP bytes in the captures (see oap_wire_test.ts).
const MGMT = 47, MGMT_REQ = 47 + 16, FA = 4 + 15 + 61, FA_REQ = FA + 32;
const PLAIN: [number, number, number, number, string][] = [
  [3, 4, MGMT_REQ, MGMT, "uni.a"],
  [10, 11, MGMT_REQ, MGMT, "uni.a"],
  [14, 15, MGMT_REQ, MGMT, "uni.a"],
  [25, 26, FA_REQ, FA, "oping.srv"],
];

Deno.test("oap: client prepare and server process reproduce udp4-unicast.pcap byte-exact", async () => {
  for (const [rq, rs, ro, so, name] of PLAIN) {
    const req = oapAt(udp4, rq, ro), resp = oapAt(udp4, rs, so);
    const q = decodeOapRequest(req);
    const r = decodeOapResponse(resp, 0);
    // The client, fed the captured id and clock, builds the captured request.
    const { request, state } = await oapClientPrepare({
      name,
      random: () => q.id,
      now: () => q.timestampNs,
    });
    assertBytes(request, req, `frame ${rq}`);
    // The server, at the captured response time, builds the captured response.
    const s = await oapServerProcess(req, {
      name,
      replay: new ReplayWindow(),
      now: () => r.timestampNs,
    });
    assertEquals([s.response.length, s.cipherNid, s.key], [84, 0, undefined]);
    assertBytes(s.response, resp, `frame ${rs}`);
    const c = await oapClientComplete(state, resp);
    assertEquals([c.cipherNid, c.key, c.kexNid, c.peer.authenticated], [0, undefined, 0, false]);
  }
});

Deno.test("oap: server without enc.conf answers udp4-encrypted.pcap's request like the reference", async () => {
  const req = oapAt(enc, 25, FA_REQ), resp = oapAt(enc, 26, FA);
  const ref = decodeOapResponse(resp, DigestNid.SHA256);
  const s = await oapServerProcess(req, {
    name: "oping.srv",
    replay: new ReplayWindow(),
    now: () => ref.timestampNs,
  });
  assertEquals(s.response.length, resp.length); // 159
  const h = decodeOapResponse(s.response, DigestNid.SHA256);
  assertEquals(
    [h.cipherNid, h.kdfNid, h.mdNid, h.crt.length, h.kex.length, h.kexRaw, h.kexClientEncap],
    [901, 672, 0, 0, 91, false, false],
  );
  assertBytes(s.response.subarray(0, 36), resp.subarray(0, 36), "fixed header");
  assertBytes(h.reqHash!, ref.reqHash!, "SHA-256 request hash");
  assertBytes(h.kex.subarray(0, 27), ref.kex.subarray(0, 27), "P-256 SPKI prefix");
  assertEquals([s.cipherNid, s.kexNid, s.kdfNid, s.key?.length], [901, 415, 672, 32]);
});

Deno.test("oap: handshake P-256 + AES-256-GCM (enc.conf defaults)", async () => {
  const { cli, srv, request, response } = await handshake({ client: parseEncConf("") });
  assertEquals([request.length, response.length], [127, 159]); // as in udp4-encrypted.pcap
  assertEquals([cli.cipherNid, cli.kexNid, cli.kdfNid], [CipherNid.AES_256_GCM, 415, 672]);
  assertEquals(srv.kexNid, KexNid.PRIME256V1);
  roundTrip(cli, srv);
});

Deno.test("oap: handshake X25519 + ChaCha20-Poly1305", async () => {
  const client = parseEncConf("kex=X25519\ncipher=chacha20-poly1305\nkdf=sha512\n");
  const { cli, srv } = await handshake({ client, server: parseEncConf("kex = X25519") });
  assertEquals([cli.cipherNid, cli.kexNid, cli.kdfNid], [1018, 1034, DigestNid.SHA512]);
  roundTrip(cli, srv);
});

Deno.test("oap: handshake ML-KEM-768 (server encapsulates)", async () => {
  const { cli, srv, request } = await handshake({ client: parseEncConf("kex=ML-KEM-768") });
  const q = decodeOapRequest(request);
  assertEquals([q.kex.length, q.kexRaw, q.kexClientEncap], [1206, false, false]);
  assertEquals([cli.kexNid, srv.kexNid], [1455, 1455]);
  roundTrip(cli, srv);
});

Deno.test("oap: handshake X25519MLKEM768 (hybrid, raw keys, F bit)", async () => {
  const { cli, srv, request, response } = await handshake({
    client: parseEncConf("kex=X25519MLKEM768\ncipher=chacha20-poly1305"),
  });
  const q = decodeOapRequest(request);
  assertEquals([q.kex.length, q.kexRaw, q.kexClientEncap], [1216, true, false]);
  const r = decodeOapResponse(response, q.mdNid);
  assertEquals([r.kex.length, r.kexRaw], [1120, true]);
  roundTrip(cli, srv);
});

Deno.test("oap: handshake ML-KEM-768 in client-encapsulation mode (static server key)", async () => {
  const stat = await kexGenerate(KexNid.ML_KEM_768);
  const { cli, srv, request, response } = await handshake({
    client: parseEncConf("kex=ML-KEM-768\nkem_mode=client\nkdf=sha384"),
    server: parseEncConf("kex=ML-KEM-768"),
    clientCreds: { kemPeerPublic: { pem: stat.publicKey } },
    serverCreds: { kemStatic: { pem: stat } },
  });
  const q = decodeOapRequest(request);
  assertEquals([q.kex.length, q.kexRaw, q.kexClientEncap], [1088, false, true]);
  const r = decodeOapResponse(response, q.mdNid);
  assertEquals([r.kex.length, r.kdfNid], [0, DigestNid.SHA384]);
  roundTrip(cli, srv);
  // No static key on the client: cannot even prepare.
  await assertCode(
    oapClientPrepare({ name: "x", encConf: parseEncConf("kex=ML-KEM-768\nkem_mode=client") }),
    Errno.ECRYPT,
  );
});

Deno.test("oap: negotiation takes the stronger cipher and KDF; the client adopts them", async () => {
  const { cli, srv } = await handshake({
    client: parseEncConf("cipher=aes-128-gcm\nkdf=sha256"),
    server: parseEncConf("cipher=chacha20-poly1305\nkdf=sha3-512"),
  });
  assertEquals([cli.cipherNid, cli.kdfNid], [1018, DigestNid.SHA3_512]);
  roundTrip(cli, srv);
});

Deno.test("oap: server refusals (encryption required, weaker kex)", async () => {
  // The server wants encryption, the client offers none.
  await assertCode(handshake({ server: parseEncConf("") }), Errno.ECRYPT, "required");
  // The server wants X25519 at least; P-256 (rank 2) is weaker.
  await assertCode(
    handshake({ client: parseEncConf(""), server: parseEncConf("kex=X25519") }),
    Errno.ECRYPT,
    "weaker",
  );
  // A stronger client kex than the server's is fine.
  const { cli, srv } = await handshake({
    client: parseEncConf("kex=secp384r1"),
    server: parseEncConf("kex=X25519"),
  });
  assertEquals(cli.kexNid, KexNid.SECP384R1);
  roundTrip(cli, srv);
  // "none" on the server side is the same as no file.
  const n = await handshake({ server: parseEncConf("kex=X25519\nnone\nkex=X448") });
  assertEquals(n.cli.cipherNid, 0);
});

Deno.test("oap: replayed, stale and future requests are refused (EAUTH)", async () => {
  const replay = new ReplayWindow();
  const { request } = await oapClientPrepare({ name: "a" });
  const ts = decodeOapRequest(request).timestampNs;
  const at = (ms: number) => () => ts + BigInt(ms) * 1_000_000n;
  await oapServerProcess(request, { name: "a", replay, now: at(5) });
  await assertCode(oapServerProcess(request, { name: "a", replay, now: at(6) }), Errno.EAUTH);
  const fresh = () => oapClientPrepare({ name: "a" }).then((p) => p.request);
  await assertCode(
    oapServerProcess(await fresh(), {
      name: "a",
      replay,
      now: () => wallClockNs() + 20_001_000_000n,
    }),
    Errno.EAUTH,
    "stale",
  );
  await assertCode(
    oapServerProcess(await fresh(), { name: "a", replay, now: () => wallClockNs() - 200_000_000n }),
    Errno.EAUTH,
    "future",
  );
  // 19.9 s old is still fresh.
  const r = await fresh();
  const t = decodeOapRequest(r).timestampNs;
  await oapServerProcess(r, { name: "a", replay, now: () => t + 19_900_000_000n });
});

Deno.test("oap: a tampered response is refused", async () => {
  // Unsigned: the id and the request hash bind the response to our request.
  for (const at of [0, 15, 36, 83]) {
    const { request, state } = await oapClientPrepare({ name: "a" });
    const s = await oapServerProcess(request, { name: "a", replay: new ReplayWindow() });
    const bad = s.response.slice();
    bad[at]! ^= 0x01;
    await assertCode(oapClientComplete(state, bad), Errno.EAUTH);
  }
  // A response to another request (same length) is refused.
  const a = await oapClientPrepare({ name: "a" }), b = await oapClientPrepare({ name: "a" });
  const sb = await oapServerProcess(b.request, { name: "a", replay: new ReplayWindow() });
  await assertCode(oapClientComplete(a.state, sb.response), Errno.EAUTH, "another session");
});

Deno.test("oap: responses weaker than the client asked for are refused (ECRYPT)", async () => {
  const client = parseEncConf("cipher=chacha20-poly1305\nkdf=sha512");
  const { request, state } = await oapClientPrepare({ name: "a", encConf: client });
  // A server that downgrades: process a copy of the request with a weaker cipher.
  const { response } = await downgradedServer(request, state);
  await assertCode(oapClientComplete(state, response), Errno.ECRYPT, "weaker");
});

/** Answer `request` as if the client had asked for AES-128-GCM (a downgrading server). */
async function downgradedServer(request: Uint8Array, _state: OapClientState) {
  const q = decodeOapRequest(request);
  const forged = encodeOap({ ...q, cipherNid: CipherNid.AES_128_GCM, kdfNid: DigestNid.SHA256 });
  const s = await oapServerProcess(forged, { name: "a", replay: new ReplayWindow() });
  // Re-bind the response to the real request so only the downgrade is wrong.
  const h = decodeOapResponse(s.response, q.mdNid);
  return { response: encodeOap({ ...h, reqHash: oapRequestHash(request, q.mdNid) }) };
}

Deno.test("oap: result errors are typed and carry reference codes", async () => {
  const e = await assertRejects(
    () => oapServerProcess(new Uint8Array(10), { name: "a", replay: new ReplayWindow() }),
    OuroError,
  );
  assert(isErrno(e, Errno.EAUTH));
  assertNotEquals(e.message, "");
});
