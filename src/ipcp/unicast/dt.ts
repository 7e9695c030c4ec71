/**
 * Data transfer (spec 12 §4): the unicast layer's packet path. Packets from
 * DT N−1 flows go through the packet scheduler (by the cube of the N−1
 * flow), get their TTL decremented, and are either forwarded by the PFF of
 * that cube (with ECN marking) or delivered here: eids below 64 to the
 * registered component (0 = flow allocator, 1 = DHT), others to the flow
 * allocator's N+1 data path.
 *
 * Each N−1 flow has a small egress queue that absorbs its back-pressure;
 * its length is the congestion signal for mb-ecn marking.
 *
 * @example
 * ```ts
 * import { DataTransfer } from "./dt.ts";
 * import { createCa } from "./ca/ca.ts";
 * import { createPff } from "./pff/factory.ts";
 * const pff = createPff("simple");
 * const dt = new DataTransfer({ addr: 7, maxTtl: 60, pff: () => pff, ca: createCa(0) });
 * dt.registerComponent(1, (sdu) => console.log("dht", sdu.length));
 * dt.write(9, 0, 1n, new Uint8Array(3)); // false: no route to 9 yet
 * ```
 * @module
 */
import { type Logger, logger } from "../../lib/log.ts";
import { qosCube } from "../../lib/qos.ts";
import type { N1Flow } from "../../irmd/n1.ts";
import type { CaPolicy } from "./ca/ca.ts";
import type { Pff } from "./pff/pff.ts";
import { PacketScheduler } from "./psched.ts";
import { Slab } from "./slab.ts";
import {
  decodeDt,
  DT_COMPONENT_EIDS,
  DT_CONFIG_DEFAULT,
  type DtConfig as DtLayout,
  type DtOffsets,
  dtOffsets,
  writeDtPci,
} from "./wire/dt.ts";

/** Packets queued per N−1 flow while it pushes back; more are dropped. */
export const DT_EGRESS_MAX_QUEUED = 4096;
/** Queued packets on the next hop above which N+1 writers are asked to wait. */
export const DT_EGRESS_HIGH_WATER = 256;

/** Options of {@link DataTransfer}. */
export interface DtOptions {
  /** Own address. */
  addr: number;
  /** TTL written by senders (`max_ttl`). */
  maxTtl: number;
  /** PCI layout (addr_size, eid_size); default 4 / 8. */
  layout?: DtLayout;
  /** The PFF of a QoS cube. */
  pff(qc: number): Pff;
  /** Congestion avoidance (marking). */
  ca: CaPolicy;
  log?: Logger;
}

/** Counters (the reference's per-fd statistics, summed). */
export interface DtCounters {
  /** Packets read from N−1 flows. */
  rxPkts: number;
  /** Packets written to N−1 flows (own and forwarded). */
  txPkts: number;
  /** Packets forwarded for others. */
  fwdPkts: number;
  /** Packets sent by local components and flows (`lcl_w`). */
  lclW: number;
  /** Packets delivered locally (`lcl_r`). */
  lclR: number;
  /** Dropped: TTL expired (`r_drp`). */
  ttlDrops: number;
  /** Dropped: no next hop (`f_nhp`). */
  noRoute: number;
  /** Dropped: N−1 write failed or its queue was full (`w_drp`). */
  writeDrops: number;
  /** Dropped: PCI did not decode (short packet, unknown cube). */
  badPci: number;
  /** Dropped: local eid < 64 with no component. */
  unknownEid: number;
}

interface Egress {
  flow: N1Flow;
  q: Uint8Array[];
  busy: boolean;
  /** The one promise writers wait on while the queue is above the high-water mark. */
  drained: { p: Promise<void>; resolve: () => void } | undefined;
}

function wake(o: Egress): void {
  const d = o.drained;
  o.drained = undefined;
  d?.resolve();
}

/** The data-transfer component. */
export class DataTransfer {
  readonly counters: DtCounters = {
    rxPkts: 0,
    txPkts: 0,
    fwdPkts: 0,
    lclW: 0,
    lclR: 0,
    ttlDrops: 0,
    noRoute: 0,
    writeDrops: 0,
    badPci: 0,
    unknownEid: 0,
  };
  /** N+1 data (eid ≥ 64) for the flow allocator. */
  onNp1: (eid: bigint, ecn: number, sdu: Uint8Array) => void = () => {};
  readonly #o: DtOptions;
  readonly #layout: DtLayout;
  readonly #off: Readonly<DtOffsets>;
  readonly #self: bigint;
  readonly #log: Logger;
  readonly #comps = new Map<bigint, (sdu: Uint8Array) => void>();
  readonly #out = new Map<number, Egress>();
  /** Arriving packets are copied out of the N−1 flow's buffer into these. */
  readonly #slab = new Slab();
  readonly #psched: PacketScheduler<{ fd: number; pkt: Uint8Array }>;

