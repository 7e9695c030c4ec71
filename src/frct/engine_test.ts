import { assert, assertBytes, assertEquals } from "../../tests/util/assert.ts";
import { mutate, rng } from "../../tests/util/fuzz.ts";
import { qosBestEffort, qosData, qosRaw, qosVoice } from "../lib/qos.ts";
import { ACK_BATCH_PKTS, FrctFlag, RQ_SIZE, START_WINDOW } from "./constants.ts";
import { FrctEngine, frctEngineForQos } from "./engine.ts";
import { decodeFrct, encodeFrct, frctPayload } from "./wire.ts";

const { DATA, DRF, ACK, FC, RDVS } = FrctFlag;
const MS = 1e6;
const T0 = 5000e9;

function pair(rtx: boolean) {
  const a = new FrctEngine({ rtx, mplMs: 100, nowNs: T0, randomU32: () => 0xfffffff0 }); // wraps soon
  const b = new FrctEngine({ rtx, mplMs: 100, nowNs: T0, randomU32: () => 1000 });
  return { a, b };
}

function sendOk(e: FrctEngine, sdu: Uint8Array, now: number): Uint8Array {
  const p = e.send(sdu, now);
  if (p === "window-closed") throw new Error("window closed");
  return p;
}

Deno.test("frct engine: QoS decides FRCT and retransmission", () => {
  assertEquals(frctEngineForQos(qosRaw, 100, 0), undefined);
  assertEquals(frctEngineForQos(qosData, 100, 0)!.rtx, true);
  assertEquals(frctEngineForQos(qosBestEffort, 100, 0)!.rtx, false);
  assertEquals(frctEngineForQos(qosVoice, 100, 0)!.rtx, false);
  const e = frctEngineForQos(qosData, 5000, 0)!;
  assertEquals([e.sndInactS, e.rcvInactS], [146, 141]);
});

Deno.test("frct engine: a run starts with DRF, then piggybacks ACK and FC both ways", () => {
  const { a, b } = pair(true);
  const p1 = sendOk(a, new Uint8Array([1]), T0);
  assertEquals(decodeFrct(p1), { flags: DATA | DRF, window: 0, seqno: 0xfffffff0, ackno: 0 });
  const p2 = sendOk(a, new Uint8Array([2]), T0);
  assertEquals(decodeFrct(p2).flags, DATA); // p1 unacked: no DRF
  const r = b.receive(p1, T0 + MS);
  assertBytes(r.deliver[0]!, new Uint8Array([1]));
  b.consumed(1, T0 + MS);
  const q = sendOk(b, new Uint8Array([9]), T0 + MS);
  // window = lwe + 256 after consumption, ackno = next expected
  assertEquals(decodeFrct(q), {
    flags: DATA | DRF | ACK | FC,
    window: (0xfffffff1 + RQ_SIZE) & 0xffffff,
    seqno: 1000,
    ackno: 0xfffffff1,
  });
  assert(a.lingering);
  a.receive(q, T0 + 2 * MS);
  assertEquals(a.stats().sndLwe, 0xfffffff1);
  assertEquals(a.stats().rttEstimates, 1);
  assertEquals(a.stats().rttNs, 2 * MS);
  assertEquals(b.receive(p2, T0 + 3 * MS).deliver.length, 1);
});

Deno.test("frct engine: non-RTX sender marks every packet DRF; receiver skips gaps and drops late ones", () => {
  const { a, b } = pair(false);
  const ps = [1, 2, 3, 4].map((i) => sendOk(a, new Uint8Array([i]), T0));
  for (const p of ps) assert(decodeFrct(p).flags & DRF);
  const got = (p: Uint8Array) => b.receive(p, T0 + MS).deliver.map((x) => x[0]);
  assertEquals(got(ps[0]!), [1]);
  assertEquals(got(ps[2]!), [3]); // 2 skipped
  assertEquals(got(ps[1]!), []); // late: dropped
  assertEquals(got(ps[3]!), [4]);
  assertEquals(got(ps[3]!), []); // duplicate
  assertEquals(b.stats().duplicates, 2);
  assertEquals(a.lingering, false);
});

