import { assert, assertEquals, assertThrows } from "../../tests/util/assert.ts";
import { Errno, OuroError } from "../lib/errors.ts";
import { RQ_SIZE, TICTIME_NS } from "./constants.ts";
import { FrctEngine, type PeerGone } from "./engine.ts";
import { LossyLink, type LossyLinkOptions, seededRandom } from "./lossy_link.ts";

/** Two engines joined by two lossy links, driven by a simulated clock. */
interface SimOptions {
  rtx: boolean;
  count: number;
  link: LossyLinkOptions;
  /** Consumer reads one SDU per this many ns (0: reads everything at once). */
  consumeEveryNs?: number;
  /** Stop after this much simulated time. */
  maxSimNs: number;
  /** Cut both links at this time (peer silence). */
  cutAtNs?: number;
}

interface SimResult {
  received: number[];
  simNs: number;
  a: FrctEngine;
  b: FrctEngine;
  ab: LossyLink;
  sent: number;
  maxInFlight: number;
  maxHeld: number;
  gone: { atNs: number; g: PeerGone }[];
}

function sdu(i: number): Uint8Array {
  const b = new Uint8Array(16);
  new DataView(b.buffer).setUint32(0, i);
  return b;
}

function simulate(o: SimOptions): SimResult {
  const rnd = seededRandom(7);
  const randomU32 = () => Math.floor(rnd() * 2 ** 32);
  const a = new FrctEngine({ rtx: o.rtx, mplMs: 100, nowNs: 0, randomU32 });
  const b = new FrctEngine({ rtx: o.rtx, mplMs: 100, nowNs: 0, randomU32 });
  const ab = new LossyLink({ ...o.link, seed: 11 });
  const ba = new LossyLink({ ...o.link, seed: 23 });
  const inbox: Uint8Array[] = [];
  const received: number[] = [];
  const gone: SimResult["gone"] = [];
  let now = 0, sent = 0, nextTick = 0, nextConsume = 0, maxInFlight = 0, maxHeld = 0;
  const consumeEvery = o.consumeEveryNs ?? 0;
  while (now <= o.maxSimNs) {
    if (o.cutAtNs !== undefined && now >= o.cutAtNs) ab.cut = ba.cut = true;
    for (const p of ab.receiveDue(now)) {
      const r = b.receive(p, now);
      inbox.push(...r.deliver);
      for (const x of r.reply ?? []) ba.send(x, now);
    }
    for (const p of ba.receiveDue(now)) {
      const r = a.receive(p, now);
      assertEquals(r.deliver.length, 0);
      for (const x of r.reply ?? []) ab.send(x, now);
    }
    let n = 0;
    while (inbox.length > 0 && (consumeEvery === 0 || now >= nextConsume)) {
      received.push(new DataView(inbox.shift()!.buffer).getUint32(12));
      n++;
      if (consumeEvery > 0) {
        nextConsume = Math.max(nextConsume, now) + consumeEvery;
        break;
      }
    }
    if (n > 0) b.consumed(n, now);
    if (now >= nextTick) {
      for (const [e, l] of [[a, ab], [b, ba]] as const) {
        const t = e.tick(now);
        for (const x of t.packets) l.send(x, now);
        if (t.peerGone && e === a) gone.push({ atNs: now, g: t.peerGone });
      }
      nextTick = now + TICTIME_NS;
    }
    while (sent < o.count && !a.down) {
      const p = a.send(sdu(sent), now);
      if (p === "window-closed") break;
      ab.send(p, now);
      sent++;
    }
    maxInFlight = Math.max(maxInFlight, a.stats().inFlight);
    const bs = b.stats();
    maxHeld = Math.max(maxHeld, bs.unconsumed + bs.reorderQueued);
    if (o.rtx && o.cutAtNs === undefined && received.length === o.count && !a.lingering) break;
    if (!o.rtx && sent === o.count && ab.nextDueNs() === undefined && inbox.length === 0) break;
    if (a.down) break;
    now = Math.min(ab.nextDueNs() ?? Infinity, ba.nextDueNs() ?? Infinity, nextTick);
    if (consumeEvery > 0 && inbox.length > 0) now = Math.min(now, Math.max(nextConsume, now));
  }
  return { received, simNs: now, a, b, ab, sent, maxInFlight, maxHeld, gone };
}

const LOSSY: LossyLinkOptions = {
  lossRate: 0.1,
  dupRate: 0.05,
  reorderRate: 0.1,
  delayNs: 10_000_000,
  jitterNs: 5_000_000,
  reorderDelayNs: 20_000_000,
};

