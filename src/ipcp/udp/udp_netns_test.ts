/**
 * Real-kernel test: two `ouro irmd` daemons in two network namespaces
 * (ouro-udp-a/b-<pid>, created and deleted here) joined by a veth pair,
 * each with a udp4 IPCP (A finds the server's name in its hosts file) or a
 * udp6 IPCP (static peer table); `ouro ping` across them. Needs root.
 */
import { assertMatch } from "../../../tests/util/assert.ts";
import { TestDaemon } from "../../../tests/util/daemon.ts";
import { HashAlgo, hashName, toHex } from "../../lib/hash.ts";

const NS_A = `ouro-udp-a-${Deno.pid}`;
const NS_B = `ouro-udp-b-${Deno.pid}`;
/** Files `ip netns exec` mounts over /etc for processes in A (made and removed here). */
const ETC_A = `/etc/netns/${NS_A}`;
const ADDRS = {
  udp4: { a: "10.77.0.1", b: "10.77.0.2" },
  udp6: { a: "fd00:77::1", b: "fd00:77::2" },
} as const;
const ignore = Deno.uid() !== 0;

async function ip(...args: string[]): Promise<void> {
  const r = await new Deno.Command("ip", { args, stdout: "null", stderr: "piped" }).output();
  if (!r.success) throw new Error(`ip ${args.join(" ")}: ${new TextDecoder().decode(r.stderr)}`);
}

/** Two namespaces joined by a veth pair; addresses exist only inside them. */
async function withTwoHosts(fn: () => Promise<void>): Promise<void> {
  await Deno.mkdir(ETC_A, { recursive: true });
  await Deno.writeTextFile(`${ETC_A}/hosts`, "127.0.0.1 localhost\n");
  await ip("netns", "add", NS_A);
  try {
    await ip("netns", "add", NS_B);
    try {
      // made inside A, its peer moved straight into B: the root namespace never sees them
      const veth = ["link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", NS_B];
      await ip("-n", NS_A, ...veth);
      for (const [ns, dev, key] of [[NS_A, "va", "a"], [NS_B, "vb", "b"]] as const) {
        await ip("-n", ns, "addr", "add", `${ADDRS.udp4[key]}/24`, "dev", dev);
        // nodad: usable at once instead of after duplicate address detection
        await ip("-n", ns, "addr", "add", `${ADDRS.udp6[key]}/64`, "dev", dev, "nodad");
        await ip("-n", ns, "link", "set", dev, "up");
        await ip("-n", ns, "link", "set", "lo", "up");
      }
      await fn();
    } finally {
      await ip("netns", "del", NS_B);
    }
  } finally {
    await ip("netns", "del", NS_A);
    await Deno.remove(ETC_A, { recursive: true });
    await Deno.remove("/etc/netns").catch(() => {}); // only if nobody else uses it (empty)
  }
}

async function ok(d: TestDaemon, ...args: string[]): Promise<void> {
  const r = await d.irm(...args);
  if (r.code !== 0) {
    throw new Error(`irm ${args.join(" ")} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
}

for (const type of ["udp4", "udp6"] as const) {
  Deno.test({
    name: `udp ipcp: ping across two namespaces over ${type}`,
    ignore,
    fn: () =>
      withTwoHosts(async () => {
        const { a: ipA, b: ipB } = ADDRS[type];
        const boot = ["ipcp", "bootstrap", "name", "u", "type", type, "layer", "low", "ip"];
        let peerA: string[] = [];
        if (type === "udp4") {
          // the reference's way: "<ip> <md5 hex of the name>" in the hosts file
          const line = `${ipB} ${toHex(hashName(HashAlgo.MD5, "pinger"))}\n`;
          await Deno.writeTextFile(`${ETC_A}/hosts`, line, { append: true });
        } else {
          peerA = ["peer", `pinger=[${ipB}]`];
        }
        const a = await TestDaemon.start({ netns: NS_A });
        const b = await TestDaemon.start({ netns: NS_B });
        try {
          await ok(a, ...boot, ipA, ...peerA);
          await ok(b, ...boot, ipB);
          const server = b.spawn(["ping", "-l", "--name", "pinger", "--layer", "low"]);
          try {
            await server.waitFor(/server started/, 15000);
            const r = await a.run(["ping", "-n", "pinger", "-c", "5", "-i", "200"]);
            if (r.code !== 0) throw new Error(`ping failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
            assertMatch(r.stdout, /5 packets transmitted, 5 received/);
            assertMatch(r.stdout, /bytes from pinger: seq=4 /);
          } finally {
            server.kill();
            await server.done();
          }
          const list = await a.irm("ipcp", "list");
          assertMatch(list.stdout, new RegExp(`${type} .*OPERATIONAL`));
        } finally {
          await Promise.all([a.stop(), b.stop()]);
        }
      }),
  });
}
