import { assert, assertEquals, assertThrows } from "../../tests/util/assert.ts";
import { formatPrefix, parsePrefix, PrefixError, prefixContains, prefixesOverlap, PrefixTable } from "./router.ts";

const a4 = (s: string) => new Uint8Array(s.split(".").map(Number));

Deno.test("router: longest prefix match over nested IPv4 prefixes", () => {
  const t = new PrefixTable<string>();
  t.insert(parsePrefix("10.0.0.0/8"), "wide");
  t.insert(parsePrefix("10.2.0.0/16"), "mid");
  t.insert(parsePrefix("10.2.3.0/24"), "narrow");
  t.insert(parsePrefix("10.2.3.4/32"), "host");
  assertEquals(t.lookup(a4("10.2.3.4")), "host");
  assertEquals(t.lookup(a4("10.2.3.5")), "narrow");
  assertEquals(t.lookup(a4("10.2.9.9")), "mid");
  assertEquals(t.lookup(a4("10.7.7.7")), "wide");
  assertEquals(t.lookup(a4("11.0.0.1")), undefined);
  assertEquals(t.size, 4);
  t.insert(parsePrefix("0.0.0.0/0"), "default");
  assertEquals(t.lookup(a4("11.0.0.1")), "default");
  assert(t.remove(parsePrefix("10.2.3.0/24")));
  assertEquals(t.lookup(a4("10.2.3.5")), "mid");
  assertEquals(t.lookup(new Uint8Array(3)), undefined);
});

Deno.test("router: IPv6 prefixes, families kept apart, odd lengths", () => {
  const t = new PrefixTable<number>();
  t.insert(parsePrefix("fd00:9::/64"), 1);
  t.insert(parsePrefix("fd00:9::2/128"), 2);
  t.insert(parsePrefix("fd00:8000::/17"), 3);
  const v6 = (s: string) => parsePrefix(s).network;
  assertEquals(t.lookup(v6("fd00:9::2")), 2);
  assertEquals(t.lookup(v6("fd00:9::3")), 1);
  assertEquals(t.lookup(v6("fd00:ffff::1")), 3);
  assertEquals(t.lookup(v6("fd00:7fff::1")), undefined);
  assertEquals(t.lookup(a4("0.0.0.0")), undefined);
  assertEquals(t.entries().map(([p, v]) => `${formatPrefix(p)}=${v}`), ["fd00:8000::/17=3", "fd00:9::/64=1", "fd00:9::2/128=2"]);
});

Deno.test("router: prefix parsing refuses host bits and bad lengths", () => {
  assertThrows(() => parsePrefix("10.1.2.3/16"), PrefixError, "did you mean 10.1.0.0/16");
  assertThrows(() => parsePrefix("10.1.2.3/33"), PrefixError, "prefix length");
  assertThrows(() => parsePrefix("10.1.2/8"), PrefixError, "not an IPv4 or IPv6");
  assertThrows(() => parsePrefix("fd00::1/129"), PrefixError);
  assertEquals(parsePrefix("10.1.2.3").bits, 32);
  assert(prefixContains(parsePrefix("10.0.0.0/9"), a4("10.127.0.1")));
  assert(!prefixContains(parsePrefix("10.0.0.0/9"), a4("10.128.0.1")));
  assert(prefixesOverlap(parsePrefix("10.0.0.0/8"), parsePrefix("10.3.0.0/16")));
  assert(!prefixesOverlap(parsePrefix("10.0.0.0/16"), parsePrefix("10.1.0.0/16")));
});

Deno.test("router: lookup agrees with a linear scan on random tables", () => {
  let x = 12345;
  const r = () => ((x = (x * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const t = new PrefixTable<number>();
  const list: { p: ReturnType<typeof parsePrefix>; v: number }[] = [];
  for (let i = 0; i < 200; i++) {
    const bits = Math.floor(r() * 33);
    const addr = new Uint8Array(4).map(() => Math.floor(r() * 4));
    const s = `${[...addr].join(".")}/${bits}`;
    const p = parsePrefix(s.replace(/^.*$/, () => {
      const m = new Uint8Array(addr);
      for (let b = bits; b < 32; b++) m[b >> 3]! &= ~(0x80 >> (b & 7));
      return `${[...m].join(".")}/${bits}`;
    }));
    t.insert(p, i);
    const old = list.findIndex((e) => e.p.bits === p.bits && prefixContains(e.p, p.network));
    if (old >= 0) list.splice(old, 1);
    list.push({ p, v: i });
  }
  for (let i = 0; i < 2000; i++) {
    const a = new Uint8Array(4).map(() => Math.floor(r() * 4));
    let best: { p: ReturnType<typeof parsePrefix>; v: number } | undefined;
    for (const e of list) if (prefixContains(e.p, a) && (!best || e.p.bits > best.p.bits)) best = e;
    assertEquals(t.lookup(a), best?.v);
  }
});
