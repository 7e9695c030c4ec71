/**
 * The engine end to end without a kernel: fake TUN pairs (the test holds
 * the "kernel" end) and a fake Ouroboros layer.
 */
import { assert, assertEquals } from "../../tests/util/assert.ts";
import { createFakePair } from "../../bridges/fake.ts";
import type { TunDevice } from "../../bridges/device.ts";
import { decodeIpv4, encodeIpv4, encodeUdp4 } from "../../bridges/packet.ts";
import { setLogLevel } from "../lib/log.ts";
import { parseTunnelConfig } from "./config.ts";
import { FakeLayer, type FakeTransport } from "./fake_transport.ts";
import { parsePrefix } from "./router.ts";
import { Tunnel } from "./tunnel.ts";

setLogLevel("error");

interface Node {
  tunnel: Tunnel;
  kernel: TunDevice;
  device: TunDevice;
  transport: FakeTransport;
}

const fast = { backoffMinMs: 20, backoffMaxMs: 100, tickMs: 10, helloTimeoutMs: 500, firstPingMs: 0 };

async function node(layer: FakeLayer, text: string): Promise<Node> {
  const config = parseTunnelConfig(text);
  const [device, kernel] = createFakePair({ name: config.name, mtu: config.mtu });
  const transport = layer.transport();
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

const cfg = (name: string, listen: string, addr: string, peers: string, extra = "") =>
  `[interface]\nname = "${name}"\nlisten = "${listen}"\naddress = ["${addr}"]\nkeepalive = 0\n${extra}\n${peers}`;
const peer = (name: string, ips: string[], extra = "") =>
  `[[peer]]\nname = "${name}"\nallowed-ips = [${ips.map((i) => `"${i}"`).join(", ")}]\n${extra}\n`;

const ip = (s: string) => s.split(".").map(Number);
const pkt = (src: string, dst: string, n = 32) =>
  encodeIpv4({ src: ip(src), dst: ip(dst), protocol: 253, payload: new Uint8Array(n).fill(7) });

async function readOne(dev: TunDevice, ms = 1000): Promise<Uint8Array> {
  const ac = new AbortController();
  const t = setTimeout(() => ac.abort(), ms);
  const b = await dev.read({ signal: ac.signal });
  clearTimeout(t);
  if (!b?.length) throw new Error("nothing arrived");
  return b[0]!;
}

async function nothing(dev: TunDevice, ms = 100): Promise<void> {
  const ac = new AbortController();
  const t = setTimeout(() => ac.abort(), ms);
  const b = await dev.read({ signal: ac.signal });
  clearTimeout(t);
  if (b?.length) throw new Error(`unexpected packet of ${b[0]!.length} bytes`);
}

async function until(cond: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

Deno.test("tunnel: two peers exchange packets over an on-demand flow", async () => {
  const layer = new FakeLayer();
  const a = await node(layer, cfg("ta", "tun.a", "10.9.0.1/24", peer("tun.b", ["10.9.0.2/32"])));
  const b = await node(layer, cfg("tb", "tun.b", "10.9.0.2/24", peer("tun.a", ["10.9.0.1/32"])));
  a.kernel.write(pkt("10.9.0.1", "10.9.0.2"));
  const got = decodeIpv4(await readOne(b.kernel));
  assertEquals([...got.src], [10, 9, 0, 1]);
  b.kernel.write(pkt("10.9.0.2", "10.9.0.1"));
  assertEquals([...decodeIpv4(await readOne(a.kernel)).dst], [10, 9, 0, 1]);
  assertEquals(layer.allocs, 1, "b answers on the flow a allocated");
  const s = a.tunnel.status();
  assertEquals(s.peers[0]!.state, "up");
  assertEquals(s.peers[0]!.txPackets, 1);
  assertEquals(s.peers[0]!.rxPackets, 1);
  assertEquals(s.peers[0]!.flows[0]!.dir, "out");
  assert(s.peers[0]!.rttMs !== undefined);
  assertEquals(b.tunnel.status().peers[0]!.flows[0]!.dir, "in");
  await stop(a, b);
});

Deno.test("tunnel: three peers by longest prefix; unroutable and spoofed packets are counted", async () => {
  const layer = new FakeLayer();
  const peersA = peer("tun.b", ["10.2.0.0/16"]) + peer("tun.c", ["10.2.3.0/24"]) + peer("tun.d", ["10.0.0.0/8"]);
  const a = await node(layer, cfg("ta", "tun.a", "10.1.0.1/16", peersA));
  const back = peer("tun.a", ["10.1.0.0/16"]);
  const b = await node(layer, cfg("tb", "tun.b", "10.2.0.1/16", back));
  const c = await node(layer, cfg("tc", "tun.c", "10.2.3.1/24", back));
  const d = await node(layer, cfg("td", "tun.d", "10.7.0.1/16", back));
  a.kernel.write(pkt("10.1.0.1", "10.2.3.4"));
  await readOne(c.kernel);
  a.kernel.write(pkt("10.1.0.1", "10.2.9.9"));
  await readOne(b.kernel);
  a.kernel.write(pkt("10.1.0.1", "10.7.7.7"));
  await readOne(d.kernel);
  a.kernel.write(pkt("10.1.0.1", "192.168.1.1"));
  await until(() => a.tunnel.counters.dropUnroutable === 1);
  // b may send from 10.2.0.0/16 except c's 10.2.3.0/24: the source must route back to b.
  b.kernel.write(pkt("10.2.3.9", "10.1.0.1"));
  b.kernel.write(pkt("10.99.0.1", "10.1.0.1"));
  b.kernel.write(pkt("10.2.0.1", "10.1.0.1"));
  assertEquals([...decodeIpv4(await readOne(a.kernel)).src], [10, 2, 0, 1]);
  const pb = a.tunnel.status().peers[0]!;
  assertEquals(pb.dropSpoofed, 2);
  assertEquals(pb.rxPackets, 1);
  assertEquals(a.tunnel.route(parsePrefix("10.2.3.77").network)?.cfg.name, "tun.c");
  await nothing(c.kernel);
  await stop(a, b, c, d);
});

Deno.test("tunnel: traffic classes get their own flow with their own QoS", async () => {
  const layer = new FakeLayer();
  const voice = `[[peer.class]]\nname = "voice"\nqos = "voice"\nprotocol = ["udp"]\nport = [5004]\n[[peer.class]]\nname = "ef"\nqos = "video"\ndscp = [46]\n`;
  const a = await node(layer, cfg("ta", "tun.a", "10.9.0.1/24", peer("tun.b", ["10.9.0.2/32"], 'qos = "best"\n' + voice)));
  const b = await node(layer, cfg("tb", "tun.b", "10.9.0.2/24", peer("tun.a", ["10.9.0.1/32"])));
  a.kernel.write(encodeUdp4({ src: ip("10.9.0.1"), dst: ip("10.9.0.2"), srcPort: 40000, dstPort: 5004, payload: new Uint8Array(10) }));
  await readOne(b.kernel);
  a.kernel.write(pkt("10.9.0.1", "10.9.0.2"));
  await readOne(b.kernel);
  const ef = pkt("10.9.0.1", "10.9.0.2");
  ef[1] = 46 << 2;
  ef[10] = ef[11] = 0;
  a.kernel.write(ef);
  await readOne(b.kernel);
  const flows = a.tunnel.status().peers[0]!.flows.map((f) => `${f.class}/${f.qos}`).sort();
  assertEquals(flows, ["default/best", "ef/video", "voice/voice"]);
  assertEquals(layer.allocs, 3);
  // b's own config has no classes: it names what it accepted by the sender's class.
  assertEquals(b.tunnel.status().peers[0]!.flows.map((f) => f.class).sort(), ["default", "ef", "voice"]);
  await stop(a, b);
});

Deno.test("tunnel: a restarted peer is re-allocated by itself; other peers are unaffected", async () => {
  const layer = new FakeLayer();
  const a = await node(layer, cfg("ta", "tun.a", "10.9.0.1/24", peer("tun.b", ["10.9.0.2/32"]) + peer("tun.c", ["10.9.0.3/32"])));
  const bCfg = cfg("tb", "tun.b", "10.9.0.2/24", peer("tun.a", ["10.9.0.1/32"]));
  let b = await node(layer, bCfg);
  const c = await node(layer, cfg("tc", "tun.c", "10.9.0.3/24", peer("tun.a", ["10.9.0.1/32"])));
  a.kernel.write(pkt("10.9.0.1", "10.9.0.2"));
  await readOne(b.kernel);
  a.kernel.write(pkt("10.9.0.1", "10.9.0.3"));
  await readOne(c.kernel);
  await stop(b); // the process exits: its flows end
  await until(() => a.tunnel.status().peers[0]!.state !== "up");
  a.kernel.write(pkt("10.9.0.1", "10.9.0.2"));
  a.kernel.write(pkt("10.9.0.1", "10.9.0.3"));
  await readOne(c.kernel); // c still works
  await new Promise((r) => setTimeout(r, 150)); // a few failed attempts with back-off
  const down = a.tunnel.status().peers[0]!;
  assert(down.dropNoFlow >= 1, "packets to the dead peer are dropped and counted");
  assert(down.lastError !== undefined);
  b = await node(layer, bCfg);
  await until(() => a.tunnel.status().peers[0]!.state === "up", 3000);
  a.kernel.write(pkt("10.9.0.1", "10.9.0.2"));
  await readOne(b.kernel);
  await stop(a, b, c);
});

Deno.test("tunnel: too-big packets get ICMP back, IPv4 without DF is fragmented", async () => {
  const layer = new FakeLayer();
  const a = await node(layer, cfg("ta", "tun.a", "10.9.0.1/24", peer("tun.b", ["10.9.0.2/32", "fd00::2/128"], "mtu = 1000")));
  const b = await node(layer, cfg("tb", "tun.b", "10.9.0.2/24", peer("tun.a", ["10.9.0.1/32"])));
  a.kernel.write(pkt("10.9.0.1", "10.9.0.2", 1200)); // DF set by encodeIpv4
  const icmp = decodeIpv4(await readOne(a.kernel));
  assertEquals(icmp.protocol, 1);
  assertEquals([icmp.payload[0], icmp.payload[1]], [3, 4]);
  assertEquals((icmp.payload[6]! << 8) | icmp.payload[7]!, 1000);
  assertEquals([...icmp.src], [10, 9, 0, 1]);
  const noDf = pkt("10.9.0.1", "10.9.0.2", 1200);
  noDf[6] = 0;
  noDf[10] = noDf[11] = 0;
  a.kernel.write(noDf);
  const f1 = await readOne(b.kernel);
  const f2 = await readOne(b.kernel);
  assert(f1.length <= 1000 && f2.length <= 1000);
  assertEquals(f1.length + f2.length - 20, 1220);
  const v6 = new Uint8Array(1300);
  v6[0] = 0x60;
  v6[4] = (1260 >> 8);
  v6[5] = 1260 & 0xff;
  v6[6] = 17;
  v6[7] = 64;
  v6.set([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 8);
  v6.set([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2], 24);
  a.kernel.write(v6);
  const ptb = await readOne(a.kernel);
  assertEquals([ptb[0]! >> 4, ptb[6], ptb[40]], [6, 58, 2]);
  assertEquals((ptb[44]! << 24) | (ptb[45]! << 16) | (ptb[46]! << 8) | ptb[47]!, 1280);
  const s = a.tunnel.status().peers[0]!;
  assertEquals([s.dropTooBig, s.icmpTooBig, s.fragmented], [2, 2, 1]);
  await stop(a, b);
});

Deno.test("tunnel: a flow from an unknown name is refused; accept-only peers answer on any flow", async () => {
  const layer = new FakeLayer();
  const a = await node(layer, cfg("ta", "tun.a", "10.9.0.1/24", peer("tun.b", ["10.9.0.2/32"], 'connect = "never"')));
  const x = await node(layer, cfg("tx", "tun.x", "10.9.0.9/24", peer("tun.a", ["10.9.0.1/32"])));
  x.kernel.write(pkt("10.9.0.9", "10.9.0.1"));
  await until(() => a.tunnel.counters.flowsRefused === 1);
  await until(() => x.tunnel.status().peers[0]!.lastError?.includes("unknown peer") === true);
  // a never allocates to b: packets are dropped until b calls
  a.kernel.write(pkt("10.9.0.1", "10.9.0.2"));
  await until(() => a.tunnel.status().peers[0]!.dropNoFlow === 1);
  const b = await node(layer, cfg("tb", "tun.b", "10.9.0.2/24", peer("tun.a", ["10.9.0.1/32"])));
  b.kernel.write(pkt("10.9.0.2", "10.9.0.1"));
  await readOne(a.kernel);
  a.kernel.write(pkt("10.9.0.1", "10.9.0.2"));
  await readOne(b.kernel);
  await stop(a, x, b);
});

Deno.test("tunnel: TAP mode floods broadcasts and learns where MACs are", async () => {
  const layer = new FakeLayer();
  const tap = 'mode = "tap"';
  const a = await node(layer, cfg("ta", "tun.a", "10.9.0.1/24", peer("tun.b", []) + peer("tun.c", []), tap).replace(/allowed-ips = \[\]\n/g, ""));
  const b = await node(layer, cfg("tb", "tun.b", "10.9.0.2/24", peer("tun.a", []), tap));
  const c = await node(layer, cfg("tc", "tun.c", "10.9.0.3/24", peer("tun.a", []), tap));
  const mac = (n: number) => [2, 0, 0, 0, 0, n];
  const frame = (dst: number[], src: number[]) => new Uint8Array([...dst, ...src, 0x08, 0x06, ...new Array(28).fill(0)]);
  b.kernel.write(frame([255, 255, 255, 255, 255, 255], mac(2)));
  await readOne(a.kernel);
  a.kernel.write(frame([255, 255, 255, 255, 255, 255], mac(1)));
  await readOne(b.kernel);
  await readOne(c.kernel);
  a.kernel.write(frame(mac(2), mac(1))); // learnt: only b
  assertEquals([...(await readOne(b.kernel)).subarray(0, 6)], mac(2));
  await nothing(c.kernel);
  await stop(a, b, c);
});
