import { assert } from "../../tests/util/assert.ts";
import { mutate, rng } from "../../tests/util/fuzz.ts";
import { OuroError } from "../lib/errors.ts";
import type { Credentials } from "./credentials.ts";
import { type EncConf, parseEncConf } from "./enc_conf.ts";
import { kexGenerate } from "./kex.ts";
import { KexNid } from "./nid.ts";
import {
  oapClientComplete,
  oapClientPrepare,
  type OapClientState,
  type OapServerContext,
  oapServerProcess,
} from "./oap.ts";
import { decodeOapRequest } from "./oap_wire.ts";
import { ReplayWindow } from "./replay.ts";
import { caStore, identity } from "./testdata/oap/fixtures.ts";

interface Case {
  client?: EncConf;
  clientCreds?: Credentials;
  server?: EncConf;
  serverCreds?: Credentials;
}

async function cases(): Promise<Case[]> {
  const stat = await kexGenerate(KexNid.ML_KEM_768);
  return [
    {},
    { client: parseEncConf("") },
    { client: parseEncConf("kex=X25519\ncipher=chacha20-poly1305"), server: parseEncConf("") },
    { client: parseEncConf("kex=ML-KEM-768") },
    { client: parseEncConf("kex=X25519MLKEM768") },
    {
      client: parseEncConf("kex=ML-KEM-768\nkem_mode=client"),
      clientCreds: { kemPeerPublic: { pem: stat.publicKey } },
      server: parseEncConf("kex=ML-KEM-768"),
      serverCreds: { kemStatic: { pem: stat } },
    },
    {
      client: parseEncConf("digest=sha512"),
      clientCreds: { ...identity("cli"), trust: caStore() },
      serverCreds: { ...identity("srv"), trust: caStore() },
    },
  ];
}

/** Run `fn`; anything thrown must be an OuroError. */
async function onlyTyped(fn: () => Promise<unknown>, input: Uint8Array): Promise<boolean> {
  try {
    await fn();
    return true;
  } catch (e) {
    const cause = (e as Error)?.cause;
    // Wire garbage must be refused by a check, not by a crash inside one.
    if (e instanceof OuroError && !(cause instanceof TypeError || cause instanceof RangeError)) {
      return false;
    }
    const hex = Array.from(input, (x) => x.toString(16).padStart(2, "0")).join("");
    throw new Error(`untyped ${(e as Error)?.name}: ${(e as Error)?.message} (${cause}) on ${hex}`);
  }
}

Deno.test("oap fuzz: oapServerProcess on mutated requests throws only OuroError", async () => {
  const r = rng(7);
  let ok = 0, refused = 0;
  for (const c of await cases()) {
    const { request } = await oapClientPrepare({
      name: "oping.srv",
      ...(c.client ? { encConf: c.client } : {}),
      ...(c.clientCreds ? { credentials: c.clientCreds } : {}),
    });
    const ts = decodeOapRequest(request).timestampNs;
    for (let i = 0; i < 600; i++) {
      const input = mutate(request, r);
      const ctx: OapServerContext = {
        name: "oping.srv",
        replay: new ReplayWindow(),
        now: () => ts,
        ...(c.server ? { encConf: c.server } : {}),
        ...(c.serverCreds ? { credentials: c.serverCreds } : {}),
      };
      (await onlyTyped(() => oapServerProcess(input, ctx), input)) ? ok++ : refused++;
    }
  }
  assert(ok > 0 && refused > 0, `ok ${ok} refused ${refused}`);
});

Deno.test("oap fuzz: oapClientComplete on mutated responses throws only OuroError", async () => {
  const r = rng(11);
  let ok = 0, refused = 0;
  for (const c of await cases()) {
    const prep = async () =>
      await oapClientPrepare({
        name: "oping.srv",
        ...(c.client ? { encConf: c.client } : {}),
        ...(c.clientCreds ? { credentials: c.clientCreds } : {}),
      });
    const { request, state } = await prep();
    const { response } = await oapServerProcess(request, {
      name: "oping.srv",
      replay: new ReplayWindow(),
      ...(c.server ? { encConf: c.server } : {}),
      ...(c.serverCreds ? { credentials: c.serverCreds } : {}),
    });
    const st: OapClientState = state;
    for (let i = 0; i < 600; i++) {
      const input = mutate(response, r);
      (await onlyTyped(() => oapClientComplete(st, input), input)) ? ok++ : refused++;
    }
  }
  assert(ok > 0 && refused > 0, `ok ${ok} refused ${refused}`);
});
