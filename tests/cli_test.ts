/**
 * The `ouro` executable as a user runs it: real daemons in temporary run
 * directories, the irm CLI, the tools, faults and bad input.
 */
import { assert, assertEquals, assertMatch, assertStringIncludes } from "./util/assert.ts";
import { ouro, sha256, TestDaemon } from "./util/daemon.ts";

function noStack(s: string): void {
  assert(!/\n\s+at /.test(s), `stack trace in output:\n${s}`);
}

Deno.test("cli: irm manages IPCPs and names; tables and --json", async () => {
  const d = await TestDaemon.start();
  try {
    let r = await d.irm("ipcp", "create", "name", "loc", "type", "local");
    assertEquals(r.code, 0, r.stderr);
    // prefix abbreviation: "i b n … l …" = ipcp bootstrap name … layer …
    r = await d.irm("i", "b", "n", "loc", "l", "mylayer");
    assertEquals(r.code, 0, r.stderr);
    r = await d.irm("ipcp", "list");
    assertMatch(r.stdout, /\|\s+1 \| loc\s+\| local \| OPERATIONAL \| mylayer/);
    r = await d.irm("--json", "ipcp", "list");
    const list = JSON.parse(r.stdout);
    assertEquals(list[0].layer, "mylayer");
    assertEquals(list[0].state, "OPERATIONAL");
    r = await d.irm("name", "create", "svc", "lb", "spill");
    assertEquals(r.code, 0, r.stderr);
    r = await d.irm("name", "register", "svc", "layer", "my*");
    assertEquals(r.code, 0, r.stderr);
    r = await d.irm("name", "list");
    assertMatch(r.stdout, /\| svc\s+\| spillover\s+\| mylayer/);
    r = await d.irm("--json", "name", "list");
    assertEquals(JSON.parse(r.stdout)[0].layers, ["mylayer"]);
    r = await d.irm("name", "unregister", "svc", "ipcp", "loc");
    assertEquals(r.code, 0, r.stderr);
    r = await d.irm("name", "destroy", "svc");
    assertEquals(r.code, 0, r.stderr);
    r = await d.irm("name", "list");
    assertStringIncludes(r.stdout, "No names in system.");
    r = await d.irm("ipcp", "destroy", "name", "loc");
    assertEquals(r.code, 0, r.stderr);
    r = await d.irm("ipcp", "list");
    assertStringIncludes(r.stdout, "No IPCPs in system.");
  } finally {
    await d.stop();
  }
});

Deno.test("cli: bad input gets one clear line and a non-zero exit, never a stack trace", async () => {
  const d = await TestDaemon.start();
  try {
    const cases: [string[], RegExp][] = [
      [["frobnicate"], /unknown command "frobnicate"/],
      [["irm", "--rundir", d.rundir, "bogus"], /"bogus" is unknown, try "irm help"/],
      [["irm", "--rundir", d.rundir, "ipcp", "create", "name", "x", "type", "tcp9"], /unknown IPCP type "tcp9"/],
      [["irm", "--rundir", d.rundir, "ipcp", "bootstrap", "name", "nope", "layer", "l"], /No IPCPs matching nope found/],
      [["irm", "--rundir", d.rundir, "name", "register", "n", "layer", "none"], /Failed to list IPCPs|No IPCP matches/],
      [["irm", "--rundir", d.rundir, "bind", "process", "abc", "name", "n"], /process id must be a number/],
      [["irm", "--rundir", d.rundir, "bind", "process", "999999", "name", "n"], /has not announced itself/],
      [["ping", "--rundir", d.rundir, "-n", "nobody"], /no layer here can reach it/],
      [["ping", "--rundir", d.rundir, "-c", "x", "-n", "a"], /"x" is not a whole number/],
      [["ping", "--rundir", d.rundir, "--bogus"], /unknown option --bogus/],
      [["cat", "--rundir", d.rundir], /give exactly one destination NAME/],
      [["irm", "--rundir", "/nonexistent/dir", "ipcp", "list"], /Failed to communicate with the Ouroboros IPC Resource Manager daemon/],
      [["ping", "--rundir", "/nonexistent/dir", "-n", "x"], /Cannot reach the IRMd at \/nonexistent\/dir\/irm.sock/],
      [["irmd", "--config", "/nonexistent.toml"], /cannot read config/],
    ];
    for (const [args, re] of cases) {
      const r = await ouro(args);
      assert(r.code !== 0, `${args.join(" ")} exited 0`);
      assertMatch(r.stderr, re, `${args.join(" ")}: ${r.stderr}`);
      assertEquals(r.stderr.trim().split("\n").length, 1, `${args.join(" ")}: ${r.stderr}`);
      noStack(r.stderr);
    }
    // a config with an unknown key stops the daemon with the key named
    const cfg = await Deno.makeTempFile({ suffix: ".toml" });
    await Deno.writeTextFile(cfg, "[local.x]\nbootstrap = \"l\"\ncolour = \"red\"\n");
    const r = await ouro(["irmd", "--rundir", d.rundir + "-x", "--config", cfg]);
    assertEquals(r.code, 1);
    assertStringIncludes(r.stderr, "[local.x]: unknown key colour");
    await Deno.remove(cfg);
  } finally {
    await d.stop();
  }
});

