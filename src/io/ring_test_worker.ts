/**
 * Test helper Worker for ring_test.ts: produces or consumes numbered
 * packets on a {@link PacketRing} with blocking waits.
 * @module
 */

/// <reference lib="deno.worker" />

import { PacketRing } from "./ring.ts";

/** Packet `i` of the test stream: length 1 + i % 61, bytes (i + k) & 255. */
export function testPacket(i: number): Uint8Array {
  const p = new Uint8Array(1 + (i % 61));
  for (let k = 0; k < p.length; k++) p[k] = (i + k) & 255;
  return p;
}

self.onmessage = (
  e: MessageEvent<{ buffer: SharedArrayBuffer; count: number; role: "produce" | "consume" }>,
) => {
  const ring = PacketRing.from(e.data.buffer);
  const { count, role } = e.data;
  if (role === "produce") {
    for (let i = 0; i < count;) {
      if (ring.waitWritable(5000) !== "ok") break;
      const batch: Uint8Array[] = [];
      for (let k = 0; k < 7 && i + k < count; k++) batch.push(testPacket(i + k));
      i += ring.pushBatch(batch);
    }
    self.postMessage({ done: count });
  } else {
    let i = 0, bad = -1;
    while (i < count) {
      if (ring.waitReadable(5000) !== "ok") break;
      ring.popBatch((d) => {
        const want = testPacket(i);
        if (bad < 0 && (d.length !== want.length || d.some((b, k) => b !== want[k]))) bad = i;
        i++;
      });
    }
    self.postMessage({ done: i, bad });
  }
  self.close();
};