Deno.test("frct engine sim: data QoS delivers 10,000 SDUs exactly once, in order, over a lossy link", () => {
  const t0 = performance.now();
  const r = simulate({ rtx: true, count: 10_000, link: LOSSY, maxSimNs: 600e9 });
  const ms = performance.now() - t0;
  assertEquals(r.received.length, 10_000);
  for (let i = 0; i < r.received.length; i++) {
    if (r.received[i] !== i) throw new Error(`SDU ${i} is ${r.received[i]}`);
  }
  const as = r.a.stats(), bs = r.b.stats();
  assert(as.retransmissions > 1000, `retransmissions ${as.retransmissions}`);
  assert(bs.duplicates > 0, "duplicates were suppressed");
  assert(r.maxInFlight <= RQ_SIZE, `in flight ${r.maxInFlight}`);
  assertEquals(r.a.lingering, false);
  assertEquals(r.gone.length, 0);
  assert(as.rttEstimates > 0 && as.srttNs > 15e6 && as.srttNs < 80e6, `srtt ${as.srttNs}`);
  console.log(
    `  sim ${(r.simNs / 1e9).toFixed(1)} s in ${ms.toFixed(0)} ms; rtx ${as.retransmissions}, ` +
      `dups ${bs.duplicates}, srtt ${(as.srttNs / 1e6).toFixed(1)} ms, rto ${
        (as.rtoNs / 1e6).toFixed(1)
      } ms`,
  );
});

Deno.test("frct engine sim: best effort never stalls, shows loss, never duplicates or reorders", () => {
  const r = simulate({ rtx: false, count: 10_000, link: LOSSY, maxSimNs: 600e9 });
  assertEquals(r.sent, 10_000);
  for (let i = 1; i < r.received.length; i++) {
    assert(r.received[i]! > r.received[i - 1]!, "strictly increasing");
  }
  const frac = r.received.length / 10_000;
  assert(frac > 0.75 && frac < 0.95, `delivered ${frac}`);
  assertEquals(r.a.stats().retransmissions, 0);
  assert(r.simNs < 60e9, `took ${r.simNs / 1e9} s simulated`);
});

Deno.test("frct engine sim: a slow consumer bounds the sender's queue by the window", () => {
  for (const rtx of [true, false]) {
    const r = simulate({
      rtx,
      count: 2000,
      link: LOSSY,
      consumeEveryNs: 2_000_000,
      maxSimNs: 600e9,
    });
    assert(r.maxInFlight <= RQ_SIZE, `in flight ${r.maxInFlight}`);
    assert(r.maxHeld <= RQ_SIZE, `receiver holds ${r.maxHeld}`);
    assert(r.maxHeld > RQ_SIZE / 2, `consumer was not slow: ${r.maxHeld}`);
    if (rtx) {
      assertEquals(r.received.length, 2000);
      for (let i = 0; i < 2000; i++) {
        if (r.received[i] !== i) throw new Error(`SDU ${i} is ${r.received[i]}`);
      }
    }
    assertEquals(r.gone.length, 0, `rtx=${rtx}: ${JSON.stringify(r.gone)}`);
  }
});

Deno.test("frct engine sim: a silent peer takes a reliable flow down (EFLOWDOWN)", () => {
  // cut early: data is still in flight (fast retransmit clears a lossy window quickly)
  const r = simulate({ rtx: true, count: 1000, link: LOSSY, cutAtNs: 20e6, maxSimNs: 300e9 });
  // if the cut left the peer's window closed, rendez-vous reports ECONNRESET every second first
  const down = r.gone.filter((x) => x.g.errno === Errno.EFLOWDOWN);
  assertEquals(down.length, 1);
  assert(r.gone.every((x) => x.g.errno === Errno.EFLOWDOWN || x.g.errno === Errno.ECONNRESET));
  const at = down[0]!.atNs / 1e9;
  assert(at > 100 && at < 140, `down after ${at} s`);
  assert(r.a.down && !r.a.lingering);
  const e = assertThrows(() => r.a.send(sdu(0), r.simNs), OuroError) as OuroError;
  assertEquals(e.code, Errno.EFLOWDOWN);
  // back-off keeps the retransmissions of a dead path modest
  assert(r.a.stats().retransmissions < 20 * RQ_SIZE, `rtx ${r.a.stats().retransmissions}`);
});

Deno.test("frct engine sim: a closed window with a silent peer reports ECONNRESET after 1 s of RDVS", () => {
  const r = simulate({
    rtx: false,
    count: 1000,
    link: {},
    consumeEveryNs: 1e12,
    cutAtNs: 100e6,
    maxSimNs: 2e9,
  });
  // the producer keeps retrying, and each retry after a report starts a new rendez-vous
  assertEquals(r.gone.length, 1);
  assertEquals(r.gone[0]!.g.errno, Errno.ECONNRESET);
  const at = r.gone[0]!.atNs / 1e9;
  assert(at > 1.0 && at < 1.2, `reset after ${at} s`);
  assertEquals(r.a.down, false);
  const s = r.a.stats();
  assert(s.rdvsSent >= 15 && s.rdvsSent <= 22, `rdvs ${s.rdvsSent}`); // 10/s while probing
});
