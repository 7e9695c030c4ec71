/**
 * Benchmark helpers: percentiles, tables, spawning the daemon and tools.
 * @module
 */
export const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** Value at quantile q (0..1) of sorted samples. */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

/** Median and p99 in µs of samples in ms. */
export function summary(ms: number[]): { medianUs: number; p99Us: number; n: number } {
  const s = [...ms].sort((a, b) => a - b);
  return { medianUs: quantile(s, 0.5) * 1000, p99Us: quantile(s, 0.99) * 1000, n: s.length };
}

/** Print a table with aligned columns. */
export function printTable(title: string, headers: string[], rows: (string | number)[][]): void {
  const w = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  console.log(`\n${title}`);
  console.log(headers.map((h, i) => h.padEnd(w[i]!)).join("  "));
  console.log(w.map((n) => "-".repeat(n)).join("  "));
  for (const r of rows) console.log(r.map((c, i) => (typeof c === "number" ? String(c).padStart(w[i]!) : String(c).padEnd(w[i]!))).join("  "));
}

/** Spawn `ouro …` with stdio piped (stderr inherited when verbose). */
export function ouroSpawn(args: string[], netns?: string): Deno.ChildProcess {
  const base = [Deno.execPath(), "run", "-A", "--quiet", MAIN, ...args];
  const [cmd, ...rest] = netns ? ["ip", "netns", "exec", netns, ...base] : base;
  return new Deno.Command(cmd!, { args: rest, stdout: "piped", stderr: "piped", stdin: "null" }).spawn();
}

/** Run `ouro …` to completion and return stdout. */
export async function ouroRun(args: string[], netns?: string): Promise<string> {
  const o = await ouroSpawn(args, netns).output();
  const out = new TextDecoder().decode(o.stdout);
  if (o.code !== 0) throw new Error(`ouro ${args.join(" ")} failed: ${new TextDecoder().decode(o.stderr)}${out}`);
  return out;
}

/** Wait until a file exists. */
export async function waitFile(path: string, ms = 15000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      await Deno.stat(path);
      return;
    } catch {
      if (Date.now() > end) throw new Error(`timed out waiting for ${path}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** Read a child's stdout until `re` matches. */
export async function waitOutput(child: Deno.ChildProcess, re: RegExp, ms = 15000): Promise<void> {
  const reader = child.stdout.getReader();
  const td = new TextDecoder();
  let buf = "";
  const end = Date.now() + ms;
  try {
    while (!re.test(buf)) {
      const t = end - Date.now();
      if (t <= 0) throw new Error(`timed out waiting for ${re}: ${buf}`);
      const r = await Promise.race([reader.read(), new Promise<null>((res) => setTimeout(() => res(null), t))]);
      if (r === null || r.done) throw new Error(`no ${re} in output: ${buf}`);
      buf += td.decode(r.value);
    }
  } finally {
    reader.releaseLock();
  }
  // keep draining so the child never blocks on a full pipe
  child.stdout.pipeTo(new WritableStream()).catch(() => {});
}

/** Stop a child with SIGTERM and wait. */
export async function stop(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGTERM");
  } catch { /* gone */ }
  await child.status;
  await child.stderr.cancel().catch(() => {});
}
