/**
 * Test harness: real `ouro irmd` daemons in temporary run directories, and
 * the CLI run as a user runs it.
 * @module
 */

/** Path of main.ts. */
export const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** Output of one CLI run. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `deno run -A main.ts …args`, optionally inside a network namespace. */
export function ouroCmd(args: string[], opts: { netns?: string; env?: Record<string, string>; stdin?: "piped" | "null" } = {}): Deno.Command {
  const base = [Deno.execPath(), "run", "-A", "--quiet", MAIN, ...args];
  const [cmd, ...rest] = opts.netns ? ["ip", "netns", "exec", opts.netns, ...base] : base;
  return new Deno.Command(cmd!, { args: rest, stdin: opts.stdin ?? "null", stdout: "piped", stderr: "piped", env: opts.env });
}

/** Run the CLI to completion. */
export async function ouro(args: string[], opts: { netns?: string; env?: Record<string, string>; input?: Uint8Array } = {}): Promise<RunResult> {
  const p = ouroCmd(args, { ...opts, stdin: opts.input ? "piped" : "null" }).spawn();
  if (opts.input) {
    const w = p.stdin.getWriter();
    await w.write(opts.input);
    await w.close();
  }
  const o = await p.output();
  const td = new TextDecoder();
  return { code: o.code, stdout: td.decode(o.stdout), stderr: td.decode(o.stderr) };
}

/** A long-running CLI process with its output collected. */
export class Proc {
  stdout = "";
  stderr = "";
  /** Raw stdout chunks (for binary output). */
  readonly stdoutChunks: Uint8Array[] = [];
  readonly status: Promise<Deno.CommandStatus>;
  #reads: Promise<void>[] = [];
  constructor(readonly child: Deno.ChildProcess) {
    const td = () => new TextDecoder();
    const pump = async (s: ReadableStream<Uint8Array>, k: "stdout" | "stderr") => {
      const d = td();
      for await (const c of s) {
        if (k === "stdout") this.stdoutChunks.push(c);
        this[k] += d.decode(c, { stream: true });
      }
    };
    this.#reads.push(pump(child.stdout, "stdout"), pump(child.stderr, "stderr"));
    this.status = child.status;
  }
  /** All stdout bytes. */
  stdoutBytes(): Uint8Array {
    const n = this.stdoutChunks.reduce((a, c) => a + c.length, 0);
    const out = new Uint8Array(n);
    let o = 0;
    for (const c of this.stdoutChunks) (out.set(c, o), o += c.length);
    return out;
  }
  get pid(): number {
    return this.child.pid;
  }
  /** Wait until stdout (or stderr) matches. */
  async waitFor(re: RegExp, ms = 10000, where: "stdout" | "stderr" = "stdout"): Promise<void> {
    const end = Date.now() + ms;
    while (!re.test(this[where])) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${re} in ${where}:\n${this.stdout}\n--- stderr ---\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  kill(sig: Deno.Signal = "SIGTERM"): void {
    try {
      this.child.kill(sig);
    } catch { /* gone */ }
  }
  /** Wait for exit and for the output to be read. */
  async done(): Promise<Deno.CommandStatus> {
    const s = await this.status;
    await Promise.all(this.#reads);
    return s;
  }
}

/** Spawn a long-running CLI process. */
export function spawn(args: string[], opts: { netns?: string; env?: Record<string, string> } = {}): Proc {
  return new Proc(ouroCmd(args, opts).spawn());
}

/** A daemon under test. */
export class TestDaemon {
  private constructor(readonly rundir: string, readonly proc: Proc, readonly netns?: string) {}

  /**
   * Start `ouro irmd` on a fresh temporary run directory. With `--config`,
   * wait until the file is applied (its bootstraps and enrollments done):
   * the daemon serves its socket from the start, before that.
   */
  static async start(opts: { args?: string[]; netns?: string; rundir?: string } = {}): Promise<TestDaemon> {
    const rundir = opts.rundir ?? await Deno.makeTempDir({ prefix: "ouro-test-" });
    const proc = spawn(["irmd", "--rundir", rundir, ...(opts.args ?? [])], { netns: opts.netns });
    const d = new TestDaemon(rundir, proc, opts.netns);
    await proc.waitFor(/daemon started/, 15000, "stderr");
    if (opts.args?.includes("--config")) await proc.waitFor(/Applied \d+ steps from/, 30000, "stderr");
    return d;
  }

  /** Run `ouro <args> --rundir <this>` (the rundir flag goes right after the command). */
  run(args: string[], input?: Uint8Array): Promise<RunResult> {
    return ouro(withRundir(args, this.rundir), { netns: this.netns, input });
  }

  /** `ouro irm …` against this daemon. */
  irm(...args: string[]): Promise<RunResult> {
    return ouro(["irm", "--rundir", this.rundir, ...args], { netns: this.netns });
  }

  /** Like run, but must exit 0. */
  async ok(args: string[]): Promise<RunResult> {
    const r = await this.run(args);
    if (r.code !== 0) throw new Error(`ouro ${args.join(" ")} failed (${r.code}):\n${r.stdout}\n${r.stderr}`);
    return r;
  }

  /** A long-running tool against this daemon. */
  spawn(args: string[]): Proc {
    return spawn(withRundir(args, this.rundir), { netns: this.netns });
  }

  /** SIGTERM and wait; removes the run directory unless `keep`. */
  async stop(keep = false): Promise<Deno.CommandStatus> {
    this.proc.kill("SIGTERM");
    const s = await this.proc.done();
    if (!keep) await Deno.remove(this.rundir, { recursive: true }).catch(() => {});
    return s;
  }
}

function withRundir(args: string[], rundir: string): string[] {
  const [cmd, ...rest] = args;
  return cmd === "irm" ? ["irm", "--rundir", rundir, ...rest] : [cmd!, "--rundir", rundir, ...rest];
}

/** sha256 hex of bytes. */
export async function sha256(b: Uint8Array): Promise<string> {
  const h = new Uint8Array(await crypto.subtle.digest("SHA-256", b as Uint8Array<ArrayBuffer>));
  return Array.from(h).map((x) => x.toString(16).padStart(2, "0")).join("");
}
