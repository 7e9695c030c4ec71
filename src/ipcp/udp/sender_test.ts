import { assert, assertEquals } from "../../../tests/util/assert.ts";
import { UdpSocket } from "../../io/udp.ts";
import { HeldSender } from "./sender.ts";

Deno.test("udp sender: holds datagrams while the ring is full, keeps order, drops when closed", async () => {
  await using rx = await UdpSocket.open({ hostname: "127.0.0.1" });
  const sock = await UdpSocket.open({ hostname: "127.0.0.1", slots: 4 });
  const tx = new HeldSender(sock, 64);
  const n = 300;
  let waits = 0;
  for (let i = 0; i < n; i++) {
    const bp = tx.send(rx.addr, new Uint8Array([i >> 8, i & 255]));
    if (bp) (waits++, await bp);
  }
  await tx.idle();
  const got: number[] = [];
  while (got.length < n) {
    for (const d of await rx.receive()) got.push((d.data[0]! << 8) | d.data[1]!);
  }
  assertEquals(got, Array.from({ length: n }, (_, i) => i));
  assert(waits > 0, "the ring never filled");
  assertEquals([tx.packets, tx.bytes, tx.dropped, tx.held], [n, 2 * n, 0, 0]);
  await sock.close();
  assertEquals(tx.send(rx.addr, new Uint8Array(1)), undefined);
  assertEquals(tx.dropped, 1);
});
