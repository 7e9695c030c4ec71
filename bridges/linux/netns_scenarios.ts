/**
 * Real-kernel scenarios for the Linux TUN/TAP bridge. Each runs inside a
 * network namespace made by `tun_test.ts` (see `netns.ts`), as
 * `deno run -A netns_scenarios.ts <scenario>`; it throws (exit code 1,
 * stack on stderr) on any failed check and prints `ok <scenario>` last.
 * Never run it in the root namespace: it adds addresses and routes.
 * @module
 */

import { assert, assertEquals, assertRejects, assertThrows } from "../../tests/util/assert.ts";
import type { TunCounters, TunDevice } from "../device.ts";
import { TunError } from "../errors.ts";
import {
  decodeArp,
  decodeEthernet,
  decodeIcmpEcho,
  decodeIpv4,
  decodeUdp4,
  echoReplyFor,
  encodeArp,
  encodeEthernet,
  encodeUdp4,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ICMP_ECHO_REQUEST,
  IPPROTO_ICMP,
} from "../packet.ts";
import { Netlink } from "./netlink.ts";
import { openTun } from "./tun.ts";

const dec = new TextDecoder();

async function ipJson(args: string[]): Promise<any[]> {
  const r = await new Deno.Command("ip", {
    args: ["-j", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!r.success) throw new Error(`ip ${args.join(" ")}: ${dec.decode(r.stderr)}`);
  const text = dec.decode(r.stdout).trim();
  return text ? JSON.parse(text) : [];
}

function pingStart(addr: string): Promise<Deno.CommandOutput> {
  return new Deno.Command("ping", {
    args: ["-c1", "-W2", "-n", addr],
    stdout: "piped",
    stderr: "piped",
  }).output();
}

const sameIp = (a: Uint8Array, s: string) => a.join(".") === s;

/** Read batches until `match` returns a value (or the deadline passes). */
async function readUntil<T>(
  dev: TunDevice,
  match: (p: Uint8Array) => T | undefined,
  timeoutMs = 3000,
): Promise<T> {
  const signal = AbortSignal.timeout(timeoutMs);
  for await (const batch of dev.batches({ signal })) {
    for (const p of batch) {
      const m = match(p);
      if (m !== undefined) return m;
    }
  }
  throw new Error(`no matching packet on ${dev.name} within ${timeoutMs} ms`);
}

const icmpRequestTo = (dst: string) => (p: Uint8Array): Uint8Array | undefined => {
  try {
    const ip = decodeIpv4(p);
    if (ip.protocol !== IPPROTO_ICMP || !sameIp(ip.dst, dst)) return undefined;
    return decodeIcmpEcho(ip.payload).type === ICMP_ECHO_REQUEST ? p : undefined;
  } catch {
    return undefined;
  }
};

/** Addresses, routes, MTU, up/down through netlink, checked with `ip -j`; typed errors. */
async function config(): Promise<void> {
  await using dev = await openTun({ kind: "tun", name: "ourotun0" });
  assertEquals(dev.name, "ourotun0");
  using nl = Netlink.open();
  const link = nl.getLink("ourotun0");
  assert(link.index > 0 && !link.up, "new tun is down");
  assertEquals(nl.ifindex("ourotun0"), link.index);
  nl.setMtu("ourotun0", 1400);
  assertEquals(dev.mtu, 1400);
  nl.addAddress("ourotun0", "10.77.0.1/24");
  nl.addAddress(link.index, "fd00:77::1/64");
  nl.setUp("ourotun0");
  nl.addRoute("10.78.0.0/16", "ourotun0");
  nl.addRoute("fd00:78::/48", "ourotun0", { metric: 50 });

  const [l] = await ipJson(["link", "show", "dev", "ourotun0"]);
  assertEquals(l.mtu, 1400);
  assert(l.flags.includes("UP"), `flags ${l.flags}`);
  const addrs = (await ipJson(["addr", "show", "dev", "ourotun0"]))[0].addr_info
    .map((a: any) => `${a.local}/${a.prefixlen}`);
  assert(addrs.includes("10.77.0.1/24"), `addresses ${addrs}`);
  assert(addrs.includes("fd00:77::1/64"), `addresses ${addrs}`);
  const r4 = (await ipJson(["route", "show", "dev", "ourotun0"])).map((r: any) => r.dst);
  assert(r4.includes("10.78.0.0/16") && r4.includes("10.77.0.0/24"), `routes ${r4}`);
  const r6 = await ipJson(["-6", "route", "show", "dev", "ourotun0"]);
  const r6dst = r6.find((r: any) => r.dst === "fd00:78::/48");
  assert(r6dst && r6dst.metric === 50, `v6 routes ${JSON.stringify(r6)}`);
  const got = await ipJson(["route", "get", "10.78.1.2"]);
  assertEquals(got[0].dev, "ourotun0");

  // Typed errors.
  const dup = assertThrows(() => nl.addAddress("ourotun0", "10.77.0.1/24"), TunError) as TunError;
  assertEquals(dup.reason, "exists");
  assertEquals(
    (assertThrows(() => nl.addAddress("ourotun0", "10.77.0.300/24"), TunError) as TunError).reason,
    "bad-address",
  );
  assertEquals(
    (assertThrows(() => nl.addAddress("ourotun0", "10.77.0.9/33"), TunError) as TunError).reason,
    "bad-address",
  );
  assertEquals(
    (assertThrows(() => nl.getLink("nosuch0"), TunError) as TunError).reason,
    "no-device",
  );
  assertEquals(
    (assertThrows(() => nl.setMtu("ourotun0", 20), TunError) as TunError).reason,
    "bad-address",
  );
  assertEquals(
    (assertThrows(
      () => nl.addRoute("10.90.0.0/16", "ourotun0", { gateway: "fd00::1" }),
      TunError,
    ) as TunError)
      .reason,
    "bad-address",
  );
  const busy = await assertRejects(() => openTun({ name: "ourotun0" }), TunError) as TunError;
  assertEquals(busy.reason, "busy");
  const lo = await assertRejects(() => openTun({ name: "lo" }), TunError) as TunError;
  assertEquals(lo.reason, "bad-address");
  assertEquals(
    (await assertRejects(() => openTun({ name: "x".repeat(16) }), TunError) as TunError).reason,
    "bad-address",
  );

  // Undo: delete route and addresses, bring down.
  nl.deleteRoute("10.78.0.0/16", "ourotun0");
  nl.deleteAddress("ourotun0", "fd00:77::1/64");
  assertEquals(
    (assertThrows(() => nl.deleteRoute("10.78.0.0/16", "ourotun0"), TunError) as TunError).reason,
    "no-device",
  );
  nl.setUp("ourotun0", false);
  const after = (await ipJson(["route", "show", "dev", "ourotun0"])).map((r: any) => r.dst);
  assert(!after.includes("10.78.0.0/16"), `route left: ${after}`);
  const addrs2 = (await ipJson(["addr", "show", "dev", "ourotun0"]))[0].addr_info.map((a: any) =>
    a.local
  );
  assert(!addrs2.includes("fd00:77::1"), `address left: ${addrs2}`);
  assert(!nl.getLink("ourotun0").up, "down");

  // A kernel-numbered name, and the interface disappears on close.
  const auto = await openTun({ name: "ouro%d" });
  assert(/^ouro\d+$/.test(auto.name), auto.name);
  await auto.close();
  assertEquals(
    (assertThrows(() => nl.getLink(auto.name), TunError) as TunError).reason,
    "no-device",
  );
}

async function upTun(name: string, cidr: string, routes: string[] = []): Promise<TunDevice> {
  const dev = await openTun({ name });
  using nl = Netlink.open();
  nl.addAddress(name, cidr);
  nl.setUp(name);
  for (const r of routes) nl.addRoute(r, name);
  return dev;
}

/**
 * The device's counters once `ok` holds (or after 0.5 s): the Worker counts
 * a write after the syscall, which may already have delivered the packet.
 */
async function countersWhen(dev: TunDevice, ok: (c: TunCounters) => boolean): Promise<TunCounters> {
  let c = dev.counters();
  for (let i = 0; i < 100 && !ok(c); i++) {
    await new Promise((r) => setTimeout(r, 5));
    c = dev.counters();
  }
  return c;
}

/** ping into the TUN: the reader sees the echo request, our reply makes ping succeed. */
async function ping(): Promise<void> {
  await using dev = await upTun("ouroping0", "10.77.0.1/24", ["10.78.0.0/16"]);
  for (const peer of ["10.77.0.2", "10.78.3.4"]) {
    const pinging = pingStart(peer);
    const req = await readUntil(dev, icmpRequestTo(peer));
    const ip = decodeIpv4(req);
    assert(sameIp(ip.src, "10.77.0.1"), `src ${ip.src}`);
    assert(dev.write(echoReplyFor(req)), "reply queued");
    const out = await pinging;
    assert(out.success, `ping ${peer} failed: ${dec.decode(out.stdout)}${dec.decode(out.stderr)}`);
    assert(dec.decode(out.stdout).includes("1 received"), dec.decode(out.stdout));
  }
  const c = await countersWhen(dev, (c) => c.txPackets >= 2);
  assert(c.txPackets >= 2 && c.rxPackets >= 2 && c.txErrors === 0, JSON.stringify(c));
}

/** UDP both ways through the TUN (needs no ping): socket → reader, writeBatch → socket. */
async function udp(): Promise<void> {
  const fdsBefore = await openFds();
  await using dev = await upTun("ouroudp0", "10.77.0.1/24");
  const sock = Deno.listenDatagram({ transport: "udp", hostname: "10.77.0.1", port: 0 });
  try {
    const port = (sock.addr as Deno.NetAddr).port;
    const msg = new TextEncoder().encode("hello tun");
    await sock.send(msg, { transport: "udp", hostname: "10.77.0.2", port: 7777 });
    const seen = await readUntil(dev, (p) => {
      try {
        const u = decodeUdp4(p);
        return u.dstPort === 7777 ? u : undefined;
      } catch {
        return undefined;
      }
    });
    assert(sameIp(seen.src, "10.77.0.1") && sameIp(seen.dst, "10.77.0.2"), "udp addresses");
    assertEquals(seen.srcPort, port);
    assertEquals(dec.decode(seen.payload), "hello tun");
    const replies = [0, 1, 2].map((i) =>
      encodeUdp4({
        src: [10, 77, 0, 2],
        dst: [10, 77, 0, 1],
        srcPort: 7777,
        dstPort: port,
        payload: new TextEncoder().encode(`reply ${i}`),
      })
    );
    assertEquals(dev.writeBatch(replies), 3);
    for (let i = 0; i < 3; i++) {
      const [data, from] = await sock.receive();
      assertEquals(dec.decode(data), `reply ${i}`);
      assertEquals((from as Deno.NetAddr).hostname, "10.77.0.2");
    }
    const c = await countersWhen(dev, (c) => c.txPackets >= 3);
    assertEquals(c.txPackets, 3);
    assertEquals(c.txBytes, replies.reduce((s, r) => s + r.length, 0));
  } finally {
    sock.close();
  }
  // A read pending at close resolves null; writes after close are refused.
  const pending = dev.read();
  await dev.close();
  assertEquals(await pending, null);
  assertEquals(dev.write(new Uint8Array(20)), false);
  // No device fd is left; Deno may keep the last Worker's runtime (an epoll and an eventfd).
  const after = await openFds();
  assertEquals(after.filter((l) => l === "/dev/net/tun").length, 0, "TUN fd leaked");
  assert(after.length <= fdsBefore.length + 2, `fds leaked: ${after.length - fdsBefore.length}`);
}

async function openFds(): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir("/proc/self/fd")) {
    try {
      out.push(await Deno.readLink(`/proc/self/fd/${e.name}`));
    } catch { /* the readDir fd itself */ }
  }
  return out;
}

