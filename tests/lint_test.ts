/**
 * The code base's standing checks, run with the suite: the public API is
 * documented (`deno doc --lint mod.ts`), the linter is clean, and every
 * entry point type-checks.
 */
import { assertEquals } from "./util/assert.ts";

const root = new URL("../", import.meta.url).pathname;

async function deno(args: string[]): Promise<{ code: number; out: string }> {
  const o = await new Deno.Command(Deno.execPath(), { args, cwd: root, stdout: "piped", stderr: "piped", env: { NO_COLOR: "1" } })
    .output();
  return { code: o.code, out: new TextDecoder().decode(o.stdout) + new TextDecoder().decode(o.stderr) };
}

Deno.test("lint: every export of mod.ts is documented", async () => {
  const r = await deno(["doc", "--lint", "mod.ts"]);
  assertEquals(r.code, 0, r.out);
});

Deno.test("lint: deno lint finds nothing", async () => {
  const r = await deno(["lint", "--quiet"]);
  assertEquals(r.code, 0, r.out);
});

Deno.test("lint: main.ts, mod.ts and the benchmarks type-check", async () => {
  const r = await deno(["check", "main.ts", "mod.ts", "bench/main.ts", "src/tunnel/cli.ts"]);
  assertEquals(r.code, 0, r.out);
});
