import { assertEquals, assertThrows } from "../../tests/util/assert.ts";
import { locateLines } from "./config_lines.ts";
import { parseTunnelConfig, TunnelConfigError } from "./config.ts";
import { formatPrefix } from "./router.ts";

const GOOD = `# a tunnel
[interface]
name = "ouro0"
address = ["10.9.0.1/24", "fd00:9::1/64"]
mtu = 1400
listen = "tunnel.a"
layer = "L"

[[peer]]
name = "tunnel.b"
allowed-ips = [
  "10.9.0.2/32",   # b itself
  "10.20.0.0/16",
]
qos = "best"

[[peer.class]]
name = "voice"
qos = "voice"
dscp = [46]
protocol = ["udp"]

[[peer]]
name = "tunnel.c"
allowed-ips = ["10.20.3.0/24", "fd00:9::3/128"]
connect = "always"
`;

function err(text: string): TunnelConfigError {
  return assertThrows(() => parseTunnelConfig(text, "t.toml"), TunnelConfigError) as TunnelConfigError;
}

Deno.test("tunnel config: a full config parses with defaults and classes", () => {
  const c = parseTunnelConfig(GOOD, "t.toml");
  assertEquals(c.name, "ouro0");
  assertEquals(c.mode, "tun");
  assertEquals(c.keepaliveS, 10);
  assertEquals(c.routes, true);
  assertEquals(c.addresses.map((a) => a.bits), [24, 64]);
  assertEquals(c.peers.length, 2);
  const b = c.peers[0]!;
  assertEquals(b.allowedIps.map(formatPrefix), ["10.9.0.2/32", "10.20.0.0/16"]);
  assertEquals(b.classes.map((k) => `${k.name}:${k.qos}`), ["voice:voice", "default:best"]);
  assertEquals(b.classes[0]!.protocol, [17]);
  assertEquals(b.connect, "on-demand");
  assertEquals(b.mtu, 1400);
  assertEquals(b.line, 9);
  assertEquals(c.peers[1]!.connect, "always");
  assertEquals(c.peers[1]!.line, 23);
});

Deno.test("tunnel config: the ovpn-style point-to-point config is enough", () => {
  const c = parseTunnelConfig(`[interface]\nname = "t0"\naddress = "10.0.0.1/24"\nlisten = "a"\n[[peer]]\nname = "b"\n`);
  assertEquals(c.peers[0]!.allowedIps.length, 0);
  assertEquals(c.mtu, 1400);
});

Deno.test("tunnel config: every error names its line", () => {
  const cases: [string, number, string][] = [
    [GOOD.replace('mtu = 1400', 'mtu = 1400\ncolour = "red"'), 6, 'unknown key "colour"'],
    [GOOD.replace('qos = "best"', 'qos = "fast"'), 15, 'unknown QoS "fast"'],
    [GOOD.replace('"10.20.0.0/16"', '"10.20.0.1/16"'), 11, "did you mean 10.20.0.0/16"],
    [GOOD.replace('"10.20.3.0/24"', '"10.9.0.2/32"'), 25, 'also given to peer "tunnel.b" (line 9)'],
    [GOOD.replace('"10.9.0.1/24"', '"10.9.0.300/24"'), 4, "bad address"],
    [GOOD.replace('dscp = [46]', 'dscp = [64]'), 20, "dscp values"],
    [GOOD.replace('protocol = ["udp"]', 'protocol = ["quic"]'), 21, "protocol values"],
    [GOOD.replace('connect = "always"', 'connect = "sometimes"'), 26, "connect must be"],
    [GOOD.replace('name = "ouro0"', 'name = "a-very-long-interface"'), 3, "interface name"],
    [GOOD.replace('listen = "tunnel.a"\n', ''), 2, 'missing "listen"'],
    [GOOD.replace('name = "tunnel.c"', 'name = "tunnel.b"'), 24, "already defined at line 9"],
    [GOOD.replace("mtu = 1400", "mtu = 1000"), 5, "below 1280"],
    [GOOD.replace('[[peer.class]]\nname = "voice"', '[[peer.class]]\nname = "default"'), 18, "reserved"],
    [GOOD + "[extra]\n", 27, 'unknown table or key "extra"'],
    [GOOD.replace('mtu = 1400', 'mtu = 1400 1400'), 5, "TOML syntax error"],
  ];
  for (const [text, line, part] of cases) {
    const e = err(text);
    assertEquals(e.line, line, `${part}: ${e.message}`);
    if (!e.message.includes(part) || !e.message.startsWith(`t.toml:${line}: `)) {
      throw new Error(`message "${e.message}" lacks "${part}"`);
    }
  }
});

Deno.test("tunnel config: several peers need allowed-ips", () => {
  const e = err(`[interface]\nname = "t0"\nlisten = "a"\n[[peer]]\nname = "b"\n[[peer]]\nname = "c"\nallowed-ips = ["10.0.0.0/8"]\n`);
  assertEquals(e.line, 4);
});

Deno.test("tunnel config: line locator follows arrays of tables and skips strings", () => {
  const l = locateLines(`a = "x = [" # [not]\n[[p]]\nk = [\n 1,\n]\n[[p.c]]\nq = 1\n[[p]]\n"k" = 2\n[[p.c]]\n[[p.c]]\nq = '''\n[x]\n'''\nz = 1\n`);
  assertEquals(l.get("a"), 1);
  assertEquals(l.get("p#0"), 2);
  assertEquals(l.get("p#0.k"), 3);
  assertEquals(l.get("p#0.c#0.q"), 7);
  assertEquals(l.get("p#1.k"), 9);
  assertEquals(l.get("p#1.c#1"), 11);
  assertEquals(l.get("p#1.c#1.q"), 12);
  assertEquals(l.get("x"), undefined);
  assertEquals(l.get("p#1.c#1.z"), 15);
});
