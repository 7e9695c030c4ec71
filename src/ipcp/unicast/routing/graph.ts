/**
 * The link-state graph (spec 14 §2): vertices are unicast addresses, edges are
 * directed and carry an `announced` counter. `updateEdge(s, d)` bumps the
 * counter of **both** s→d and d→s, so a link is usable only once both ends
 * advertised it (`announced == 2`); Dijkstra only relaxes usable edges.
 *
 * Addresses are plain `number`s: unicast addresses are `addr_size` bytes
 * (4 by default, the only size flat-random address authority supports), so
 * they always fit; callers converting a u64 from the wire must reject values
 * above `Number.MAX_SAFE_INTEGER`.
 *
 * @example
 * ```ts
 * import { Graph } from "./graph.ts";
 * const g = new Graph();
 * g.updateEdge(1, 2); g.updateEdge(2, 1);
 * g.shortestPaths(1).distance(2); // 1
 * ```
 * @module
 */

/** A unicast address (≤ 4 bytes in practice; always a safe integer). */
export type Addr = number;

/** One row of a routing table: a destination and its next hops, best first. */
export interface RouteEntry {
  /** Destination address. */
  dst: Addr;
  /** Next-hop addresses (neighbours of the source), primary first. */
  nhops: Addr[];
}

/** A routing table: one entry per reachable destination, ascending `dst`. */
export type RoutingTable = RouteEntry[];

/** A directed edge as seen from outside (for the RIB and tests). */
export interface EdgeInfo {
  /** Source vertex. */
  src: Addr;
  /** Destination vertex. */
  dst: Addr;
  /** How many of the two ends announced the link (1 or 2). */
  announced: number;
}

/** Announcement count at which an edge is usable (both ends advertised it). */
export const EDGE_USABLE = 2;

interface Edge {
  to: Addr;
  announced: number;
}

/** Dense, immutable view of the graph used by Dijkstra (rebuilt after changes). */
interface Snapshot {
  /** Vertex addresses, ascending; the index is the vertex number. */
  addrs: Addr[];
  index: Map<Addr, number>;
  /** Usable out-edges per vertex, as vertex indices, most recently added first. */
  adj: number[][];
}

/** Result of one Dijkstra run from `src`. */
export class ShortestPaths {
  /** @internal */
  constructor(
    /** The source address. */
    readonly src: Addr,
    private readonly snap: Snapshot,
    private readonly dist: Float64Array,
    private readonly nhop: Int32Array,
  ) {}

  /** Hop count from the source to `dst` (`Infinity` if unreachable or unknown). */
  distance(dst: Addr): number {
    const i = this.snap.index.get(dst);
    return i === undefined ? Infinity : this.dist[i]!;
  }

  /** First hop on the shortest path to `dst`, or `undefined`. */
  nextHop(dst: Addr): Addr | undefined {
    const i = this.snap.index.get(dst);
    if (i === undefined) return undefined;
    const n = this.nhop[i]!;
    return n < 0 ? undefined : this.snap.addrs[n];
  }

  /** Reachable destinations other than the source, ascending. */
  reachable(): Addr[] {
    const out: Addr[] = [];
    for (let i = 0; i < this.snap.addrs.length; i++) {
      if (this.nhop[i]! >= 0) out.push(this.snap.addrs[i]!);
    }
    return out;
  }
}

/** The directed link-state graph. */
export class Graph {
  /** Out-edges per vertex, most recently added first (affects tie-breaking). */
  #out = new Map<Addr, Edge[]>();
  #snap: Snapshot | undefined;

  /** Number of vertices. */
  get size(): number {
    return this.#out.size;
  }

