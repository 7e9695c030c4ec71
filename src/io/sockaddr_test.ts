import { assertEquals, assertThrows } from "../../tests/util/assert.ts";
import { fuzzDecoder } from "../../tests/util/fuzz.ts";
import {
  AF_INET6,
  decodeSockaddr,
  decodeSockaddrLl,
  encodeSockaddr,
  encodeSockaddrLl,
  formatIPv6,
  parseIPv4,
  parseIPv6,
} from "./sockaddr.ts";

Deno.test("sockaddr: parses and rejects IPv4 text", () => {
  assertEquals(parseIPv4("192.0.2.1"), new Uint8Array([192, 0, 2, 1]));
  for (const bad of ["256.0.0.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "a.b.c.d", "", "1..2.3"]) {
    assertEquals(parseIPv4(bad), undefined, bad);
  }
});

Deno.test("sockaddr: parses, formats and rejects IPv6 text", () => {
  const cases: [string, string][] = [
    ["::1", "::1"],
    ["::", "::"],
    ["2001:DB8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["fe80::a:b", "fe80::a:b"],
    ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
    ["::ffff:192.0.2.1", "::ffff:192.0.2.1"],
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"], // a single zero group is not shortened
  ];
  for (const [text, canon] of cases) assertEquals(formatIPv6(parseIPv6(text)!), canon, text);
  for (
    const bad of [
      "1::2::3",
      ":::",
      "12345::",
      "1:2:3:4:5:6:7:8:9",
      "g::",
      "1:2:3:4:5:6:7",
      "::1.2.3",
    ]
  ) {
    assertEquals(parseIPv6(bad), undefined, bad);
  }
});

Deno.test("sockaddr: builds sockaddr_in and sockaddr_in6 byte-exact", () => {
  assertEquals(
    encodeSockaddr({ hostname: "127.0.0.1", port: 0x1234 }),
    new Uint8Array([2, 0, 0x12, 0x34, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]),
  );
  const v6 = encodeSockaddr({ hostname: "[::1%3]", port: 80 });
  assertEquals(v6.length, 28);
  assertEquals([...v6.subarray(0, 4)], [10, 0, 0, 80]);
  assertEquals(v6[23], 1);
  assertEquals(v6[24], 3);
  assertEquals(decodeSockaddr(v6), { hostname: "::1%3", port: 80 });
  // An IPv4 endpoint on an IPv6 socket becomes v4-mapped.
  assertEquals(decodeSockaddr(encodeSockaddr({ hostname: "10.1.2.3", port: 5 }, AF_INET6)), {
    hostname: "::ffff:10.1.2.3",
    port: 5,
  });
  assertThrows(() => encodeSockaddr({ hostname: "::1", port: 1 }, 2), TypeError);
  assertThrows(() => encodeSockaddr({ hostname: "1.2.3.4", port: -1 }), TypeError);
});

Deno.test("sockaddr: builds and reads sockaddr_ll", () => {
  const b = encodeSockaddrLl({
    protocol: 0x88b5,
    ifindex: 7,
    addr: new Uint8Array([1, 2, 3, 4, 5, 6]),
  });
  assertEquals([...b.subarray(0, 8)], [17, 0, 0x88, 0xb5, 7, 0, 0, 0]);
  assertEquals(b[11], 6);
  assertEquals(decodeSockaddrLl(b), {
    protocol: 0x88b5,
    ifindex: 7,
    hatype: 0,
    pkttype: 0,
    addr: new Uint8Array([1, 2, 3, 4, 5, 6]),
  });
});

Deno.test("sockaddr: readers never throw on arbitrary bytes", () => {
  const seeds = [
    encodeSockaddr({ hostname: "1.2.3.4", port: 1 }),
    encodeSockaddr({ hostname: "::1", port: 1 }),
    encodeSockaddrLl({ protocol: 3, ifindex: 1 }),
  ];
  fuzzDecoder((b: Uint8Array) => [decodeSockaddr(b), decodeSockaddrLl(b)], seeds, 3000);
});
