import { assertEquals, assertThrows } from "../../tests/util/assert.ts";
import { ConfigError, parseConfig } from "./config.ts";

Deno.test("config: names and IPCPs become steps in file order", () => {
  const steps = parseConfig(`
[name.oping]
lb = "round-robin"
prog = ["/usr/bin/oping"]
args = ["-l"]

[local.loc]
bootstrap = "local"
reg = ["oping"]

[udp4.udp]
bootstrap = "low"
ip = "127.0.0.1"
port = 4000
`);
  assertEquals(steps.map((s) => s.op), [
    "name.create", "bind.program", "ipcp.create", "ipcp.bootstrap", "name.reg", "ipcp.create", "ipcp.bootstrap",
  ]);
  assertEquals(steps[1], { op: "bind.program", name: "oping", path: "/usr/bin/oping", auto: ["/usr/bin/oping", "-l"] });
  assertEquals(steps[6], {
    op: "ipcp.bootstrap", name: "udp", conf: { layer: "low", hashAlgo: undefined, options: { ip: "127.0.0.1", port: 4000 } },
  });
});

Deno.test("config: bad input names the problem", () => {
  assertThrows(() => parseConfig("[bogus.x]\n"), ConfigError, "Unknown top-level key [bogus]");
  assertThrows(() => parseConfig("[local.x]\nfoo = 1\n"), ConfigError, "[local.x]: unknown key foo");
  assertThrows(() => parseConfig("[name.x]\nlb = \"fast\"\n"), ConfigError, "lb must be");
  assertThrows(() => parseConfig("[local.x\n"), ConfigError, "line 1");
});
