/**
 * Test credentials for the OAP tests (see README.md beside this file).
 * @module
 */
import { createPrivateKey } from "node:crypto";
import { assert, assertBytes, assertEquals, assertRejects } from "../../../../tests/util/assert.ts";
import { OuroError } from "../../../lib/errors.ts";
import { PacketCrypt } from "../../aead.ts";
import type { EncConf } from "../../enc_conf.ts";
import {
  oapClientComplete,
  oapClientPrepare,
  type OapResult,
  oapServerProcess,
} from "../../oap.ts";
import { ReplayWindow } from "../../replay.ts";
import {
  type Credentials,
  parseCertificate,
  pinnedKeysFromPem,
  TrustStore,
} from "../../credentials.ts";

const dir = new URL("./", import.meta.url);
const read = (f: string) => Deno.readTextFileSync(new URL(f, dir));

/** PEM text of a fixture file. */
export function pem(file: string): string {
  return read(file);
}

/** Certificate (DER) + private key of fixture `who` ("srv", "cli", "evil", "pin", "ca"). */
export function identity(who: string): Required<Pick<Credentials, "certificate" | "privateKey">> {
  const der = parseCertificate(
    Uint8Array.from(
      atob(read(`${who}.crt.pem`).replace(/-----[^-]+-----|\s/g, "")),
      (c) => c.charCodeAt(0),
    ),
  ).raw;
  return { certificate: new Uint8Array(der), privateKey: createPrivateKey(read(`${who}.key.pem`)) };
}

/** A trust store holding the test CA. */
export function caStore(): TrustStore {
  const s = new TrustStore();
  s.add(read("ca.crt.pem"));
  return s;
}

/** Pinned keys from fixture files (public keys or certificates). */
export function pins(...files: string[]): Uint8Array[] {
  return files.flatMap((f) => pinnedKeysFromPem(read(f)));
}

/** A full client ↔ server handshake. */
export async function handshake(opts: {
  name?: string;
  client?: EncConf;
  server?: EncConf;
  clientCreds?: Credentials;
  serverCreds?: Credentials;
  replay?: ReplayWindow;
}): Promise<{ cli: OapResult; srv: OapResult; request: Uint8Array; response: Uint8Array }> {
  const name = opts.name ?? "oping.srv";
  const { request, state } = await oapClientPrepare({
    name,
    ...(opts.client ? { encConf: opts.client } : {}),
    ...(opts.clientCreds ? { credentials: opts.clientCreds } : {}),
  });
  const s = await oapServerProcess(request, {
    name,
    replay: opts.replay ?? new ReplayWindow(),
    ...(opts.server ? { encConf: opts.server } : {}),
    ...(opts.serverCreds ? { credentials: opts.serverCreds } : {}),
  });
  const cli = await oapClientComplete(state, s.response);
  return { cli, srv: s, request, response: s.response };
}

export function roundTrip(cli: OapResult, srv: OapResult): void {
  assert(cli.key && srv.key, "both sides have a key");
  assertBytes(cli.key, srv.key, "same key");
  assertEquals(cli.cipherNid, srv.cipherNid);
  const a = new PacketCrypt(cli.cipherNid, cli.key), b = new PacketCrypt(srv.cipherNid, srv.key);
  const msg = new TextEncoder().encode("ping over an encrypted flow");
  assertBytes(b.decrypt(a.encrypt(msg))!, msg);
  assertBytes(a.decrypt(b.encrypt(msg))!, msg);
}

export async function assertCode(
  p: Promise<unknown>,
  code: number,
  includes?: string,
): Promise<void> {
  const e = await assertRejects(() => p, OuroError, includes);
  assertEquals((e as OuroError).code, code, e.message);
}
