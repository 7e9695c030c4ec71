import { assert, assertEquals } from "../../../tests/util/assert.ts";
import { qosRaw, type QosSpec, qosVoice } from "../../lib/qos.ts";
import type { N1Flow } from "../../irmd/n1.ts";
import { createCa } from "./ca/ca.ts";
import { DataTransfer, DT_EGRESS_HIGH_WATER } from "./dt.ts";
import { createPff } from "./pff/factory.ts";
import { decodeDt, encodeDt } from "./wire/dt.ts";

/** An N−1 flow that holds every write until `release()`. */
function slowFlow(id: number, qos: QosSpec = qosRaw) {
  const sent: Uint8Array[] = [];
  let release: () => void = () => {};
  const flow: N1Flow = {
    id,
    qos,
    name: "peer",
    mpl: 100,
    write(sdu) {
      sent.push(sdu);
      return new Promise<void>((r) => (release = r));
    },
    close() {},
    onPacket: () => {},
    onDealloc: () => {},
  };
  return { flow, sent, release: () => release() };
}

Deno.test("dt: a pushed-back N−1 flow queues packets, marks ECN by queue length, asks writers to wait", async () => {
  const pff = createPff("simple");
  const dt = new DataTransfer({ addr: 1, maxTtl: 60, pff: () => pff, ca: createCa(1) });
  const f = slowFlow(70);
  dt.addFlow(f.flow);
  pff.update([{ dst: 2, fds: [70] }]);
  for (let i = 0; i < DT_EGRESS_HIGH_WATER + 40; i++) {
    assert(dt.write(2, 0, 100n, new Uint8Array([i & 0xff])));
  }
  assertEquals(f.sent.length, 1); // the rest waits behind the first write
  const w = dt.waitWritable(2, 0);
  assert(w !== undefined);
  // drain: each release lets the next queued packet go
  let ecns: number[] = [];
  while (f.sent.length < DT_EGRESS_HIGH_WATER + 40) {
    f.release();
    await new Promise((r) => setTimeout(r, 0));
  }
  ecns = f.sent.map((p) => decodeDt(p).ecn);
  assertEquals(ecns[0], 0);
  assertEquals(ecns[17], 1); // 16 queued ahead of it: 16 >> 4
  assertEquals(ecns.at(-1), (DT_EGRESS_HIGH_WATER + 38) >> 4);
  await w;
  dt.stop();
});

Deno.test("dt: forwarding uses the PFF of the incoming flow's cube and keeps the PCI cube", async () => {
  const pffs = [createPff("simple"), createPff("simple"), createPff("simple")];
  const dt = new DataTransfer({ addr: 1, maxTtl: 60, pff: (qc) => pffs[qc]!, ca: createCa(0) });
  const inVoice = slowFlow(71, qosVoice);
  const outBe = slowFlow(72);
  const outVoice = slowFlow(73);
  const rx = dt.addFlow(inVoice.flow);
  dt.addFlow(outBe.flow);
  dt.addFlow(outVoice.flow);
  pffs[0]!.update([{ dst: 9, fds: [72] }]);
  pffs[2]!.update([{ dst: 9, fds: [73] }]);
  rx(encodeDt({ dst: 9n, qc: 0, ttl: 10, ecn: 0, eid: 99n, payload: new Uint8Array(2) }));
  await new Promise((r) => setTimeout(r, 0));
  assertEquals(outBe.sent.length, 0);
  assertEquals(outVoice.sent.length, 1);
  const p = decodeDt(outVoice.sent[0]!);
  assertEquals([p.qc, p.ttl], [0, 9]);
  // a packet for us with ttl 0 on arrival is still delivered (TTL only matters when forwarding)
  let got = 0;
  dt.onNp1 = () => got++;
  rx(encodeDt({ dst: 1n, qc: 0, ttl: 0, ecn: 0, eid: 64n, payload: new Uint8Array(1) }));
  await new Promise((r) => setTimeout(r, 0));
  assertEquals(got, 1);
  assertEquals(dt.write(1, 0, 1n, new Uint8Array(1)), false); // never to ourselves
  dt.stop();
});
