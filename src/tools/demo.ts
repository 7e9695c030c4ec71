/**
 * `ouro demo`: start a daemon in a temporary run directory, bootstrap a
 * local layer, register a name, run a ping server and 5 pings, shut down.
 * @module
 */
import { Irmd } from "../irmd/daemon.ts";
import { applyConfig } from "../cli/irmd.ts";
import { setLogLevel } from "../lib/log.ts";
import { pingMain } from "./ping.ts";
import { out } from "./common.ts";

/** The embedded default configuration of the demo. */
export const DEMO_CONFIG = `
# a local layer with one name in it
[name."oping.demo"]
lb = "round-robin"

[local.loc]
bootstrap = "demo"
reg = ["oping.demo"]
`;

/** Entry point. */
export async function demoMain(argv: string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    console.log(
      "Usage: ouro demo [--verbose]\n\nStart a daemon in a temporary run directory, bootstrap a local layer\n'demo', register oping.demo, run a ping server and 5 pings, shut down.",
    );
    return 0;
  }
  setLogLevel(argv.includes("--verbose") ? "info" : "warn");
  const rundir = await Deno.makeTempDir({ prefix: "ouro-demo-" });
  out(`== starting an IRMd in ${rundir}`);
  const d = await Irmd.start({ rundir, direct: false });
  try {
    out(`== bootstrapping local layer "demo", registering oping.demo`);
    await applyConfig(d, DEMO_CONFIG, "demo config");
    out(`== ping server listening as oping.demo; 5 pings through the local IPCP:\n`);
    const server = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("../../main.ts", import.meta.url).pathname,
        "ping",
        "-l",
        "--name",
        "oping.demo",
        "--rundir",
        rundir,
      ],
      stdout: "null",
      stderr: "inherit",
    }).spawn();
    // wait until the server is accepting
    for (let i = 0; i < 100; i++) {
      const r = [...d.reg.names.get("oping.demo")?.pids ?? []].length;
      if (r > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const code = await pingMain(["-n", "oping.demo", "-c", "5", "-i", "200", "--rundir", rundir]);
    server.kill("SIGTERM");
    await server.status;
    out(`\n== shutting down`);
    return code;
  } finally {
    await d.stop();
    await Deno.remove(rundir, { recursive: true }).catch(() => {});
  }
}
