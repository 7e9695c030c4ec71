/**
 * Replays the FRCT exchange of the reference capture udp4-data-qos (oping
 * with QoS data, 5 echo round trips) into one engine per side and checks
 * that the packets our engine builds equal the reference's bytes where they
 * are determined by the protocol.
 *
 * Reading of the capture's tail (frames 40–42): the client got ECHO_REPLY 4
 * (frame 40) at 8.126 s but oping only read it at 8.167 s (it reports
 * 42.2 ms). The reference acknowledges consumed data only, so a sent no ACK
 * and b retransmitted (frame 41); a's final ACK on dealloc (frame 42)
 * carries the consumption point. Our engine acknowledges delivered data, so
 * it acks frame 40 before b's RTO fires: that difference is asserted below.
 */
import { assert, assertBytes, assertEquals } from "../../tests/util/assert.ts";
import { logField, n1Sdus } from "../../tests/util/frames.ts";
import { FrctFlag } from "./constants.ts";
import { FrctEngine } from "./engine.ts";
import { decodeFrct, frctPayload } from "./wire.ts";

/** Length of the unicast DT header before the FRCT header (4 B address, qc, ttl, ecn, 8 B eid). */
const DT_HDR_LEN = 15;
const T0_NS = 1000e9; // arbitrary monotonic origin

interface Pkt {
  no: number;
  tNs: number;
  dir: "a>b" | "b>a";
  frct: Uint8Array;
}

function frctFrames(): Pkt[] {
  return n1Sdus("udp4-data-qos.pcap")
    .filter(({ log }) => log.text.includes("FRCT["))
    .map(({ frame, log, sdu }) => ({
      no: frame.no,
      tNs: T0_NS + Math.round(frame.t * 1e9),
      dir: log.dir as Pkt["dir"],
      frct: sdu.subarray(DT_HDR_LEN),
    }));
}

Deno.test("frct engine capture: the FRCT headers decode as frames.log says", () => {
  const log = n1Sdus("udp4-data-qos.pcap");
  const frames = frctFrames();
  assertEquals(frames.length, 16);
  for (const f of frames) {
    const h = decodeFrct(f.frct);
    const text = log.find((x) => x.frame.no === f.no)!.log.text;
    assertEquals(h.flags, Number(logField(text, "flags")!.slice(0, 4)), `frame ${f.no}`); // "0x0f(DATA|…"
    assertEquals(h.window, Number(logField(text, "rwe")));
    assertEquals(h.seqno, Number(logField(text, "seqno")));
    assertEquals(h.ackno, Number(logField(text, "ackno")));
  }
});

/** Drive one engine through the capture with 1 ms ticks; returns what it emitted by tick. */
function replay(
  side: "a" | "b",
  onPeer: (e: FrctEngine, p: Pkt, emit: (x: Uint8Array) => void) => void,
  onOwn: (e: FrctEngine, p: Pkt, emit: (x: Uint8Array) => void) => void,
  firstSeq: number,
): { engine: FrctEngine; emitted: { tNs: number; pkt: Uint8Array }[] } {
  const frames = frctFrames();
  const e = new FrctEngine({ rtx: true, mplMs: 100, nowNs: T0_NS, randomU32: () => firstSeq });
  const emitted: { tNs: number; pkt: Uint8Array }[] = [];
  let now = frames[0]!.tNs - 1e6;
  const endNs = frames.at(-1)!.tNs + 50e6;
  for (let i = 0; now <= endNs;) {
    const f = frames[i];
    if (f !== undefined && f.tNs <= now + 1e6) {
      now = f.tNs;
      const emit = (x: Uint8Array) => emitted.push({ tNs: now, pkt: x });
      if (f.dir.startsWith(side)) onOwn(e, f, emit);
      else onPeer(e, f, emit);
      i++;
    } else {
      now += 1e6;
      for (const x of e.tick(now).packets) emitted.push({ tNs: now, pkt: x });
    }
  }
  return { engine: e, emitted };
}

