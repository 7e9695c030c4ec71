import { assert, assertEquals } from "../tests/util/assert.ts";
import { createFakeLoopback, createFakePair } from "./fake.ts";
import { decodeIcmpEcho, decodeIpv4, echoReplyFor, encodeIcmpEcho, encodeIpv4 } from "./packet.ts";

const pkt = (n: number) => new Uint8Array([0x45, n]);

Deno.test("fake: a pair delivers writes as batched reads, copies, and counts", async () => {
  const [a, b] = createFakePair({ name: "t", mtu: 1280 });
  assertEquals([a.name, b.name, a.kind, a.mtu], ["t", "t-peer", "tun", 1280]);
  const p = pkt(1);
  assert(a.write(p));
  p[1] = 99; // the device kept a copy
  assertEquals(a.writeBatch([pkt(2), pkt(3)]), 2);
  const batch = await b.read();
  assertEquals(batch?.map((x) => x[1]), [1, 2, 3]);
  assertEquals(a.counters().txPackets, 3);
  assertEquals(b.counters().rxBytes, 6);
  await a.close();
  await b.close();
});

Deno.test("fake: full queue refuses writes, drain waits for room", async () => {
  const [a, b] = createFakePair({ queuePackets: 2, batchPackets: 1 });
  assertEquals(a.writeBatch([pkt(1), pkt(2), pkt(3)]), 2);
  assertEquals(a.counters().txDropped, 1);
  assertEquals(a.write(pkt(4)), false);
  const drained = a.drain();
  assertEquals((await b.read())?.length, 1);
  assert(await drained);
  assert(a.write(pkt(5)));
  await a.close();
  await b.close();
});

Deno.test("fake: close ends reads, iterators and pumps; abort ends a read", async () => {
  const [a, b] = createFakePair();
  const ac = new AbortController();
  const aborted = b.read({ signal: ac.signal });
  ac.abort();
  assertEquals(await aborted, null);
  const seen: number[] = [];
  const pumping = b.pump((batch) => {
    for (const p of batch) seen.push(p[1]!);
  });
  a.write(pkt(7));
  await new Promise((r) => setTimeout(r, 0));
  const it = a.batches();
  const next = it.next();
  await b.close();
  await pumping;
  assertEquals(seen, [7]);
  assertEquals(b.write(pkt(1)), false);
  assertEquals(a.write(pkt(1)), false); // the peer is gone
  await a.close();
  assertEquals((await next).done, true);
});

Deno.test("fake: two ends ping each other through a loopback and a pair", async () => {
  const lo = createFakeLoopback();
  const req = encodeIpv4({
    src: [10, 0, 0, 1],
    dst: [10, 0, 0, 2],
    protocol: 1,
    payload: encodeIcmpEcho({ type: 8, id: 1, seq: 9, data: new Uint8Array(4) }),
  });
  lo.write(req);
  const [got] = (await lo.read())!;
  assertEquals(decodeIpv4(got!).dst, new Uint8Array([10, 0, 0, 2]));
  await lo.close();

  await using host = createFakePair({ name: "host" })[0];
  const [app, kernel] = createFakePair();
  const responder = app.pump((batch) => void app.writeBatch(batch.map(echoReplyFor)));
  kernel.write(req);
  const [reply] = (await kernel.read())!;
  assertEquals(decodeIcmpEcho(decodeIpv4(reply!).payload).seq, 9);
  await app.close();
  await responder;
  await kernel.close();
  assert(!host.closed);
});
