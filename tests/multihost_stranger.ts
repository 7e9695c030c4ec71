/**
 * A stranger for tests/multihost_test.ts: a native app that opens raw N−1
 * flows to a unicast IPCP's name through a low layer and speaks bad CEPs,
 * a bad enrollment, a wrong-version CEP (as a fake peer) and a forwarding
 * loop, with bytes made by the layer's own codecs. Prints one JSON line.
 *
 * `deno run -A tests/multihost_stranger.ts RUNDIR MODE TARGET`, MODE one of
 * `probe` (garbage CEP, unknown component, bad enrollment, then the loop)
 * or `evil` (accept one flow for TARGET and answer with a wrong-version CEP).
 * @module
 */
import { Ouro } from "../mod.ts";
import type { Flow } from "../src/client/flow.ts";
import { CepSyntax, decodeCep, encodeCep } from "../src/ipcp/unicast/wire/cep.ts";
import { decodeDt, encodeDt } from "../src/ipcp/unicast/wire/dt.ts";
import { encodeLsu } from "../src/ipcp/unicast/wire/lsu.ts";

const [rundir, mode, target] = Deno.args;
if (!rundir || !mode || !target) throw new Error("usage: RUNDIR probe|evil TARGET");
const ouro = await Ouro.connect({ rundir });
/** The fake address this stranger claims. */
const FAKE = 0x0badcafen;

/** The next SDU, or null on a timeout or the end of the flow. */
async function next(f: Flow, ms = 1500): Promise<Uint8Array | null> {
  try {
    return await f.read({ timeoutMs: ms });
  } catch {
    return null;
  }
}

const out: Record<string, unknown> = {};
if (mode === "evil") {
  await ouro.bind(target, { layer: Deno.args[3] });
  console.log(JSON.stringify({ ready: true }));
  const f = await ouro.flowAccept({ timeoutMs: 20000 });
  const theirs = decodeCep((await next(f, 3000))!);
  // the right component and protocol, a version nobody speaks
  await f.write(encodeCep({ ...theirs, prefVersion: 99, address: FAKE }));
  await next(f, 2000);
  console.log(JSON.stringify({ answered: theirs.compName }));
} else {
  // 1. a CEP that does not decode: the flow is released
  const g = await ouro.flowAlloc(target, { timeoutMs: 5000 });
  await g.write(new Uint8Array([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]));
  out.garbage = await next(g);
  // 2. a CEP for a component that does not exist: an all-empty CEP comes back
  const u = await ouro.flowAlloc(target, { timeoutMs: 5000 });
  await u.write(
    encodeCep({ compName: "Nonsense", protocol: "x", prefVersion: 1, prefSyntax: 0, address: 0n }),
  );
  const r = await next(u);
  out.unknown = r ? decodeCep(r) : null;
  // 3. a proper Enrollment CEP, then junk instead of an enrollment request
  const e = await ouro.flowAlloc(target, { timeoutMs: 5000 });
  await e.write(
    encodeCep({
      compName: "Enrollment",
      protocol: "OEP",
      prefVersion: 1,
      prefSyntax: CepSyntax.GPB,
      address: 0n,
    }),
  );
  out.enrollCep = decodeCep((await next(e))!).compName;
  await e.write(new Uint8Array([0x0a, 0x03, 1, 2, 3, 0xff, 0xff]));
  out.enrollReply = await next(e);
  // 4. a fake neighbour: DT and MGMT connections claiming address FAKE, an LSU
  // announcing FAKE→target, then one packet to FAKE echoed back every time it
  // comes out, so it loops target→FAKE→target until its TTL runs out
  const dt = await ouro.flowAlloc(target, { timeoutMs: 5000 });
  await dt.write(
    encodeCep({
      compName: "Data Transfer",
      protocol: "dtp",
      prefVersion: 1,
      prefSyntax: CepSyntax.FIXED,
      address: FAKE,
    }),
  );
  const peer = decodeCep((await next(dt))!);
  const mg = await ouro.flowAlloc(target, { timeoutMs: 5000 });
  await mg.write(
    encodeCep({
      compName: "Management",
      protocol: "LSP",
      prefVersion: 1,
      prefSyntax: CepSyntax.GPB,
      address: FAKE,
    }),
  );
  await next(mg);
  await mg.write(encodeLsu({ sAddr: FAKE, dAddr: peer.address, seqno: 1n }));
  await new Promise((res) => setTimeout(res, 2500)); // the target's t_recalc
  await dt.write(
    encodeDt({ dst: FAKE, qc: 0, ttl: 60, ecn: 0, eid: 100n, payload: new Uint8Array(8) }),
  );
  let echoes = 0;
  let lastTtl = -1;
  for (let p = await next(dt); p; p = await next(dt)) {
    const pdu = decodeDt(p);
    if (pdu.dst !== FAKE) continue;
    echoes++;
    lastTtl = pdu.ttl;
    await dt.write(p);
  }
  Object.assign(out, { targetAddr: peer.address.toString(), echoes, lastTtl });
  for (const f of [g, u, e, dt, mg]) await f.close().catch(() => {});
  console.log(
    JSON.stringify(
      out,
      (
        _k,
        v,
      ) => (v instanceof Uint8Array ? Array.from(v) : typeof v === "bigint" ? v.toString() : v),
    ),
  );
}
await ouro.close();
