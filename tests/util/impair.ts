/**
 * A lossy, slow wire between two namespaces, in user space: a third
 * namespace holds the two veth ends and forwards Ethernet frames between
 * them through AF_PACKET sockets, dropping, duplicating, delaying (with
 * jitter, hence reordering) and optionally tapping or rewriting IPv4
 * frames on the way. It stands in for `tc netem` on kernels built without
 * sch_netem, and is the place a man in the middle sits.
 *
 * ```
 *  a: va 10.202.0.1/24 ── m-a [m: relay] m-b ── vb 10.202.0.2/24 :b
 * ```
 * @module
 */
import { PacketSocket } from "../../src/io/packet_socket.ts";
import type { Topology } from "./netns.ts";

/** What the relay does to IPv4 frames (others pass untouched). */
export interface Impairment {
  /** Drop this share of frames, 0..1. */
  loss?: number;
  /** Send this share of frames twice, 0..1. */
  duplicate?: number;
  /** One-way delay, ms. */
  delayMs?: number;
  /** Delay varies uniformly by ± this many ms (reorders frames). */
  jitterMs?: number;
  /** This share of frames skips the delay (netem's `reorder`), 0..1. */
  reorder?: number;
}

/** Direction of a frame: from a to b, or from b to a. */
export type Direction = "ab" | "ba";

/** Counters of the relay. */
export interface RelayStats {
  forwarded: number;
  dropped: number;
  duplicated: number;
}

interface Pending {
  at: number;
  frame: Uint8Array;
  out: PacketSocket;
}

async function ip(args: string[]): Promise<void> {
  const o = await new Deno.Command("ip", { args, stdout: "null", stderr: "piped" }).output();
  if (!o.success) throw new Error(`ip ${args.join(" ")}: ${new TextDecoder().decode(o.stderr)}`);
}

/** The relay between a and b (see the module documentation). */
export class Relay {
  /** Current impairment (replace at will). */
  impair: Impairment = {};
  /** Sees every IPv4 frame as it arrives at the relay. */
  tap: ((frame: Uint8Array, dir: Direction) => void) | undefined;
  /** May replace (return a frame) or drop (return null) an IPv4 frame before impairment. */
  rewrite: ((frame: Uint8Array, dir: Direction) => Uint8Array | null | undefined) | undefined;
  readonly stats: RelayStats = { forwarded: 0, dropped: 0, duplicated: 0 };
  #queue: Pending[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Infinity;
  readonly #ac = new AbortController();
  #loops: Promise<void>[] = [];

  private constructor(
    readonly sa: PacketSocket,
    readonly sb: PacketSocket,
    /** a's and b's addresses and devices. */
    readonly ipA: string,
    readonly ipB: string,
    readonly devA: string,
    readonly devB: string,
  ) {}

  /**
   * Add nodes a, b and m to `topo` (which must not have them yet), wire
   * a–m–b and start forwarding. `subnet` is the first three octets.
   */
  static async create(topo: Topology, subnet = "10.202.0"): Promise<Relay> {
    const nsA = await topo.addNode("a"),
      nsB = await topo.addNode("b"),
      nsM = await topo.addNode("m");
    const ipA = `${subnet}.1`, ipB = `${subnet}.2`;
    await ip(["-n", nsA, "link", "add", "va", "type", "veth", "peer", "name", "m-a", "netns", nsM]);
    await ip(["-n", nsB, "link", "add", "vb", "type", "veth", "peer", "name", "m-b", "netns", nsM]);
    await ip(["-n", nsA, "addr", "add", `${ipA}/24`, "dev", "va"]);
    await ip(["-n", nsB, "addr", "add", `${ipB}/24`, "dev", "vb"]);
    for (const [ns, dev] of [[nsM, "m-a"], [nsM, "m-b"]] as const) {
      // the relay's ends carry no address: the kernel of m never answers
      await ip(["-n", ns, "link", "set", "dev", dev, "promisc", "on"]);
    }
    for (const [ns, dev] of [[nsA, "va"], [nsB, "vb"], [nsM, "m-a"], [nsM, "m-b"]] as const) {
      await ip(["-n", ns, "link", "set", "dev", dev, "up"]);
    }
    const sa = await PacketSocket.open({ ifname: "m-a", netns: nsM });
    const sb = await PacketSocket.open({ ifname: "m-b", netns: nsM });
    const r = new Relay(sa, sb, ipA, ipB, "va", "vb");
    r.#loops.push(r.#pump(sa, sb, "ab"), r.#pump(sb, sa, "ba"));
    return r;
  }

  #pump(from: PacketSocket, to: PacketSocket, dir: Direction): Promise<void> {
    return from.onReceive((f) => this.#forward(f, to, dir), { signal: this.#ac.signal });
  }

