/**
 * Real-kernel tests of the Linux TUN/TAP bridge and its netlink
 * configuration. Each test makes its own network namespace, runs one
 * scenario of `netns_scenarios.ts` in a Deno subprocess inside it (see
 * `netns.ts` for why a subprocess), and deletes the namespace. Skipped
 * (ignored) where that is impossible: not Linux, not root, no
 * /dev/net/tun or no iproute2.
 * @module
 */

import { assert } from "../../tests/util/assert.ts";
import { havePing, netnsUnavailable, runDenoInNetns, withNetns } from "./netns.ts";

const unavailable = await netnsUnavailable();
if (unavailable) console.warn(`tun: namespace tests skipped: ${unavailable}`);
const pingMissing = !unavailable && !(await havePing());
if (pingMissing) {
  console.warn(
    "tun: ping not installed (apt-get install iputils-ping): ping scenario skipped, TAP runs L2 only",
  );
}

const script = new URL("./netns_scenarios.ts", import.meta.url);

async function scenario(name: string, wrapper: string[] = []): Promise<void> {
  await withNetns(async (ns) => {
    const r = await runDenoInNetns(ns, script, [name], 60_000, wrapper);
    assert(
      r.code === 0 && r.stdout.includes(`ok ${name}`),
      `scenario ${name} failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`,
    );
  });
}

Deno.test({
  name: "tun: netlink sets MTU, up/down, IPv4+IPv6 addresses and routes; typed errors",
  ignore: !!unavailable,
  fn: () => scenario("config"),
});

Deno.test({
  name: "tun: UDP both ways through a TUN; close ends a pending read",
  ignore: !!unavailable,
  fn: () => scenario("udp"),
});

Deno.test({
  name: "tun: ping into a TUN is seen as an ICMP echo request and answered",
  ignore: !!unavailable || pingMissing,
  fn: () => scenario("ping"),
});

Deno.test({
  name: "tun: TAP sees ARP, answers it, then carries ICMP frames",
  ignore: !!unavailable,
  fn: () => scenario("tap"),
});

Deno.test({
  name: "tun: small rings apply backpressure without loss or reordering; drain waits",
  ignore: !!unavailable,
  fn: () => scenario("queues"),
});

Deno.test({
  name: "tun: without CAP_NET_ADMIN open and netlink fail with reason permission",
  ignore: !!unavailable,
  // Drop every capability for the child (root keeps file access to /dev/net/tun).
  fn: () => scenario("noperm", ["setpriv", "--inh-caps=-all", "--bounding-set=-all", "--"]),
});
