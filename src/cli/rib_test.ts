/**
 * `irm rib`: argument parsing and table rendering from a made-up detail,
 * then the real command against a daemon with a bootstrapped unicast IPCP.
 */
import { assert, assertEquals, assertMatch, assertThrows } from "../../tests/util/assert.ts";
import { TestDaemon } from "../../tests/util/daemon.ts";
import { UsageError } from "./args.ts";
import { parseRibArgs, renderRib, ribJson } from "./rib.ts";

const DETAIL = {
  address: 100,
  routing: "link_state",
  congestion: "mb-ecn",
  neighbours: [
    { addr: 200, fd: 7, type: "dt" },
    { addr: 200, fd: 8, type: "mgmt" },
    { addr: 300, fd: 9, type: "dt" },
  ],
  conns: [{ comp: "dt", dst: "uni.b", fd: 7, addr: 200 }],
  adjacencies: [{ src: 100, dst: 200, seqno: "5" }, { src: 200, dst: 100, seqno: "4" }],
  routes: [{ dst: 400, nhops: [200, 300] }, { dst: 200, nhops: [200] }],
  dht: {
    id: "00112233445566778899aabbccddeeff",
    contacts: [{ id: "ffeeddccbbaa99887766554433221100", addr: 200 }],
    keys: [{
      key: "abcdef0123456789abcdef0123456789",
      stored: 1,
      own: 1,
      values: [
        { val: "0000000000000064", expS: 1_000_086_400, own: true },
        { val: "00000000000000c8", expS: 1_000_000_060, own: false },
      ],
    }],
  },
  flows: [{ flowId: 65, rAddr: 200, qc: 2, pending: false, rxPkts: 3, txPkts: 4 }],
};
const IPCP = { name: "uni.a", type: "unicast", state: "OPERATIONAL", layer: "net", detail: DETAIL };

Deno.test("rib: parses name and parts, prefixes allowed, all parts by default", () => {
  assertEquals(parseRibArgs([]), {
    name: undefined,
    sections: ["neighbours", "routes", "directory", "flows"],
  });
  assertEquals(parseRibArgs(["name", "uni.a", "ro", "n"]), {
    name: "uni.a",
    sections: ["routes", "neighbours"],
  });
  assertEquals(parseRibArgs(["na", "x", "dir"]).name, "x");
  assertThrows(() => parseRibArgs(["bogus"]), UsageError);
  assertThrows(() => parseRibArgs(["name"]), UsageError);
});

Deno.test("rib: renders neighbours with names, routes with next hops, DHT values with expiry, flows", () => {
  const out = renderRib([IPCP], ["neighbours", "routes", "directory", "flows"], 1_000_000_000);
  assertMatch(
    out,
    /uni\.a: unicast, layer net, address 100, routing link_state, congestion mb-ecn/,
  );
  assertMatch(out, /\|\s+200 \| uni\.b \| 7\s+\| 8\s+\| 5\s+\|/);
  assertMatch(out, /\|\s+300 \| -\s+\| 9\s+\| -\s+\| -\s+\|/);
  assertMatch(out, /\|\s+400 \| 200 \(uni\.b\), 300 \|/);
  assert(
    out.indexOf("|         200 |") < out.indexOf("|         400 |"),
    "routes sorted by destination",
  );
  assertMatch(out, /DHT id 0011223344556677…, 1 contacts/);
  assertMatch(out, /abcdef0123456789… \| 100\s+\| own\s+\| 86400 s/);
  assertMatch(out, /abcdef0123456789… \| 200\s+\| stored \| 60 s/);
  assertMatch(out, /\|\s+65 \|\s+200 \| voice\s+\| allocated \|\s+3 \|\s+4 \|/);
});

Deno.test("rib: empty parts say so; JSON keeps only the asked parts", () => {
  const bare = { ...IPCP, detail: { address: 1 } };
  const out = renderRib([bare], ["neighbours", "routes", "directory", "flows"], 0);
  for (const s of ["No neighbours.", "No routes.", "No keys stored.", "No flows."]) {
    assert(out.includes(s), s);
  }
  const j = ribJson([IPCP], ["routes"]) as Record<string, Record<string, unknown>>;
  assertEquals(Object.keys(j["uni.a"]!).sort(), ["address", "layer", "routes"]);
});

Deno.test("rib: ouro irm rib on a daemon with a bootstrapped unicast IPCP and a registered name", async () => {
  const d = await TestDaemon.start();
  try {
    const none = await d.irm("rib");
    assertEquals(none.code, 0, none.stderr);
    assertMatch(none.stdout, /No unicast IPCPs/);
    const boot = await d.irm(
      "ipcp",
      "bootstrap",
      "name",
      "uni.a",
      "type",
      "unicast",
      "layer",
      "net",
      "autobind",
    );
    assertEquals(boot.code, 0, boot.stderr);
    const reg = await d.irm("name", "register", "some.name", "layer", "net");
    assertEquals(reg.code, 0, reg.stderr);
    const r = await d.irm("rib", "name", "uni.a");
    assertEquals(r.code, 0, r.stderr);
    assertMatch(r.stdout, /uni\.a: unicast, layer net, address \d+/);
    assertMatch(r.stdout, /No neighbours\./);
    const addr = /address (\d+)/.exec(r.stdout)![1]!;
    // one own key, some.name, with our address (autobind binds names, does not register them)
    assertEquals(
      r.stdout.match(new RegExp(`\\| ${addr}\\s+\\| own\\s+\\|`, "g"))?.length,
      1,
      r.stdout,
    );
    const j = await d.irm("--json", "rib", "dir");
    const parsed = JSON.parse(j.stdout);
    assertEquals(parsed["uni.a"].dht.keys.length, 1);
    assertEquals(parsed["uni.a"].routes, undefined);
    const bad = await d.irm("rib", "name", "nope");
    assert(bad.code !== 0);
    assertMatch(bad.stderr, /no such IPCP/);
  } finally {
    await d.stop();
  }
});
