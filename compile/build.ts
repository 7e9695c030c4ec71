/**
 * `deno task compile`: build the single `ouro` executable into dist/.
 *
 * `deno compile` needs the `denort` runtime for the target: it downloads it,
 * or takes `$DENORT_BIN`. Where neither works this says so and exits 1.
 * @module
 */
const root = new URL("../", import.meta.url).pathname;
const out = Deno.env.get("OURO_OUT") ?? `${root}dist/ouro`;

// Workers and lazily imported commands must be named so they are embedded.
const includes: string[] = [];
for await (const dir of ["src", "bridges"]) {
  const walk = async (d: string) => {
    for await (const e of Deno.readDir(`${root}${d}`)) {
      const p = `${d}/${e.name}`;
      if (e.isDirectory) await walk(p);
      else if (/(_worker|worker)\.ts$/.test(e.name)) includes.push(p);
    }
  };
  await walk(dir).catch(() => {});
}

const args = [
  "compile", "-A", "--no-check", "--output", out,
  ...includes.flatMap((i) => ["--include", i]),
  "main.ts",
];
console.log(`deno ${args.join(" ")}`);
const r = await new Deno.Command(Deno.execPath(), { args, cwd: root, stdout: "inherit", stderr: "piped" }).output();
const err = new TextDecoder().decode(r.stderr);
if (r.code !== 0) {
  console.error(err);
  if (!Deno.env.get("DENORT_BIN") && /download|fetch|denort|dl\.deno\.land|network|dns/i.test(err)) {
    console.error(
      "compile: deno compile could not get the denort runtime (its download is blocked here).\n" +
        "Set DENORT_BIN to a denort binary of the same Deno version (2.9.5), or build where the\n" +
        "download works. Everything else runs from source: `deno task ouro <command>`.",
    );
  }
  Deno.exit(1);
}
console.log(`compile: built ${out}`);
