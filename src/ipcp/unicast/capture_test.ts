/**
 * Byte-exact replay of `udp4-unicast.pcap`: two unicast IPCPs on the
 * in-memory fabric, given the capture's addresses, ids, cookies, clocks and
 * OAP bytes, must emit the N−1 SDUs the C reference sent (enrollment, CEPs,
 * LSUs, DHT, FA and data).
 */
import { assert, assertBytes, assertEquals } from "../../../tests/util/assert.ts";
import { hashName } from "../../lib/hash.ts";
import { setLogLevel } from "../../lib/log.ts";
import { qosRaw } from "../../lib/qos.ts";
import { appAlloc, Fabric, type TraceEntry, waitFor } from "./_fabric.ts";
import { sdu } from "./wire/_captures.ts";
import { decodeDhtMsg } from "./wire/dht.ts";
import { decodeDt } from "./wire/dt.ts";
import { decodeEnrollReq, decodeEnrollResp } from "./wire/enroll.ts";
import { decodeFaMsg } from "./wire/fa.ts";

setLogLevel("error");

const CAP = "udp4-unicast.pcap";
const ADDR_A = 2540519675;
const ADDR_B = 39535345;
const frame = (n: number) => sdu(CAP, n);

/** The inputs the reference drew at random, read back from the capture. */
function inputs() {
  const enrollId = decodeEnrollReq(frame(7)).id;
  const resp = decodeEnrollResp(frame(8));
  const findReq = decodeDhtMsg(decodeDt(frame(20)).payload);
  const findRsp = decodeDhtMsg(decodeDt(frame(22)).payload);
  const store = decodeDhtMsg(decodeDt(frame(24)).payload);
  const faReq = decodeFaMsg(decodeDt(frame(25)).payload);
  const faRep = decodeFaMsg(decodeDt(frame(26)).payload);
  return {
    enrollId,
    enrollTime: { sec: resp.tSec, nsec: resp.tNsec },
    dhtIdA: findRsp.src.id,
    dhtIdB: findReq.src.id,
    cookie: findReq.find!.cookie,
    unixS: store.store!.exp - 86400,
    eidA: faReq.sEid,
    eidB: faRep.sEid,
    oapReq: faReq.payload.slice(),
    oapRsp: faRep.payload.slice(),
    ping: decodeDt(frame(27)).payload.slice(),
    pong: decodeDt(frame(28)).payload.slice(),
  };
}

function has(trace: TraceEntry[], no: number, from: string): void {
  const want = frame(no);
  const hit = trace.find((t) =>
    t.from === from && t.sdu.length === want.length && t.sdu.every((x, i) => x === want[i])
  );
  assert(hit, `frame ${no} (${want.length} bytes from ${from}) was emitted`);
}

Deno.test("capture: the unicast layer replays udp4-unicast.pcap byte for byte", async () => {
  const x = inputs();
  const fab = new Fabric();
  const clock = (unixS: number) => ({ monoMs: () => performance.now(), unixS: () => unixS });
  const hi = (eid: bigint) => () => Number(eid >> 32n);
  const lo = (eid: bigint) => Number(eid & 0xffffffffn);
  try {
    const a = fab.node("uni.a", {
      randomAddr: () => ADDR_A,
      enroll: { now: () => x.enrollTime },
      dhtId: x.dhtIdA,
      dhtClock: clock(x.unixS),
      randomU32: hi(x.eidA),
    });
    const b = fab.node("uni.b", {
      randomAddr: () => ADDR_B,
      enroll: { randomId: () => x.enrollId.slice() },
      dhtId: x.dhtIdB,
      dhtCookie: () => x.cookie,
      dhtClock: clock(x.unixS),
      randomU32: hi(x.eidB),
    });
    await a.ipcp.bootstrap({ layer: "net" });
    a.n1.bind("net");

    // frames 5–9: CEP, CEP, enroll_req, enroll_resp, enroll_ack
    await b.ipcp.enroll("net");
    const enroll = fab.trace.slice(0, 5);
    assertEquals(enroll.map((t) => t.from), ["uni.b", "uni.a", "uni.b", "uni.a", "uni.b"]);
    enroll.forEach((t, i) => assertBytes(t.sdu, frame(5 + i), `frame ${5 + i}`));

    // frames 12–13: DT CEPs; 16–19: MGMT CEPs and the two LSUs
    fab.trace.length = 0;
    await b.ipcp.connect("uni.a", "dt", qosRaw);
    assertEquals(fab.trace.length, 2);
    assertBytes(fab.trace[0]!.sdu, frame(12));
    assertBytes(fab.trace[1]!.sdu, frame(13));
    fab.trace.length = 0;
    await b.ipcp.connect("uni.a", "mgmt", qosRaw);
    await waitFor(() => fab.trace.length >= 4, 1000, "LSUs");
    [16, 17, 18, 19].forEach((no, i) => assertBytes(fab.trace[i]!.sdu, frame(no), `frame ${no}`));

    // frames 20 and 22: b seeds its DHT from a (FIND_NODE with the magic cookie)
    await waitFor(
      () => fab.trace.some((t) => t.from === "uni.a" && t.sdu.length === frame(22).length),
      3000,
      "DHT",
    );
    has(fab.trace, 20, "uni.b");
    has(fab.trace, 22, "uni.a");

    // frame 24: the STORE of `irm name reg oping.srv`
    const h = hashName(1, "oping.srv");
    b.host.serve(h, x.oapRsp);
    b.host.nextFlowId = lo(x.eidB);
    await b.ipcp.reg(h);
    has(fab.trace, 24, "uni.b");

    // frames 25–28: FA request/reply with the OAP bytes, then one ping round trip
    const cf = await appAlloc(a, "oping.srv", { flowId: lo(x.eidA), data: x.oapReq });
    assertEquals(cf.reply!.response, 0);
    assertBytes(cf.reply!.data, x.oapRsp);
    assertBytes(b.host.requests[0]!.data, x.oapReq);
    has(fab.trace, 25, "uni.a");
    has(fab.trace, 26, "uni.b");
    a.ipcp.write(cf.flowId, x.ping);
    const sf = b.host.flows.get(lo(x.eidB))!;
    await waitFor(() => sf.rx.length === 1, 1000, "ping");
    assertBytes(sf.rx[0]!, x.ping);
    b.ipcp.write(sf.flowId, x.pong);
    await waitFor(() => cf.rx.length === 1, 1000, "pong");
    has(fab.trace, 27, "uni.a");
    has(fab.trace, 28, "uni.b");
  } finally {
    await fab.stop();
  }
});
