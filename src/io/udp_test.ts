import { assert, assertEquals, assertRejects } from "../../tests/util/assert.ts";
import { IoError } from "./libc.ts";
import { UdpSocket } from "./udp.ts";
import type { IpEndpoint } from "./sockaddr.ts";

/** Datagram `i`: 4-byte sequence number then filler, 8..1400 bytes. */
function dgram(i: number): Uint8Array {
  const p = new Uint8Array(8 + ((i * 37) % 1393));
  new DataView(p.buffer).setUint32(0, i);
  for (let k = 4; k < p.length; k++) p[k] = (i * 7 + k) & 255;
  return p;
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, k) => x === b[k]);
}

/** Send `count` datagrams a→b, b echoes, a checks order and content. */
async function echo(host: string, count: number): Promise<void> {
  await using a = await UdpSocket.open({ hostname: host });
  await using b = await UdpSocket.open({ hostname: host });
  assert(a.addr.port > 0 && b.addr.port > 0 && a.addr.port !== b.addr.port);
  const server = b.onReceive((data, remote) => {
    assertEquals(remote.port, a.addr.port);
    b.send(remote, data);
  }, { copy: false });
  const window = 256;
  let sent = 0, got = 0;
  while (got < count) {
    while (sent < count && sent - got < window) assert(a.send(b.addr, dgram(sent++)));
    for (const d of await a.receive()) {
      if (!same(d.data, dgram(got))) throw new Error(`datagram ${got} out of order or damaged`);
      got++;
    }
  }
  assertEquals(a.stats().txPackets, count);
  assertEquals(a.stats().rxPackets, count);
  assertEquals(b.stats().rxPackets, count);
  assertEquals(a.stats().txDrops + a.stats().txErrors + b.stats().txErrors, 0);
  await b.close();
  await server;
}

Deno.test("udp: echoes thousands of datagrams in order on 127.0.0.1", () =>
  echo("127.0.0.1", 5000));

Deno.test("udp: echoes thousands of datagrams in order on ::1", () => echo("::1", 5000));

Deno.test("udp: reports the kernel-chosen port and the source of each datagram", async () => {
  await using a = await UdpSocket.open({ hostname: "127.0.0.1", port: 0 });
  await using b = await UdpSocket.open({ hostname: "127.0.0.1" });
  assert(a.send({ hostname: "127.0.0.1", port: b.addr.port }, new Uint8Array([1, 2, 3])));
  const [d] = await b.receive();
  assertEquals(d?.remote, { hostname: "127.0.0.1", port: a.addr.port });
  assertEquals(d?.data, new Uint8Array([1, 2, 3]));
  // Replying to the received endpoint object reuses its cached sockaddr.
  assert(b.send(d!.remote, new Uint8Array([4])));
  assertEquals((await a.receive())[0]?.data, new Uint8Array([4]));
});

Deno.test("udp: refuses an address in use, a malformed or foreign address", async () => {
  await using a = await UdpSocket.open({ hostname: "127.0.0.1" });
  const inUse = await assertRejects(
    () => UdpSocket.open({ hostname: "127.0.0.1", port: a.addr.port }),
    IoError,
    "address in use",
  );
  assertEquals((inUse as IoError).code, "EADDRINUSE");
  const bad = await assertRejects(
    () => UdpSocket.open({ hostname: "300.1.2.3" }),
    IoError,
    "not a numeric",
  );
  assertEquals((bad as IoError).code, "EINVAL");
  await assertRejects(() => UdpSocket.open({ hostname: "::1", port: 70000 }), IoError, "EINVAL");
  await assertRejects(() => UdpSocket.open({ hostname: "fe80::1%no-such-if0" }), IoError, "EINVAL");
  // TEST-NET-2 is never assigned to a local interface.
  const foreign = await assertRejects(() => UdpSocket.open({ hostname: "198.51.100.7" }), IoError);
  assertEquals((foreign as IoError).code, "EADDRNOTAVAIL");
});

Deno.test("udp: accepts an IPv6 zone given as an interface name", async () => {
  await using a = await UdpSocket.open({ hostname: "::1%lo" });
  await using b = await UdpSocket.open({ hostname: "::1" });
  assert(b.send({ hostname: "::1%lo", port: a.addr.port }, new Uint8Array([5])));
  assertEquals((await a.receive())[0]?.data, new Uint8Array([5]));
});

Deno.test("udp: send checks size and address, drops when full or closed", async () => {
  const a = await UdpSocket.open({ hostname: "127.0.0.1", maxDatagramBytes: 100, slots: 4 });
  const to: IpEndpoint = { hostname: "127.0.0.1", port: 9 };
  let err = (() => {
    try {
      a.send(to, new Uint8Array(101));
    } catch (e) {
      return e;
    }
  })() as IoError;
  assertEquals(err.code, "EMSGSIZE");
  err = (() => {
    try {
      a.send({ hostname: "::1", port: 9 }, new Uint8Array(1));
    } catch (e) {
      return e;
    }
  })() as IoError;
  assertEquals(err.code, "EINVAL");
  await a.close();
  assertEquals(a.send(to, new Uint8Array(1)), false);
  assertEquals(a.stats().txDrops, 1);
  assertEquals(await a.receive(), []);
  assert(a.closed);
});

Deno.test("udp: drops and counts datagrams larger than a slot, keeps the rest", async () => {
  await using big = await UdpSocket.open({ hostname: "127.0.0.1", maxDatagramBytes: 4096 });
  await using small = await UdpSocket.open({ hostname: "127.0.0.1", maxDatagramBytes: 1000 });
  big.send(small.addr, new Uint8Array(3000));
  big.send(small.addr, new Uint8Array([7]));
  const got = await small.receive();
  assertEquals(got.map((d) => d.data), [new Uint8Array([7])]);
  assertEquals(small.stats().rxTruncated, 1);
});

Deno.test("udp: receive honours abort, iteration ends at close", async () => {
  await using a = await UdpSocket.open({ hostname: "127.0.0.1" });
  const ac = new AbortController();
  setTimeout(() => ac.abort(new Error("stop")), 10);
  await assertRejects(() => a.receive({ signal: ac.signal }), Error, "stop");
  const batches: number[] = [];
  const it = (async () => {
    for await (const b of a) batches.push(b.length);
  })();
  a.send(a.addr, new Uint8Array([1]));
  while (batches.length === 0) await new Promise((r) => setTimeout(r, 1));
  await a.close();
  await it;
  assertEquals(batches, [1]);
});

Deno.test("udp: a full tx ring refuses and counts, waitWritable resumes", async () => {
  await using a = await UdpSocket.open({ hostname: "127.0.0.1", slots: 4 });
  await using b = await UdpSocket.open({ hostname: "127.0.0.1", slots: 256 });
  const pkt = new Uint8Array(1400);
  let ok = 0, refused = 0;
  for (let i = 0; i < 200; i++) a.send(b.addr, pkt) ? ok++ : refused++;
  assert(refused > 0, "a 4-slot ring should overflow in a 200-packet burst");
  assertEquals(a.stats().txDrops, refused);
  assertEquals(await a.waitWritable(), true);
  assert(a.send(b.addr, pkt));
  ok++;
  let got = 0;
  while (got < ok) got += (await b.receive()).length;
  assertEquals(got, ok);
});