Deno.test("cli: one daemon per rundir; a killed daemon's leftovers are replaced; SIGTERM cleans up", async () => {
  const d = await TestDaemon.start();
  const second = await ouro(["irmd", "--rundir", d.rundir]);
  assertEquals(second.code, 1);
  assertMatch(second.stderr, /already running on .* \(pid \d+\)/);
  // kill -9: socket and pid file stay behind
  d.proc.kill("SIGKILL");
  await d.proc.done();
  assert((await Deno.stat(`${d.rundir}/irm.sock`)).isSocket);
  const d2 = await TestDaemon.start({ rundir: d.rundir });
  try {
    assertStringIncludes(d2.proc.stderr, "stale resources cleaned");
    const r = await d2.irm("ipcp", "list");
    assertEquals(r.code, 0);
  } finally {
    const s = await d2.stop(true);
    assertEquals(s.code, 0);
    assertStringIncludes(d2.proc.stderr, "exited. Bye.");
    let gone = false;
    try {
      await Deno.stat(`${d.rundir}/irm.sock`);
    } catch {
      gone = true;
    }
    assert(gone, "socket left behind after SIGTERM");
    await Deno.remove(d.rundir, { recursive: true });
  }
});

Deno.test("cli: ping and echo over a local layer, output as the reference prints it", async () => {
  const d = await TestDaemon.start({ args: ["--no-direct"] });
  try {
    await d.ok(["irm", "ipcp", "bootstrap", "name", "loc", "type", "local", "layer", "L"]);
    const srv = d.spawn(["ping", "-l", "--name", "pinger", "--layer", "L"]);
    await srv.waitFor(/ping server started/);
    const r = await d.ok(["ping", "-n", "pinger", "-c", "3", "-i", "20", "-s", "100"]);
    assertStringIncludes(r.stdout, "Pinging pinger with 100 bytes of data (3 packets):");
    assertMatch(r.stdout, /100 bytes from pinger: seq=2 time=[0-9.]+ (ms|µs)/);
    assertStringIncludes(r.stdout, "3 packets transmitted, 3 received, 0 out-of-order, 0% packet loss");
    assertMatch(r.stdout, /rtt min\/avg\/max\/mdev = [0-9.]+\/[0-9.]+\/[0-9.]+\/[0-9.]+ ms/);
    await srv.waitFor(/New flow \d+\./);
    const flood = await d.ok(["ping", "-n", "pinger", "-c", "500", "-f", "-Q", "-q", "best"]);
    assertStringIncludes(flood.stdout, "500 packets transmitted, 500 received");
    srv.kill();
    await srv.done();

    const es = d.spawn(["echo", "-l", "--layer", "L"]);
    await es.waitFor(/Echo server started/);
    const e = await d.ok(["echo"]);
    assertStringIncludes(e.stdout, "Server replied with Client says hi!");
    await es.waitFor(/Message from client is Client says hi!\./);
    es.kill();
    await es.done();
  } finally {
    await d.stop();
  }
});

