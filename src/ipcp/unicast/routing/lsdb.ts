/**
 * The link-state database (spec 14 §1.3–1.5): neighbours, advertised
 * adjacencies with sequence numbers, the graph built from them, and the
 * flooding rules. Pure logic: LSUs go out through the injected `send`, time
 * comes in as arguments (monotonic milliseconds), nothing runs on its own —
 * {@link LinkState} (link_state.ts) schedules the periodic pass.
 *
 * Addresses are `number` (see graph.ts); an LSU from the wire whose u64
 * addresses exceed `Number.MAX_SAFE_INTEGER` must be dropped by the caller.
 * @module
 */
import type { Fd } from "../pff/pff.ts";
import { type Addr, Graph } from "./graph.ts";

/** A link-state update as plain values (the wire form is `Lsu` in wire/lsu.ts). */
export interface LinkUpdate {
  /** Advertising node. */
  src: Addr;
  /** Neighbour it has a link to. */
  dst: Addr;
  /** Sequence number of the (src, dst) link (u64). */
  seqno: bigint;
}

/** One adjacency in the database. */
export interface Adjacency extends LinkUpdate {
  /** Monotonic time (ms) it was added or last refreshed. */
  stampMs: number;
}

/** Kind of neighbour connection: data transfer (links) or management (LSUs). */
export type NeighbourType = "dt" | "mgmt";

/** A neighbour connection. */
export interface Neighbour {
  /** Neighbour's address (from its CEP). */
  addr: Addr;
  /** N−1 fd of the connection. */
  fd: Fd;
  /** DT or MGMT. */
  type: NeighbourType;
  /** DT only: the neighbour went silent (see {@link Lsdb.linkDown}). */
  down?: true;
}

/** Result of {@link Lsdb.addLink}. */
export type AddLinkResult = "new" | "refreshed" | "old";

/** Options of {@link Lsdb}. */
export interface LsdbOptions {
  /** Own address. */
  self: Addr;
  /** Remote links not refreshed for longer than this are removed (ms). */
  tTimeoMs: number;
  /** Send one LSU on a MGMT fd. Must not throw (log and drop on failure). */
  send(fd: Fd, lsu: LinkUpdate): void;
  /**
   * The topology changed. `urgent` (a new link) asks for an immediate
   * recalculation; otherwise the next periodic recalculation suffices.
   */
  onChange(urgent: boolean): void;
  /** Monotonic clock in ms (default `performance.now`), used for event stamps. */
  clock?: () => number;
}

const key = (src: Addr, dst: Addr) => `${src}:${dst}`;

/** Link-state database with its graph. */
export class Lsdb {
  /** The graph, updated with every new or removed adjacency. */
  readonly graph = new Graph();
  readonly #o: LsdbOptions;
  readonly #clock: () => number;
  #adj = new Map<string, Adjacency>();
  #nbrs: Neighbour[] = [];
  /** Last seqno of own links taken down, by neighbour (resumed from on the way up). */
  #downSeq = new Map<Addr, bigint>();

  /** An empty database. */
  constructor(opts: LsdbOptions) {
    this.#o = opts;
    this.#clock = opts.clock ?? (() => performance.now());
  }

  /** Own address. */
  get self(): Addr {
    return this.#o.self;
  }

  /** Adjacencies sorted by (dst, src), copies. */
  adjacencies(): Adjacency[] {
    return [...this.#adj.values()].map((a) => ({ ...a }))
      .sort((a, b) => a.dst - b.dst || a.src - b.src);
  }

  /** Neighbour connections, copies. */
  neighbours(): Neighbour[] {
    return this.#nbrs.map((n) => ({ ...n }));
  }

  /** The fd of the DT connection to `addr`, if any and not down (next-hop resolution). */
  dtFd(addr: Addr): Fd | undefined {
    return this.#nbrs.find((n) => n.type === "dt" && n.addr === addr && !n.down)?.fd;
  }

  /** The fd of the DT connection to `addr`, down or not. */
  dtFdAny(addr: Addr): Fd | undefined {
    return this.#nbrs.find((n) => n.type === "dt" && n.addr === addr)?.fd;
  }

  /**
   * The DT neighbour `addr` went silent: mark its connection down and remove
   * the own link (the graph edge becomes unusable). Nothing is flooded — the
   * reference has no withdrawal; remote nodes age the link out because it is
   * no longer refreshed. Returns whether anything changed.
   */
  linkDown(addr: Addr): boolean {
    const n = this.#nbrs.find((x) => x.type === "dt" && x.addr === addr);
    if (!n || n.down) return false;
    n.down = true;
    const a = this.#adj.get(key(this.self, addr));
    if (a) {
      this.#downSeq.set(addr, a.seqno);
      this.delLink(this.self, addr);
    }
    return true;
  }

  /**
   * The DT neighbour `addr` is heard again: clear the mark and announce the
   * own link with a seqno above the last one sent, so that nodes still
   * holding the old announcement take the new one. Returns whether anything
   * changed.
   */
  linkUp(addr: Addr): boolean {
    const n = this.#nbrs.find((x) => x.type === "dt" && x.addr === addr);
    if (!n?.down) return false;
    delete n.down;
    this.#announceOwn(addr);
    return true;
  }

  #announceOwn(addr: Addr): void {
    const last = this.#downSeq.get(addr);
    this.#downSeq.delete(addr);
    const cur = this.#adj.get(key(this.self, addr))?.seqno;
    const seqno = last === undefined && cur === undefined
      ? 0n
      : 1n + [last, cur].reduce<bigint>((m, x) => (x !== undefined && x > m ? x : m), -1n);
    this.#flood({ src: this.self, dst: addr, seqno });
    this.addLink(this.self, addr, seqno);
  }

