/**
 * Fast send path of a TUN device's Worker: an IP packet read from the
 * device whose destination routes to a flow on the fast path is sealed
 * with the flow's cipher and sent as `header ‖ SDU` (the peer's eid, and
 * over a unicast layer its DT PCI) to the peer's udp IPCP
 * through a socket borrowed from the IRMd, right in the Worker — no
 * thread hand-off between the device and the wire. Other packets (no
 * route, no fast flow, larger than the peer's MTU) go to the main thread
 * as before. The main thread sends a fast flow's other SDUs (the tunnel's
 * control messages) through a small ring into the same Worker, so each
 * flow has exactly one sealing context (one key-rotation counter).
 *
 * Counterpart of `fast_rx.ts`; installed through the same kind of
 * mailbox.
 *
 * @example
 * ```ts ignore
 * await dev.fastTx.install({ slot: 0, fd, dst, header, cipherNid, key, mtu: 1400 });
 * await dev.fastTx.routes([{ family: 4, network: [10, 9, 0, 2], bits: 32, slot: 0 }]);
 * ```
 * @module
 */
import { PacketCrypt } from "../crypto/aead.ts";
import { fromHex } from "../lib/hash.ts";
import { libc } from "./libc.ts";
import { MAILBOX_BYTES, MailboxReader, MailboxSender } from "./mailbox.ts";
import { PacketRing } from "./ring.ts";
import { prefixTable } from "./fast_rx.ts";
import { PrefixTable } from "../lib/prefix_table.ts";

/** Flows one device can send on at once. */
export const FAST_TX_FLOWS = 64;
/** Largest SDU sent (the udp4 IPCP's maximum). */
const MAX_SDU = 8980;
const FIELDS = 4;
const C_PKTS = 0, C_BYTES = 1, C_ERR = 2, C_LAST = 3;

/** A flow the Worker sends on. */
export interface FastTxSpec {
  /** 0 … {@link FAST_TX_FLOWS} - 1, chosen by the caller. */
  slot: number;
  /** Socket fd in this process (borrowed; closed when the slot is removed). */
  fd: number;
  /** The peer IPCP's sockaddr bytes. */
  dst: number[];
  /**
   * Bytes put in front of every sealed SDU: the peer IPCP's 4-byte eid,
   * and over a unicast layer the flow's DT PCI after it.
   */
  header: number[];
  /**
   * A big-endian u16 length field in the header (Ethernet shims): set to
   * the sealed SDU's length plus `lenAdd` per packet.
   */
  lenAt?: number;
  lenAdd?: number;
  /** Cipher NID (0: clear). */
  cipherNid: number;
  /** Key, hex (with a cipher). */
  key?: string;
  /** Largest IP packet the Worker sends itself (larger ones go to the main thread). */
  mtu: number;
}

/** A route: destinations in the prefix go to `slot` (-1: not fast, use the main thread). */
export interface FastRoute {
  family: 4 | 6;
  network: number[];
  bits: number;
  slot: number;
}

/** Counters of one slot. */
export interface FastTxCounters {
  /** SDUs sent. */
  packets: number;
  /** Their bytes (before sealing). */
  bytes: number;
  /** SDUs the socket refused (dropped). */
  errors: number;
  /** When the last one went out, ms since the epoch. */
  lastTxMs: number;
}

/** Shared memory between the main thread and the Worker. */
export interface FastTxShared {
  mailbox: SharedArrayBuffer;
  counters: SharedArrayBuffer;
  /** Control SDUs from the main thread (meta: the slot, u32). */
  ctl: SharedArrayBuffer;
}

type Command =
  | { op: "install"; spec: FastTxSpec }
  | { op: "remove"; slot: number }
  | { op: "routes"; routes: FastRoute[] };

/** Allocate the shared memory (main thread). */
export function fastTxShared(): FastTxShared {
  return {
    mailbox: new SharedArrayBuffer(MAILBOX_BYTES),
    counters: new SharedArrayBuffer(FAST_TX_FLOWS * FIELDS * 8),
    ctl: PacketRing.create({ slots: 256, slotBytes: MAX_SDU, metaBytes: 4 }).buffer,
  };
}

/** Main-thread side. */
export class FastTxControl {
  readonly #mb: MailboxSender;
  readonly #ctr: Float64Array;
  readonly #ctl: PacketRing;
  readonly #wake: () => void;
  readonly #fds = new Map<number, number>(); // slot → borrowed socket fd
  readonly #meta = new Uint8Array(4);
  readonly #metaView = new DataView(this.#meta.buffer);

  /** Control of the Worker sharing `shared`; `wake` rings its doorbell. */
  constructor(shared: FastTxShared, wake: () => void) {
    this.#mb = new MailboxSender(shared.mailbox, wake);
    this.#ctr = new Float64Array(shared.counters);
    this.#ctl = PacketRing.from(shared.ctl);
    this.#wake = wake;
  }

  /** Send on `spec.slot` from now on (takes ownership of `spec.fd`). */
  async install(spec: FastTxSpec): Promise<void> {
    const old = this.#fds.get(spec.slot);
    this.#fds.set(spec.slot, spec.fd);
    this.#ctr.fill(0, spec.slot * FIELDS, (spec.slot + 1) * FIELDS);
    await this.#mb.post({ op: "install", spec } satisfies Command);
    if (old !== undefined && old !== spec.fd) libc().close(old);
  }

  /** Replace the routing table. */
  routes(routes: FastRoute[]): Promise<void> {
    return this.#mb.post({ op: "routes", routes } satisfies Command);
  }

