/**
 * Fast receive path of a datagram Worker: datagrams of selected flows are
 * decrypted in the Worker and their IP packets written straight to a TUN
 * device, so a tunnel's received traffic never wakes the main thread of
 * the IRMd nor the tunnel process (one thread hand-off instead of four).
 *
 * A datagram is `eid (4 bytes, big-endian) ‖ SDU` as the udp shim sends
 * it (spec 10 §1.6); over a unicast layer the SDU starts with a DT PCI
 * (spec 12 §4), and a flow is known by its destination address and eid
 * there. For an installed flow the Worker opens the SDU with the
 * flow's cipher; an IP packet (first nibble 4 or 6) whose source is inside
 * one of the flow's allowed prefixes goes to the TUN fd, other IP packets
 * are dropped (spoofed); anything else (the tunnel's control messages)
 * stays in the receive ring, decrypted, for the normal path. Flows are
 * installed and removed through a one-slot mailbox in shared memory that
 * the Worker reads between batches; counters live in shared memory too.
 *
 * @example
 * ```ts ignore
 * await channel.fastRx.install({ id: 7, shim: UDP_SHIM, keys: [7], tunFd, cipherNid: 901, key, sources: [] });
 * ```
 * @module
 */
import { PacketCrypt } from "../crypto/aead.ts";
import { PrefixTable } from "../lib/prefix_table.ts";
import { fromHex } from "../lib/hash.ts";
import { libc } from "./libc.ts";
import { MAILBOX_BYTES, MailboxReader, MailboxSender } from "./mailbox.ts";

/** One allowed source prefix. */
export interface FastPrefix {
  /** 4 or 6. */
  family: 4 | 6;
  /** Network address bytes (4 or 16). */
  network: number[];
  /** Prefix length. */
  bits: number;
  /**
   * Another peer's prefix: a source whose longest match is this one is
   * not ours (nested prefixes, as the tunnel's routing allows).
   */
  other?: boolean;
}

/**
 * How a flow over a unicast layer is found in a datagram: after the shim
 * header of the N−1 flow comes the DT PCI of `len` bytes; `match` lists bytes
 * at offsets in the PCI (the destination address, the eid). A packet whose
 * ECN field (at `ecnAt`) is set goes the normal way, decrypted, so the
 * layer's congestion avoidance sees it.
 */
export interface FastDtMatch {
  len: number;
  match: { at: number; bytes: number[] }[];
  ecnAt: number;
}

/**
 * The shim IPCP's header in front of every packet: `len` bytes, the flow's
 * key at `keyAt` (`keyLen` bytes, 1–4), bytes that must match (`head`:
 * an Ethertype, an LLC control byte), and, for Ethernet frames that may be
 * padded, a big-endian u16 at `lenAt` giving the payload length plus `lenSub`.
 */
export interface FastShimLayout {
  len: number;
  keyAt: number;
  keyLen: number;
  head?: { at: number; bytes: number[] }[];
  lenAt?: number;
  lenSub?: number;
}

/** The udp shim: `eid (4, big-endian) ‖ payload` (spec 10 §1.6). */
export const UDP_SHIM: FastShimLayout = { len: 4, keyAt: 0, keyLen: 4 };

/** A flow whose received IP packets go straight to a TUN device. */
export interface FastRxSpec {
  /** The flow (install, remove and counters go by it). */
  id: number;
  /** Where the shim IPCP's header puts the flow's key, and its length. */
  shim: FastShimLayout;
  /** The key values (big-endian) its packets arrive with (one per N−1 flow). */
  keys: number[];
  /** Over a unicast layer: the DT PCI that follows and identifies the flow. */
  dt?: FastDtMatch;
  /** TUN fd in this process. */
  tunFd: number;
  /** Cipher NID agreed by OAP (0: clear). */
  cipherNid: number;
  /** The flow's 32-byte key, hex (with a cipher). */
  key?: string;
  /**
   * With a cipher: the token (hex, 16 bytes, known only to this host) put
   * in front of an SDU the Worker decrypted and passes on, so the app can
   * tell it from a packet that failed authentication.
   */
  pass?: string;
  /**
   * The tunnel's routing table as seen from this peer: a source is
   * accepted when its longest matching prefix is one of the peer's own;
   * other IP packets are dropped.
   */
  sources: FastPrefix[];
}

/** Counters of one fast flow. */
export interface FastRxCounters {
  /** IP packets written to the device. */
  packets: number;
  /** Their bytes. */
  bytes: number;
  /** IP packets dropped: source outside the allowed prefixes, or too short. */
  spoofed: number;
  /** Datagrams that did not decrypt and authenticate. */
  badCrypto: number;
  /** Writes the device refused. */
  writeErrors: number;
  /** Control SDUs passed on (decrypted) to the normal path. */
  passed: number;
  /** When the last IP packet arrived (ms since the epoch, 0: never). */
  lastRxMs: number;
}

