/**
 * The one place that picks a PFF policy.
 *
 * @example
 * ```ts
 * import { createPff } from "./factory.ts";
 * const pff = createPff("multipath");
 * pff.update([{ dst: 7, fds: [3, 4] }]);
 * pff.nextHop(7); // 3, then 4, then 3 …
 * ```
 * @module
 */
import { AlternatePff } from "./alternate.ts";
import { MultipathPff } from "./multipath.ts";
import type { Pff, PffPolicy } from "./pff.ts";
import { SimplePff } from "./simple.ts";

/** Create an empty PFF of the given policy. */
export function createPff(policy: PffPolicy): Pff {
  switch (policy) {
    case "simple":
      return new SimplePff();
    case "alternate":
      return new AlternatePff();
    case "multipath":
      return new MultipathPff();
  }
}