/** TAP: ARP request seen, ARP reply written, then ICMP frames both ways (ping if present). */
async function tap(): Promise<void> {
  await using dev = await openTun({ kind: "tap", name: "ourotap0" });
  using nl = Netlink.open();
  nl.addAddress("ourotap0", "10.79.0.1/24");
  nl.setUp("ourotap0");
  const myMac = nl.getLink("ourotap0").hwAddress;
  assertEquals(myMac.length, 6);
  const peerMac = [0x02, 0x00, 0x00, 0x00, 0x00, 0x02];
  const havePing = await new Deno.Command("ping", { args: ["-V"], stdout: "null" }).output().then(
    () => true,
    () => false,
  );
  const sock = Deno.listenDatagram({ transport: "udp", hostname: "10.79.0.1", port: 0 });
  try {
    const pinging = havePing ? pingStart("10.79.0.2") : undefined;
    if (!pinging) {
      await sock.send(new Uint8Array([1]), { transport: "udp", hostname: "10.79.0.2", port: 9 });
    }
    const arp = await readUntil(dev, (f) => {
      const e = decodeEthernet(f);
      if (e.etherType !== ETHERTYPE_ARP) return undefined;
      const a = decodeArp(e.payload);
      return a.op === 1 && sameIp(a.targetIp, "10.79.0.2") ? a : undefined;
    });
    assert(sameIp(arp.senderIp, "10.79.0.1"), "ARP sender");
    assertEquals(Array.from(arp.senderMac), Array.from(myMac));
    const reply = encodeArp({
      op: 2,
      senderMac: peerMac,
      senderIp: [10, 79, 0, 2],
      targetMac: myMac,
      targetIp: arp.senderIp,
    });
    assert(
      dev.write(
        encodeEthernet({ dst: myMac, src: peerMac, etherType: ETHERTYPE_ARP, payload: reply }),
      ),
    );
    if (!pinging) return;
    const frame = await readUntil(dev, (f) => {
      const e = decodeEthernet(f);
      return e.etherType === ETHERTYPE_IPV4 && icmpRequestTo("10.79.0.2")(e.payload)
        ? e
        : undefined;
    });
    assertEquals(Array.from(frame.dst), peerMac);
    const echo = echoReplyFor(frame.payload.slice());
    assert(
      dev.write(
        encodeEthernet({ dst: myMac, src: peerMac, etherType: ETHERTYPE_IPV4, payload: echo }),
      ),
    );
    const out = await pinging;
    assert(out.success, `ping over tap failed: ${dec.decode(out.stdout)}`);
  } finally {
    sock.close();
  }
}

