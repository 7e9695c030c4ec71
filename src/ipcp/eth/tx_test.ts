/** The Ethernet send path: back-pressure through a bounded backlog. */
import { assert, assertEquals } from "../../../tests/util/assert.ts";
import type { EthLink } from "./link.ts";
import { ETH_TX_BACKLOG_BYTES, EthSender } from "./tx.ts";

/** A link whose ring takes `room` frames, refilled by `free()`. */
class RingLink implements EthLink {
  readonly ifname = "ring0";
  readonly mac = new Uint8Array(6);
  readonly mtu = 1500;
  closed = false;
  sent: Uint8Array[] = [];
  #waiters: ((ok: boolean) => void)[] = [];
  constructor(public room: number) {}
  send(f: Uint8Array): boolean {
    if (this.closed || this.room === 0) return false;
    this.room--;
    this.sent.push(f.slice());
    return true;
  }
  free(n: number): void {
    this.room += n;
    for (const w of this.#waiters.splice(0)) w(true);
  }
  onReceive(): Promise<void> {
    return Promise.resolve();
  }
  waitWritable(): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    if (this.room > 0) return Promise.resolve(true);
    return new Promise((r) => this.#waiters.push(r));
  }
  stats() {
    return {};
  }
  close(): Promise<void> {
    this.closed = true;
    for (const w of this.#waiters.splice(0)) w(false);
    return Promise.resolve();
  }
}

Deno.test("eth tx: a full ring holds frames back in order and makes the writer wait", async () => {
  const link = new RingLink(2);
  const c = { txPackets: 0, txBytes: 0, txFull: 0 };
  const tx = new EthSender(link, 18, c);
  const buf = new Uint8Array(100);
  const waits: (Promise<void> | undefined)[] = [];
  for (let i = 0; i < 10; i++) {
    buf[18] = i; // the caller reuses its buffer
    waits.push(tx.send(buf));
  }
  assertEquals([waits[0], waits[1]], [undefined, undefined]);
  assert(waits[2] instanceof Promise);
  assertEquals(link.sent.length, 2);
  link.free(3);
  await new Promise((r) => setTimeout(r, 0));
  link.free(100);
  await waits[9];
  assertEquals(link.sent.map((f) => f[18]), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assertEquals(c, { txPackets: 10, txBytes: 820, txFull: 0 });
});

Deno.test("eth tx: beyond the backlog bound frames are dropped and counted", async () => {
  const link = new RingLink(0);
  const c = { txPackets: 0, txBytes: 0, txFull: 0 };
  const tx = new EthSender(link, 18, c);
  const frame = new Uint8Array(1000);
  const n = Math.floor(ETH_TX_BACKLOG_BYTES / 1000);
  for (let i = 0; i < n + 5; i++) tx.send(frame);
  assertEquals(c.txFull, 5);
  await link.close();
  await tx.drained();
  assertEquals(c, { txPackets: 0, txBytes: 0, txFull: n + 5 });
});
