/**
 * The encryption policy and the OAP identity check, end to end over fake
 * TUN pairs and a fake layer whose flows carry a cipher when asked.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes, assertThrows } from "../../tests/util/assert.ts";
import { createFakePair } from "../../bridges/fake.ts";
import type { TunDevice } from "../../bridges/device.ts";
import { encodeIpv4 } from "../../bridges/packet.ts";
import { setLogLevel } from "../lib/log.ts";
import { parseTunnelConfig, TunnelConfigError } from "./config.ts";
import { FakeLayer, type FakeTransport } from "./fake_transport.ts";
import { formatStatus } from "./status.ts";
import { Tunnel } from "./tunnel.ts";

setLogLevel("error");

interface Node {
  tunnel: Tunnel;
  kernel: TunDevice;
  device: TunDevice;
  transport: FakeTransport;
}

const fast = { backoffMinMs: 20, backoffMaxMs: 100, tickMs: 10, helloTimeoutMs: 500, firstPingMs: 0 };

async function node(layer: FakeLayer, text: string, proven?: string): Promise<Node> {
  const config = parseTunnelConfig(text);
  const [device, kernel] = createFakePair({ name: config.name, mtu: config.mtu });
  const transport = layer.transport();
  transport.provenName = proven;
  const tunnel = new Tunnel({ config, device, transport, timing: fast });
  await tunnel.start();
  return { tunnel, kernel, device, transport };
}

async function stop(...nodes: Node[]): Promise<void> {
  for (const n of nodes) {
    await n.tunnel.stop();
    await n.transport.close();
    await n.device.close();
    await n.kernel.close();
  }
}

const cfg = (name: string, listen: string, addr: string, peerName: string, peerIp: string, enc?: string) =>
  `[interface]\nname = "${name}"\nlisten = "${listen}"\naddress = ["${addr}/24"]\nkeepalive = 0\n` +
  (enc ? `encryption = "${enc}"\n` : "") + `[[peer]]\nname = "${peerName}"\nallowed-ips = ["${peerIp}/32"]\n`;

const ip = (s: string) => s.split(".").map(Number);
const pkt = (src: string, dst: string) =>
  encodeIpv4({ src: ip(src), dst: ip(dst), protocol: 253, payload: new Uint8Array(32).fill(7) });

async function arrives(dev: TunDevice, ms = 1000): Promise<boolean> {
  const ac = new AbortController();
  const t = setTimeout(() => ac.abort(), ms);
  const b = await dev.read({ signal: ac.signal });
  clearTimeout(t);
  return (b?.length ?? 0) > 0;
}

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function pair(layer: FakeLayer, encA?: string, encB?: string, provenA?: string): Promise<[Node, Node]> {
  const a = await node(layer, cfg("ta", "tun.a", "10.9.0.1", "tun.b", "10.9.0.2", encA), provenA);
  const b = await node(layer, cfg("tb", "tun.b", "10.9.0.2", "tun.a", "10.9.0.1", encB));
  return [a, b];
}

Deno.test("tunnel security: encryption is required by default; flows carry a cipher and show says which", async () => {
  const [a, b] = await pair(new FakeLayer());
  a.kernel.write(pkt("10.9.0.1", "10.9.0.2"));
  assert(await arrives(b.kernel));
  const s = a.tunnel.status();
  assertEquals(s.peers[0]!.flows[0]!.cipher, "chacha20-poly1305");
  assertMatch(formatStatus(s, Date.now()), /flow \d+: out class default qos raw up, rtt [\d.]+ ms, chacha20-poly1305/);
  assertEquals(b.tunnel.status().peers[0]!.flows[0]!.cipher, "chacha20-poly1305");
  await stop(a, b);
});

Deno.test("tunnel security: required fails the allocation when no cipher can be agreed; nothing passes", async () => {
  const layer = new FakeLayer();
  layer.cipher = undefined;
  const [a, b] = await pair(layer);
  a.kernel.write(pkt("10.9.0.1", "10.9.0.2"));
  await until(() => a.tunnel.status().peers[0]!.lastError !== undefined);
  assertStringIncludes(a.tunnel.status().peers[0]!.lastError!, "no cipher");
  assertEquals(await arrives(b.kernel, 100), false);
  await stop(a, b);
});

Deno.test("tunnel security: preferred falls back to a clear flow, which show flags", async () => {
  const layer = new FakeLayer();
  layer.cipher = undefined;
  const [a, b] = await pair(layer, "preferred", "preferred");
  a.kernel.write(pkt("10.9.0.1", "10.9.0.2"));
  assert(await arrives(b.kernel));
  const s = a.tunnel.status();
  assertEquals(s.peers[0]!.flows[0]!.cipher, undefined);
  assertStringIncludes(formatStatus(s, Date.now()), "NOT encrypted");
  await stop(a, b);
});

Deno.test("tunnel security: a required side refuses a clear flow from an 'off' peer; a name's enc.conf still encrypts 'off'", async () => {
  const layer = new FakeLayer();
  const [a, b] = await pair(layer, "off", "required");
  a.kernel.write(pkt("10.9.0.1", "10.9.0.2"));
  await until(() => a.tunnel.status().peers[0]!.lastError?.includes("encryption required") === true);
  assertEquals(b.tunnel.counters.flowsRefused >= 1, true);
  assertEquals(await arrives(b.kernel, 100), false);
  // the server's enc.conf (here: every flow gets a cipher) makes "off" flows encrypted anyway
  layer.forcedCipher = "aes-256-gcm";
  let got = false;
  for (let i = 0; i < 20 && !got; i++) {
    a.kernel.write(pkt("10.9.0.1", "10.9.0.2"));
    got = await arrives(b.kernel, 100);
  }
  assert(got, "the 'off' side gets through once its flows are encrypted");
  assertEquals(b.tunnel.status().peers[0]!.flows[0]!.cipher, "aes-256-gcm");
  await stop(a, b);
});

Deno.test("tunnel security: a flow whose OAP-proven name differs from its HELLO claim is refused", async () => {
  const layer = new FakeLayer();
  const [a, b] = await pair(layer, undefined, undefined, "tun.mallory");
  a.kernel.write(pkt("10.9.0.1", "10.9.0.2"));
  await until(() => a.tunnel.status().peers[0]!.lastError?.includes("not who OAP authenticated") === true);
  assertEquals(await arrives(b.kernel, 100), false);
  await stop(a, b);
  // proven and claimed agree: fine
  const [c, d] = await pair(new FakeLayer(), undefined, undefined, "tun.a");
  c.kernel.write(pkt("10.9.0.1", "10.9.0.2"));
  assert(await arrives(d.kernel));
  await stop(c, d);
});

Deno.test("tunnel security: config takes an interface policy and per-peer overrides; bad values name the line", () => {
  const text = cfg("t0", "tun.a", "10.9.0.1", "tun.b", "10.9.0.2", "preferred") +
    `[[peer]]\nname = "tun.c"\nallowed-ips = ["10.9.0.3/32"]\nencryption = "off"\n`;
  const c = parseTunnelConfig(text);
  assertEquals([c.encryption, c.peers[0]!.encryption, c.peers[1]!.encryption], ["preferred", "preferred", "off"]);
  assertEquals(parseTunnelConfig(cfg("t0", "tun.a", "10.9.0.1", "tun.b", "10.9.0.2")).peers[0]!.encryption, "required");
  const e = assertThrows(() => parseTunnelConfig(text.replace('"off"', '"maybe"'), "t.toml"), TunnelConfigError);
  assertStringIncludes(e.message, 't.toml:13: encryption must be "required", "preferred", "off", not "maybe"');
});
