import { assert, assertEquals, assertThrows } from "../../../../tests/util/assert.ts";
import { ecmpTable } from "./ecmp.ts";
import { type Addr, Graph, type RoutingTable } from "./graph.ts";
import { lfaTable } from "./lfa.ts";
import { simpleTable } from "./simple.ts";

/** Link both directions, as graph_test.c does. */
function link(g: Graph, a: Addr, b: Addr): void {
  g.updateEdge(a, b);
  g.updateEdge(b, a);
}

const first = (t: RoutingTable) => Object.fromEntries(t.map((e) => [e.dst, e.nhops[0]]));

Deno.test("graph: spec 14 §3.1 graph_test scenario", () => {
  const g = new Graph(); // 1. create empty
  assertEquals(g.size, 0);
  assertEquals(simpleTable(g, 1), []);

  link(g, 1, 2); // 2.
  assertEquals(simpleTable(g, 1), [{ dst: 2, nhops: [2] }]);

  link(g, 2, 3); // 3.
  assertEquals(simpleTable(g, 1), [{ dst: 2, nhops: [2] }, { dst: 3, nhops: [2] }]);

  g.delEdge(2, 3); // 4.
  g.delEdge(3, 2);
  assertEquals(simpleTable(g, 1).length, 1);
  assertEquals(g.vertices(), [1, 2]);

  link(g, 2, 3); // 5.
  link(g, 1, 3);
  assertEquals(simpleTable(g, 1).length, 2);

  link(g, 3, 4); // 6.
  link(g, 4, 5);
  assertEquals(simpleTable(g, 1).length, 4);

  link(g, 2, 6); // 7.
  link(g, 6, 7);
  link(g, 3, 7);
  const want = { 2: 2, 3: 3, 4: 3, 5: 3, 6: 2, 7: 3 };
  for (
    const [name, algo] of [["simple", simpleTable], ["lfa", lfaTable], ["ecmp", ecmpTable]] as const
  ) {
    const t = algo(g, 1);
    assertEquals(t.length, 6, name);
    assertEquals(first(t), want, name);
  }
});

Deno.test("graph: a link is usable only when both ends announced it", () => {
  const g = new Graph();
  g.updateEdge(1, 2);
  assertEquals(g.edges(), [{ src: 1, dst: 2, announced: 1 }, { src: 2, dst: 1, announced: 1 }]);
  assert(!g.isUsable(1, 2));
  assertEquals(simpleTable(g, 1), []);
  g.updateEdge(2, 1);
  assert(g.isUsable(1, 2) && g.isUsable(2, 1));
  assertEquals(simpleTable(g, 1), [{ dst: 2, nhops: [2] }]);
  g.delEdge(1, 2); // one end withdraws: unusable again, vertices stay
  assertEquals(g.vertices(), [1, 2]);
  assertEquals(simpleTable(g, 1), []);
  g.delEdge(2, 1);
  assertEquals(g.size, 0);
  g.delEdge(7, 8); // unknown: ignored
  assertThrows(() => g.updateEdge(3, 3), RangeError);
});

Deno.test("graph: equal-cost tie goes to the first path found (lowest address visited first)", () => {
  // Square 1-2-4, 1-3-4: vertex 2 is settled before 3, so 4 is reached via 2.
  const g = new Graph();
  link(g, 1, 3);
  link(g, 1, 2);
  link(g, 3, 4);
  link(g, 2, 4);
  const sp = g.shortestPaths(1);
  assertEquals(sp.distance(4), 2);
  assertEquals(sp.nextHop(4), 2);
  assertEquals(sp.distance(99), Infinity);
  assertEquals(sp.nextHop(1), undefined);
  // Renumbering: addresses far apart still sort numerically.
  const h = new Graph();
  link(h, 1, 0xffffffff);
  link(h, 1, 10);
  link(h, 10, 500);
  link(h, 0xffffffff, 500);
  assertEquals(h.vertices(), [1, 10, 500, 0xffffffff]);
  assertEquals(h.shortestPaths(1).nextHop(500), 10);
});

