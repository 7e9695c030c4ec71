/**
 * `multipath` PFF policy (spec 12 §7.4, used with link-state ECMP): keeps all
 * equal-cost next hops; each `nextHop` returns the first and rotates the list
 * left, spreading packets round robin over the paths.
 * @module
 */
import type { Addr } from "../routing/graph.ts";
import type { Fd, FdRoute, Pff } from "./pff.ts";
import { Pft } from "./pft.ts";

/** Create an empty `multipath` PFF. */
export function multipathPff(): Pff {
  return new MultipathPff();
}

/** Per-packet round robin over equal-cost next hops. */
class MultipathPff implements Pff {
  readonly policy = "multipath" as const;
  #pft = new Pft();

  update(table: Iterable<FdRoute>): void {
    this.#pft.flush();
    for (const r of table) if (r.fds.length > 0) this.#pft.insert(r.dst, r.fds);
  }

  flush(): void {
    this.#pft.flush();
  }

  nextHop(dst: Addr): Fd | undefined {
    const fds = this.#pft.lookup(dst);
    if (!fds) return undefined;
    const fd = fds[0]!;
    if (fds.length > 1) {
      fds.copyWithin(0, 1);
      fds[fds.length - 1] = fd;
    }
    return fd;
  }

  nextHops(dst: Addr): readonly Fd[] {
    return [...(this.#pft.lookup(dst) ?? [])];
  }

  flowDown(_fd: Fd): void {}

  flowUp(_fd: Fd): void {}

  entries(): FdRoute[] {
    return [...this.#pft.entries()].map(([dst, fds]) => ({ dst, fds }));
  }
}
