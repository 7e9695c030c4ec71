import { assert, assertEquals } from "../../../tests/util/assert.ts";
import { qosRaw } from "../../lib/qos.ts";
import type { N1Flow } from "../../irmd/n1.ts";
import type { Ipcp, IpcpHost } from "../types.ts";
import type { CaPolicy } from "./ca/ca.ts";
import { DataTransfer } from "./dt.ts";
import { FlowAllocator } from "./fa.ts";
import { createPff } from "./pff/factory.ts";
import { decodeDt, DT_EID_FA, encodeDt } from "./wire/dt.ts";
import { decodeFaMsg, encodeFaMsg, FaCode } from "./wire/fa.ts";

/** A policy whose waits are scripted per packet (ns; 0 once the script ends). */
function scriptedCa(waits: number[]): CaPolicy {
  return {
    name: "scripted",
    ctxCreate: () => ({}),
    txUpdate: () => waits.shift() ?? 0,
    rxUpdate: () => undefined,
    updateEce: () => {},
    calcEcn: (ecn) => ecn,
    stats: () => ({}),
  };
}

/** A flow allocator at address 1 with one allocated flow (id 5) to address 2. */
async function allocated(ca: CaPolicy) {
  const sent: Uint8Array[] = [];
  const n1: N1Flow = {
    id: 70,
    qos: qosRaw,
    name: "peer",
    mpl: 100,
    write(sdu) {
      sent.push(sdu.slice());
      return undefined;
    },
    close() {},
    onPacket: () => {},
    onDealloc: () => {},
  };
  const pff = createPff("simple");
  const dt = new DataTransfer({ addr: 1, maxTtl: 60, pff: () => pff, ca });
  const rx = dt.addFlow(n1);
  pff.update([{ dst: 2, fds: [70] }]);
  const replies: number[] = [];
  const host = {
    flowAllocReply: (_id: number, r: number) => replies.push(r),
  } as unknown as IpcpHost;
  const fa = new FlowAllocator({
    ipcp: {} as Ipcp,
    host,
    dt,
    hashLen: 32,
    resolve: () => Promise.resolve(2),
    ca,
    randomU32: () => 0x1234,
  });
  await fa.alloc(5, new Uint8Array(32), qosRaw, new Uint8Array(0));
  const req = decodeFaMsg(decodeDt(sent.shift()!).payload);
  const reply = encodeFaMsg({
    ...req,
    code: FaCode.FLOW_REPLY,
    sAddr: 0n,
    rEid: req.sEid,
    sEid: (0x99n << 32n) | 7n,
    hash: new Uint8Array(0),
    payload: new Uint8Array(0),
  });
  rx(encodeDt({ dst: 1n, qc: 0, ttl: 60, ecn: 0, eid: DT_EID_FA, payload: reply }));
  await new Promise((r) => setTimeout(r, 0));
  assertEquals(replies, [0]);
  return { fa, dt, sent };
}

Deno.test("fa: packets over the congestion window wait together and keep their order", async () => {
  // packet 1 waits 20 ms; 2 and 3 fit the window but must not overtake it
  const { fa, dt, sent } = await allocated(scriptedCa([0, 20e6, 0, 0]));
  const data = (i: number) => new Uint8Array([i]);
  assertEquals(fa.write(5, data(0)), undefined);
  const p1 = fa.write(5, data(1));
  const p2 = fa.write(5, data(2));
  const p3 = fa.write(5, data(3));
  assert(p1 !== undefined && p1 === p2 && p2 === p3, "one promise for the held packets");
  await new Promise((r) => setTimeout(r, 0));
  assertEquals(sent.map((p) => decodeDt(p).payload[0]), [0]);
  await p1;
  await new Promise((r) => setTimeout(r, 0));
  assertEquals(sent.map((p) => decodeDt(p).payload[0]), [0, 1, 2, 3]);
  assertEquals(fa.write(5, data(4)), undefined); // nothing held: straight through
  fa.stop();
  dt.stop();
});

Deno.test("fa: deallocating a flow drops its held packets and frees the writer", async () => {
  const { fa, dt, sent } = await allocated(scriptedCa([60e9]));
  const p = fa.write(5, new Uint8Array([1]));
  assert(p !== undefined);
  fa.dealloc(5);
  await p; // resolves at once: no 60 s timer left behind
  await new Promise((r) => setTimeout(r, 0));
  assertEquals(sent.length, 0);
  fa.stop();
  dt.stop();
});
