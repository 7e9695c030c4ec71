/**
 * The TUN/TAP bridge: the {@link TunDevice} seam, its in-memory fake, the
 * Linux implementation (`openTun`) and interface configuration over
 * rtnetlink (`Netlink`). Only re-exports.
 *
 * @example
 * ```ts ignore
 * import { Netlink, openTun } from "./mod.ts";
 * await using dev = await openTun({ kind: "tun", name: "ouro%d" });
 * using nl = Netlink.open();
 * nl.addAddress(dev.name, "10.9.0.1/24");
 * nl.setUp(dev.name);
 * for await (const batch of dev.batches()) for (const p of batch) dev.write(p);
 * ```
 * @module
 */

export {
  batchesFrom,
  maxIpPacketBytes,
  pumpFrom,
  type SignalOptions,
  tapHeaderBytes,
  type TunCounters,
  type TunDevice,
  type TunKind,
  zeroCounters,
} from "./device.ts";
export { createFakeLoopback, createFakePair, type FakeTunOptions } from "./fake.ts";
export { TunError, type TunErrorReason } from "./errors.ts";
export { maxIfNameBytes, openTun, type OpenTunOptions, tunDefaults } from "./linux/tun.ts";
export {
  type AddressOptions,
  type Cidr,
  formatCidr,
  type Iface,
  type LinkInfo,
  Netlink,
  networkOf,
  parseCidr,
  type RouteOptions,
} from "./linux/netlink.ts";
