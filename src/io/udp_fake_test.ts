import { assertEquals, assertRejects, assertThrows } from "../../tests/util/assert.ts";
import { rng } from "../../tests/util/fuzz.ts";
import { IoError } from "./libc.ts";
import type { DatagramSocket } from "./udp.ts";
import { FakeUdpNetwork } from "./udp_fake.ts";

/** The same echo exchange the real socket is tested with, against the interface. */
async function echo(a: DatagramSocket, b: DatagramSocket, count: number): Promise<number[]> {
  const server = b.onReceive((d, r) => b.send(r, d));
  for (let i = 0; i < count; i++) a.send(b.addr, new Uint8Array([i]));
  const got: number[] = [];
  while (got.length < count) {
    const batch = await a.receive({ signal: AbortSignal.timeout(200) }).catch(() => []);
    if (batch.length === 0) break;
    got.push(...batch.map((d) => d.data[0]!));
  }
  await b.close();
  await server;
  return got;
}

Deno.test("udp_fake: echoes in order between two sockets", async () => {
  const net = new FakeUdpNetwork();
  const a = net.open(), b = net.open({ port: 5000 });
  assertEquals(await echo(a, b, 100), Array.from({ length: 100 }, (_, i) => i));
  assertEquals(a.stats().rxPackets, 100);
  await a.close();
});

Deno.test("udp_fake: loses datagrams at the configured rate, reproducibly", async () => {
  const net = new FakeUdpNetwork({ lossRate: 0.5, random: rng(7) });
  const a = net.open(), b = net.open();
  const got = await echo(a, b, 200);
  // Both directions lose half: about a quarter come back.
  if (got.length < 20 || got.length > 90) throw new Error(`unexpected ${got.length} survivors`);
  await a.close();
});

Deno.test("udp_fake: refuses a bound address, ends receives at close", async () => {
  const net = new FakeUdpNetwork();
  const a = net.open({ port: 9 });
  assertEquals((assertThrows(() => net.open({ port: 9 }), IoError) as IoError).code, "EADDRINUSE");
  const pending = a.receive();
  await a.close();
  assertEquals(await pending, []);
  assertEquals(a.send(a.addr, new Uint8Array(1)), false);
  const ac = new AbortController();
  const b = net.open();
  const r = b.receive({ signal: ac.signal });
  ac.abort(new Error("stop"));
  await assertRejects(() => r, Error, "stop");
  await b.close();
});

Deno.test("udp_fake: the same echo passes on real UdpSockets", async () => {
  const { UdpSocket } = await import("./udp.ts");
  await using a = await UdpSocket.open({ hostname: "127.0.0.1" });
  const b = await UdpSocket.open({ hostname: "127.0.0.1" });
  assertEquals(await echo(a, b, 100), Array.from({ length: 100 }, (_, i) => i));
});
