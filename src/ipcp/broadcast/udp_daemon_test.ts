/**
 * Real daemons: three `ouro irmd` processes, each with a udp4 IPCP on
 * 127.0.0.1 (own port, static peers) and a broadcast IPCP of layer "chat",
 * set up from config files — bc.a bootstraps, bc.b and bc.c enroll with it
 * and connect into a triangle (a cycle). `ouro bc -l` listens on every
 * daemon; `ouro bc` writers on every daemon, one writing the same text
 * twice. Every listener must print every message exactly once. Then bc.c
 * cuts its link to bc.a (a line remains) and b's listener leaves.
 * Loopback only.
 */
import { assert, assertEquals } from "../../../tests/util/assert.ts";
import { type Proc, TestDaemon } from "../../../tests/util/daemon.ts";

/** `n` consecutive ports in an unprivileged range, different per run. */
function ports(n: number): number[] {
  const base = 20000 + Math.floor(Math.random() * 40000);
  return Array.from({ length: n }, (_, i) => base + i);
}

function config(me: string, port: number, peers: Record<string, number>, bc: string): string {
  const list = Object.entries(peers).map(([n, p]) => `${n}=127.0.0.1:${p}`).join(",");
  return `[udp4."low.${me}"]\nbootstrap = "low"\nip = "127.0.0.1"\nport = ${port}\n` +
    `peers = "${list}"\nreg = ["bc.${me}"]\n\n[broadcast."bc.${me}"]\nautobind = true\n${bc}\n`;
}

const lines = (p: Proc) => p.stdout.split("\n").filter((l) => l.startsWith("Message is "));

Deno.test("bcast daemons: a triangle over udp4 — ouro bc delivers each message exactly once", async () => {
  const [pa, pb, pc] = ports(3) as [number, number, number];
  const dir = await Deno.makeTempDir({ prefix: "ouro-bc-" });
  const ds: TestDaemon[] = [];
  const procs: Proc[] = [];
  const start = async (me: string, port: number, peers: Record<string, number>, bc: string) => {
    const file = `${dir}/${me}.toml`;
    await Deno.writeTextFile(file, config(me, port, peers, bc));
    const d = await TestDaemon.start({ args: ["--config", file] });
    ds.push(d);
    return d;
  };
  try {
    const a = await start("a", pa, { "bc.b": pb, "bc.c": pc }, `bootstrap = "chat"`);
    const b = await start("b", pb, { "bc.a": pa, "bc.c": pc }, `enrol = "bc.a"\nconn = ["bc.a"]`);
    const c = await start(
      "c",
      pc,
      { "bc.a": pa, "bc.b": pb },
      `enrol = "bc.a"\nconn = ["bc.a", "bc.b"]`,
    );
    const listeners = [a, b, c].map((d) => d.spawn(["bc", "-n", "chat", "-l"]));
    procs.push(...listeners);
    await Promise.all(listeners.map((l) => l.waitFor(/Listening on layer chat/, 15000)));

    const sent: string[] = [];
    await Promise.all([a, b, c].map(async (d, i) => {
      const who = "abc"[i]!;
      const msgs = [`hello from ${who}`, `same from ${who}`, `same from ${who}`];
      for (const m of msgs) {
        await d.ok(["bc", "-n", "chat", "-m", m]);
        sent.push(m);
      }
    }));
    const want = sent.map((m) => `Message is ${m}.`).sort();
    await Promise.all(
      listeners.map((l) => l.waitFor(new RegExp(`(Message is .*\\n[^]*){${want.length}}`), 10000)),
    );
    await new Promise((r) => setTimeout(r, 300)); // late duplicates would show now
    for (const l of listeners) assertEquals(lines(l).sort(), want);

    const list = JSON.parse((await a.ok(["irm", "--json", "ipcp", "list"])).stdout);
    const bc = (list.ipcps ?? list).find((i: { name: string }) => i.name === "bc.a");
    const k = bc.detail.counters.flood;
    assertEquals(bc.detail.links.length, 2);
    assert(bc.detail.links.every((l: { framed: boolean }) => l.framed));
    assert(k.duplicates > 0, `a suppressed ${k.duplicates} duplicates`);
    // its listener got 9; a writer of a, joined only for a moment, may catch a few more
    assert(k.delivered >= 9 && k.delivered < 9 + 6, `a delivered ${k.delivered}`);
    // b's listener leaves, c cuts its link to a: a – b – c remains
    listeners[1]!.kill();
    await listeners[1]!.done();
    await c.ok(["irm", "ipcp", "disconnect", "name", "bc.c", "dst", "bc.a", "component", "dt"]);
    await a.ok(["bc", "-n", "chat", "-m", "over the line"]);
    await listeners[2]!.waitFor(/Message is over the line\./, 10000);
    await new Promise((r) => setTimeout(r, 300));
    assertEquals(lines(listeners[2]!).filter((l) => l.includes("over the line")).length, 1);
    // a's listener is another member on a: it gets a's writer's message, once
    assertEquals(lines(listeners[0]!).filter((l) => l.includes("over the line")).length, 1);
    assertEquals(lines(listeners[0]!).length, want.length + 1);
  } finally {
    for (const p of procs) p.kill();
    await Promise.all(procs.map((p) => p.done()));
    await Promise.all(ds.map((d) => d.stop()));
    await Deno.remove(dir, { recursive: true });
  }
});
