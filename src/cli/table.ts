/**
 * Plain-text tables for the list commands.
 * @module
 */

/** Render rows as a boxed table; numbers right-aligned. */
export function table(headers: string[], rows: (string | number)[][]): string {
  const w = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i] ?? "").length)));
  const sep = "+" + w.map((n) => "-".repeat(n + 2)).join("+") + "+";
  const line = (cells: (string | number)[], head = false) =>
    "|" + cells.map((c, i) => {
      const s = String(c ?? "");
      return " " + (typeof c === "number" && !head ? s.padStart(w[i]!) : s.padEnd(w[i]!)) + " ";
    }).join("|") + "|";
  return [sep, line(headers, true), sep, ...rows.map((r) => line(r)), sep].join("\n");
}
