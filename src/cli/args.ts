/**
 * A small, strict argument parser for the tools: exact option names, short
 * and long forms, typed values, clear errors.
 * @module
 */

/** A usage error: printed as one line, exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Declaration of one option. */
export interface OptSpec {
  short?: string;
  long: string;
  /** "flag" takes no value. */
  type: "flag" | "string" | "int" | "time" | "rate";
  help: string;
  default?: string | number | boolean;
  /** Placeholder in help. */
  arg?: string;
}

/** Parse a time with unit suffix (ms default, s, m, h, d) to ms. */
export function parseTimeMs(s: string, what: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)?$/.exec(s);
  if (!m) throw new UsageError(`${what}: "${s}" is not a time (e.g. 500, 500ms, 2s, 1m)`);
  const mult = { ms: 1, s: 1000, m: 60000, h: 3600000, d: 86400000 }[m[2] ?? "ms"]!;
  return Math.round(parseFloat(m[1]!) * mult);
}

/** Parse a rate with k/M/G suffix to bit/s. */
export function parseRate(s: string, what: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)([kMG])?$/.exec(s);
  if (!m) throw new UsageError(`${what}: "${s}" is not a rate (e.g. 100M, 1G, 500k)`);
  const mult = { k: 1e3, M: 1e6, G: 1e9 }[m[2] as "k" | "M" | "G"] ?? 1;
  return parseFloat(m[1]!) * mult;
}

/** Parse `argv` against `specs`. Returns values by long name plus positionals. */
export function parseArgs(
  argv: string[],
  specs: OptSpec[],
): { opts: Record<string, string | number | boolean | undefined>; rest: string[] } {
  const opts: Record<string, string | number | boolean | undefined> = {};
  for (const s of specs) opts[s.long] = s.default;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      rest.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith("-") || a === "-") {
      rest.push(a);
      continue;
    }
    let key = a;
    let inline: string | undefined;
    const eq = a.indexOf("=");
    if (a.startsWith("--") && eq > 0) (key = a.slice(0, eq), inline = a.slice(eq + 1));
    const spec = specs.find((s) => `--${s.long}` === key || (s.short && `-${s.short}` === key));
    if (!spec) throw new UsageError(`unknown option ${key}`);
    if (spec.type === "flag") {
      opts[spec.long] = true;
      continue;
    }
    const v = inline ?? argv[++i];
    if (v === undefined) throw new UsageError(`option ${key} needs a value`);
    switch (spec.type) {
      case "string":
        opts[spec.long] = v;
        break;
      case "int": {
        if (!/^-?[0-9]+$/.test(v)) throw new UsageError(`option ${key}: "${v}" is not a whole number`);
        opts[spec.long] = parseInt(v, 10);
        break;
      }
      case "time":
        opts[spec.long] = parseTimeMs(v, `option ${key}`);
        break;
      case "rate":
        opts[spec.long] = parseRate(v, `option ${key}`);
        break;
    }
  }
  return { opts, rest };
}

/** Help text for a tool. */
export function helpText(usage: string, about: string, specs: OptSpec[]): string {
  const lines = [`Usage: ${usage}`, "", about, "", "Options:"];
  for (const s of specs) {
    const flag = `${s.short ? `-${s.short}, ` : "    "}--${s.long}${s.type === "flag" ? "" : ` ${s.arg ?? s.type.toUpperCase()}`}`;
    const d = s.default === undefined || s.default === false ? "" : ` (default ${s.default})`;
    lines.push(`  ${flag.padEnd(30)} ${s.help}${d}`);
  }
  lines.push(`  ${"-h, --help".padEnd(30)} show this help`);
  return lines.join("\n");
}

/** Does argv ask for help? */
export function wantsHelp(argv: string[]): boolean {
  return argv.includes("-h") || argv.includes("--help");
}
