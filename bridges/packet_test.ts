import { assert, assertBytes, assertEquals, assertThrows } from "../tests/util/assert.ts";
import { fuzzDecoder } from "../tests/util/fuzz.ts";
import { DecodeError } from "../src/lib/errors.ts";
import {
  decodeArp,
  decodeEthernet,
  decodeIcmpEcho,
  decodeIpv4,
  decodeUdp4,
  echoReplyFor,
  encodeArp,
  encodeEthernet,
  encodeIcmpEcho,
  encodeIpv4,
  encodeUdp4,
  ETHERTYPE_ARP,
  inetChecksum,
  IPPROTO_ICMP,
} from "./packet.ts";

const hex = (s: string) =>
  Uint8Array.from(s.replace(/\s+/g, "").match(/../g)!.map((h) => parseInt(h, 16)));

Deno.test("packet: Internet checksum matches RFC 1071 and a known IPv4 header", () => {
  // RFC 1071 §3: words 0001 f203 f4f5 f6f7 sum to ddf2, checksum 220d.
  assertEquals(inetChecksum(hex("0001f203f4f5f6f7")), 0x220d);
  const hdr = hex("4500 0073 0000 4000 4011 0000 c0a8 0001 c0a8 00c7");
  assertEquals(inetChecksum(hdr), 0xb861);
  hdr[10] = 0xb8;
  hdr[11] = 0x61;
  assertEquals(inetChecksum(hdr), 0);
  assertEquals(inetChecksum(hex("01")), 0xfeff); // odd length pads with zero
});

Deno.test("packet: IPv4 ICMP echo request round-trips and gets a valid reply", () => {
  const data = new TextEncoder().encode("abcdefgh");
  const req = encodeIpv4({
    src: [10, 0, 0, 1],
    dst: [10, 0, 0, 2],
    protocol: IPPROTO_ICMP,
    id: 0x1234,
    payload: encodeIcmpEcho({ type: 8, id: 7, seq: 3, data }),
  });
  const ip = decodeIpv4(req);
  assertEquals(ip.ttl, 64);
  assertEquals(ip.id, 0x1234);
  assertBytes(ip.dst, new Uint8Array([10, 0, 0, 2]));
  const rep = decodeIpv4(echoReplyFor(req));
  assertBytes(rep.src, new Uint8Array([10, 0, 0, 2]));
  assertBytes(rep.dst, new Uint8Array([10, 0, 0, 1]));
  const e = decodeIcmpEcho(rep.payload);
  assertEquals([e.type, e.id, e.seq], [0, 7, 3]);
  assertBytes(e.data, data);
  const bad = req.slice();
  bad[25]! ^= 1; // corrupt the ICMP checksum
  assertThrows(() => echoReplyFor(bad), DecodeError, "checksum");
});

Deno.test("packet: UDP over IPv4 round-trips with its checksum checked", () => {
  const p = encodeUdp4({
    src: [1, 2, 3, 4],
    dst: [5, 6, 7, 8],
    srcPort: 1000,
    dstPort: 53,
    payload: hex("deadbeef01"),
  });
  const u = decodeUdp4(p);
  assertEquals([u.srcPort, u.dstPort], [1000, 53]);
  assertBytes(u.payload, hex("deadbeef01"));
  const bad = p.slice();
  bad[bad.length - 1]! ^= 0xff;
  assertThrows(() => decodeUdp4(bad), DecodeError, "checksum");
});

Deno.test("packet: Ethernet and ARP round-trip", () => {
  const arp = encodeArp({
    op: 1,
    senderMac: [2, 0, 0, 0, 0, 1],
    senderIp: [10, 0, 0, 1],
    targetMac: [0, 0, 0, 0, 0, 0],
    targetIp: [10, 0, 0, 2],
  });
  const f = decodeEthernet(
    encodeEthernet({
      dst: [255, 255, 255, 255, 255, 255],
      src: [2, 0, 0, 0, 0, 1],
      etherType: ETHERTYPE_ARP,
      payload: arp,
    }),
  );
  assertEquals(f.etherType, ETHERTYPE_ARP);
  const a = decodeArp(f.payload);
  assertEquals(a.op, 1);
  assertBytes(a.targetIp, new Uint8Array([10, 0, 0, 2]));
});

Deno.test("packet: decoders reject truncated and mutated input with DecodeError only", () => {
  const ping = encodeIpv4({
    src: [10, 0, 0, 1],
    dst: [10, 0, 0, 2],
    protocol: 1,
    payload: encodeIcmpEcho({ type: 8, id: 1, seq: 1, data: new Uint8Array(16) }),
  });
  const udp = encodeUdp4({
    src: [1, 2, 3, 4],
    dst: [5, 6, 7, 8],
    srcPort: 1,
    dstPort: 2,
    payload: new Uint8Array(10),
  });
  const arp = encodeArp({
    op: 2,
    senderMac: [1, 2, 3, 4, 5, 6],
    senderIp: [1, 1, 1, 1],
    targetMac: [6, 5, 4, 3, 2, 1],
    targetIp: [2, 2, 2, 2],
  });
  for (
    const [dec, seeds] of [
      [decodeIpv4, [ping, udp]],
      [echoReplyFor, [ping]],
      [decodeUdp4, [udp]],
      [(b: Uint8Array) => decodeIcmpEcho(decodeIpv4(b).payload), [ping]],
      [decodeEthernet, [
        encodeEthernet({
          dst: [1, 1, 1, 1, 1, 1],
          src: [2, 2, 2, 2, 2, 2],
          etherType: 0x800,
          payload: ping,
        }),
      ]],
      [decodeArp, [arp]],
    ] as const
  ) {
    const r = fuzzDecoder(dec, [...seeds], 5000);
    assert(r.rejected > 0, "some inputs rejected");
  }
  assertThrows(() => decodeIpv4(new Uint8Array(0)), DecodeError);
});
