/**
 * Real-kernel tests: `ouro irmd` daemons in network namespaces this file
 * creates and deletes (ouro-eth-*-<pid>), joined by veth pairs, or by a
 * Linux bridge in a third namespace. eth-dix and eth-llc carry ping and a
 * 50 MB `ouro cat`; frames of another Ethertype are ignored and counted.
 * Needs root.
 */
import { assert, assertEquals, assertMatch } from "../../../tests/util/assert.ts";
import { sha256, TestDaemon } from "../../../tests/util/daemon.ts";
import { PacketSocket } from "../../io/packet_socket.ts";

const ignore = Deno.uid() !== 0;
const ns = (tag: string) => `ouro-eth-${tag}-${Deno.pid}`;

async function ip(...args: string[]): Promise<void> {
  const r = await new Deno.Command("ip", { args, stdout: "null", stderr: "piped" }).output();
  if (!r.success) throw new Error(`ip ${args.join(" ")}: ${new TextDecoder().decode(r.stderr)}`);
}

/** Namespaces `tags`, deleted after `fn` whatever happens. */
async function withNamespaces(tags: string[], fn: () => Promise<void>): Promise<void> {
  const made: string[] = [];
  try {
    for (const t of tags) {
      await ip("netns", "add", ns(t));
      made.push(ns(t));
      await ip("-n", ns(t), "link", "set", "lo", "up");
    }
    await fn();
  } finally {
    for (const n of made.reverse()) await ip("netns", "del", n).catch(() => {});
  }
}

/** Interface `dev` in namespace `a` wired to `peer` in namespace `b`, both up. */
async function veth(a: string, dev: string, b: string, peer: string): Promise<void> {
  // created inside a, its peer moved straight into b: the root namespace never sees them
  await ip("-n", a, "link", "add", dev, "type", "veth", "peer", "name", peer, "netns", b);
  await ip("-n", a, "link", "set", dev, "up");
  await ip("-n", b, "link", "set", peer, "up");
}