/** Flows one Worker can serve at once. */
export const FAST_RX_FLOWS = 64;
const FIELDS = 7; // the counters of one slot
const C_PKTS = 0, C_BYTES = 1, C_SPOOF = 2, C_CRYPTO = 3, C_WERR = 4, C_PASS = 5, C_LAST = 6;

/** The shared memory of one Worker's fast path. */
export interface FastRxShared {
  mailbox: SharedArrayBuffer;
  counters: SharedArrayBuffer;
}

/** Allocate the shared memory (main thread). */
export function fastRxShared(): FastRxShared {
  return {
    mailbox: new SharedArrayBuffer(MAILBOX_BYTES),
    counters: new SharedArrayBuffer(FAST_RX_FLOWS * FIELDS * 8),
  };
}

type Command = { op: "install"; slot: number; spec: FastRxSpec } | { op: "remove"; id: number };

/** Main-thread side: install and remove flows, read counters. */
export class FastRxControl {
  readonly #mb: MailboxSender;
  readonly #ctr: Float64Array;
  readonly #slots = new Map<number, number>(); // flow id → counter slot

  /** Control of the Worker sharing `shared`; `wake` rings its doorbell. */
  constructor(shared: FastRxShared, wake: () => void) {
    this.#mb = new MailboxSender(shared.mailbox, wake);
    this.#ctr = new Float64Array(shared.counters);
  }

  /**
   * Serve flow `spec.id` in the Worker from now on (replacing an earlier
   * entry). Resolves once the Worker applied it.
   * @throws Error when all {@link FAST_RX_FLOWS} slots are in use
   */
  install(spec: FastRxSpec): Promise<void> {
    let slot = this.#slots.get(spec.id);
    if (slot === undefined) {
      const used = new Set(this.#slots.values());
      for (let i = 0; i < FAST_RX_FLOWS && slot === undefined; i++) if (!used.has(i)) slot = i;
      if (slot === undefined) throw new Error(`Cannot add a fast flow: all ${FAST_RX_FLOWS} in use`);
      this.#slots.set(spec.id, slot);
    }
    this.#ctr.fill(0, slot * FIELDS, (slot + 1) * FIELDS);
    return this.#mb.post({ op: "install", slot, spec } satisfies Command);
  }

  /** Stop serving flow `id`; resolves once the Worker no longer touches its fd. */
  remove(id: number): Promise<void> {
    if (!this.#slots.delete(id)) return Promise.resolve();
    return this.#mb.post({ op: "remove", id } satisfies Command);
  }

  /** Counters of flow `id`, or undefined if not installed. */
  counters(id: number): FastRxCounters | undefined {
    const s = this.#slots.get(id);
    if (s === undefined) return undefined;
    const c = this.#ctr, o = s * FIELDS;
    return {
      packets: c[o + C_PKTS]!,
      bytes: c[o + C_BYTES]!,
      spoofed: c[o + C_SPOOF]!,
      badCrypto: c[o + C_CRYPTO]!,
      writeErrors: c[o + C_WERR]!,
      passed: c[o + C_PASS]!,
      lastRxMs: c[o + C_LAST]!,
    };
  }
}

interface Entry {
  id: number;
  slot: number;
  tunFd: number;
  crypt: PacketCrypt | undefined;
  /** The tunnel's routes from this peer's view: true where the prefix is the peer's own. */
  sources: PrefixTable<boolean>;
  dt: FastDtMatch | undefined;
  pass: Uint8Array;
  shim: FastShimLayout;
  /** Bytes before the SDU: the shim header, and the DT PCI. */
  hdr: number;
}

/** A longest-prefix-match table of `entries` (prefixes as sent in a mailbox command). */
export function prefixTable<T>(entries: [{ family: 4 | 6; network: number[]; bits: number }, T][]): PrefixTable<T> {
  const t = new PrefixTable<T>();
  for (const [p, v] of entries) t.insert({ family: p.family, network: Uint8Array.from(p.network), bits: p.bits }, v);
  return t;
}

/** Worker side: the installed flows and the per-datagram work. */
export class FastRxTable {
  readonly #mb: MailboxReader;
  readonly #ctr: Float64Array;
  readonly #byId = new Map<number, Entry>();
  readonly #byEid = new Map<number, Entry[]>();
  #keyAt = 0;
  #keyLen = 4;
  readonly #write = libc().write;

  /** The Worker's view of `shared`. */
  constructor(shared: FastRxShared) {
    this.#mb = new MailboxReader(shared.mailbox);
    this.#ctr = new Float64Array(shared.counters);
  }

  /** Any flows installed? (When not, {@link FastRxTable.process} need not be called.) */
  get size(): number {
    return this.#byId.size;
  }

  /** Apply a pending mailbox command, if any (cheap when none). */
  poll(): void {
    this.#mb.take((c) => {
      const cmd = c as Command;
      const id = cmd.op === "remove" ? cmd.id : cmd.spec.id;
      this.#byId.delete(id);
      for (const [eid, list] of this.#byEid) {
        const rest = list.filter((e) => e.id !== id);
        if (rest.length) this.#byEid.set(eid, rest);
        else this.#byEid.delete(eid);
      }
      if (cmd.op === "remove") return;
      const s = cmd.spec;
      const e: Entry = {
        id,
        slot: cmd.slot,
        tunFd: s.tunFd,
        crypt: s.cipherNid && s.key ? new PacketCrypt(s.cipherNid, fromHex(s.key)) : undefined,
        sources: prefixTable(s.sources.map((p) => [p, !p.other])),
        dt: s.dt,
        pass: s.pass ? fromHex(s.pass) : new Uint8Array(0),
        shim: s.shim,
        hdr: s.shim.len + (s.dt?.len ?? 0),
      };
      this.#byId.set(id, e);
      // one shim IPCP per Worker: every flow's key sits at the same place
      this.#keyAt = s.shim.keyAt;
      this.#keyLen = s.shim.keyLen;
      for (const k of s.keys) this.#byEid.set(k >>> 0, [...(this.#byEid.get(k >>> 0) ?? []), e]);
    });
  }

