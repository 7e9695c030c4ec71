/**
 * Where each table and key of a TOML text sits, so that a config error
 * found after parsing can name its line. The TOML parser (smol-toml)
 * checks the syntax; this scanner only needs to follow headers
 * (`[t]`, `[[t]]`, `[[t.sub]]`) and `key =` lines, skipping strings,
 * comments and multi-line arrays. Paths use `#n` for the n-th element of
 * an array of tables: `peer#1.class#0.qos`.
 *
 * @example
 * ```ts
 * import { locateLines } from "./config_lines.ts";
 * const lines = locateLines('[interface]\nname = "t0"\n[[peer]]\nname = "b"\n');
 * console.log(lines.get("interface.name"), lines.get("peer#0.name")); // 2 4
 * ```
 * @module
 */

/** Strip a trailing comment and report the bracket depth change outside strings. */
function scan(line: string, state: { multi: string | undefined }): { code: string; depth: number } {
  let code = "";
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (state.multi) {
      if (line.startsWith(state.multi, i)) {
        i += 2;
        state.multi = undefined;
      }
      continue;
    }
    if (quote) {
      code += c;
      if (c === "\\" && quote === '"') {
        code += line[i + 1] ?? "";
        i++;
      } else if (c === quote) quote = undefined;
      continue;
    }
    if (line.startsWith('"""', i) || line.startsWith("'''", i)) {
      state.multi = line.slice(i, i + 3);
      code += '""';
      i += 2;
      continue;
    }
    if (c === "#") break;
    if (c === '"' || c === "'") quote = c;
    else if (c === "[" || c === "{") depth++;
    else if (c === "]" || c === "}") depth--;
    code += c;
  }
  return { code, depth };
}

/** Map of dotted paths (with `#n` array indexes) to 1-based line numbers. */
export function locateLines(source: string): Map<string, number> {
  const out = new Map<string, number>();
  const counts = new Map<string, number>();
  let table = "";
  let depth = 0;
  const state: { multi: string | undefined } = { multi: undefined };
  const lines = source.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const wasInside = depth > 0 || state.multi !== undefined;
    const { code, depth: d } = scan(lines[n]!, state);
    const t = code.trim();
    if (!wasInside && t.startsWith("[")) {
      const arr = t.startsWith("[[");
      const inner = arr ? t.slice(2, t.indexOf("]]")) : t.slice(1, t.indexOf("]"));
      const parts = inner.split(".").map((s) => s.trim().replace(/^["']|["']$/g, ""));
      // Resolve each parent to its latest array element.
      let path = "";
      for (let i = 0; i < parts.length; i++) {
        const base = path ? `${path}.${parts[i]}` : parts[i]!;
        const last = i === parts.length - 1;
        if (last && arr) {
          const k = counts.get(base) ?? 0;
          counts.set(base, k + 1);
          path = `${base}#${k}`;
        } else {
          const k = counts.get(base);
          path = k === undefined ? base : `${base}#${k - 1}`;
        }
      }
      table = path;
      out.set(table, n + 1);
      depth = 0;
      continue;
    }
    if (!wasInside) {
      const m = /^([A-Za-z0-9_\-."' ]+?)\s*=/.exec(t);
      if (m) {
        const key = m[1]!.split(".").map((s) => s.trim().replace(/^["']|["']$/g, "")).join(".");
        out.set(table ? `${table}.${key}` : key, n + 1);
      }
    }
    depth += d;
    if (depth < 0) depth = 0;
  }
  return out;
}
