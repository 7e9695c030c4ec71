/**
 * `alternate` PFF policy (spec 12 §7.3, used with link-state LFA): per
 * destination `[primary, alternates…]` plus the saved primary. When a flow
 * goes down, every destination currently using it swaps in its first
 * alternate that is not down; when it comes back up, destinations whose
 * saved primary it is swap it back into first place. `update`/`flush` forget
 * the down set (the next routing recalculation starts afresh).
 * @module
 */
import type { Addr } from "../routing/graph.ts";
import type { Fd, FdRoute, Pff } from "./pff.ts";
import { Pft } from "./pft.ts";

/** Create an empty `alternate` PFF. */
export function alternatePff(): Pff {
  return new AlternatePff();
}

/** Primary next hop with loop-free alternates, switched on flow up/down. */
class AlternatePff implements Pff {
  readonly policy = "alternate" as const;
  #pft = new Pft();
  /** Saved primary per destination (the reference's extra trailing slot). */
  #primary = new Map<Addr, Fd>();
  #down = new Set<Fd>();

  update(table: Iterable<FdRoute>): void {
    this.flush();
    for (const r of table) {
      if (r.fds.length === 0 || !this.#pft.insert(r.dst, r.fds)) continue;
      this.#primary.set(r.dst, r.fds[0]!);
    }
  }

  flush(): void {
    this.#pft.flush();
    this.#primary.clear();
    this.#down.clear();
  }

  nextHop(dst: Addr): Fd | undefined {
    return this.#pft.lookup(dst)?.[0];
  }

  nextHops(dst: Addr): readonly Fd[] {
    return [...(this.#pft.lookup(dst) ?? [])];
  }

  flowDown(fd: Fd): void {
    this.#down.add(fd);
    for (const dst of this.#primary.keys()) {
      const fds = this.#pft.lookup(dst)!;
      if (fds[0] !== fd) continue;
      const i = fds.findIndex((f, j) => j > 0 && !this.#down.has(f));
      if (i > 0) swap(fds, 0, i);
    }
  }

  flowUp(fd: Fd): void {
    this.#down.delete(fd);
    for (const [dst, primary] of this.#primary) {
      if (primary !== fd) continue;
      const fds = this.#pft.lookup(dst)!;
      if (fds[0] === fd) continue;
      const i = fds.indexOf(fd);
      if (i > 0) swap(fds, 0, i);
    }
  }

  entries(): FdRoute[] {
    return [...this.#pft.entries()].map(([dst, fds]) => ({ dst, fds }));
  }
}

function swap(a: Fd[], i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}
