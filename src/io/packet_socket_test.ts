/**
 * Real-kernel tests: a veth pair inside a network namespace this test
 * creates and deletes (ouro-io-<pid>). Needs root.
 */
import { assert, assertEquals, assertRejects } from "../../tests/util/assert.ts";
import { IoError } from "./libc.ts";
import { PacketSocket } from "./packet_socket.ts";

const NS = `ouro-io-${Deno.pid}`;
/** Namespaces and raw sockets need root; elsewhere these tests are skipped. */
const ignore = Deno.uid() !== 0;
const ETHERTYPE = 0x88b5; // IEEE 802 local experimental

async function ip(...args: string[]): Promise<void> {
  const r = await new Deno.Command("ip", { args, stdout: "null", stderr: "piped" }).output();
  if (!r.success) throw new Error(`ip ${args.join(" ")}: ${new TextDecoder().decode(r.stderr)}`);
}

async function withVeth(fn: () => Promise<void>): Promise<void> {
  await ip("netns", "add", NS);
  try {
    await ip("-n", NS, "link", "add", "va", "type", "veth", "peer", "name", "vb");
    await ip("-n", NS, "link", "add", "vc", "type", "veth", "peer", "name", "vd");
    await ip("-n", NS, "link", "set", "va", "up");
    await ip("-n", NS, "link", "set", "vb", "up");
    await fn();
  } finally {
    await ip("netns", "del", NS);
  }
}

function frame(dst: Uint8Array, src: Uint8Array, i: number): Uint8Array {
  const f = new Uint8Array(60 + (i % 1000));
  f.set(dst, 0);
  f.set(src, 6);
  f[12] = ETHERTYPE >> 8;
  f[13] = ETHERTYPE & 0xff;
  new DataView(f.buffer).setUint32(14, i);
  for (let k = 18; k < f.length; k++) f[k] = (i + k) & 255;
  return f;
}

Deno.test(
  { name: "packet: exchanges frames both ways across a veth pair", ignore },
  () =>
    withVeth(async () => {
      await using a = await PacketSocket.open({ ifname: "va", ethertype: ETHERTYPE, netns: NS });
      await using b = await PacketSocket.open({ ifname: "vb", ethertype: ETHERTYPE, netns: NS });
      assertEquals(a.mac.length, 6);
      assertEquals(a.mtu, 1500);
      const count = 3000, window = 200;
      // b echoes every frame back with the addresses swapped.
      const server = b.onReceive((f) => {
        const r = f.slice();
        r.set(f.subarray(6, 12), 0);
        r.set(b.mac, 6);
        b.send(r);
      });
      let sent = 0, got = 0;
      while (got < count) {
        while (sent < count && sent - got < window) assert(a.send(frame(b.mac, a.mac, sent++)));
        for (const f of await a.receive()) {
          const want = frame(a.mac, b.mac, got);
          if (f.data.length !== want.length || f.data.some((x, k) => x !== want[k])) {
            throw new Error(`frame ${got} out of order or damaged`);
          }
          assertEquals(f.pkttype, 0); // addressed to us
          got++;
        }
      }
      assertEquals(a.stats().txPackets, count);
      assertEquals(b.stats().rxPackets, count);
      await b.close();
      await server;
    }),
);

Deno.test({
  name: "packet: names a missing device, a device that is down, a missing netns",
  ignore,
}, () =>
  withVeth(async () => {
    const missing = await assertRejects(
      () => PacketSocket.open({ ifname: "nope0", netns: NS }),
      IoError,
      "nope0",
    );
    assertEquals((missing as IoError).code, "ENODEV");
    const down = await assertRejects(
      () => PacketSocket.open({ ifname: "vc", netns: NS }),
      IoError,
      "ip link set vc up",
    );
    assertEquals((down as IoError).code, "ENETDOWN");
    const ns = await assertRejects(
      () => PacketSocket.open({ ifname: "va", netns: `${NS}-absent` }),
      IoError,
      "namespace",
    );
    assertEquals((ns as IoError).code, "ENOENT");
  }));

Deno.test({ name: "packet: refuses oversize and runt frames", ignore }, () =>
  withVeth(async () => {
    await using a = await PacketSocket.open({ ifname: "va", ethertype: ETHERTYPE, netns: NS });
    const big = (() => {
      try {
        a.send(new Uint8Array(a.maxFrameBytes + 1));
      } catch (e) {
        return e;
      }
    })();
    assertEquals((big as IoError).code, "EMSGSIZE");
    const runt = (() => {
      try {
        a.send(new Uint8Array(10));
      } catch (e) {
        return e;
      }
    })();
    assertEquals((runt as IoError).code, "EINVAL");
  }));

Deno.test({ name: "packet: reports missing privileges", ignore }, async () => {
  // Run a tiny probe as nobody: raw sockets must be refused with EPERM.
  const probe = `import { PacketSocket } from ${
    JSON.stringify(new URL("./packet_socket.ts", import.meta.url).href)
  };
    try { await PacketSocket.open({ ifname: "lo" }); console.log("opened"); } catch (e) { console.log(e.code, e.message); }`;
  const r = await new Deno.Command("setpriv", {
    args: [
      "--reuid=65534",
      "--regid=65534",
      "--clear-groups",
      "--inh-caps=-all",
      Deno.execPath(),
      "eval",
      "--no-check",
      probe,
    ],
    env: {
      DENO_DIR: Deno.env.get("DENO_DIR") ?? `${Deno.env.get("HOME")}/.cache/deno`,
      DENO_NO_UPDATE_CHECK: "1",
    },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(r.stdout);
  assert(
    out.startsWith("EPERM") && out.includes("CAP_NET_RAW"),
    `${out} ${new TextDecoder().decode(r.stderr)}`,
  );
});

Deno.test(
  { name: "packet: counts send errors once the device goes down", ignore },
  () =>
    withVeth(async () => {
      await using a = await PacketSocket.open({ ifname: "va", ethertype: ETHERTYPE, netns: NS });
      await ip("-n", NS, "link", "set", "va", "down");
      for (let i = 0; i < 10; i++) a.send(frame(new Uint8Array(6).fill(0xff), a.mac, i));
      for (let t = 0; t < 100 && a.stats().txErrors < 10; t++) {
        await new Promise((r) => setTimeout(r, 5));
      }
      assertEquals(a.stats().txErrors, 10);
      assertEquals(a.stats().txPackets, 0);
      assertEquals(a.stats().lastErrno, 100); // ENETDOWN
    }),
);