  /** Vertex addresses, ascending. */
  vertices(): Addr[] {
    return [...this.#out.keys()].sort((a, b) => a - b);
  }

  /** All directed edges (for the RIB and tests), by source then insertion order. */
  edges(): EdgeInfo[] {
    const out: EdgeInfo[] = [];
    for (const src of this.vertices()) {
      for (const e of this.#out.get(src)!) out.push({ src, dst: e.to, announced: e.announced });
    }
    return out;
  }

  /** Neighbours of `v` over any edge (usable or not), most recently added first. */
  neighbours(v: Addr): Addr[] {
    return (this.#out.get(v) ?? []).map((e) => e.to);
  }

  /** Neighbours of `v` over usable edges only, most recently added first. */
  usableNeighbours(v: Addr): Addr[] {
    return (this.#out.get(v) ?? []).filter((e) => e.announced >= EDGE_USABLE).map((e) => e.to);
  }

  /** Whether s→d exists and both ends announced it. */
  isUsable(s: Addr, d: Addr): boolean {
    return (this.#out.get(s)?.find((e) => e.to === d)?.announced ?? 0) >= EDGE_USABLE;
  }

  /**
   * Record that `s` announced a link to `d`: creates the vertices if needed and
   * increments the counters of both s→d and d→s.
   */
  updateEdge(s: Addr, d: Addr): void {
    if (s === d) throw new RangeError(`Cannot add edge: ${s} links to itself`);
    this.#bump(s, d, 1);
    this.#bump(d, s, 1);
    this.#snap = undefined;
  }

  /**
   * Withdraw `s`'s announcement of `d`: decrements both counters, removing an
   * edge at 0 and a vertex left without edges. Unknown edges are ignored.
   */
  delEdge(s: Addr, d: Addr): void {
    if (!this.#out.get(s)?.some((e) => e.to === d)) return;
    this.#bump(s, d, -1);
    this.#bump(d, s, -1);
    this.#snap = undefined;
  }

  #bump(s: Addr, d: Addr, by: number): void {
    let list = this.#out.get(s);
    if (!list) this.#out.set(s, list = []);
    const i = list.findIndex((e) => e.to === d);
    if (i < 0) {
      if (by > 0) list.unshift({ to: d, announced: by });
    } else {
      const e = list[i]!;
      e.announced += by;
      if (e.announced <= 0) list.splice(i, 1);
    }
    if (list.length === 0) this.#out.delete(s);
  }

  #snapshot(): Snapshot {
    if (this.#snap) return this.#snap;
    const addrs = this.vertices();
    const index = new Map(addrs.map((a, i) => [a, i]));
    const adj = addrs.map((a) =>
      this.#out.get(a)!.filter((e) => e.announced >= EDGE_USABLE).map((e) => index.get(e.to)!)
    );
    return this.#snap = { addrs, index, adj };
  }

  /**
   * Dijkstra from `src` with unit weights over usable edges. The next vertex is
   * the unvisited one with the smallest distance, ties to the lowest address;
   * relaxation is strict `<`, edges in most-recently-added-first order, so of
   * equal-cost paths the first one found wins (the reference's tie-breaking).
   */
  shortestPaths(src: Addr): ShortestPaths {
    const snap = this.#snapshot();
    const n = snap.addrs.length;
    const dist = new Float64Array(n).fill(Infinity);
    const nhop = new Int32Array(n).fill(-1);
    const s = snap.index.get(src);
    if (s === undefined) return new ShortestPaths(src, snap, dist, nhop);
    const heap = new MinHeap();
    dist[s] = 0;
    heap.push(0, s);
    const used = new Uint8Array(n);
    for (let top = heap.pop(); top !== undefined; top = heap.pop()) {
      const v = top;
      if (used[v]) continue;
      used[v] = 1;
      const dv = dist[v]! + 1;
      for (const w of snap.adj[v]!) {
        if (dv < dist[w]!) {
          dist[w] = dv;
          nhop[w] = v === s ? w : nhop[v]!;
          heap.push(dv, w);
        }
      }
    }
    return new ShortestPaths(src, snap, dist, nhop);
  }
}

/**
 * Binary min-heap of (distance, vertex index) ordered by distance, then index.
 * Popping in this order with lazy deletion visits vertices exactly as the
 * reference's linear "minimum distance, lowest index" scan does.
 */
class MinHeap {
  #d: number[] = [];
  #v: number[] = [];

  push(d: number, v: number): void {
    const D = this.#d, V = this.#v;
    let i = D.length;
    D.push(d);
    V.push(v);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(d, v, D[p]!, V[p]!)) break;
      D[i] = D[p]!;
      V[i] = V[p]!;
      i = p;
    }
    D[i] = d;
    V[i] = v;
  }

  /** Pop the minimum's vertex index, or `undefined` when empty. */
  pop(): number | undefined {
    const D = this.#d, V = this.#v;
    if (D.length === 0) return undefined;
    const top = V[0]!;
    const d = D.pop()!, v = V.pop()!;
    const n = D.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && less(D[r]!, V[r]!, D[l]!, V[l]!) ? r : l;
        if (!less(D[c]!, V[c]!, d, v)) break;
        D[i] = D[c]!;
        V[i] = V[c]!;
        i = c;
      }
      D[i] = d;
      V[i] = v;
    }
    return top;
  }
}

function less(d1: number, v1: number, d2: number, v2: number): boolean {
  return d1 < d2 || (d1 === d2 && v1 < v2);
}
