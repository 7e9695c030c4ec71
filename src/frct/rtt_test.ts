import { assertEquals } from "../../tests/util/assert.ts";
import { rttBackoff, rttInit, rttSample } from "./rtt.ts";
import { rcvInactS, sndInactS } from "./constants.ts";

// Expected values worked out by hand from spec 03 §6 (C int64 arithmetic shifts).
Deno.test("frct rtt: initial state", () => {
  assertEquals(rttInit(), { srttNs: 0, mdevNs: 10_000_000, rtoNs: 1_000_000_000 });
});

Deno.test("frct rtt: sample sequence with Linux variance damping", () => {
  let s = rttSample(rttInit(), 800_000);
  assertEquals(s, { srttNs: 800_000, mdevNs: 400_000, rtoNs: 2_400_000 });
  s = rttSample(s, 400_000); // d = -400000 → srtt -= 50000; (400000-400000)>>2 = 0
  assertEquals(s, { srttNs: 750_000, mdevNs: 400_000, rtoNs: 2_350_000 });
  s = rttSample(s, 1_000_000); // d = 250000 → +31250; (250000-400000)>>2 = -37500, >>3 = -4688
  assertEquals(s, { srttNs: 781_250, mdevNs: 395_312, rtoNs: 2_362_498 });
  s = rttSample(s, 1); // d = -781249 >> 3 = -97657 (floor); (781249-395312)>>2 = 96484
  assertEquals(s, { srttNs: 683_593, mdevNs: 491_796, rtoNs: 2_650_777 });
});

Deno.test("frct rtt: lower bounds on srtt, mdev and rto", () => {
  assertEquals(rttSample(rttInit(), 100), { srttNs: 1000, mdevNs: 100, rtoNs: 250_000 });
  assertEquals(rttSample(rttInit(), 0), { srttNs: 1000, mdevNs: 100, rtoNs: 250_000 });
});

Deno.test("frct rtt: back-off doubles the rto and keeps srtt/mdev", () => {
  const s = rttSample(rttInit(), 800_000);
  assertEquals(rttBackoff(s), { srttNs: 800_000, mdevNs: 400_000, rtoNs: 4_800_000 });
  assertEquals(rttBackoff(rttInit()).rtoNs, 2_000_000_000);
});

Deno.test("frct constants: inactivity thresholds of spec 03 §3.1", () => {
  assertEquals([sndInactS(100), rcvInactS(100)], [131, 131]);
  assertEquals([sndInactS(5000), rcvInactS(5000)], [146, 141]);
  assertEquals([sndInactS(1), rcvInactS(1)], [131, 131]);
});