  /** Stop using `slot`; its socket is closed once the Worker let go of it. */
  async remove(slot: number): Promise<void> {
    const fd = this.#fds.get(slot);
    if (fd === undefined) return;
    this.#fds.delete(slot);
    try {
      await this.#mb.post({ op: "remove", slot } satisfies Command);
    } finally {
      libc().close(fd);
    }
  }

  /** Close every borrowed socket (the Worker has stopped). */
  closeAll(): void {
    for (const fd of this.#fds.values()) libc().close(fd);
    this.#fds.clear();
  }

  /** Queue one SDU (a control message) on `slot`; false if the queue is full. */
  send(slot: number, sdu: Uint8Array): boolean {
    if (!this.#fds.has(slot) || sdu.length > MAX_SDU) return false;
    this.#metaView.setUint32(0, slot, true);
    if (!this.#ctl.push(sdu, this.#meta)) return false;
    this.#wake();
    return true;
  }

  /** Counters of `slot`. */
  counters(slot: number): FastTxCounters {
    const c = this.#ctr, o = slot * FIELDS;
    return { packets: c[o + C_PKTS]!, bytes: c[o + C_BYTES]!, errors: c[o + C_ERR]!, lastTxMs: c[o + C_LAST]! };
  }
}

interface Slot {
  fd: number;
  dst: Uint8Array;
  crypt: PacketCrypt | undefined;
  mtu: number;
  buf: Uint8Array;
  hdr: number;
  lenAt: number;
  lenAdd: number;
}

/** Worker side: the routes, the slots and the per-packet work. */
export class FastTxTable {
  readonly #mb: MailboxReader;
  readonly #ctr: Float64Array;
  readonly #ctl: PacketRing;
  readonly #slots: (Slot | undefined)[] = new Array(FAST_TX_FLOWS);
  #routes = new PrefixTable<number>();
  #live = 0;
  readonly #sendto = libc().sendto;

  /** The Worker's view of `shared`. */
  constructor(shared: FastTxShared) {
    this.#mb = new MailboxReader(shared.mailbox);
    this.#ctr = new Float64Array(shared.counters);
    this.#ctl = PacketRing.from(shared.ctl);
  }

  /** Any slot installed? */
  get size(): number {
    return this.#live;
  }

  /** Apply a pending command and send queued control SDUs. */
  poll(): void {
    this.#mb.take((c) => {
      const cmd = c as Command;
      if (cmd.op === "routes") this.#routes = prefixTable(cmd.routes.map((r) => [r, r.slot])); else if (cmd.op === "remove") {
        if (this.#slots[cmd.slot]) this.#live--;
        this.#slots[cmd.slot] = undefined;
      } else {
        const s = cmd.spec;
        if (!this.#slots[s.slot]) this.#live++;
        const buf = new Uint8Array(s.header.length + MAX_SDU + 64);
        buf.set(s.header);
        this.#slots[s.slot] = {
          fd: s.fd,
          dst: Uint8Array.from(s.dst),
          crypt: s.cipherNid && s.key ? new PacketCrypt(s.cipherNid, fromHex(s.key)) : undefined,
          mtu: s.mtu,
          buf,
          hdr: s.header.length,
          lenAt: s.lenAt ?? -1,
          lenAdd: s.lenAdd ?? 0,
        };
      }
    });
    const ctl = this.#ctl;
    if (ctl.size() > 0) {
      ctl.popBatch((d, meta) => {
        const slot = new DataView(meta.buffer, meta.byteOffset, 4).getUint32(0, true);
        const s = this.#slots[slot];
        if (s) this.#send(slot, s, d);
      }, ctl.size());
    }
  }

  /**
   * Send one IP packet read from the device if its destination routes to
   * a fast slot and it fits; true when it was taken (sent or dropped).
   */
  process(pkt: Uint8Array): boolean {
    const v = pkt.length > 0 ? pkt[0]! >> 4 : 0;
    const dst = v === 4 && pkt.length >= 20 ? pkt.subarray(16, 20) : v === 6 && pkt.length >= 40 ? pkt.subarray(24, 40) : undefined;
    const slot = dst ? this.#routes.lookup(dst) ?? -1 : -1;
    const s = slot >= 0 ? this.#slots[slot] : undefined;
    if (!s || pkt.length > s.mtu || pkt.length > MAX_SDU) return false;
    this.#send(slot, s, pkt);
    return true;
  }

  #send(slot: number, s: Slot, sdu: Uint8Array): void {
    const c = this.#ctr, o = slot * FIELDS;
    let n: number;
    try {
      // sealed straight into the send buffer (fits: SDUs ≤ MAX_SDU, sealing adds ≤ 32 bytes)
      const body = s.buf.subarray(s.hdr);
      const len = s.crypt ? s.crypt.sealInto(sdu, body) : (body.set(sdu), sdu.length);
      n = s.hdr + len;
      if (s.lenAt >= 0) {
        const v = len + s.lenAdd;
        s.buf[s.lenAt] = v >> 8;
        s.buf[s.lenAt + 1] = v & 0xff;
      }
    } catch {
      c[o + C_ERR]!++; // never stop the device's packet loop
      return;
    }
    if (this.#sendto(s.fd, s.buf, BigInt(n), 0, s.dst, s.dst.length) < 0) {
      c[o + C_ERR]!++;
      return;
    }
    c[o + C_PKTS]!++;
    c[o + C_BYTES]! += sdu.length;
    c[o + C_LAST] = Date.now();
  }
}