for (const direct of [false, true]) Deno.test(`cli: cat copies a 5 MB file byte-exact (${direct ? "direct" : "local IPCP"})`, async () => {
  const d = await TestDaemon.start({ args: direct ? [] : ["--no-direct"] });
  try {
    await d.ok(["irm", "ipcp", "bootstrap", "name", "loc", "type", "local", "layer", "L"]);
    const data = new Uint8Array(5 << 20);
    for (let i = 0; i < data.length; i += 65536) crypto.getRandomValues(data.subarray(i, i + 65536));
    for (const qos of ["raw", "data"]) {
      const rx = d.spawn(["cat", "-l", "--name", `sink-${qos}`, "--layer", "L"]);
      for (let i = 0; i < 50 && !(await d.irm("name", "list")).stdout.includes(`sink-${qos}`); i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      const tx = await d.run(["cat", `sink-${qos}`, "-q", qos], data);
      assertEquals(tx.code, 0, tx.stderr);
      assertStringIncludes(tx.stderr, `sent ${data.length} bytes`);
      const st = await rx.done();
      assertEquals(st.code, 0, rx.stderr);
      assertStringIncludes(rx.stderr, `received ${data.length} bytes`);
      assertEquals(await sha256(rx.stdoutBytes()), await sha256(data));
    }
  } finally {
    await d.stop();
  }
});

Deno.test("cli: a process killed with -9 mid-flow ends the peer's reads within a second", async () => {
  const d = await TestDaemon.start();
  try {
    await d.ok(["irm", "ipcp", "bootstrap", "name", "loc", "type", "local", "layer", "L"]);
    const srv = d.spawn(["perf", "-l", "--name", "victim", "--layer", "L"]);
    await srv.waitFor(/perf server started/);
    const cl = d.spawn(["perf", "-n", "victim", "-r", "10M", "-d", "60s"]);
    await srv.waitFor(/New unidirectional test on flow \d+/);
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    cl.kill("SIGKILL");
    await cl.done();
    await srv.waitFor(/Flow \d+ done: \d+ packets/, 3000);
    const dt = Date.now() - t0;
    assert(dt < 1000, `the server took ${dt} ms to notice`);
    const flows = await d.irm("--json", "flow", "list");
    assertEquals(JSON.parse(flows.stdout), []);
    srv.kill();
    await srv.done();
  } finally {
    await d.stop();
  }
});

Deno.test("cli: two daemons side by side keep separate registries; a restarted daemon serves again", async () => {
  const a = await TestDaemon.start();
  const b = await TestDaemon.start();
  try {
    await a.ok(["irm", "ipcp", "bootstrap", "name", "la", "type", "local", "layer", "A"]);
    await b.ok(["irm", "ipcp", "bootstrap", "name", "lb", "type", "local", "layer", "B"]);
    assertMatch((await a.irm("ipcp", "list")).stdout, /la .*\| A/);
    assert(!(await a.irm("ipcp", "list")).stdout.includes("lb"));
    const es = b.spawn(["echo", "-l", "--layer", "B"]);
    await es.waitFor(/Echo server started/);
    const viaA = await a.run(["echo"]);
    assert(viaA.code !== 0, "daemon A must not reach B's name");
    assertEquals((await b.run(["echo"])).code, 0);
    es.kill();
    await es.done();
  } finally {
    await a.stop();
    await b.stop(true);
  }
  // restart b on the same rundir from a config file: it comes up configured
  const cfg = `${b.rundir}/irmd.toml`;
  await Deno.writeTextFile(cfg, '[name."echo.again"]\n\n[local.lb]\nbootstrap = "B"\nreg = ["echo.again"]\n');
  const b2 = await TestDaemon.start({ rundir: b.rundir, args: ["--config", cfg] });
  try {
    const l = JSON.parse((await b2.irm("--json", "ipcp", "list")).stdout);
    assertEquals(l.map((i: { name: string; layer: string }) => [i.name, i.layer]), [["lb", "B"]]);
    assertMatch((await b2.irm("name", "list")).stdout, /echo\.again .*\| B/);
    const es = b2.spawn(["echo", "-l", "--name", "echo.again"]);
    await es.waitFor(/Echo server started/);
    const r = await b2.ok(["echo", "-n", "echo.again", "-m", "again"]);
    assertStringIncludes(r.stdout, "Server replied with again");
    es.kill();
    await es.done();
  } finally {
    await b2.stop();
  }
});

Deno.test("cli: a program bound with auto is started when a flow arrives for its name", async () => {
  const d = await TestDaemon.start();
  const dir = await Deno.makeTempDir();
  try {
    await d.ok(["irm", "ipcp", "bootstrap", "name", "loc", "type", "local", "layer", "L"]);
    const script = `${dir}/auto-echo`;
    await Deno.writeTextFile(
      script,
      `#!/bin/sh\nexec ${Deno.execPath()} run -A --quiet ${new URL("../main.ts", import.meta.url).pathname} echo -l --name auto.echo "$@" > ${dir}/out.txt 2>&1\n`,
    );
    await Deno.chmod(script, 0o755);
    let r = await d.irm("bind", "program", script, "name", "auto.echo", "auto", "--", "--layer", "L");
    assertEquals(r.code, 0, r.stderr);
    r = await d.irm("name", "list");
    assertMatch(r.stdout, /auto\.echo .*\| auto-echo/);
    r = await d.run(["echo", "-n", "auto.echo", "-m", "wake up"]);
    assertEquals(r.code, 0, r.stderr);
    assertStringIncludes(r.stdout, "Server replied with wake up");
    assertStringIncludes(await Deno.readTextFile(`${dir}/out.txt`), "Message from client is wake up.");
    r = await d.irm("unbind", "program", "auto-echo");
    assertEquals(r.code, 0, r.stderr);
  } finally {
    await d.stop();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli: keepalives hold an idle flow open; a frozen peer ends reads with EFLOWPEER", async () => {
  const { Ouro, qosRaw, OuroError, Errno } = await import("../mod.ts");
  const d = await TestDaemon.start();
  try {
    await d.ok(["irm", "ipcp", "bootstrap", "name", "loc", "type", "local", "layer", "L"]);
    const srv = d.spawn(["ping", "-l", "--name", "frozen", "--layer", "L"]);
    await srv.waitFor(/server started/);
    const o = await Ouro.connect({ rundir: d.rundir });
    const f = await o.flowAlloc("frozen", { qos: { ...qosRaw, timeout: 600 } });
    const ping = new Uint8Array(64);
    await f.write(ping);
    assert((await f.read({ timeoutMs: 2000 }))!.length === 64);
    // idle for three timeouts: the server's keepalives keep it alive
    await new Promise((r) => setTimeout(r, 1800));
    assert(!f.peerTimedOut, "an idle but live peer timed out");
    Deno.kill(srv.pid, "SIGSTOP");
    const t0 = Date.now();
    const e = await f.read({ timeoutMs: 5000 }).catch((e) => e);
    assert(e instanceof OuroError && e.code === Errno.EFLOWPEER, String(e));
    assert(Date.now() - t0 < 1500, `took ${Date.now() - t0} ms`);
    Deno.kill(srv.pid, "SIGCONT");
    await f.close();
    await o.close();
    srv.kill();
    await srv.done();
  } finally {
    await d.stop();
  }
});