Deno.test("frct engine: RTX receiver reorders, suppresses duplicates and acks once in order", () => {
  const { a, b } = pair(true);
  const ps = [0, 1, 2, 3].map((i) => sendOk(a, new Uint8Array([i]), T0));
  const got = (p: Uint8Array) => b.receive(p, T0 + MS).deliver.map((x) => x[0]);
  assertEquals(got(ps[0]!), [0]);
  assertEquals(got(ps[2]!), []);
  assertEquals(got(ps[3]!), []);
  assertEquals(got(ps[2]!), []); // duplicate in the reorder queue
  assertEquals(b.stats().reorderQueued, 2);
  // the repair is acknowledged at once (cumulative), nothing left for the delayed ACK
  const r = b.receive(ps[1]!, T0 + MS);
  assertEquals(r.deliver.map((x) => x[0]), [1, 2, 3]);
  const acks = r.reply ?? [];
  assertEquals(b.tick(T0 + 16 * MS).packets.length, 0);
  assertEquals(acks.length, 1);
  assertEquals(decodeFrct(acks[0]!), {
    flags: ACK | FC,
    window: (0xfffffff0 + 4 + RQ_SIZE - 4) & 0xffffff, // nothing consumed yet
    seqno: 0,
    ackno: (0xfffffff0 + 4) >>> 0,
  });
  a.receive(acks[0]!, T0 + 20 * MS);
  assertEquals(a.lingering, false);
  assertEquals(a.stats().inFlight, 0);
});

Deno.test("frct engine: a new hole and its repair are acknowledged at once; one hole ACK fast-retransmits", () => {
  const { a, b } = pair(true);
  const ps = [0, 1, 2, 3, 4].map((i) => sendOk(a, new Uint8Array([i]), T0));
  const S0 = decodeFrct(ps[0]!).seqno;
  assertEquals(b.receive(ps[0]!, T0 + MS).reply, undefined); // in order: delayed
  // 1 lost: the first packet past the hole is reported at once, unspaced, and
  // twice, since the first copy also moves the sender's left edge (0 acked)
  const hole = b.receive(ps[2]!, T0 + MS).reply ?? [];
  assertEquals(hole.map((x) => decodeFrct(x).ackno), [(S0 + 1) >>> 0, (S0 + 1) >>> 0]);
  assertEquals(b.receive(ps[3]!, T0 + MS).reply, undefined); // same hole: spaced
  assertEquals(a.receive(hole[0]!, T0 + 2 * MS).reply, undefined);
  // the sender resends 1 on the duplicate
  const fast = a.receive(hole[1]!, T0 + 2 * MS).reply ?? [];
  assertEquals(fast.length, 1);
  assertBytes(frctPayload(fast[0]!), frctPayload(ps[1]!));
  assertEquals(a.stats().fastRetransmissions, 1);
  // the repair moves the left edge: acknowledged at once
  const r = b.receive(fast[0]!, T0 + 3 * MS);
  assertEquals(r.deliver.map((x) => x[0]), [1, 2, 3]);
  assertEquals((r.reply ?? []).map((x) => decodeFrct(x).ackno), [(S0 + 4) >>> 0]);
  a.receive(r.reply![0]!, T0 + 4 * MS);
  assertEquals(a.stats().inFlight, 1);
});