  #forward(frame: Uint8Array, out: PacketSocket, dir: Direction): void {
    const ipv4 = frame.length >= 34 && frame[12] === 0x08 && frame[13] === 0x00;
    if (!ipv4) {
      out.send(frame);
      return;
    }
    fixUdpChecksum(frame);
    this.tap?.(frame, dir);
    if (this.rewrite) {
      const r = this.rewrite(frame, dir);
      if (r === null) return;
      if (r) frame = r;
    }
    const m = this.impair;
    if (m.loss && Math.random() < m.loss) {
      this.stats.dropped++;
      return;
    }
    const copies = m.duplicate && Math.random() < m.duplicate ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let i = 0; i < copies; i++) {
      const skip = m.reorder && Math.random() < m.reorder;
      const d = skip
        ? 0
        : (m.delayMs ?? 0) + (m.jitterMs ? (Math.random() * 2 - 1) * m.jitterMs : 0);
      if (d <= 0) this.#send(out, frame);
      else this.#schedule({ at: performance.now() + d, frame, out });
    }
  }

  #send(out: PacketSocket, frame: Uint8Array): void {
    if (out.send(frame)) this.stats.forwarded++;
    else this.stats.dropped++;
  }

  #schedule(p: Pending): void {
    // a binary heap on `at`
    const q = this.#queue;
    q.push(p);
    let i = q.length - 1;
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (q[up]!.at <= q[i]!.at) break;
      [q[up], q[i]] = [q[i]!, q[up]!];
      i = up;
    }
    this.#arm();
  }

  #pop(): Pending | undefined {
    const q = this.#queue;
    const top = q[0];
    const last = q.pop();
    if (q.length > 0 && last) {
      q[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < q.length && q[l]!.at < q[m]!.at) m = l;
        if (r < q.length && q[r]!.at < q[m]!.at) m = r;
        if (m === i) break;
        [q[m], q[i]] = [q[i]!, q[m]!];
        i = m;
      }
    }
    return top;
  }

  #arm(): void {
    const next = this.#queue[0];
    if (!next || this.#ac.signal.aborted) return;
    if (this.#timer !== undefined && this.#timerAt <= next.at) return;
    clearTimeout(this.#timer);
    this.#timerAt = next.at;
    this.#timer = setTimeout(() => this.#flush(), Math.max(0, next.at - performance.now()));
  }

  #flush(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = performance.now() + 0.5;
    while (this.#queue.length > 0 && this.#queue[0]!.at <= now) {
      const p = this.#pop()!;
      this.#send(p.out, p.frame);
    }
    this.#arm();
  }

  /** Put a frame on the wire as if it came from a ("ab") or b ("ba"). */
  inject(frame: Uint8Array, dir: Direction): boolean {
    return (dir === "ab" ? this.sb : this.sa).send(frame);
  }

  /** Stop forwarding and close the sockets. */
  async close(): Promise<void> {
    this.#ac.abort();
    clearTimeout(this.#timer);
    this.#queue = [];
    await Promise.all([this.sa.close(), this.sb.close()]);
    await Promise.allSettled(this.#loops);
  }
}

/** Offset of the UDP payload in an Ethernet/IPv4/UDP frame, or -1 if it is not one (or a later fragment). */
export function udpPayloadOffset(frame: Uint8Array): number {
  if (frame.length < 42 || frame[12] !== 0x08 || frame[13] !== 0x00 || frame[23] !== 17) return -1;
  const fragOff = ((frame[20]! & 0x1f) << 8) | frame[21]!;
  if (fragOff !== 0) return -1;
  const ihl = (frame[14]! & 0x0f) * 4;
  return 14 + ihl + 8;
}

/**
 * Recompute the UDP checksum of an unfragmented Ethernet/IPv4/UDP frame in
 * place. Frames from a veth may carry only the pseudo-header sum (checksum
 * offload: the kernel trusts it across the veth pair); forwarded through a
 * packet socket they would be dropped at the other end without this.
 */
export function fixUdpChecksum(frame: Uint8Array): void {
  if (frame.length < 42 || frame[12] !== 0x08 || frame[13] !== 0x00 || frame[23] !== 17) return;
  if ((frame[20]! & 0x3f) !== 0 || frame[21] !== 0) return; // a fragment: sum done in software
  const ihl = (frame[14]! & 0x0f) * 4;
  const u = 14 + ihl;
  const len = (frame[u + 4]! << 8) | frame[u + 5]!;
  if (len < 8 || u + len > frame.length) return;
  let sum = 17 + len;
  for (let i = 26; i < 34; i += 2) sum += (frame[i]! << 8) | frame[i + 1]!; // source, destination
  frame[u + 6] = 0;
  frame[u + 7] = 0;
  const end = u + len;
  let i = u;
  for (; i + 1 < end; i += 2) sum += (frame[i]! << 8) | frame[i + 1]!;
  if (i < end) sum += frame[i]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const c = ~sum & 0xffff || 0xffff;
  frame[u + 6] = c >> 8;
  frame[u + 7] = c & 0xff;
}

/** A copy of a UDP frame with its checksum cleared (0: none, valid over IPv4) so edits stay deliverable. */
export function withoutUdpChecksum(frame: Uint8Array): Uint8Array {
  const f = frame.slice();
  const ihl = (f[14]! & 0x0f) * 4;
  f[14 + ihl + 6] = 0;
  f[14 + ihl + 7] = 0;
  return f;
}