Deno.test("frct engine capture: client side (a) builds the reference's DATA and ACK packets", () => {
  const frames = frctFrames();
  const expectedTicks: Pkt[] = [];
  const late = new Map<number, Uint8Array>(); // SDUs delivered, read later by oping
  const { engine, emitted } = replay(
    "a",
    (e, p, emit) => {
      const r = e.receive(p.frct, p.tNs);
      for (const x of r.reply ?? []) emit(x);
      if (p.no === 40) {
        assertEquals(r.deliver.length, 1);
        late.set(p.no, r.deliver[0]!);
      } else if (p.no === 41) {
        assertEquals(r.deliver.length, 0); // the retransmission is a duplicate
        e.consumed(1, p.tNs); // oping reads reply 4 now
      } else {
        assertEquals(r.deliver.length, 1, `frame ${p.no}`);
        assertBytes(r.deliver[0]!, frctPayload(p.frct));
        e.consumed(1, p.tNs);
      }
    },
    (e, p) => {
      const h = decodeFrct(p.frct);
      if (h.flags & FrctFlag.DATA) {
        const pkt = e.send(frctPayload(p.frct), p.tNs);
        assert(pkt !== "window-closed");
        assertBytes(pkt, p.frct, `frame ${p.no}`);
      } else if (p.no === 42) {
        // dealloc: everything was acknowledged already (see the module doc)
        assertEquals(e.finalAck(p.tNs), undefined);
        assertEquals(e.stats().rcvLwe, h.ackno);
      } else expectedTicks.push(p);
    },
    2454495262,
  );
  // delayed ACKs 29, 32, 35, 38: same bytes, 10.3–15 ms after the data (reference: 12–13 ms)
  const acks = emitted.filter((x) => x.tNs < frames.find((f) => f.no === 40)!.tNs);
  assertEquals(acks.length, expectedTicks.length);
  for (const [i, p] of expectedTicks.entries()) {
    assertBytes(acks[i]!.pkt, p.frct, `frame ${p.no}`);
    assert(
      Math.abs(acks[i]!.tNs - p.tNs) <= 3e6,
      `frame ${p.no} at ${(acks[i]!.tNs - p.tNs) / 1e6} ms`,
    );
  }
  // the difference: frame 40's SDU is acknowledged on delivery, not on consumption
  const rest = emitted.slice(acks.length).map((x) => ({ ...x, h: decodeFrct(x.pkt) }));
  const t40 = frames.find((f) => f.no === 40)!.tNs;
  assert(rest[0] && rest[0].tNs - t40 < 16e6, "frame 40 acked within the delayed-ACK time");
  assertEquals(rest[0]!.h, {
    flags: FrctFlag.ACK | FrctFlag.FC,
    window: 10074679,
    seqno: 0,
    ackno: 1905899832,
  });
  assertEquals(engine.lingering, false);
  assertEquals(engine.stats().retransmissions, 0);
});

Deno.test("frct engine capture: server side (b) builds the reference's replies and retransmission", () => {
  const frames = frctFrames();
  const { engine, emitted } = replay(
    "b",
    (e, p, emit) => {
      const r = e.receive(p.frct, p.tNs);
      for (const x of r.reply ?? []) emit(x);
      if (decodeFrct(p.frct).flags & FrctFlag.DATA) {
        assertEquals(r.deliver.length, 1, `frame ${p.no}`);
        e.consumed(1, p.tNs); // the echo server reads before it replies
      }
    },
    (e, p) => {
      if (p.no === 41) return; // the retransmission must come from tick()
      const pkt = e.send(frctPayload(p.frct), p.tNs);
      assert(pkt !== "window-closed");
      assertBytes(pkt, p.frct, `frame ${p.no}`);
    },
    1905899827,
  );
  // b emits nothing but the retransmission of reply 4, after about its RTO
  assertEquals(emitted.length, 1);
  const f40 = frames.find((f) => f.no === 40)!, f41 = frames.find((f) => f.no === 41)!;
  assertBytes(emitted[0]!.pkt, f41.frct);
  const after = (emitted[0]!.tNs - f40.tNs) / 1e6;
  console.log(`  b retransmits reply 4 after ${after.toFixed(1)} ms`);
  assert(after >= 30 && after <= 45, `retransmitted after ${after} ms (reference: 41 ms)`);
  const s = engine.stats();
  assertEquals(s.rttEstimates, 5);
  assert(s.srttNs > 11e6 && s.srttNs < 14e6, `srtt ${s.srttNs}`);
  assertEquals(engine.lingering, false); // frame 42 acknowledged everything
});
