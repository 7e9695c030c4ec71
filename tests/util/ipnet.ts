/**
 * Ordinary IP traffic inside test namespaces: shell commands, kernel ping,
 * and a TCP transfer with a hash check — used by the tunnel tests.
 * @module
 */
import { assertEquals } from "./assert.ts";
import { Proc, sha256 } from "./daemon.ts";

const td = new TextDecoder();

/** Run a command, inside namespace `ns` if given. */
export async function sh(args: string[], ns?: string): Promise<{ code: number; out: string; err: string }> {
  const [cmd, ...rest] = ns ? ["ip", "netns", "exec", ns, ...args] : args;
  const o = await new Deno.Command(cmd!, { args: rest, stdout: "piped", stderr: "piped" }).output();
  return { code: o.code, out: td.decode(o.stdout), err: td.decode(o.stderr) };
}

/** Kernel `ping` from `ns`; whether it answered and the average RTT. */
export async function ping(ns: string, dst: string, count = 3): Promise<{ ok: boolean; avgMs: number; out: string }> {
  const r = await sh(["ping", "-c", String(count), "-i", "0.05", "-W", "2", "-q", dst], ns);
  const m = /= [\d.]+\/([\d.]+)\//.exec(r.out);
  return { ok: r.code === 0, avgMs: m ? Number(m[1]) : NaN, out: r.out + r.err };
}

/** Ping until the first answer (the first packet may wait for a flow); ms taken. */
export async function pingUntil(ns: string, dst: string, ms: number): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if ((await sh(["ping", "-c", "1", "-W", "1", dst], ns)).code === 0) return Date.now() - t0;
  }
  throw new Error(`no answer from ${dst} within ${ms} ms`);
}

const SERVER = `
const l = Deno.listen({ hostname: Deno.args[0], port: 7000 });
console.log("listening");
const c = await l.accept();
const parts = []; let n = 0;
for await (const b of c.readable) { parts.push(b); n += b.length; }
const all = new Uint8Array(n); let at = 0;
for (const p of parts) { all.set(p, at); at += p.length; }
const h = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
console.log(n, Array.from(h).map((x) => x.toString(16).padStart(2, "0")).join(""));
`;
const CLIENT = `
const n = Number(Deno.args[1]); const data = new Uint8Array(n); let x = 7;
for (let i = 0; i < n; i++) { x = (x * 1103515245 + 12345) >>> 0; data[i] = x >>> 24; }
const c = await Deno.connect({ hostname: Deno.args[0], port: 7000 });
const t0 = performance.now();
const w = c.writable.getWriter(); await w.write(data); await w.close();
console.log(((performance.now() - t0) / 1000).toFixed(3));
`;

/**
 * TCP from `fromNs` to `toIp` (in `toNs`): `size` pseudo-random bytes; the
 * receiver's count and SHA-256 must match. Returns Mbit/s (sender-side time).
 */
export async function transfer(fromNs: string, toNs: string, toIp: string, size: number): Promise<number> {
  const server = new Proc(
    new Deno.Command("ip", {
      args: ["netns", "exec", toNs, Deno.execPath(), "eval", SERVER, toIp],
      stdout: "piped",
      stderr: "piped",
    }).spawn(),
  );
  await server.waitFor(/listening/);
  const client = await sh([Deno.execPath(), "eval", CLIENT, toIp, String(size)], fromNs);
  assertEquals(client.code, 0, client.err);
  await server.done();
  const [got, hash] = server.stdout.trim().split("\n").pop()!.split(" ");
  const data = new Uint8Array(size);
  let x = 7;
  for (let i = 0; i < size; i++) (x = (x * 1103515245 + 12345) >>> 0, data[i] = x >>> 24);
  assertEquals(Number(got), size);
  assertEquals(hash, await sha256(data));
  return size * 8 / Number(client.out.trim()) / 1e6;
}
