import { assertEquals } from "../../tests/util/assert.ts";
import { OAP_MAX_FUTURE_MS, OAP_REPLAY_TIMER_MS, ReplayWindow } from "./replay.ts";

const MS = 1_000_000n;
const T0 = 1_795_462_692_062_238_878n; // frame 3 of udp4-unicast.pcap
const id = (n: number) => new Uint8Array(16).fill(n);

Deno.test("replay: window of 20 s back and 100 ms ahead, as the reference", () => {
  assertEquals([OAP_REPLAY_TIMER_MS, OAP_MAX_FUTURE_MS], [20000, 100]);
  const w = new ReplayWindow();
  assertEquals(w.check(id(1), T0, T0 + 20_000n * MS), "ok");
  assertEquals(w.check(id(2), T0, T0 + 20_000n * MS + 1n), "stale");
  assertEquals(w.check(id(3), T0, T0 - 100n * MS), "ok");
  assertEquals(w.check(id(4), T0, T0 - 100n * MS - 1n), "future");
});

Deno.test("replay: the same (timestamp, id) is refused; either part differing is not", () => {
  const w = new ReplayWindow();
  assertEquals(w.check(id(1), T0, T0), "ok");
  assertEquals(w.check(id(1), T0, T0 + 5n * MS), "replayed");
  assertEquals(w.check(id(1), T0 + 1n, T0 + 5n * MS), "ok");
  assertEquals(w.check(id(2), T0, T0 + 5n * MS), "ok");
  assertEquals(w.size, 3);
});

Deno.test("replay: old entries are pruned; a full window fails closed", () => {
  const w = new ReplayWindow(2);
  assertEquals(w.check(id(1), T0, T0), "ok");
  assertEquals(w.check(id(2), T0, T0), "ok");
  assertEquals(w.check(id(3), T0, T0), "full");
  const later = T0 + 20_001n * MS;
  assertEquals(w.check(id(3), later, later), "ok");
  assertEquals(w.size, 1);
  w.prune(later + 21_000n * MS);
  assertEquals(w.size, 0);
});
