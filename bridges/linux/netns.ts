/**
 * Test support: run device code inside a throw-away network namespace.
 *
 * How: the test process stays in the root namespace; it creates
 * `ouro-tun-<pid>-<n>` with `ip netns add`, then spawns a Deno subprocess
 * under `ip netns exec` that runs one scenario (`netns_scenarios.ts`) and
 * exits non-zero on failure; the namespace is deleted afterwards whatever
 * happened. A subprocess rather than `setns(2)` through FFI because setns
 * moves only the calling thread, while Deno runs I/O (sockets, child
 * processes) on other threads, which would stay in the root namespace.
 * @module
 */

let counter = 0;

/** Why namespace tests cannot run here, or undefined if they can. */
export async function netnsUnavailable(): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return "not Linux";
  try {
    await Deno.stat("/dev/net/tun");
  } catch {
    return "no /dev/net/tun";
  }
  if (Deno.uid?.() !== 0) return "not root";
  try {
    const r = await new Deno.Command("ip", { args: ["-V"], stdout: "null", stderr: "null" })
      .output();
    if (!r.success) return "ip(8) fails";
  } catch {
    return "no ip(8) (iproute2)";
  }
  return undefined;
}

/** Is `ping` installed? */
export async function havePing(): Promise<boolean> {
  try {
    await new Deno.Command("ping", { args: ["-V"], stdout: "null", stderr: "null" }).output();
    return true;
  } catch {
    return false;
  }
}

async function ip(args: string[]): Promise<void> {
  const r = await new Deno.Command("ip", { args, stdout: "null", stderr: "piped" }).output();
  if (!r.success) {
    throw new Error(`Cannot run ip ${args.join(" ")}: ${new TextDecoder().decode(r.stderr)}`);
  }
}

/** Create a namespace (loopback up), run `fn` with its name, delete it. */
export async function withNetns<T>(fn: (ns: string) => Promise<T>): Promise<T> {
  const ns = `ouro-tun-${Deno.pid}-${counter++}`;
  await ip(["netns", "add", ns]);
  try {
    await ip(["-n", ns, "link", "set", "lo", "up"]);
    return await fn(ns);
  } finally {
    await ip(["netns", "delete", ns]);
  }
}

/** Output of a subprocess run in a namespace. */
export interface NetnsRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Run a Deno script (all permissions) inside namespace `ns`, optionally
 * behind a wrapper command (e.g. `["setpriv", "--bounding-set=-all", "--"]`).
 */
export async function runDenoInNetns(
  ns: string,
  script: URL,
  args: string[],
  timeoutMs = 60_000,
  wrapper: string[] = [],
): Promise<NetnsRun> {
  const deno = [Deno.execPath(), "run", "-A", "--unstable-net", "--quiet", script.pathname];
  const cmd = new Deno.Command("ip", {
    args: ["netns", "exec", ns, ...wrapper, ...deno, ...args],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(timeoutMs),
  });
  const r = await cmd.output();
  return {
    code: r.code,
    stdout: new TextDecoder().decode(r.stdout),
    stderr: new TextDecoder().decode(r.stderr),
  };
}