Deno.test("frct engine: an idle receiver only starts a run on a DRF DATA packet", () => {
  const { a, b } = pair(true);
  const p1 = sendOk(a, new Uint8Array([1]), T0); // lost
  const p2 = sendOk(a, new Uint8Array([2]), T0);
  // a control packet first must not start a run at a bogus edge (reference bug)
  b.receive(encodeFrct({ flags: ACK | FC, window: 77, seqno: 0, ackno: 5 }), T0 + MS);
  assertEquals(b.receive(p2, T0 + MS).deliver.length, 0);
  assertEquals(b.stats().noRun, 1);
  // retransmission of p1 (DRF kept) starts the run; p2's retransmission follows
  const rtx = a.tick(T0 + 1001 * MS).packets;
  assertEquals(rtx.length, 1);
  assertEquals(b.receive(rtx[0]!, T0 + 1002 * MS).deliver.length, 1);
  assertBytes(frctPayload(rtx[0]!), frctPayload(p1));
  const ack = b.tick(T0 + 1020 * MS).packets[0]!;
  // the first ACK covers the retransmitted DRF packet: p2, sent before it, is resent at once
  const again = a.receive(ack, T0 + 1025 * MS).reply ?? [];
  assertEquals(again.length, 1);
  assertBytes(frctPayload(again[0]!), frctPayload(p2));
});

Deno.test("frct engine: retransmissions are fresh plaintext copies (re-encrypt per transmission)", () => {
  const { a } = pair(true);
  const p = sendOk(a, new Uint8Array([1, 2, 3]), T0);
  const orig = p.slice();
  p.fill(0xee); // the caller encrypts in place
  const r = a.tick(T0 + 1001 * MS).packets;
  assertEquals(r.length, 1);
  assertBytes(r[0]!, orig);
  r[0]!.fill(0xdd);
  const r2 = a.tick(T0 + 3002 * MS).packets; // backed off: 2 s
  assertEquals(r2.length, 1);
  assertBytes(r2[0]!, orig);
  assertEquals(a.stats().retransmissions, 2);
  assertEquals(a.stats().rtoNs, 4e9);
});

Deno.test("frct engine: closed window, rendez-vous, window reply, reopening", () => {
  const { a, b } = pair(false);
  const ps: Uint8Array[] = [];
  for (let i = 0; i < START_WINDOW; i++) ps.push(sendOk(a, new Uint8Array([i]), T0));
  assertEquals(a.send(new Uint8Array([0]), T0), "window-closed");
  assertEquals(a.canSend(T0), false);
  // the first RDVS goes out at once (the reference waits for an FC first: quirk fixed)
  const t1 = a.tick(T0 + MS).packets;
  assertEquals(t1.map((x) => decodeFrct(x).flags), [RDVS]);
  assertEquals(a.tick(T0 + 50 * MS).packets.length, 0);
  assertEquals(a.tick(T0 + 101 * MS).packets.length, 1);
  for (const p of ps) b.receive(p, T0 + 2 * MS);
  const reply = b.receive(t1[0]!, T0 + 3 * MS).reply!;
  // nothing consumed: rwe = lwe + 256 - 64
  assertEquals(decodeFrct(reply[0]!), {
    flags: FC,
    window: (0xfffffff0 + 64 + 192) & 0xffffff,
    seqno: 0,
    ackno: 0,
  });
  const r = a.receive(reply[0]!, T0 + 4 * MS);
  assertEquals(r.windowOpened, true);
  assert(a.canSend(T0 + 4 * MS));
  assertEquals(a.stats().window, 192);
  // consumption opens the window by what was read, and is advertised by tick()
  b.consumed(64, T0 + 5 * MS);
  const upd = b.tick(T0 + 20 * MS).packets;
  assertEquals(decodeFrct(upd[0]!).window, (0xfffffff0 + 64 + 256) & 0xffffff);
  a.receive(upd[0]!, T0 + 21 * MS);
  assertEquals(a.stats().window, 256);
});

Deno.test("frct engine: ACKs beyond what was sent and windows moving back are ignored", () => {
  const { a } = pair(true);
  sendOk(a, new Uint8Array([1]), T0);
  a.receive(encodeFrct({ flags: ACK, window: 0, seqno: 0, ackno: 0xfffffff5 }), T0 + MS);
  assert(a.lingering);
  const rwe = a.stats().sndRwe;
  a.receive(encodeFrct({ flags: FC, window: (rwe - 10) & 0xffffff, seqno: 0, ackno: 0 }), T0 + MS);
  assertEquals(a.stats().sndRwe, rwe);
});