Deno.test("graph: ECMP lists every equal-cost next hop in neighbour order", () => {
  const g = new Graph();
  link(g, 1, 2);
  link(g, 1, 3);
  link(g, 2, 4);
  link(g, 3, 4);
  link(g, 4, 5);
  const t = ecmpTable(g, 1);
  // Neighbours of 1, most recently linked first: 3, 2.
  assertEquals(t, [
    { dst: 2, nhops: [2] },
    { dst: 3, nhops: [3] },
    { dst: 4, nhops: [3, 2] },
    { dst: 5, nhops: [3, 2] },
  ]);
  // A half-announced neighbour is never a next hop.
  g.updateEdge(1, 6);
  g.updateEdge(6, 4);
  g.updateEdge(4, 6);
  assertEquals(ecmpTable(g, 1).find((e) => e.dst === 4)!.nhops, [3, 2]);
});

Deno.test("graph: LFA adds loop-free alternates after the primary", () => {
  // Ring 1-2-3-4-1 plus 1-5 (stub).
  const g = new Graph();
  link(g, 1, 2);
  link(g, 2, 3);
  link(g, 3, 4);
  link(g, 4, 1);
  link(g, 1, 5);
  const t = Object.fromEntries(lfaTable(g, 1).map((e) => [e.dst, e.nhops]));
  // dst 2: primary 2; 4 is not an LFA: d4(2) = 2 is not < d1(4) + d1(2) = 2.
  assertEquals(t[2], [2]);
  // dst 3 (distance 2, primary 2 by tie-break): 4 has d4(3)=1 < 1+2 → alternate.
  assertEquals(t[3], [2, 4]);
  assertEquals(t[4], [4]);
  // Stub 5: no alternates (any other neighbour reaches 5 only through 1).
  assertEquals(t[5], [5]);
  // Triangle: each neighbour is the other's alternate.
  const tri = new Graph();
  link(tri, 1, 2);
  link(tri, 2, 3);
  link(tri, 1, 3);
  assertEquals(lfaTable(tri, 1), [{ dst: 2, nhops: [2, 3] }, { dst: 3, nhops: [3, 2] }]);
});

Deno.test("graph: unknown source or single vertex gives an empty table", () => {
  const g = new Graph();
  link(g, 2, 3);
  assertEquals(simpleTable(g, 1), []);
  assertEquals(lfaTable(g, 1), []);
  assertEquals(ecmpTable(g, 1), []);
});

/** The reference's O(V²) scan: min distance, ties to the lowest index. */
function naiveNextHops(g: Graph, src: Addr): Map<Addr, Addr> {
  const vs = g.vertices();
  const dist = new Map(vs.map((v) => [v, Infinity]));
  const nhop = new Map<Addr, Addr>();
  const used = new Set<Addr>();
  dist.set(src, 0);
  for (;;) {
    let v: Addr | undefined;
    for (const x of vs) {
      if (!used.has(x) && dist.get(x)! < (v === undefined ? Infinity : dist.get(v)!)) v = x;
    }
    if (v === undefined) break;
    used.add(v);
    for (const w of g.usableNeighbours(v)) {
      if (dist.get(v)! + 1 < dist.get(w)!) {
        dist.set(w, dist.get(v)! + 1);
        nhop.set(w, v === src ? w : nhop.get(v)!);
      }
    }
  }
  return nhop;
}

Deno.test("graph: heap Dijkstra matches the reference's linear scan on random graphs", () => {
  let seed = 12345;
  const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
  for (let round = 0; round < 200; round++) {
    const g = new Graph();
    const n = 3 + rnd(25);
    const links = n + rnd(3 * n);
    for (let i = 0; i < links; i++) {
      const a = 1 + rnd(n), b = 1 + rnd(n);
      if (a === b || g.isUsable(a, b)) continue;
      g.updateEdge(a, b);
      if (rnd(8) !== 0) g.updateEdge(b, a); // some links stay half-announced
    }
    const src = g.vertices()[0];
    if (src === undefined) continue;
    const sp = g.shortestPaths(src);
    const want = naiveNextHops(g, src);
    assertEquals(new Map(sp.reachable().map((d) => [d, sp.nextHop(d)!])), want, `round ${round}`);
  }
});
