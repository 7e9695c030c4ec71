import { assert, assertEquals } from "../../../../tests/util/assert.ts";
import { createCa } from "./ca.ts";
import { MB_ECN_TX_MUL_INIT, MB_ECN_TX_MUL_MIN, type MbEcnCtx } from "./mb_ecn.ts";

const mb = createCa(1);

Deno.test("ca: the facade picks nop and mb-ecn by cong_avoid and refuses others", () => {
  assertEquals(createCa(0).name, "nop");
  assertEquals(mb.name, "mb-ecn");
  let threw = false;
  try {
    createCa(7);
  } catch {
    threw = true;
  }
  assert(threw);
  const nop = createCa(0);
  const c = nop.ctxCreate();
  assertEquals(nop.calcEcn(3, 1000), 3);
  assertEquals(nop.rxUpdate(c, 10, 200), undefined);
  assertEquals(nop.txUpdate(c, 10, 0), 0);
});

Deno.test("ca: mb-ecn marks with the outgoing queue length >> 4, only growing", () => {
  assertEquals(mb.calcEcn(0, 15), 0);
  assertEquals(mb.calcEcn(0, 16), 1);
  assertEquals(mb.calcEcn(2, 16), 3);
  assertEquals(mb.calcEcn(0, 16 * 300), 300 & 0xff);
});

Deno.test("ca: mb-ecn receiver echoes start, every 8th update and the end of congestion", () => {
  const c = mb.ctxCreate() as MbEcnCtx;
  assertEquals(mb.rxUpdate(c, 100, 0), undefined); // nothing going on
  assertEquals(mb.rxUpdate(c, 100, 4), 4); // start
  const sent: number[] = [];
  for (let i = 0; i < 16; i++) {
    const u = mb.rxUpdate(c, 100, 4);
    if (u !== undefined) sent.push(i);
  }
  assertEquals(sent, [1, 9]); // (rx_ctr & 7) == 1 before incrementing
  // EWMA: ece - ece/32 + 4 converges towards 128
  assert(c.rxEce > 4 && c.rxEce < 128);
  let end: number | undefined;
  for (let i = 0; i < 10 && end === undefined; i++) end = mb.rxUpdate(c, 100, 0);
  assertEquals(end, 0);
  assertEquals(c.rxEce, 0);
});

Deno.test("ca: mb-ecn sender doubles the window in slow start and decreases on ece", () => {
  const c = mb.ctxCreate() as MbEcnCtx;
  const slotNs = 2 ** MB_ECN_TX_MUL_INIT;
  let now = 1000 * slotNs;
  // 16 packets per slot of 10 kB: over the 64 kB window in slow start → window doubles each slot
  const wbl0 = c.txWbl;
  for (let s = 0; s < 3; s++) {
    for (let i = 0; i < 16; i++) mb.txUpdate(c, 10000, now);
    now += slotNs;
  }
  assert(c.txWbl > wbl0, `window grew (${c.txWbl})`);
  // a packet over the window waits until the next slot, at most 1 s
  c.txWbc = c.txWbl + 1;
  const wait = mb.txUpdate(c, 1, now - slotNs + 1); // still in the last slot
  assert(wait > 0 && wait <= 1e9, `waits ${wait}`);
  mb.updateEce(c, 4096);
  assert(c.txCav);
  const before = c.txWbl;
  now += slotNs * 2;
  for (let i = 0; i < 16; i++) mb.txUpdate(c, 100, now);
  now += slotNs;
  mb.txUpdate(c, 100, now);
  assert(c.txWbl < before, "multiplicative decrease");
});

Deno.test("ca: mb-ecn rescales the slot to keep 8–64 packets per slot", () => {
  const c = mb.ctxCreate() as MbEcnCtx;
  let now = 2 ** 30;
  mb.txUpdate(c, 100, now);
  now += 2 ** (MB_ECN_TX_MUL_INIT + 1);
  mb.txUpdate(c, 100, now); // one packet in the last slot: slots get longer
  assert(c.txMul > MB_ECN_TX_MUL_INIT);
  const c2 = mb.ctxCreate() as MbEcnCtx;
  now = 2 ** 40;
  for (let i = 0; i < 200; i++) mb.txUpdate(c2, 10, now);
  mb.txUpdate(c2, 10, now + 2 ** (MB_ECN_TX_MUL_INIT + 1));
  assert(c2.txMul < MB_ECN_TX_MUL_INIT, "many packets per slot: slots get shorter");
});

Deno.test("ca: mb-ecn never shortens slots below what timers can honour", () => {
  const c = mb.ctxCreate() as MbEcnCtx;
  let now = 2 ** 40;
  // 10 000 packets per slot would ask for 2^17 ns slots; the floor keeps 2^22
  for (let s = 0; s < 4; s++) {
    for (let i = 0; i < 10000; i++) mb.txUpdate(c, 10, now);
    now += 2 ** c.txMul;
  }
  assertEquals(c.txMul, MB_ECN_TX_MUL_MIN);
  // the window per slot is not halved further either: it keeps growing additively
  assert(c.txWbl >= 10000 * 10, `window ${c.txWbl}`);
});
