import { assert, assertEquals, assertThrows } from "../../tests/util/assert.ts";
import { PacketRing } from "./ring.ts";
import { testPacket } from "./ring_test_worker.ts";

const bytes = (...a: number[]) => new Uint8Array(a);

function drain(ring: PacketRing): number[][] {
  const out: number[][] = [];
  ring.popBatch((d) => out.push([...d]));
  return out;
}

Deno.test("ring: keeps order and content, with metadata", () => {
  const ring = PacketRing.create({ slots: 8, slotBytes: 16, metaBytes: 4 });
  assert(ring.push(bytes(1), bytes(9, 9, 9, 9)));
  assert(ring.push(bytes(2, 2)));
  assert(ring.push(new Uint8Array(0)));
  assertEquals(ring.size(), 3);
  const seen: [number[], number[]][] = [];
  assertEquals(ring.popBatch((d, m) => seen.push([[...d], [...m]]), 2), 2);
  assertEquals(seen[0], [[1], [9, 9, 9, 9, 0, 0, 0, 0]]); // metadata is padded to 8
  assertEquals(seen[1]![0], [2, 2]);
  assertEquals(ring.pop(), new Uint8Array(0));
  assertEquals(ring.pop(), undefined);
});

Deno.test("ring: wraps around the slot array many times", () => {
  const ring = PacketRing.create({ slots: 4, slotBytes: 64 });
  let next = 0, want = 0;
  for (let round = 0; round < 100; round++) {
    for (let k = 0; k < 3; k++) assert(ring.push(testPacket(next++)));
    ring.popBatch((d) => assertEquals([...d], [...testPacket(want++)]));
  }
  assertEquals(want, 300);
});

Deno.test("ring: counters survive 32-bit wrap", () => {
  const ring = PacketRing.create({ slots: 4, slotBytes: 8 });
  const hdr = new Int32Array(ring.buffer, 0, 64);
  hdr[0] = hdr[16] = 0x7fff_fffe; // head and tail near the signed overflow
  for (let i = 0; i < 10; i++) {
    assert(ring.push(bytes(i)));
    assert(ring.push(bytes(i + 100)));
    assertEquals(drain(ring), [[i], [i + 100]]);
  }
  assertEquals(ring.size(), 0);
});

Deno.test("ring: reports full and empty", () => {
  const ring = PacketRing.create({ slots: 3, slotBytes: 8 }); // rounded up to 4
  assertEquals(ring.slots, 4);
  assertEquals(ring.free(), 4);
  for (let i = 0; i < 4; i++) assert(ring.push(bytes(i)));
  assertEquals(ring.push(bytes(99)), false);
  assertEquals(ring.free(), 0);
  assertEquals(ring.pushBatch([bytes(1)]), 0);
  assertEquals(drain(ring), [[0], [1], [2], [3]]);
  assertEquals(ring.pushBatch([bytes(5), bytes(6), bytes(7), bytes(8), bytes(9)]), 4);
  assertEquals(drain(ring), [[5], [6], [7], [8]]);
});

Deno.test("ring: rejects oversize packets and metadata, state unchanged", () => {
  const ring = PacketRing.create({ slots: 4, slotBytes: 8, metaBytes: 8 });
  assertThrows(() => ring.push(new Uint8Array(9)), RangeError, "exceed the slot size");
  assertThrows(() => ring.push(bytes(1), new Uint8Array(9)), RangeError, "metadata");
  assertEquals(ring.size(), 0);
  assert(ring.push(new Uint8Array(8)));
  assertEquals(ring.size(), 1);
});

Deno.test("ring: attaches only to ring buffers", () => {
  assertThrows(() => PacketRing.from(new SharedArrayBuffer(1024)), TypeError, "not a PacketRing");
  const a = PacketRing.create({ slots: 4, slotBytes: 8 });
  const b = PacketRing.from(a.buffer);
  a.push(bytes(7));
  assertEquals(b.pop(), bytes(7));
  assertEquals(a.size(), 0);
});

Deno.test("ring: async wait wakes on push, on close and on abort", async () => {
  const ring = PacketRing.create({ slots: 4, slotBytes: 8 });
  const w = ring.waitReadableAsync();
  setTimeout(() => ring.push(bytes(1)), 5);
  assertEquals(await w, true);
  ring.pop();
  const ac = new AbortController();
  const w2 = ring.waitReadableAsync(ac.signal);
  setTimeout(() => ac.abort(), 5);
  assertEquals(await w2, false);
  const w3 = ring.waitReadableAsync();
  setTimeout(() => ring.close(), 5);
  assertEquals(await w3, false);
  assert(ring.closed);
});

Deno.test("ring: announced waits are withdrawn when data is present", () => {
  const ring = PacketRing.create({ slots: 2, slotBytes: 8 });
  let wakes = 0;
  ring.onConsumerWake = () => wakes++;
  assert(ring.armConsumerWait());
  ring.push(bytes(1));
  ring.push(bytes(2)); // a second push must not ring again
  assertEquals(wakes, 1);
  assertEquals(ring.armConsumerWait(), false);
  assertEquals(ring.armProducerWait(), true);
  let pwakes = 0;
  ring.onProducerWake = () => pwakes++;
  ring.pop();
  assertEquals(pwakes, 1);
});

function runWorker(msg: unknown): Promise<{ done: number; bad?: number }> {
  const w = new Worker(new URL("./ring_test_worker.ts", import.meta.url).href, { type: "module" });
  return new Promise((resolve, reject) => {
    w.onmessage = (e) => {
      w.terminate();
      resolve(e.data);
    };
    w.onerror = (e) => {
      e.preventDefault();
      w.terminate();
      reject(new Error(e.message));
    };
    w.postMessage(msg);
  });
}

Deno.test("ring: Worker producer to main-thread consumer, in order", async () => {
  const count = 20000;
  const ring = PacketRing.create({ slots: 16, slotBytes: 64 });
  const done = runWorker({ buffer: ring.buffer, count, role: "produce" });
  let i = 0;
  while (i < count && await ring.waitReadableAsync()) {
    ring.popBatch((d) => {
      const want = testPacket(i++);
      if (d.length !== want.length || d.some((b, k) => b !== want[k])) {
        throw new Error(`packet ${i - 1} differs`);
      }
    });
  }
  assertEquals(i, count);
  assertEquals((await done).done, count);
});

Deno.test("ring: main-thread producer to Worker consumer, in order", async () => {
  const count = 20000;
  const ring = PacketRing.create({ slots: 16, slotBytes: 64 });
  const done = runWorker({ buffer: ring.buffer, count, role: "consume" });
  for (let i = 0; i < count;) {
    if (!await ring.waitWritableAsync()) break;
    while (i < count && ring.push(testPacket(i))) i++;
  }
  const r = await done;
  assertEquals(r, { done: count, bad: -1 });
});