Deno.test("frct engine: final ACK and dealloc wait", () => {
  const { a, b } = pair(true);
  const p = sendOk(a, new Uint8Array([1]), T0);
  b.receive(p, T0 + MS);
  const fin = b.finalAck(T0 + 2 * MS)!;
  assertEquals(decodeFrct(fin), { flags: ACK, window: 0, seqno: 0, ackno: 0xfffffff1 });
  assertEquals(b.finalAck(T0 + 2 * MS), undefined);
  assertEquals(b.deallocWaitS(T0 + 2 * MS), b.rcvInactS);
  assertEquals(a.deallocWaitS(T0 + 10e9), a.sndInactS - 10);
  assertEquals(new FrctEngine({ rtx: true, mplMs: 100, nowNs: T0 }).deallocWaitS(T0), 0);
});

Deno.test("frct engine: receive() survives garbage and keeps its invariants", () => {
  const { a, b } = pair(true);
  const seeds: Uint8Array[] = [];
  for (let i = 0; i < 8; i++) seeds.push(sendOk(a, new Uint8Array([i, i]), T0));
  for (const p of seeds) b.receive(p, T0 + MS);
  seeds.push(encodeFrct({ flags: ACK | FC, window: 300, seqno: 0, ackno: 0xfffffff4 }));
  seeds.push(encodeFrct({ flags: RDVS, window: 0, seqno: 0, ackno: 0 }), new Uint8Array(0));
  const r = rng(42);
  let now = T0 + MS;
  for (let i = 0; i < 30000; i++) {
    const base = seeds[Math.floor(r() * seeds.length)]!;
    const pkt = mutate(base, r);
    for (const e of [a, b]) {
      const res = e.receive(pkt, now);
      assert(res.deliver.length <= RQ_SIZE);
      const s = e.stats();
      assert(s.unconsumed + s.reorderQueued <= RQ_SIZE, "receiver memory bounded");
      assert(s.inFlight <= RQ_SIZE, "sender memory bounded");
      if (s.unconsumed > 0 && r() < 0.5) e.consumed(1, now);
    }
    if (i % 100 === 0) {
      now += 7 * MS;
      a.tick(now);
      b.tick(now);
      a.send(new Uint8Array([i & 255]), now);
    }
  }
  assert(b.stats().malformed > 0);
});

Deno.test("frct engine: a full-rate flow is acknowledged every ACK_BATCH_PKTS, without waiting for the ACK slot", () => {
  const { a, b } = pair(true);
  // 0.01 ms per packet: the whole window goes by well within one delayed-ACK slot
  let now = T0;
  let sent = 0;
  let acks = 0;
  let stalls = 0;
  const feed = (pkts: Uint8Array[] | undefined) => {
    for (const q of pkts ?? []) {
      const h = decodeFrct(q);
      if (h.flags & ACK) acks++;
      a.receive(q, now);
    }
  };
  while (sent < 4 * RQ_SIZE) {
    now += 0.01 * MS;
    const p = a.send(new Uint8Array([sent & 0xff]), now);
    if (p === "window-closed") {
      stalls++;
      break;
    }
    sent++;
    const r = b.receive(p, now);
    feed(r.reply);
    b.consumed(r.deliver.length, now);
    if ((b.nextDeadlineNs() ?? Infinity) <= now) feed(b.tick(now).packets); // a driver's immediate timer
  }
  assertEquals(stalls, 0);
  assertEquals(sent, 4 * RQ_SIZE);
  assert(
    acks >= (4 * RQ_SIZE) / ACK_BATCH_PKTS - 1 && acks <= (2 * 4 * RQ_SIZE) / ACK_BATCH_PKTS,
    `${acks} ACKs`,
  );
  assertEquals(a.stats().rdvsSent, 0);
});