/** Small rings: a reader that lags loses nothing it was given and resumes; drain waits for room. */
async function queues(): Promise<void> {
  const dev = await openTun({ name: "ouroq0", queuePackets: 4, batchPackets: 2 });
  using nl = Netlink.open();
  nl.addAddress(dev.name, "10.77.0.1/24");
  nl.setUp(dev.name);
  const sock = Deno.listenDatagram({ transport: "udp", hostname: "10.77.0.1", port: 0 });
  try {
    const to = { transport: "udp" as const, hostname: "10.77.0.2", port: 9 };
    for (let i = 0; i < 50; i++) await sock.send(new Uint8Array([i]), to);
    await new Promise((r) => setTimeout(r, 50)); // the rx ring (4) is full, the kernel queues the rest
    const seen: number[] = [];
    const signal = AbortSignal.timeout(2000);
    while (seen.length < 50) {
      const b = await dev.read({ signal });
      if (b === null) break;
      assert(b.length <= 2, `batch of ${b.length} > 2`);
      for (const p of b) {
        try {
          seen.push(decodeUdp4(p).payload[0]!);
        } catch { /* not ours */ }
      }
    }
    assertEquals(seen, Array.from({ length: 50 }, (_, i) => i), "every datagram, in order");
    // tx: a 4-slot ring refuses the excess; drain resolves once the Worker has written.
    const pkt = encodeUdp4({
      src: [10, 77, 0, 2],
      dst: [10, 77, 0, 1],
      srcPort: 9,
      dstPort: 9,
      payload: new Uint8Array(1),
    });
    const n = dev.writeBatch(Array.from({ length: 100 }, () => pkt));
    assert(n >= 1 && n <= 4, `queued ${n}`);
    assert(await dev.drain(), "drained");
    assert(dev.write(pkt));
    assertEquals(dev.counters().txDropped, 100 - n);
  } finally {
    sock.close();
    await dev.close();
  }
  assertEquals(await dev.drain(), false);
}

/** Without CAP_NET_ADMIN (run under setpriv): typed `permission` errors. */
async function noperm(): Promise<void> {
  const e = await assertRejects(() => openTun({ name: "ouroperm0" }), TunError) as TunError;
  assertEquals([e.reason, e.errno], ["permission", 1]);
  assert(e.message.includes("CAP_NET_ADMIN"), e.message);
  using nl = Netlink.open();
  const e2 = assertThrows(() => nl.setUp("lo", false), TunError) as TunError;
  assertEquals(e2.reason, "permission");
}

const SCENARIOS: Record<string, () => Promise<void>> = { config, ping, udp, tap, queues, noperm };

if (import.meta.main) {
  const name = Deno.args[0] ?? "";
  const fn = SCENARIOS[name];
  if (!fn) {
    console.error(`unknown scenario "${name}"; one of ${Object.keys(SCENARIOS).join(", ")}`);
    Deno.exit(2);
  }
  await fn();
  console.log(`ok ${name}`);
}