  /** A DT component with no N−1 flows. */
  constructor(opts: DtOptions) {
    this.#o = opts;
    const l = opts.layout;
    // the default layout by identity: the PCI codec's fast path, no checks per packet
    this.#layout = !l || (l.addrSize === DT_CONFIG_DEFAULT.addrSize &&
        l.eidSize === DT_CONFIG_DEFAULT.eidSize)
      ? DT_CONFIG_DEFAULT
      : l;
    this.#off = dtOffsets(this.#layout);
    this.#self = BigInt(opts.addr);
    this.#log = opts.log ?? logger("dt");
    this.#psched = new PacketScheduler((qc, x) => this.#receive(x.fd, qc, x.pkt));
  }

  /** Own address. */
  get addr(): number {
    return this.#o.addr;
  }

  /** PCI length (15 by default). */
  get headerLen(): number {
    return this.#off.len;
  }

  /** Register a component on a reserved eid (< 64). */
  registerComponent(eid: number, handler: (sdu: Uint8Array) => void): void {
    if (!Number.isInteger(eid) || eid < 0 || eid >= DT_COMPONENT_EIDS) {
      throw new RangeError(
        `Cannot register dt component: eid ${eid} is not below ${DT_COMPONENT_EIDS}`,
      );
    }
    this.#comps.set(BigInt(eid), handler);
  }

  /** Remove a component. */
  unregisterComponent(eid: number): void {
    this.#comps.delete(BigInt(eid));
  }

  /**
   * DT_CONN_ADD: allow writing to `flow`; returns the handler for its
   * packets (the caller installs it as `flow.onPacket`).
   */
  addFlow(flow: N1Flow): (sdu: Uint8Array) => void {
    const qcIn = qosCube(flow.qos);
    const fd = flow.id;
    this.#out.set(fd, { flow, q: [], busy: false, drained: undefined });
    return (sdu) => {
      this.counters.rxPkts++;
      this.#psched.push(qcIn, { fd, pkt: this.#slab.copy(sdu) });
    };
  }

  /** DT_CONN_DEL: forget the N−1 flow (it is closed by its owner). */
  removeFlow(fd: number): void {
    const o = this.#out.get(fd);
    if (!o) return;
    this.#out.delete(fd);
    this.counters.writeDrops += o.q.length;
    o.q = [];
    wake(o);
  }

  /** N−1 fds of the DT flows. */
  fds(): number[] {
    return [...this.#out.keys()];
  }

  /**
   * For a fast path: the PCI every packet to `eid` at `dst` on cube `qc`
   * starts with (ECN clear), the N−1 fd of its next hop now, our address
   * and `localEid` as packets to us carry them, and the field offsets;
   * undefined without a route.
   */
  fastPci(dst: number, qc: number, eid: bigint, localEid: bigint): {
    pci: Uint8Array;
    fd: number;
    self: Uint8Array;
    eidBytes: Uint8Array;
    off: Readonly<DtOffsets>;
  } | undefined {
    const fd = dst === this.#o.addr ? undefined : this.#o.pff(qc).nextHop(dst);
    if (fd === undefined || !this.#out.has(fd)) return undefined;
    const pci = new Uint8Array(this.#off.len);
    writeDtPci(pci, { dst: BigInt(dst), qc, ttl: this.#o.maxTtl, ecn: 0, eid }, this.#layout);
    // our address and the eid as they appear in packets to us
    const mine = new Uint8Array(this.#off.len);
    writeDtPci(mine, { dst: this.#self, qc, ttl: 0, ecn: 0, eid: localEid }, this.#layout);
    return {
      pci,
      fd,
      self: mine.subarray(0, this.#off.qc),
      eidBytes: mine.subarray(this.#off.eid, this.#off.len),
      off: this.#off,
    };
  }

  /**
   * Send `sdu` to `eid` at `dst` on cube `qc` (spec 12 §4.1). Returns false
   * when it was dropped (no next hop, write failure).
   */
  write(dst: number, qc: number, eid: bigint, sdu: Uint8Array): boolean {
    const pkt = new Uint8Array(this.#off.len + sdu.length);
    pkt.set(sdu, this.#off.len);
    return this.writeRoom(dst, qc, eid, pkt);
  }

  /**
   * {@link write} for an SDU already placed after {@link headerLen} bytes
   * of room at the front of `pkt`: the PCI is written there and `pkt` is
   * sent (owned from here on), saving a copy per packet.
   */
  writeRoom(dst: number, qc: number, eid: bigint, pkt: Uint8Array): boolean {
    if (dst === this.#o.addr) {
      this.#log.debug(`Cannot send to own address (eid ${eid}).`);
      return false;
    }
    const fd = this.#o.pff(qc).nextHop(dst);
    if (fd === undefined) {
      this.counters.noRoute++;
      return false;
    }
    const ecn = this.#o.ca.calcEcn(0, this.#queued(fd));
    writeDtPci(pkt, { dst: BigInt(dst), qc, ttl: this.#o.maxTtl, ecn, eid }, this.#layout);
    this.counters.lclW++;
    return this.#send(fd, pkt);
  }

  /**
   * Undefined if a packet to `dst` on `qc` can go now, else a promise that
   * resolves when its next hop's queue has drained below the high-water mark.
   */
  waitWritable(dst: number, qc: number): Promise<void> | undefined {
    const fd = this.#o.pff(qc).nextHops(dst)[0];
    const o = fd === undefined ? undefined : this.#out.get(fd);
    if (!o || o.q.length < DT_EGRESS_HIGH_WATER) return undefined;
    if (!o.drained) {
      let resolve!: () => void;
      const p = new Promise<void>((r) => (resolve = r));
      o.drained = { p, resolve };
    }
    return o.drained.p;
  }

  #queued(fd: number): number {
    return this.#out.get(fd)?.q.length ?? 0;
  }

  #send(fd: number, pkt: Uint8Array): boolean {
    const o = this.#out.get(fd);
    if (!o) {
      this.counters.writeDrops++;
      return false;
    }
    if (o.busy) {
      if (o.q.length >= DT_EGRESS_MAX_QUEUED) {
        this.counters.writeDrops++;
        return false;
      }
      o.q.push(pkt);
      return true;
    }
    this.#writeNow(o, pkt);
    return true;
  }

  #writeNow(o: Egress, pkt: Uint8Array): void {
    this.counters.txPkts++;
    let p: Promise<void> | undefined;
    try {
      p = o.flow.write(pkt);
    } catch {
      this.counters.writeDrops++;
      return;
    }
    if (!p) return;
    o.busy = true;
    p.catch(() => {}).then(() => {
      o.busy = false;
      while (!o.busy && o.q.length > 0 && this.#out.get(o.flow.id) === o) {
        this.#writeNow(o, o.q.shift()!);
      }
      if (o.q.length < DT_EGRESS_HIGH_WATER) wake(o);
    });
  }

  /** The receive path (spec 12 §4.2); `pkt` is owned and may be forwarded as is. */
  #receive(_fdIn: number, qcIn: number, pkt: Uint8Array): void {
    const off = this.#off;
    if (pkt.length < off.len) {
      this.counters.badPci++;
      return;
    }
    pkt[off.ttl] = (pkt[off.ttl]! - 1) & 0xff;
    let pdu;
    try {
      pdu = decodeDt(pkt, this.#layout);
    } catch {
      this.counters.badPci++;
      return;
    }
    if (pdu.dst !== this.#self) {
      if (pdu.ttl === 0) {
        this.counters.ttlDrops++;
        return;
      }
      const dst = Number(pdu.dst);
      const ofd = this.#o.pff(qcIn).nextHop(dst);
      if (ofd === undefined) {
        this.counters.noRoute++;
        return;
      }
      pkt[off.ecn] = this.#o.ca.calcEcn(pdu.ecn, this.#queued(ofd));
      this.counters.fwdPkts++;
      this.#send(ofd, pkt);
      return;
    }
    this.counters.lclR++;
    if (pdu.eid >= BigInt(DT_COMPONENT_EIDS)) {
      this.onNp1(pdu.eid, pdu.ecn, pdu.payload);
      return;
    }
    const h = this.#comps.get(pdu.eid);
    if (!h) {
      this.counters.unknownEid++;
      return;
    }
    h(pdu.payload);
  }

  /** Drop queued packets and forget every N−1 flow (they are closed by their owner). */
  stop(): void {
    this.#psched.stop();
    for (const fd of [...this.#out.keys()]) this.removeFlow(fd);
    this.#comps.clear();
  }
}
