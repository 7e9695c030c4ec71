/**
 * The tunnel's fast path (flows on a udp or Ethernet layer, or a unicast layer on one; TUN mode): received
 * packets go from the IRMd's udp I/O Worker straight to the device, and
 * the device's Worker seals and sends packets itself through the IRMd's
 * socket (`src/io/fast_rx.ts`, `src/io/fast_tx.ts`). This class sets a
 * flow up for it, keeps the device Worker's routes and counts what the
 * Workers moved; the engine (`tunnel.ts`) asks it to send a fast flow's
 * SDUs so each flow keeps one sealing context.
 *
 * @example
 * ```ts ignore
 * const fast = FastPaths.for(config, device, routeList, log);
 * await fast?.enter(peer, link);
 * ```
 * @module
 */
import type { TunDevice } from "../../bridges/device.ts";
import type { FastPrefix } from "../io/fast_rx.ts";
import { FAST_TX_FLOWS, type FastRoute, type FastTxControl } from "../io/fast_tx.ts";
import type { Logger } from "../lib/log.ts";
import type { TunnelConfig } from "./config.ts";
import type { Link, Peer } from "./peer.ts";
import type { Prefix } from "./router.ts";

/** Longest wait for room in the ring into the device Worker, ms. */
const SEND_WAIT_MAX_MS = 100;

function wanted(): boolean {
  try {
    return Deno.env.get("OURO_FAST_PATH") !== "0";
  } catch {
    return true; // no env permission: the default
  }
}

/** The fast paths of one tunnel. */
export class FastPaths {
  readonly #routes: readonly [Prefix, Peer][];
  readonly #log: Logger;
  readonly #tunFd: number;
  readonly #fastTx: FastTxControl;
  readonly #slots = new Set<number>();

  private constructor(routes: readonly [Prefix, Peer][], log: Logger, tunFd: number, fastTx: FastTxControl) {
    this.#routes = routes;
    this.#log = log;
    this.#tunFd = tunFd;
    this.#fastTx = fastTx;
  }

  /**
   * Fast paths for a tunnel, or undefined where there can be none (TAP
   * mode, an in-memory device, `enabled` false or `OURO_FAST_PATH=0`).
   * `routes` is the tunnel's routing table (read at each use).
   */
  static for(
    config: TunnelConfig,
    device: TunDevice,
    routes: readonly [Prefix, Peer][],
    log: Logger,
    enabled = wanted(),
  ): FastPaths | undefined {
    if (!enabled || config.mode !== "tun" || device.fd === undefined || !device.fastTx) return undefined;
    return new FastPaths(routes, log, device.fd, device.fastTx);
  }

