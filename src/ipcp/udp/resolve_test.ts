import { assertEquals, assertThrows } from "../../../tests/util/assert.ts";
import { HashAlgo, hashName, toHex } from "../../lib/hash.ts";
import { canonicalIp, isUnspecified, lookupHosts, parsePeers, Resolver } from "./resolve.ts";

const md5 = (s: string) => hashName(HashAlgo.MD5, s);

Deno.test("udp resolve: canonical addresses and the unspecified address", () => {
  assertEquals(canonicalIp("10.0.0.1", 4), "10.0.0.1");
  assertEquals(canonicalIp("010.0.0.1", 4), undefined);
  assertEquals(canonicalIp("::1", 4), undefined);
  assertEquals(canonicalIp("[2001:DB8:0:0::1]", 6), "2001:db8::1");
  assertEquals(canonicalIp("10.0.0.1", 6), undefined);
  assertEquals(isUnspecified(canonicalIp("0.0.0.0", 4)!), true);
  assertEquals(isUnspecified(canonicalIp("0:0::0", 6)!), true);
});

Deno.test("udp resolve: parses the static peer table", () => {
  assertEquals(parsePeers(" uni.a=10.0.0.1, net=10.0.0.2:4000 ,", 4), [
    { name: "uni.a", ip: "10.0.0.1" },
    { name: "net", ip: "10.0.0.2", port: 4000 },
  ]);
  assertEquals(parsePeers("a=[fe80::1]:5000,b=2001:db8::2,c=[::2]", 6), [
    { name: "a", ip: "fe80::1", port: 5000 },
    { name: "b", ip: "2001:db8::2" },
    { name: "c", ip: "::2" },
  ]);
  // names may contain '=': the address follows the last one
  assertEquals(parsePeers("k=v=10.1.1.1", 4), [{ name: "k=v", ip: "10.1.1.1" }]);
  assertEquals(parsePeers("", 4), []);
  for (
    const bad of [
      "x",
      "=10.0.0.1",
      "a=",
      "a=10.0.0.1:0",
      "a=10.0.0.1:70000",
      "a=10.0.0.1:x",
      "a=0.0.0.0",
      "a=::1",
      "a=host",
    ]
  ) {
    assertThrows(() => parsePeers(bad, 4), RangeError, "Cannot use peer");
  }
  for (const bad of ["a=[::1", "a=[::1]5", "a=10.0.0.1", "a=::"]) {
    assertThrows(() => parsePeers(bad, 6), RangeError, "Cannot use peer");
  }
});

Deno.test("udp resolve: finds a hex name in hosts-file text by family", () => {
  const hex = toHex(md5("srv"));
  const hosts = [
    "# comment " + hex,
    "127.0.0.1 localhost",
    `fe80::1%eth0 ${hex}`,
    `10.9.9.9   other  ${hex.toUpperCase()}  # trailing`,
    `10.8.8.8 ${hex}`,
  ].join("\n");
  assertEquals(lookupHosts(hosts, hex, 4), "10.9.9.9");
  assertEquals(lookupHosts(hosts, hex, 6), "fe80::1");
  assertEquals(lookupHosts(hosts, "missing", 4), undefined);
  assertEquals(lookupHosts("", hex, 4), undefined);
});

Deno.test("udp resolve: peer table, then hosts file, then DNS", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ouro-udp-resolve-" });
  try {
    const hostsFile = `${dir}/hosts`;
    await Deno.writeTextFile(
      hostsFile,
      `10.0.0.7 ${toHex(md5("byhosts"))}\n10.0.0.8 ${toHex(md5("both"))}\n`,
    );
    const asked: string[] = [];
    const r = new Resolver({
      family: 4,
      port: 3435,
      peers: parsePeers("both=10.0.0.1:4000,both=10.0.0.99", 4),
      dns: "10.0.0.53",
      hostsFile,
      resolveDns: (label, type, dns) => {
        asked.push(`${label} ${type} ${dns}`);
        return Promise.resolve(label === toHex(md5("bydns")) ? ["0.0.0.0", "10.0.0.9"] : []);
      },
    });
    assertEquals(r.peerCount, 1);
    assertEquals(await r.resolve(md5("both")), {
      endpoint: { hostname: "10.0.0.1", port: 4000 },
      source: "peers",
    });
    assertEquals(await r.resolve(md5("byhosts")), {
      endpoint: { hostname: "10.0.0.7", port: 3435 },
      source: "hosts",
    });
    assertEquals(await r.resolve(md5("bydns")), {
      endpoint: { hostname: "10.0.0.9", port: 3435 },
      source: "dns",
    });
    assertEquals(await r.resolve(md5("nobody")), undefined);
    assertEquals(asked, [
      `${toHex(md5("bydns"))} A 10.0.0.53`,
      `${toHex(md5("nobody"))} A 10.0.0.53`,
    ]);
    // DNS failures and a missing hosts file mean "unknown", never an exception
    const r2 = new Resolver({
      family: 6,
      port: 1,
      hostsFile: `${dir}/none`,
      resolveDns: () => Promise.reject(new Error("boom")),
    });
    assertEquals(await r2.resolve(md5("x")), undefined);
    const r3 = new Resolver({ family: 6, port: 1, hostsFile, useDns: false });
    assertEquals(await r3.resolve(md5("byhosts")), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
