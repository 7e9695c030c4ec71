import { assertEquals } from "../../../tests/util/assert.ts";
import { PacketScheduler, PSCHED_BATCH, PSCHED_STARVE_LIMIT } from "./psched.ts";

const tick = () => new Promise((r) => setTimeout(r, 0));

Deno.test("psched: packets queued in one turn are served voice, video, then best effort", async () => {
  const out: string[] = [];
  const s = new PacketScheduler<string>((qc, x) => out.push(`${qc}${x}`));
  s.push(0, "a");
  s.push(1, "b");
  s.push(2, "c");
  s.push(0, "d");
  s.push(2, "e");
  await tick();
  assertEquals(out, ["2c", "2e", "1b", "0a", "0d"]);
});

Deno.test("psched: a waiting lower cube is served after the starvation limit", async () => {
  const out: number[] = [];
  const s = new PacketScheduler<number>((qc) => out.push(qc));
  for (let i = 0; i < PSCHED_STARVE_LIMIT + 10; i++) s.push(2, i);
  s.push(0, -1);
  await tick();
  assertEquals(out.indexOf(0), PSCHED_STARVE_LIMIT);
  assertEquals(out.length, PSCHED_STARVE_LIMIT + 11);
});

Deno.test("psched: long backlogs yield to the event loop between batches, order within a cube kept", async () => {
  const out: number[] = [];
  const s = new PacketScheduler<number>((_qc, x) => out.push(x));
  const n = PSCHED_BATCH * 3 + 5;
  for (let i = 0; i < n; i++) s.push(0, i);
  await Promise.resolve();
  await Promise.resolve();
  assertEquals(out.length, PSCHED_BATCH);
  while (out.length < n) await tick();
  assertEquals(out, Array.from({ length: n }, (_, i) => i));
  s.stop();
  assertEquals(s.push(0, 1), false);
  assertEquals(s.dropped, 1);
});

Deno.test("psched: writers wait while the queues are above a mark", async () => {
  const s = new PacketScheduler<number>(() => {});
  assertEquals(s.waitBelow(4), undefined);
  for (let i = 0; i < 10; i++) s.push(0, i);
  const w = s.waitBelow(4);
  assertEquals(w instanceof Promise, true);
  // writers above the same mark share one promise (no garbage per write)
  assertEquals(s.waitBelow(4), w);
  assertEquals(s.waitBelow(5) === w, false);
  await w;
  assertEquals(s.queued, 0);
});
