#!/usr/bin/env -S deno run -A
/**
 * `ouro`: the one executable — daemon, management CLI and tools.
 * @module
 */
import { UsageError } from "./src/cli/args.ts";
import { OuroError } from "./src/lib/errors.ts";
import { ConfigError } from "./src/irmd/config.ts";
import { OURO_VERSION } from "./src/irmd/version.ts";

type Cmd = { about: string; run: (argv: string[]) => Promise<number> };

const COMMANDS: Record<string, Cmd> = {
  irmd: { about: "run the IPC Resource Manager daemon", run: async (a) => (await import("./src/cli/irmd.ts")).irmdMain(a) },
  irm: { about: "manage IPCPs, layers, names and bindings", run: async (a) => (await import("./src/cli/irm.ts")).irmMain(a) },
  ping: { about: "measure round-trip time to a name (oping)", run: async (a) => (await import("./src/tools/ping.ts")).pingMain(a) },
  perf: { about: "measure throughput to a name (operf)", run: async (a) => (await import("./src/tools/perf.ts")).perfMain(a) },
  cbr: { about: "send or receive a constant bit rate (ocbr)", run: async (a) => (await import("./src/tools/cbr.ts")).cbrMain(a) },
  echo: { about: "echo one message (oecho)", run: async (a) => (await import("./src/tools/echo.ts")).echoMain(a) },
  cat: { about: "netcat over a flow: stdin/stdout through a name", run: async (a) => (await import("./src/tools/cat.ts")).catMain(a) },
  bc: { about: "write to or listen on a broadcast layer (obc)", run: async (a) => (await import("./src/tools/bc.ts")).bcMain(a) },
  tunnel: { about: "IP over Ouroboros flows: a WireGuard-style VPN", run: async (a) => (await import("./src/tunnel/cli.ts")).tunnelMain(a) },
  demo: { about: "run a self-contained demo on a temporary daemon", run: async (a) => (await import("./src/tools/demo.ts")).demoMain(a) },
};

function usage(): string {
  const lines = [
    `ouro ${OURO_VERSION} — Ouroboros: flows between processes, by name, over recursive layers`,
    "",
    "Usage: ouro <command> [options]   (ouro <command> --help for details)",
    "",
    "Commands:",
  ];
  for (const [k, v] of Object.entries(COMMANDS)) lines.push(`  ${k.padEnd(8)} ${v.about}`);
  return lines.join("\n");
}

/** Run the CLI; returns the exit status. */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === "help" || cmd === "-h" || cmd === "--help") {
    console.log(usage());
    return cmd === undefined ? 2 : 0;
  }
  if (cmd === "--version" || cmd === "version") {
    console.log(`ouro ${OURO_VERSION}`);
    return 0;
  }
  const c = COMMANDS[cmd];
  if (!c) {
    console.error(`ouro: unknown command "${cmd}", try "ouro --help".`);
    return 2;
  }
  try {
    return await c.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`ouro ${cmd}: ${e.message} (try "ouro ${cmd} --help")`);
      return 2;
    }
    if (e instanceof OuroError || e instanceof ConfigError) {
      console.error(`ouro ${cmd}: ${e.message}`);
      return 1;
    }
    console.error(`ouro ${cmd}: internal error: ${(e as Error)?.stack ?? e}`);
    return 70;
  }
}

if (import.meta.main) {
  const code = await main(Deno.args);
  Deno.exit(code);
}
