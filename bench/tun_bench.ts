/**
 * TUN packet rates, measured in a throw-away network namespace (root only):
 *
 * - `rx`: a UDP socket floods datagrams to a peer routed into the TUN; the
 *   device's reader counts them (kernel → Worker → main thread).
 * - `tx`: UDP packets built here are written to the TUN (`writeBatch`) and
 *   addressed to a local socket that counts what arrives.
 * - `fwd`: packets written to the TUN are forwarded by the kernel back out
 *   of it (ip_forward on) and read again: write + kernel + read per packet.
 * - baseline: the same write/read loop through the in-memory fake pair.
 *
 * Each phase is bounded by a packet count and a time limit.
 * Run: `deno run -A --unstable-net bench/tun_bench.ts [seconds-per-phase]`
 * @module
 */

import { createFakePair } from "../bridges/fake.ts";
import type { TunDevice } from "../bridges/device.ts";
import { Netlink } from "../bridges/linux/netlink.ts";
import { openTun } from "../bridges/linux/tun.ts";
import { netnsUnavailable, runDenoInNetns, withNetns } from "../bridges/linux/netns.ts";
import { encodeUdp4 } from "../bridges/packet.ts";

const CHILD = "--in-netns";
const phaseMs = 1000 * Number(Deno.args.find((a) => /^\d+(\.\d+)?$/.test(a)) ?? 1.5);
const maxPackets = 2_000_000;
const payloadBytes = 64;

const fmt = (pps: number) => `${(pps / 1000).toFixed(1)} kpps`;

/** Write packets from `make` in batches for phaseMs while `dev2` reads; packets/s read. */
async function loop(
  tx: TunDevice,
  rx: TunDevice,
  make: (i: number) => Uint8Array,
): Promise<[number, number]> {
  let got = 0;
  const ac = new AbortController();
  const reading = rx.pump((b) => void (got += b.length), { signal: ac.signal });
  const batch = Array.from({ length: 32 }, (_, i) => make(i));
  const t0 = performance.now();
  let sent = 0;
  while (performance.now() - t0 < phaseMs && sent < maxPackets) {
    const n = tx.writeBatch(batch);
    sent += n;
    if (n < batch.length) await tx.drain();
    if ((sent & 0x3ff) < 32) await new Promise((r) => setTimeout(r, 0)); // let the reader run
  }
  await new Promise((r) => setTimeout(r, 100));
  const s = (performance.now() - t0) / 1000;
  ac.abort();
  await reading;
  return [sent / s, got / s];
}

async function child(): Promise<void> {
  const sysctl = (k: string, v: string) =>
    Deno.writeTextFile(`/proc/sys/${k.replaceAll(".", "/")}`, v);
  await sysctl("net.ipv4.ip_forward", "1");
  await sysctl("net.ipv4.conf.all.send_redirects", "0");
  await sysctl("net.ipv4.conf.default.send_redirects", "0");
  await using dev = await openTun({ name: "ourobench0" });
  using nl = Netlink.open();
  nl.addAddress(dev.name, "10.77.0.1/24");
  nl.setUp(dev.name);
  const payload = new Uint8Array(payloadBytes);

  // rx: socket → TUN reader.
  {
    const sock = Deno.listenDatagram({ transport: "udp", hostname: "10.77.0.1", port: 0 });
    let got = 0;
    const ac = new AbortController();
    const reading = dev.pump((b) => void (got += b.length), { signal: ac.signal });
    const t0 = performance.now();
    let sent = 0;
    const to = { transport: "udp" as const, hostname: "10.77.0.2", port: 9 };
    while (performance.now() - t0 < phaseMs && sent < maxPackets) {
      await Promise.all(Array.from({ length: 32 }, () => sock.send(payload, to)));
      sent += 32;
    }
    await new Promise((r) => setTimeout(r, 100));
    const s = (performance.now() - t0) / 1000;
    ac.abort();
    await reading;
    sock.close();
    console.log(`rx  socket→tun→reader : sent ${fmt(sent / s)}, read ${fmt(got / s)}`);
  }

  // tx: writeBatch → local socket.
  {
    const sock = Deno.listenDatagram({ transport: "udp", hostname: "10.77.0.1", port: 0 });
    const port = (sock.addr as Deno.NetAddr).port;
    let got = 0;
    let open = true;
    const receiving = (async () => {
      try {
        while (open) {
          await sock.receive();
          got++;
        }
      } catch { /* closed */ }
    })();
    const pkt = encodeUdp4({
      src: [10, 77, 0, 2],
      dst: [10, 77, 0, 1],
      srcPort: 9,
      dstPort: port,
      payload,
    });
    const before = dev.counters();
    const batch = Array.from({ length: 32 }, () => pkt);
    const t0 = performance.now();
    let queued = 0;
    while (performance.now() - t0 < phaseMs && queued < maxPackets) {
      const n = dev.writeBatch(batch);
      queued += n;
      if (n < batch.length) await dev.drain();
      if ((queued & 0x3ff) < 32) await new Promise((r) => setTimeout(r, 0));
    }
    await new Promise((r) => setTimeout(r, 100));
    const s = (performance.now() - t0) / 1000;
    open = false;
    sock.close();
    await receiving;
    const written = dev.counters().txPackets - before.txPackets;
    console.log(`tx  writer→tun→socket : written ${fmt(written / s)}, socket got ${fmt(got / s)}`);
  }

  // fwd: write → kernel forwards back out of the TUN → read.
  const mk = () =>
    encodeUdp4({ src: [10, 77, 0, 3], dst: [10, 77, 0, 2], srcPort: 9, dstPort: 9, payload });
  const [wTun, rTun] = await loop(dev, dev, mk);
  console.log(`fwd writer→tun→kernel→tun→reader : written ${fmt(wTun)}, read ${fmt(rTun)}`);

  const [fa, fb] = createFakePair({ queuePackets: 4096 });
  const [wFake, rFake] = await loop(fa, fb, mk);
  await fa.close();
  await fb.close();
  console.log(`baseline fake pair write→read : written ${fmt(wFake)}, read ${fmt(rFake)}`);
  console.log(`ratio fwd/fake (read) : ${(rTun / rFake).toFixed(3)}`);
  const c = dev.counters();
  console.log(`counters: ${JSON.stringify(c)}`);
}

if (Deno.args.includes(CHILD)) {
  await child();
} else {
  const why = await netnsUnavailable();
  if (why) {
    console.log(`tun_bench: skipped (${why})`);
  } else {
    const args = [CHILD, ...Deno.args];
    const r = await withNetns((ns) => runDenoInNetns(ns, new URL(import.meta.url), args, 120_000));
    console.log(r.stdout.trimEnd());
    if (r.code !== 0) {
      console.error(r.stderr);
      Deno.exit(1);
    }
  }
}
