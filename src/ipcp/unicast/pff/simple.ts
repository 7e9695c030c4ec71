/**
 * `simple` PFF policy (spec 12 §7.2, used with link-state SIMPLE): keeps only
 * the first fd per destination.
 * @module
 */
import type { Addr } from "../routing/graph.ts";
import type { Fd, FdRoute, Pff } from "./pff.ts";
import { Pft } from "./pft.ts";

/** Create an empty `simple` PFF. */
export function simplePff(): Pff {
  return new SimplePff();
}

/** Single next hop per destination. */
class SimplePff implements Pff {
  readonly policy = "simple" as const;
  #pft = new Pft();

  update(table: Iterable<FdRoute>): void {
    this.#pft.flush();
    for (const r of table) if (r.fds.length > 0) this.#pft.insert(r.dst, [r.fds[0]!]);
  }

  flush(): void {
    this.#pft.flush();
  }

  nextHop(dst: Addr): Fd | undefined {
    return this.#pft.lookup(dst)?.[0];
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
