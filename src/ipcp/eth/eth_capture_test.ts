/**
 * Interoperability with the reference: replay what node b sent in the
 * shared captures (eth-dix-unicast, eth-llc-unicast) into an EthIpcp that
 * has node a's MAC, and require every frame our IPCP sends — name query
 * replies, flow replies, data — to be byte-identical to what the
 * reference's node a sent, and every data frame from b to reach the right
 * flow intact.
 */
import { assertBytes, assertEquals } from "../../../tests/util/assert.ts";
import { loadCapture } from "../../../tests/util/pcap.ts";
import { HashAlgo, hashName } from "../../lib/hash.ts";
import { logger, setLogLevel } from "../../lib/log.ts";
import type { QosSpec } from "../../lib/qos.ts";
import type { Ipcp, IpcpHost } from "../types.ts";
import { EthIpcp } from "./eth.ts";
import { dixFraming, type EthFraming, type EthMgmtMsg, llcFraming } from "./framing.ts";
import { FakeEthHub } from "./link_fake.ts";
import { EthMgmtCode } from "./wire.ts";

setLogLevel("error");

/** Hands out the flow ids and OAP answers the reference's node a gave, in order. */
class ScriptedHost implements IpcpHost {
  answers: { flowId: number; data: Uint8Array }[] = [];
  reqData: Uint8Array[] = [];
  delivered: { flowId: number; sdu: Uint8Array }[] = [];
  flowReqArr(_i: Ipcp, _h: Uint8Array, _q: QosSpec, _m: number, data: Uint8Array) {
    this.reqData.push(data.slice());
    const a = this.answers.shift();
    return a ? Promise.resolve(a) : Promise.reject(new Error("no scripted answer"));
  }
  flowAllocReply(): void {}
  flowDeallocated(): void {}
  deliver(flowId: number, sdu: Uint8Array): void {
    this.delivered.push({ flowId, sdu: sdu.slice() });
  }
  backpressure(): undefined {
    return undefined;
  }
}

const tick = () => new Promise((r) => setTimeout(r, 1));

async function until(cond: () => boolean): Promise<void> {
  const end = Date.now() + 2000;
  while (!cond()) {
    if (Date.now() > end) throw new Error("timed out");
    await tick();
  }
}

function mgmtOf(fr: EthFraming, f: Uint8Array): EthMgmtMsg | undefined {
  const rx = fr.decode(f);
  return rx?.mgmt ? fr.decodeMgmt(rx.body, 32) : undefined;
}

for (
  const [type, file] of [["eth-dix", "eth-dix-unicast.pcap"], [
    "eth-llc",
    "eth-llc-unicast.pcap",
  ]] as const
) {
  Deno.test(`eth ipcp: ${type} answers the reference's node b byte for byte (${file})`, async () => {
    const frames = loadCapture(file).map((f) => f.data);
    const fr = type === "eth-dix" ? dixFraming(0xa000) : llcFraming();
    // frame 2 is a's NAME_QUERY_REPLY to b
    const macA = frames[1]!.slice(6, 12), macB = frames[1]!.slice(0, 6);
    const hub = new FakeEthHub();
    hub.define({ ifname: "va", mac: macA });
    const host = new ScriptedHost();
    const ipcp = new EthIpcp(1, "a", type, host, logger("test/a"), { open: hub.opener });
    await ipcp.bootstrap({ layer: "net", options: { dev: "va" } });
    for (const n of ["net", "uni.a"]) await ipcp.reg(hashName(HashAlgo.SHA3_256, n));
    const b = hub.open({ ifname: "vb", mac: macB });
    const out: Uint8Array[] = [];
    const rx = b.onReceive((f) => out.push(f));

    let nextLlcFlow = 100;
    const byLocal = new Map<number, number>(); // our local id → flow id
    const byRemote = new Map<number, number>(); // b's id → our flow id
    let seen = 0, checked = 0;
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i]!;
      const fromB = f[6] === macB[0] && f.subarray(6, 12).every((x, k) => x === macB[k]);
      const m = mgmtOf(fr, f);
      if (fromB) {
        if (m?.code === EthMgmtCode.FLOW_REQ) {
          // what a answered: its id for the flow and its OAP response
          const reply = frames.slice(i + 1).map((x) => mgmtOf(fr, x)).find((x) =>
            x?.code === EthMgmtCode.FLOW_REPLY
          )!;
          const old = byLocal.get(reply.sId);
          if (old !== undefined) ipcp.flowDealloc(old); // a had released it (no message on the wire)
          const flowId = type === "eth-dix" ? reply.sId : nextLlcFlow++;
          host.answers.push({ flowId, data: reply.payload.slice() });
          byLocal.set(reply.sId, flowId);
          byRemote.set(m.sId, flowId);
        }
        const before = host.delivered.length;
        b.send(f);
        if (!m) {
          const d = fr.decode(f)!;
          if (d.mgmt) throw new Error("unreachable");
          await until(() => host.delivered.length > before);
          const got = host.delivered.at(-1)!;
          assertEquals(got.flowId, byLocal.get(d.dId));
          assertBytes(got.sdu, d.payload);
        }
        checked++; // management frames are checked by a's answers below
        continue;
      }
      if (!m) {
        // a's data: write the same SDU on our flow
        const d = fr.decode(f)!;
        if (d.mgmt) throw new Error("unreachable");
        ipcp.write(byRemote.get(d.dId)!, d.payload);
      }
      await until(() => out.length > seen);
      assertBytes(out[seen]!, f, `frame ${i + 1}`);
      seen++;
      checked++;
    }
    assertEquals(checked, frames.length);
    // the OAP requests reached our IRMd unchanged
    assertEquals(host.reqData.length, 3);
    assertEquals(host.reqData.map((d) => d.length), [36, 36, 36]);
    await ipcp.stop();
    await b.close();
    await rx;
  });
}