async function ok(d: TestDaemon, ...args: string[]): Promise<void> {
  const r = await d.irm(...args);
  if (r.code !== 0) {
    throw new Error(`irm ${args.join(" ")} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
}

/** The `detail` of the first IPCP of a daemon. */
async function detail(d: TestDaemon): Promise<Record<string, unknown>> {
  const r = await d.irm("--json", "ipcp", "list");
  return (JSON.parse(r.stdout) as { detail: Record<string, unknown> }[])[0]!.detail;
}

async function pingOnce(
  from: TestDaemon,
  to: TestDaemon,
  name: string,
  count = 5,
): Promise<string> {
  const server = to.spawn(["ping", "-l", "--name", name, "--layer", "lan"]);
  try {
    await server.waitFor(/server started/, 15000);
    const r = await from.run(["ping", "-n", name, "-c", String(count), "-i", "100"]);
    if (r.code !== 0) throw new Error(`ping failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
    assertMatch(r.stdout, new RegExp(`${count} packets transmitted, ${count} received`));
    return r.stdout;
  } finally {
    server.kill();
    await server.done();
  }
}

/** Wait until a process is bound to `name` (cat prints nothing when it listens). */
async function bound(d: TestDaemon, name: string): Promise<void> {
  const end = Date.now() + 15000;
  for (;;) {
    const r = await d.irm("--json", "name", "list");
    const names = JSON.parse(r.stdout) as { name: string; pids: number[] }[];
    if (names.some((n) => n.name === name && n.pids.length > 0)) return;
    if (Date.now() > end) throw new Error(`nobody bound to ${name}:\n${r.stdout}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

async function catAcross(from: TestDaemon, to: TestDaemon, bytes: number): Promise<void> {
  // 64 KiB of random bytes repeated, each copy stamped with its index
  const data = crypto.getRandomValues(new Uint8Array(65536));
  const input = new Uint8Array(bytes);
  for (let o = 0, i = 0; o < bytes; o += data.length, i++) {
    input.set(data.subarray(0, Math.min(data.length, bytes - o)), o);
    new DataView(input.buffer).setUint32(o, i);
  }
  const sink = to.spawn(["cat", "-l", "--name", "sink", "--layer", "lan"]);
  try {
    await bound(to, "sink");
    const r = await from.run(["cat", "sink"], input);
    if (r.code !== 0) throw new Error(`cat failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
    const s = await sink.done();
    assertEquals(s.code, 0, sink.stderr);
    const got = sink.stdoutBytes();
    assertEquals(got.length, bytes);
    assertEquals(await sha256(got), await sha256(input));
  } finally {
    sink.kill();
    await sink.done();
  }
}

for (const type of ["eth-dix", "eth-llc"] as const) {
  Deno.test({
    name: `eth ipcp: ${type} ping and a 50 MB cat across two namespaces; other Ethertypes ignored`,
    ignore,
    fn: () =>
      withNamespaces(["a", "b"], async () => {
        await veth(ns("a"), "vA", ns("b"), "vB");
        const a = await TestDaemon.start({ netns: ns("a") });
        const b = await TestDaemon.start({ netns: ns("b") });
        try {
          await ok(a, "ipcp", "bootstrap", "name", "e", "type", type, "layer", "lan", "dev", "vA");
          await ok(b, "ipcp", "bootstrap", "name", "e", "type", type, "layer", "lan", "dev", "vB");
          await pingOnce(a, b, "pinger");
          await catAcross(a, b, 50 * 1024 * 1024);
          const moved = await detail(b);
          assert((moved.rxBytes as number) > 10 * 1024 * 1024, `B received ${moved.rxBytes} bytes`);

          // frames of another Ethertype, sent to B's MAC from A's side of the wire
          const db = await detail(b);
          const before = db.rxIgnored as number;
          const macB = String(db.mac).split(":").map((x) => parseInt(x, 16));
          {
            await using s = await PacketSocket.open({
              ifname: "vA",
              ethertype: 0x88b5,
              netns: ns("a"),
            });
            for (let i = 0; i < 100; i++) {
              const f = new Uint8Array(64);
              f.set(macB, 0);
              f.set(s.mac, 6);
              f[12] = 0x88, f[13] = 0xb5;
              assert(s.send(f));
            }
            const end = Date.now() + 5000;
            while (s.stats().txPackets < 100 && Date.now() < end) {
              await new Promise((r) => setTimeout(r, 10));
            }
          }
          await new Promise((r) => setTimeout(r, 200));
          const after = await detail(b);
          assert(
            (after.rxIgnored as number) - before >= 100,
            `rxIgnored ${before} -> ${after.rxIgnored}`,
          );
          assertEquals(after.rxMalformed, 0);
          await pingOnce(a, b, "pinger2", 2);
          const list = await a.irm("ipcp", "list");
          assertMatch(list.stdout, new RegExp(`${type} .*OPERATIONAL`));
        } finally {
          await Promise.all([a.stop(), b.stop()]);
        }
      }),
  });
}

Deno.test({
  name: "eth ipcp: eth-dix name queries on a bridge reach the host that has the name",
  ignore,
  fn: () =>
    withNamespaces(["br", "a", "b", "c"], async () => {
      await ip("-n", ns("br"), "link", "add", "br0", "type", "bridge");
      await ip("-n", ns("br"), "link", "set", "br0", "up");
      for (const t of ["a", "b", "c"]) {
        await veth(ns(t), `v${t}`, ns("br"), `p${t}`);
        await ip("-n", ns("br"), "link", "set", `p${t}`, "master", "br0");
      }
      const d = await Promise.all(["a", "b", "c"].map((t) => TestDaemon.start({ netns: ns(t) })));
      const [a, b, c] = d as [TestDaemon, TestDaemon, TestDaemon];
      try {
        for (const [t, x] of [["a", a], ["b", b], ["c", c]] as const) {
          await ok(
            x,
            "ipcp",
            "bootstrap",
            "name",
            "e",
            "type",
            "eth-dix",
            "layer",
            "lan",
            "dev",
            `v${t}`,
          );
        }
        await pingOnce(a, c, "far", 3);
        await pingOnce(a, b, "near", 3);
        const [da, db, dc] = await Promise.all([detail(a), detail(b), detail(c)]);
        // A learnt both names; each server accepted exactly its own flow
        assertEquals(da.directory, 2);
        assertEquals([db.rxPackets, dc.rxPackets], [3, 3]);
        // B saw the broadcast query for "far" but no flow request for it
        assertEquals(db.rxUnknownName, 0);
        assert((db.rxMgmt as number) >= 2);
      } finally {
        await Promise.all(d.map((x) => x.stop()));
      }
    }),
});
