import { assert, assertEquals, assertRejects } from "../../tests/util/assert.ts";
import { Buffer } from "node:buffer";
import { X509Certificate } from "node:crypto";
import { Errno, OuroError } from "../lib/errors.ts";
import {
  certCommonName,
  loadCredentials,
  SECURITY_DIR,
  securityPaths,
  TrustStore,
} from "./credentials.ts";
import { KexNid } from "./nid.ts";
import { handshake, pem, roundTrip } from "./testdata/oap/fixtures.ts";

Deno.test("credentials: default per-name paths (spec 04 §3.1, §3.3)", () => {
  assertEquals(SECURITY_DIR, "/etc/ouroboros/security");
  const s = securityPaths("server", "oping.srv");
  assertEquals(s.enc, "/etc/ouroboros/security/server/oping.srv/enc.conf");
  assertEquals(s.crt, "/etc/ouroboros/security/server/oping.srv/crt.pem");
  assertEquals(s.key, "/etc/ouroboros/security/server/oping.srv/key.pem");
  assertEquals(s.kemPem, "/etc/ouroboros/security/server/oping.srv/kex.key.pem");
  const c = securityPaths("client", "oping.srv", "/sec", { crt: "/x/c.pem" });
  assertEquals([c.enc, c.crt, c.kemRaw], [
    "/sec/client/oping.srv/enc.conf",
    "/x/c.pem",
    "/sec/client/oping.srv/kex.srv.pub.raw",
  ]);
});

Deno.test("credentials: trust store chains, dates and the CN rule", () => {
  const s = new TrustStore();
  s.add(pem("ca.crt.pem"));
  const srv = new X509Certificate(pem("srv.crt.pem"));
  const now = Date.now();
  assert(s.verify(srv, now));
  assert(s.verify(new X509Certificate(pem("ca.crt.pem")), now)); // the anchor itself
  assert(!s.verify(new X509Certificate(pem("evil.crt.pem")), now));
  assert(!s.verify(srv, Date.parse("2200-01-01")), "expired");
  assert(!new TrustStore().verify(srv, now));
  assertEquals(certCommonName(srv), "oping.srv");
  assertEquals(certCommonName(new X509Certificate(pem("ca.crt.pem"))), "Ouro Test CA");
});

async function secDir(): Promise<string> {
  const d = await Deno.makeTempDir({ prefix: "ouro-oap-sec-" });
  const put = async (path: string, text: string | Uint8Array) => {
    await Deno.mkdir(`${d}/${path}`.replace(/\/[^/]+$/, ""), { recursive: true });
    if (typeof text === "string") await Deno.writeTextFile(`${d}/${path}`, text);
    else await Deno.writeFile(`${d}/${path}`, text);
  };
  await put("cacert/ca.pem", pem("ca.crt.pem"));
  await put("server/oping.srv/enc.conf", "kex = ML-KEM-768\n");
  await put("server/oping.srv/crt.pem", pem("srv.crt.pem"));
  await put("server/oping.srv/key.pem", pem("srv.key.pem"));
  await put("server/oping.srv/peers/cli.pem", pem("cli.crt.pem"));
  await put(
    "client/oping.srv/enc.conf",
    "kex=ML-KEM-768\nkem_mode=client\ncipher=chacha20-poly1305\n",
  );
  await put("client/oping.srv/crt.pem", pem("cli.crt.pem"));
  await put("client/oping.srv/key.pem", pem("cli.key.pem"));
  // Static ML-KEM-768 key of the server (seed-only PKCS#8) and its public key.
  const s = crypto.subtle as any;
  const kp = await s.generateKey({ name: "ML-KEM-768" }, true, [
    "encapsulateBits",
    "decapsulateBits",
  ]);
  const b64 = (b: ArrayBuffer) => Buffer.from(b).toString("base64").replace(/(.{64})/g, "$1\n");
  const p8 = await s.exportKey("pkcs8", kp.privateKey),
    spki = await s.exportKey("spki", kp.publicKey);
  await put(
    "server/oping.srv/kex.key.pem",
    `-----BEGIN PRIVATE KEY-----\n${b64(p8)}\n-----END PRIVATE KEY-----\n`,
  );
  await put(
    "client/oping.srv/kex.srv.pub.pem",
    `-----BEGIN PUBLIC KEY-----\n${b64(spki)}\n-----END PUBLIC KEY-----\n`,
  );
  return d;
}

Deno.test("credentials: load a security directory and run a mutually authenticated handshake", async () => {
  const d = await secDir();
  try {
    const trust = await TrustStore.load(d);
    assertEquals(trust.size, 1);
    const srv = await loadCredentials("server", "oping.srv", { secDir: d, trust });
    const cli = await loadCredentials("client", "oping.srv", { secDir: d, trust });
    assertEquals(srv.encConf?.kexNid, KexNid.ML_KEM_768);
    assertEquals([srv.credentials.pinnedKeys?.length, srv.credentials.requirePeerAuth], [1, true]);
    assertEquals(srv.credentials.kemStatic?.pem?.nid, KexNid.ML_KEM_768);
    assertEquals(cli.credentials.kemPeerPublic?.pem?.length, 1206);
    const r = await handshake({
      client: cli.encConf!,
      server: srv.encConf!,
      clientCreds: cli.credentials,
      serverCreds: srv.credentials,
    });
    assertEquals([r.cli.peer.cn, r.srv.peer.cn, r.cli.cipherNid], [
      "oping.srv",
      "oping.client",
      1018,
    ]);
    roundTrip(r.cli, r.srv);
    // A name without any file: no enc.conf, no credentials.
    const none = await loadCredentials("client", "nobody", { secDir: d });
    assertEquals([none.encConf, none.credentials], [undefined, {}]);
  } finally {
    await Deno.remove(d, { recursive: true });
  }
});

Deno.test("credentials: load failures are typed", async () => {
  const d = await secDir();
  try {
    await Deno.writeTextFile(`${d}/client/oping.srv/key.pem`, "not a key");
    const e = await assertRejects(
      () => loadCredentials("client", "oping.srv", { secDir: d }),
      OuroError,
    );
    assertEquals((e as OuroError).code, Errno.EAUTH);
    await Deno.writeTextFile(`${d}/server/oping.srv/enc.conf`, "cipher = rot13\n");
    const f = await assertRejects(
      () => loadCredentials("server", "oping.srv", { secDir: d }),
      OuroError,
    );
    assertEquals((f as OuroError).code, Errno.EINVAL);
    await Deno.mkdir(`${d}/untrusted/sub`, { recursive: true });
    await assertRejects(() => TrustStore.load(d), OuroError, "not a regular file");
    await Deno.remove(`${d}/untrusted/sub`);
    await Deno.writeTextFile(`${d}/untrusted/junk.pem`, "junk");
    await assertRejects(() => TrustStore.load(d), OuroError, "no certificate");
    assertEquals((await TrustStore.load(`${d}/missing`)).size, 0);
  } finally {
    await Deno.remove(d, { recursive: true });
  }
});