  /**
   * Add or refresh (src, dst). A higher seqno refreshes seqno and stamp
   * ("refreshed", no graph change); a new link also updates the graph and asks
   * for an immediate recalculation ("new"); anything else is "old".
   */
  addLink(src: Addr, dst: Addr, seqno: bigint, nowMs = this.#clock()): AddLinkResult {
    const a = this.#adj.get(key(src, dst));
    if (a) {
      if (seqno <= a.seqno) return "old";
      a.seqno = seqno;
      a.stampMs = nowMs;
      return "refreshed";
    }
    this.#adj.set(key(src, dst), { src, dst, seqno, stampMs: nowMs });
    this.graph.updateEdge(src, dst);
    this.#o.onChange(true);
    return "new";
  }

  /** Remove (src, dst) and its graph edge; recalculated at the next period. */
  delLink(src: Addr, dst: Addr): boolean {
    if (!this.#adj.delete(key(src, dst))) return false;
    this.graph.delEdge(src, dst);
    this.#o.onChange(false);
    return true;
  }

  /**
   * DT_CONN_ADD: announce the link to all MGMT neighbours, then add it (seqno
   * 0, or above the last one if the link to `addr` went down before). A new
   * connection is alive: a down mark on an older one to `addr` is cleared.
   */
  dtConnAdd(addr: Addr, fd: Fd): void {
    this.#addNeighbour(addr, fd, "dt");
    const n = this.#nbrs.find((x) => x.type === "dt" && x.addr === addr)!;
    delete n.down;
    this.#announceOwn(addr);
  }

  /** DT_CONN_DEL: forget the link; remote nodes age it out (no withdrawal is sent). */
  dtConnDel(addr: Addr, fd: Fd): void {
    this.#delNeighbour(addr, fd, "dt");
    this.#downSeq.delete(addr);
    this.delLink(this.self, addr);
  }

  /** MGMT_CONN_ADD: add the neighbour and send it the entire database. */
  mgmtConnAdd(addr: Addr, fd: Fd): void {
    this.#addNeighbour(addr, fd, "mgmt");
    for (const a of this.adjacencies()) {
      this.#o.send(fd, { src: a.src, dst: a.dst, seqno: a.seqno });
    }
  }

  /** MGMT_CONN_DEL: drop the neighbour. */
  mgmtConnDel(addr: Addr, fd: Fd): void {
    this.#delNeighbour(addr, fd, "mgmt");
  }

  /**
   * An LSU arrived on MGMT fd `inFd`. If it is a new link or a higher seqno it
   * is flooded unchanged to every other MGMT neighbour and `true` is returned.
   * Self-links and address 0 (invalid) are dropped.
   */
  receive(inFd: Fd, lsu: LinkUpdate, nowMs = this.#clock()): boolean {
    if (lsu.src === lsu.dst || lsu.src === 0 || lsu.dst === 0) return false;
    if (this.addLink(lsu.src, lsu.dst, lsu.seqno, nowMs) === "old") return false;
    this.#flood(lsu, inFd);
    return true;
  }

  /**
   * The periodic pass (run at start and every t_update): remove remote links
   * older than t_timeo, re-advertise own links with seqno + 1. Two local
   * fixes over the reference: a timeout removal marks the tables for
   * recalculation, and an "own" link without a DT connection (an echo of a
   * previous incarnation learned from the network) is aged like a remote one
   * instead of being refreshed forever (so is one whose DT neighbour is
   * down).
   *
   * Keepalive (local addition, for neighbour liveness): when no own link was
   * re-advertised, every MGMT neighbour still gets one LSU it already knows
   * (dropped as old on arrival) — the own link to it if that went down, else
   * any adjacency — so that an idle link is not taken for a dead one.
   */
  update(nowMs = this.#clock()): void {
    let refreshed = 0;
    for (const a of this.adjacencies()) {
      if (nowMs > a.stampMs + this.#o.tTimeoMs) {
        this.delLink(a.src, a.dst);
      } else if (a.src === this.self && this.dtFd(a.dst) !== undefined) {
        const live = this.#adj.get(key(a.src, a.dst))!;
        live.seqno++;
        live.stampMs = nowMs;
        this.#flood({ src: live.src, dst: live.dst, seqno: live.seqno });
        refreshed++;
      }
    }
    if (refreshed === 0) this.#keepalive();
  }

  #keepalive(): void {
    const any = this.#adj.values().next().value;
    for (const n of this.#nbrs) {
      if (n.type !== "mgmt") continue;
      const seq = this.#downSeq.get(n.addr);
      if (seq !== undefined) this.#o.send(n.fd, { src: this.self, dst: n.addr, seqno: seq });
      else if (any) this.#o.send(n.fd, { src: any.src, dst: any.dst, seqno: any.seqno });
    }
  }

  #flood(lsu: LinkUpdate, exceptFd?: Fd): void {
    for (const n of this.#nbrs) {
      if (n.type === "mgmt" && n.fd !== exceptFd) this.#o.send(n.fd, { ...lsu });
    }
  }

  #addNeighbour(addr: Addr, fd: Fd, type: NeighbourType): void {
    const n = this.#nbrs.find((x) => x.addr === addr && x.type === type);
    if (n) n.fd = fd;
    else this.#nbrs.push({ addr, fd, type });
  }

  #delNeighbour(addr: Addr, fd: Fd, type: NeighbourType): void {
    this.#nbrs = this.#nbrs.filter((n) => !(n.addr === addr && n.fd === fd && n.type === type));
  }
}
