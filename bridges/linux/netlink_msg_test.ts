import { assertBytes, assertEquals, assertThrows } from "../../tests/util/assert.ts";
import { fuzzDecoder } from "../../tests/util/fuzz.ts";
import { DecodeError } from "../../src/lib/errors.ts";
import { TunError } from "../errors.ts";
import { formatCidr, networkOf, parseCidr } from "./netlink.ts";
import {
  decodeAttrs,
  decodeIfinfo,
  decodeNlError,
  decodeNlMessages,
  encodeIfaddr,
  encodeIfinfo,
  encodeNlMessage,
  IFA_ADDRESS,
  IFA_LOCAL,
  IFADDR_BYTES,
  IFINFO_BYTES,
  IFLA_IFNAME,
  IFLA_MTU,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_EXCL,
  NLM_F_REQUEST,
  RTM_NEWADDR,
  RTM_NEWLINK,
  u32,
} from "./netlink_msg.ts";

const hex = (s: string) =>
  Uint8Array.from(s.replace(/\s+/g, "").match(/../g)!.map((h) => parseInt(h, 16)));

Deno.test("netlink: RTM_NEWADDR for 10.0.0.1/24 on ifindex 5 is byte-exact", () => {
  const msg = encodeNlMessage(
    RTM_NEWADDR,
    NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
    1,
    encodeIfaddr({ family: 2, prefixLen: 24, index: 5 }),
    [{ type: IFA_LOCAL, data: new Uint8Array([10, 0, 0, 1]) }, {
      type: IFA_ADDRESS,
      data: new Uint8Array([10, 0, 0, 1]),
    }],
  );
  assertBytes(
    msg,
    hex(
      "28000000 1400 0506 01000000 00000000" + // nlmsghdr: len 40, type 20, flags 0x605, seq 1, pid 0
        "02 18 00 00 05000000" + // ifaddrmsg: AF_INET, /24, flags 0, scope 0, index 5
        "0800 0200 0a000001" + // IFA_LOCAL
        "0800 0100 0a000001", // IFA_ADDRESS
    ),
  );
});

Deno.test("netlink: messages, attributes, ifinfo and errors decode", () => {
  const name = new TextEncoder().encode("tun0\0"); // 5 bytes: padded to 8
  const a = encodeNlMessage(RTM_NEWLINK, 2, 7, encodeIfinfo({ index: 3, flags: 0x1043 }), [
    { type: IFLA_IFNAME, data: name },
    { type: IFLA_MTU, data: u32(1500) },
  ]);
  const err = encodeNlMessage(2, 0, 8, hex("edffffff"), []); // error -19 (ENODEV)
  const both = new Uint8Array(a.length + err.length);
  both.set(a);
  both.set(err, a.length);
  const [m1, m2] = decodeNlMessages(both);
  assertEquals([m1!.type, m1!.seq, m2!.type, m2!.seq], [RTM_NEWLINK, 7, 2, 8]);
  assertEquals(decodeIfinfo(m1!.payload).index, 3);
  assertEquals(decodeIfinfo(m1!.payload).flags, 0x1043);
  const attrs = decodeAttrs(m1!.payload, IFINFO_BYTES);
  assertEquals(attrs.map((x) => x.type), [IFLA_IFNAME, IFLA_MTU]);
  assertBytes(attrs[0]!.data, name);
  assertEquals(decodeNlError(m2!.payload), 19);
  assertThrows(() => decodeNlMessages(both.subarray(0, 20)), DecodeError);
});

Deno.test("netlink: decoders reject hostile input with DecodeError only", () => {
  const seed = encodeNlMessage(RTM_NEWLINK, 2, 7, encodeIfinfo({ index: 3 }), [{
    type: IFLA_MTU,
    data: u32(1500),
  }]);
  fuzzDecoder(
    (b) => {
      for (const m of decodeNlMessages(b)) {
        decodeIfinfo(m.payload);
        decodeAttrs(m.payload, IFINFO_BYTES);
        decodeNlError(m.payload);
      }
    },
    [seed],
    10000,
  );
  fuzzDecoder((b) => decodeAttrs(b, IFADDR_BYTES), [seed.subarray(16)], 5000);
});

Deno.test("netlink: CIDR parsing, network part and typed errors", () => {
  assertEquals(formatCidr(parseCidr("10.1.2.3/8")), "10.1.2.3/8");
  assertEquals(parseCidr("10.1.2.3").prefixLen, 32);
  assertEquals(parseCidr("fd00::1/64").family, 10);
  assertEquals(
    formatCidr({
      ...parseCidr("fd00:1:2:3::9/33"),
      address: networkOf(parseCidr("fd00:1:ffff:3::9/33")),
    }),
    "fd00:1:8000::/33",
  );
  assertBytes(networkOf(parseCidr("10.1.2.3/12")), new Uint8Array([10, 0, 0, 0]));
  assertBytes(networkOf(parseCidr("10.255.2.3/0")), new Uint8Array([0, 0, 0, 0]));
  for (
    const bad of [
      "10.0.0.1/33",
      "fd00::/129",
      "10.0.0/24",
      "10.0.0.1/",
      "10.0.0.1/-1",
      "x",
      "10.0.0.256",
    ]
  ) {
    const e = assertThrows(() => parseCidr(bad), TunError) as TunError;
    assertEquals(e.reason, "bad-address");
  }
});
