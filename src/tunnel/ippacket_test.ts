import { assert, assertBytes, assertEquals } from "../../tests/util/assert.ts";
import { decodeIpv4, encodeIpv4, encodeUdp4, inetChecksum, onesSum } from "../../bridges/packet.ts";
import { fragmentIpv4, flowKey, icmp4FragNeeded, icmp6PacketTooBig, ipDestination, ipSource, mayAnswerWithIcmpError } from "./ippacket.ts";

const big = (df: boolean) => {
  const p = encodeIpv4({ src: [10, 0, 0, 1], dst: [10, 0, 0, 2], protocol: 17, id: 77, payload: new Uint8Array(3000).map((_, i) => i & 0xff) });
  if (!df) {
    p[6] = 0;
    p[10] = p[11] = 0;
    const h = inetChecksum(p.subarray(0, 20));
    p[10] = h >> 8;
    p[11] = h & 0xff;
  }
  return p;
};

Deno.test("tunnel ippacket: IPv4 fragments are valid and reassemble to the original", () => {
  assertEquals(fragmentIpv4(big(true), 1400), undefined);
  const p = big(false);
  const frags = fragmentIpv4(p, 1400)!;
  assertEquals(frags.length, 3);
  const data = new Uint8Array(3000);
  for (const [i, f] of frags.entries()) {
    const d = decodeIpv4(f); // checks the header checksum
    assert(f.length <= 1400);
    const off = (((f[6]! & 0x1f) << 8) | f[7]!) * 8;
    assertEquals((f[6]! & 0x20) !== 0, i < 2, "MF on all but the last");
    assertEquals(d.id, 77);
    data.set(d.payload, off);
  }
  assertBytes(data, p.subarray(20));
  assertEquals(fragmentIpv4(p, 4000), [p]);
});

Deno.test("tunnel ippacket: ICMP errors have valid checksums and quote the packet", () => {
  const p = big(true);
  const e4 = decodeIpv4(icmp4FragNeeded(p, new Uint8Array([10, 0, 0, 254]), 1280));
  assertEquals(inetChecksum(e4.payload), 0);
  assertEquals([...e4.dst], [10, 0, 0, 1]);
  assert(e4.payload.length + 20 <= 576);
  assertBytes(e4.payload.subarray(8, 28), p.subarray(0, 20));
  const v6 = new Uint8Array(1400);
  v6[0] = 0x60;
  v6[8] = 0xfd;
  v6[23] = 1;
  v6[24] = 0xfd;
  v6[39] = 2;
  const e6 = icmp6PacketTooBig(v6, ipDestination(v6)!, 1280);
  assert(e6.length <= 1280);
  const pseudo = new Uint8Array(40);
  pseudo.set(e6.subarray(8, 40));
  const len = e6.length - 40;
  pseudo[34] = len >> 8;
  pseudo[35] = len & 0xff;
  pseudo[39] = 58;
  assertEquals(inetChecksum(e6.subarray(40), onesSum(pseudo)), 0);
  assertBytes(ipDestination(e6)!, ipSource(v6)!);
  // never an error about an error
  assert(!mayAnswerWithIcmpError(icmp4FragNeeded(p, new Uint8Array([10, 0, 0, 254]), 1280)));
  assert(!mayAnswerWithIcmpError(e6));
  assert(mayAnswerWithIcmpError(p));
});

Deno.test("tunnel ippacket: flow keys read DSCP, protocol and ports; short packets do not throw", () => {
  const u = encodeUdp4({ src: [1, 2, 3, 4], dst: [5, 6, 7, 8], srcPort: 1234, dstPort: 5004, payload: new Uint8Array(4) });
  u[1] = 46 << 2;
  assertEquals(flowKey(u), { dscp: 46, protocol: 17, srcPort: 1234, dstPort: 5004 });
  for (let n = 0; n < 30; n++) flowKey(u.subarray(0, n));
  assertEquals(flowKey(new Uint8Array([0x45])), undefined);
  assertEquals(ipDestination(new Uint8Array(10)), undefined);
});
