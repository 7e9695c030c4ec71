import { assert, assertEquals } from "../../tests/util/assert.ts";
import { createPrivateKey } from "node:crypto";
import { Errno } from "../lib/errors.ts";
import { parseEncConf } from "./enc_conf.ts";
import { oapSign, oapVerify } from "./oap_auth.ts";
import { oapClientComplete, oapClientPrepare, oapServerProcess } from "./oap.ts";
import { decodeOapRequest, decodeOapResponse } from "./oap_wire.ts";
import { ReplayWindow } from "./replay.ts";
import {
  assertCode,
  caStore,
  handshake,
  identity,
  pem,
  pins,
  roundTrip,
} from "./testdata/oap/fixtures.ts";

const srv = identity("srv"), cli = identity("cli"), evil = identity("evil"), pin = identity("pin");

Deno.test("oap auth: signed response, server certificate chains to the CA, CN = name", async () => {
  const { cli: c, srv: s, response } = await handshake({
    client: parseEncConf(""),
    serverCreds: { ...srv },
    clientCreds: { trust: caStore() },
  });
  const h = decodeOapResponse(response, 672);
  assertEquals(h.crt.length > 0 && h.signature.length > 0, true);
  assertEquals([c.peer.authenticated, c.peer.cn], [true, "oping.srv"]);
  assertEquals(s.peer.authenticated, false); // the client did not sign
  roundTrip(c, s);
});

Deno.test("oap auth: a client without a trust store refuses a signed server (reference)", async () => {
  await assertCode(handshake({ serverCreds: { ...srv } }), Errno.EAUTH, "trust store");
});

Deno.test("oap auth: impostor servers are refused", async () => {
  // Self-signed certificate with the right CN, not from our CA.
  await assertCode(
    handshake({ serverCreds: { ...evil }, clientCreds: { trust: caStore() } }),
    Errno.EAUTH,
    "trust store",
  );
  // A valid certificate of another name.
  await assertCode(
    handshake({ name: "other.srv", serverCreds: { ...srv }, clientCreds: { trust: caStore() } }),
    Errno.EAUTH,
    "not other.srv",
  );
  // A stolen certificate without its key: signed with another key.
  await assertCode(
    handshake({
      serverCreds: { certificate: srv.certificate, privateKey: evil.privateKey },
      clientCreds: { trust: caStore() },
    }),
    Errno.EAUTH,
    "signature",
  );
});

Deno.test("oap auth: a client pinning the server key accepts only that key", async () => {
  const clientCreds = { pinnedKeys: pins("pin.pub.pem") };
  const ok = await handshake({ client: parseEncConf(""), serverCreds: { ...pin }, clientCreds });
  assertEquals([ok.cli.peer.authenticated, ok.cli.peer.cn], [true, "oping.srv"]);
  roundTrip(ok.cli, ok.srv);
  // A CA-valid certificate for the name is still an impostor when pinned.
  await assertCode(
    handshake({ serverCreds: { ...srv }, clientCreds: { ...clientCreds, trust: caStore() } }),
    Errno.EAUTH,
    "not pinned",
  );
  await assertCode(handshake({ serverCreds: { ...evil }, clientCreds }), Errno.EAUTH, "not pinned");
  // A server that does not sign at all.
  await assertCode(handshake({ clientCreds }), Errno.EAUTH, "no certificate");
  // Pins given as a certificate work the same.
  const byCrt = await handshake({
    serverCreds: { ...pin },
    clientCreds: { pinnedKeys: pins("pin.crt.pem") },
  });
  assert(byCrt.cli.peer.authenticated);
});

Deno.test("oap auth: a server requiring client authentication refuses unknown clients", async () => {
  const serverCreds = { trust: caStore(), requirePeerAuth: true };
  const ok = await handshake({ clientCreds: { ...cli }, serverCreds });
  assertEquals([ok.srv.peer.authenticated, ok.srv.peer.cn], [true, "oping.client"]);
  await assertCode(handshake({ serverCreds }), Errno.EAUTH, "no certificate");
  await assertCode(handshake({ clientCreds: { ...evil }, serverCreds }), Errno.EAUTH);
  // Pinned client keys: only that client.
  const pinned = { pinnedKeys: pins("cli.crt.pem") };
  assert((await handshake({ clientCreds: { ...cli }, serverCreds: pinned })).srv.peer.cn);
  await assertCode(handshake({ clientCreds: { ...srv }, serverCreds: pinned }), Errno.EAUTH);
  // Without the requirement a signing client is verified anyway (reference), an
  // unsigned one accepted.
  await assertCode(
    handshake({ clientCreds: { ...evil }, serverCreds: { trust: caStore() } }),
    Errno.EAUTH,
  );
  assertEquals(
    (await handshake({ serverCreds: { trust: caStore() } })).srv.peer.authenticated,
    false,
  );
});

Deno.test("oap auth: every byte of a signed response is protected", async () => {
  const clientCreds = { trust: caStore() };
  const { request, state } = await oapClientPrepare({
    name: "oping.srv",
    encConf: parseEncConf(""),
    credentials: clientCreds,
  });
  const s = await oapServerProcess(request, {
    name: "oping.srv",
    replay: new ReplayWindow(),
    credentials: { ...srv },
  });
  // Any flip breaks decoding, the certificate, the request hash or the signature.
  for (let i = 0; i < s.response.length; i++) {
    const bad = s.response.slice();
    bad[i]! ^= 0x10;
    await assertCode(oapClientComplete(state, bad), Errno.EAUTH);
  }
  await oapClientComplete(state, s.response); // the original still completes
});

Deno.test("oap auth: signed request carries certificate and signature in the spec layout", async () => {
  const { request } = await oapClientPrepare({
    name: "x",
    encConf: parseEncConf("digest=sha384"),
    credentials: { ...srv },
  });
  const q = decodeOapRequest(request);
  assertEquals(q.mdNid, 673);
  assertEquals(q.crt.length, srv.certificate.length);
  // ECDSA signature (DER) over every byte before it, digest = md_nid.
  const signed = request.subarray(0, request.length - q.signature.length);
  assertEquals(q.signature[0], 0x30);
  const pub = createPrivateKey(pem("srv.key.pem"));
  assert(oapVerify(pub, 673, signed, q.signature));
  assert(!oapVerify(pub, 672, signed, q.signature));
  // EdDSA signs the message itself, whatever md_nid says.
  const sig = oapSign(cli.privateKey, 672, signed);
  assertEquals(sig.length, 64);
  assert(oapVerify(cli.privateKey, 0, signed, sig));
});