  /** The routing table as the fast path of `peer`'s flows checks sources with. */
  sourcesFor(peer: Peer): FastPrefix[] {
    return this.#routes.map(([pre, p]) => ({
      family: pre.family,
      network: [...pre.network],
      bits: pre.bits,
      other: p !== peer,
    }));
  }

  /** Add what the fast path moved since the last look to the peer's counters. */
  async poll(peer: Peer, link: Link): Promise<void> {
    const f = link.fast, tx = f && f.slot >= 0 ? this.#fastTx.counters(f.slot) : undefined;
    if (f && tx) {
      peer.counters.dropFast += tx.errors - f.tx.errors;
      peer.counters.txPackets += tx.packets - f.tx.packets;
      peer.counters.txBytes += tx.bytes - f.tx.bytes;
      link.txBytes += tx.bytes - f.tx.bytes;
      if (tx.packets > f.tx.packets) peer.counters.lastTxAt = Math.max(peer.counters.lastTxAt, tx.lastTxMs);
      f.tx = tx;
    }
    const c = await link.flow.fastRxStats?.();
    const was = link.fast?.rx;
    if (!was || !c || link.state !== "up") return;
    peer.counters.rxPackets += c.packets - was.packets;
    peer.counters.rxBytes += c.bytes - was.bytes;
    peer.counters.dropSpoofed += c.spoofed - was.spoofed;
    peer.counters.dropFast += c.badCrypto - was.badCrypto;
    link.rxBytes += c.bytes - was.bytes;
    if (c.lastRxMs > was.lastRxMs) peer.counters.lastRxAt = Math.max(peer.counters.lastRxAt, c.lastRxMs);
    link.fast!.rx = c;
  }

  /** Put `link` on the fast path: received packets and sends bypass the IRMd and this thread. */
  async enter(peer: Peer, link: Link): Promise<void> {
    let slot = 0;
    while (this.#slots.has(slot)) slot++;
    if (slot >= FAST_TX_FLOWS) return;
    this.#slots.add(slot);
    let info;
    try {
      info = await link.flow.fastPath!(this.#tunFd, this.sourcesFor(peer));
    } catch (e) {
      this.#slots.delete(slot);
      this.#log.info(`peer ${peer.cfg.name}: flow ${link.flow.id} stays on the IRMd path: ${(e as Error).message}`);
      return;
    }
    // the IRMd receives for us from now on; we send ourselves when we could borrow its socket
    const fresh = {
      rx: { packets: 0, bytes: 0, spoofed: 0, badCrypto: 0, writeErrors: 0, passed: 0, lastRxMs: 0 },
      tx: { packets: 0, bytes: 0, errors: 0, lastTxMs: 0 },
    };
    if (info.fd < 0) {
      this.#slots.delete(slot);
      link.fast = { slot: -1, ...fresh };
      this.#log.info(
        `peer ${peer.cfg.name}: flow ${link.flow.id} receives on the fast path, sends through the IRMd: ${info.sendError}`,
      );
      return;
    }
    try {
      await this.#fastTx.install({
        slot,
        fd: info.fd,
        dst: [...info.dst],
        header: [...info.header],
        lenAt: info.lenAt,
        lenAdd: info.lenAdd,
        cipherNid: info.cipherNid,
        key: info.key,
        mtu: peer.cfg.mtu,
      });
    } catch (e) {
      this.#slots.delete(slot);
      link.fast = { slot: -1, ...fresh };
      this.#log.warn(`peer ${peer.cfg.name}: flow ${link.flow.id} sends through the IRMd: ${(e as Error).message}`);
      return;
    }
    link.fast = { slot, ...fresh };
    if (link.state !== "up") return this.leave(link);
    await this.#pushRoutes();
    this.#log.info(`peer ${peer.cfg.name}: flow ${link.flow.id} on the fast path`);
  }

  /** Take `link` off the fast path (its flow ended): routes first, then the slot. */
  async leave(link: Link): Promise<void> {
    const f = link.fast;
    if (!f) return;
    link.fast = undefined;
    if (f.slot < 0) return;
    await this.#pushRoutes();
    await this.#fastTx.remove(f.slot);
    this.#slots.delete(f.slot);
  }

  /**
   * The device Worker's routes: each prefix to its peer's fast flow when
   * the peer has one class (with several, this thread classifies).
   */
  #pushRoutes(): Promise<void> {
    const routes: FastRoute[] = this.#routes.map(([pre, p]) => {
      const link = p.classes.length === 1 ? p.links.find((l) => l.state === "up" && (l.fast?.slot ?? -1) >= 0) : undefined;
      return { family: pre.family, network: [...pre.network], bits: pre.bits, slot: link?.fast?.slot ?? -1 };
    });
    return this.#fastTx.routes(routes);
  }

  /**
   * Send one SDU on `link` through the device Worker when it is on the fast
   * path (undefined: it is not, use the flow).
   */
  write(peer: Peer, link: Link, sdu: Uint8Array): Promise<void> | undefined {
    const f = link.fast;
    if (!f || f.slot < 0) return undefined;
    if (this.#fastTx.send(f.slot, sdu)) return Promise.resolve();
    return this.#sendLater(peer, link, f.slot, sdu);
  }

  /**
   * The ring into the device Worker is full (a burst this thread classified
   * or fragmented): wait for it to drain rather than drop, up to a bound;
   * then the packet is dropped and counted, the flow stays.
   */
  async #sendLater(peer: Peer, link: Link, slot: number, sdu: Uint8Array): Promise<void> {
    const copy = sdu.slice();
    for (let waited = 0; waited < SEND_WAIT_MAX_MS; waited++) {
      await new Promise((r) => setTimeout(r, 1));
      if (link.fast?.slot !== slot) return; // the flow left the fast path meanwhile
      if (this.#fastTx.send(slot, copy)) return;
    }
    peer.counters.dropFast++;
  }
}