  /** The flow a datagram belongs to (by its key, then its header bytes), if it is a fast one. */
  #find(d: Uint8Array): Entry | undefined {
    const at = this.#keyAt, n = this.#keyLen;
    if (d.length < at + n) return undefined;
    let k = 0;
    for (let i = 0; i < n; i++) k = k * 256 + d[at + i]!;
    const list = this.#byEid.get(k);
    if (list === undefined) return undefined;
    next: for (const e of list) {
      if (d.length < e.hdr) continue;
      for (const m of e.shim.head ?? []) {
        for (let i = 0; i < m.bytes.length; i++) if (d[m.at + i] !== m.bytes[i]) continue next;
      }
      for (const m of e.dt?.match ?? []) {
        for (let i = 0; i < m.bytes.length; i++) if (d[e.shim.len + m.at + i] !== m.bytes[i]) continue next;
      }
      return e;
    }
    return undefined;
  }

  /**
   * Handle one received datagram in place: returns -1 when it was consumed
   * (written to a device, or dropped and counted), else its length to keep
   * in the ring (unchanged, or rewritten with its decrypted SDU after the
   * same headers).
   */
  process(d: Uint8Array): number {
    const e = this.#find(d);
    if (e === undefined) return d.length;
    try {
      return this.#handle(d, e);
    } catch {
      this.#ctr[e.slot * FIELDS + C_CRYPTO]!++; // never stop the socket's packet loop
      return -1;
    }
  }

  #handle(d: Uint8Array, e: Entry): number {
    const c = this.#ctr, o = e.slot * FIELDS, hdr = e.hdr, shim = e.shim;
    let end = d.length;
    if (shim.lenAt !== undefined) {
      // an Ethernet frame may be padded: its header says where the payload ends
      end = shim.len + ((d[shim.lenAt]! << 8) | d[shim.lenAt + 1]!) - (shim.lenSub ?? 0);
      // a malformed frame: the shim's own decoder rejects and counts it
      if (end < hdr || end > d.length) return d.length;
    }
    let sdu = d.subarray(hdr, end), clearText = false;
    if (e.crypt) {
      const clear = e.crypt.decrypt(sdu);
      if (!clear) {
        c[o + C_CRYPTO]!++;
        return -1;
      }
      sdu = clear;
      clearText = true;
    }
    const v = sdu.length > 0 ? sdu[0]! >> 4 : 0;
    // an ECN mark goes the normal way: the layer's congestion avoidance must see it
    const marked = e.dt !== undefined && d[shim.len + e.dt.ecnAt] !== 0;
    if ((v === 4 || v === 6) && !marked) {
      // the source's longest match must be one of the peer's own prefixes
      const ok = v === 4
        ? sdu.length >= 20 && e.sources.lookup(sdu.subarray(12, 16)) === true
        : sdu.length >= 40 && e.sources.lookup(sdu.subarray(8, 24)) === true;
      if (!ok) c[o + C_SPOOF]!++;
      else if (this.#write(e.tunFd, sdu, BigInt(sdu.length)) < 0) c[o + C_WERR]!++;
      else {
        c[o + C_PKTS]!++;
        c[o + C_BYTES]! += sdu.length;
        c[o + C_LAST] = Date.now();
      }
      return -1;
    }
    c[o + C_PASS]!++;
    if (!clearText) return end;
    // token ‖ plaintext fits where IV ‖ ciphertext ‖ tag was (token ≤ IV + tag);
    // the plaintext is in the cipher's own buffer, not in `d`
    const t = e.pass;
    d.set(t, hdr);
    d.set(sdu, hdr + t.length);
    const n = hdr + t.length + sdu.length;
    if (shim.lenAt !== undefined) {
      const v = n - shim.len + (shim.lenSub ?? 0); // the header's length field follows the rewrite
      d[shim.lenAt] = v >> 8;
      d[shim.lenAt + 1] = v & 0xff;
    }
    return n;
  }
}
