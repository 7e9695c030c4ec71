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
import { alternatePff } from "./alternate.ts";
import { multipathPff } from "./multipath.ts";
import type { Pff, PffPolicy } from "./pff.ts";
import { simplePff } from "./simple.ts";

/** Create an empty PFF of the given policy. */
export function createPff(policy: PffPolicy): Pff {
  switch (policy) {
    case "simple":
      return simplePff();
    case "alternate":
      return alternatePff();
    case "multipath":
      return multipathPff();
  }
}
