/**
 * `ouro tunnel` — IP (or Ethernet) over Ouroboros flows, WireGuard style.
 *
 * - `ouro tunnel up CONFIG` runs a tunnel in the foreground: connects to the
 *   IRMd, creates and configures the TUN/TAP interface (addresses, MTU, up,
 *   routes to the peers' allowed-ips), binds its name, and serves a control
 *   socket `tunnel.<name>.sock` in the run directory until SIGINT/SIGTERM
 *   or `ouro tunnel down`. If the IRMd goes away it reconnects by itself.
 * - `ouro tunnel down NAME|CONFIG` stops a running tunnel.
 * - `ouro tunnel show [NAME] [--json]` prints peers, flow state, bytes,
 *   latest packet and RTT.
 * - `ouro tunnel check CONFIG` checks a configuration and prints a summary.
 * @module
 */

import { Netlink, openTun, type TunDevice, TunError } from "../../bridges/mod.ts";
import { helpText, type OptSpec, parseArgs, UsageError, wantsHelp } from "../cli/args.ts";
import { Ouro } from "../client/api.ts";
import { OuroError } from "../lib/errors.ts";
import { logger, setLogLevel } from "../lib/log.ts";
import { defaultRundir } from "../lib/paths.ts";
import { loadTunnelConfig, type TunnelConfig, TunnelConfigError } from "./config.ts";
import { type ControlServer, controlRequest, controlSocketPath, listTunnels, serveControl } from "./control.ts";
import { formatAddress, formatPrefix } from "./router.ts";
import { formatStatus, type TunnelStatus } from "./status.ts";
import { ouroTransport } from "./transport.ts";
import { Tunnel } from "./tunnel.ts";

const SPECS: OptSpec[] = [
  { long: "rundir", type: "string", arg: "DIR", help: "run directory of the IRMd ($OURO_RUNDIR)" },
  { long: "json", type: "flag", help: "show: print JSON" },
  { short: "v", long: "verbose", type: "flag", help: "up: log flows coming and going" },
  { long: "debug", type: "flag", help: "up: log everything" },
];

const USAGE = "ouro tunnel up CONFIG | down NAME|CONFIG | show [NAME] [--json] | check CONFIG";

const log = logger("tunnel");

const ABOUT = `Carry IP packets (or Ethernet frames) over Ouroboros flows.

  up      create the device from CONFIG (TOML: [interface], [[peer]]) and run
  down    stop a running tunnel (by interface name or CONFIG)
  show    peers, flows (cipher, rtt, fast path), bytes, drops
  check   validate CONFIG and print what it sets up

Flows over a udp or Ethernet layer, or a unicast layer on one, take the fast
path when run as root: packets go between the device and the network in I/O Workers,
never through the IRMd's or the tunnel's main thread. OURO_FAST_PATH=0 turns
it off.`;

/** Entry point of `ouro tunnel`; returns the exit status. */
export async function tunnelMain(argv: string[]): Promise<number> {
  if (wantsHelp(argv) || argv.length === 0) {
    console.log(helpText(USAGE, ABOUT, SPECS));
    return argv.length === 0 ? 2 : 0;
  }
  try {
    const { opts, rest } = parseArgs(argv, SPECS);
    const [verb, arg, ...extra] = rest;
    if (extra.length) throw new UsageError(`unexpected argument ${extra[0]}`);
    const rundir = (opts.rundir as string | undefined) ?? defaultRundir();
    switch (verb) {
      case "up":
        if (!arg) throw new UsageError("up needs a CONFIG file");
        setLogLevel(opts.debug ? "debug" : opts.verbose ? "info" : "warn");
        return await up(await loadTunnelConfig(arg), rundir);
      case "down":
        if (!arg) throw new UsageError("down needs a tunnel NAME or its CONFIG file");
        return await down(await nameOf(arg), rundir);
      case "show":
        return await show(arg ? await nameOf(arg) : undefined, rundir, opts.json === true);
      case "check":
        if (!arg) throw new UsageError("check needs a CONFIG file");
        console.log(summary(await loadTunnelConfig(arg)));
        return 0;
      default:
        throw new UsageError(verb ? `unknown subcommand "${verb}"` : "give a subcommand: up, down, show or check");
    }
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`ouro tunnel: ${e.message} (usage: ${USAGE})`);
      return 2;
    }
    if (e instanceof TunnelConfigError || e instanceof TunError || e instanceof OuroError) {
      console.error(`ouro tunnel: ${e.message}`);
      return 1;
    }
    console.error(`ouro tunnel: ${(e as Error)?.message ?? e}`);
    return 1;
  }
}

/** A tunnel name, or the name inside a config file if `arg` is a file. */
async function nameOf(arg: string): Promise<string> {
  const isFile = await Deno.stat(arg).then((s) => s.isFile, () => false);
  return isFile ? (await loadTunnelConfig(arg)).name : arg;
}

function summary(c: TunnelConfig): string {
  const lines = [
    `${c.file}: ok`,
    `interface ${c.name} (${c.mode}, mtu ${c.mtu}) ${c.addresses.map((a) => `${formatAddress(a.address)}/${a.bits}`).join(" ")}`,
    `listen ${c.listen}${c.layer ? ` in layer ${c.layer}` : ""}`,
  ];
  for (const p of c.peers) {
    const cls = p.classes.map((k) => `${k.name}=${k.qos}`).join(" ");
    lines.push(`peer ${p.name}: ${p.allowedIps.map(formatPrefix).join(" ") || "(everything)"} [${cls}] encryption ${p.encryption}`);
  }
  return lines.join("\n");
}

/** Packets the kernel queues for the tunnel's device Worker (as OpenVPN's common setting). */
const TUN_TXQUEUELEN = 1000;

/** Configure the interface; returns an undo list (reverse order). */
function configureInterface(nl: Netlink, c: TunnelConfig, dev: TunDevice): void {
  nl.setMtu(dev.name, c.mtu);
  // 500 (the default) overflows while a burst waits for the device Worker: TCP then retransmits
  nl.setTxQueueLen(dev.name, TUN_TXQUEUELEN);
  for (const a of c.addresses) nl.addAddress(dev.name, `${formatAddress(a.address)}/${a.bits}`);
  nl.setUp(dev.name);
  if (!c.routes) return;
  for (const p of c.peers) {
    for (const pre of p.allowedIps) {
      try {
        nl.addRoute(formatPrefix(pre), dev.name);
      } catch (e) {
        // the interface's own subnet route (or an identical one) is there already
        if (e instanceof TunError && e.reason === "exists") continue;
        throw e;
      }
    }
  }
}

/** Waits between attempts to reach a lost IRMd again, ms. */
const reconnectMinMs = 250;
const reconnectMaxMs = 4_000;

async function connectIrmd(rundir: string, config: TunnelConfig): Promise<Ouro> {
  try {
    return await Ouro.connect({ rundir, prog: `tunnel.${config.name}` });
  } catch (e) {
    throw new Error(`Cannot reach the IRMd in ${rundir}: ${(e as Error).message}; is "ouro irmd" running (see --rundir)?`);
  }
}

/**
 * Run the tunnel until stopped. The device outlives the IRMd connection:
 * when the IRMd goes away (restarted, upgraded) the engine stops, and a
 * new one starts as soon as the IRMd (and the layer) are back, so traffic
 * resumes by itself. Only the first connection failing is fatal.
 */
async function up(config: TunnelConfig, rundir: string): Promise<number> {
  const undo: (() => Promise<void> | void)[] = [];
  const unwind = async () => {
    for (const u of undo.reverse()) {
      try {
        await u();
      } catch (e) {
        log.warn(`cleanup: ${(e as Error).message}`);
      }
    }
    undo.length = 0;
  };
  try {
    let ouro: Ouro | undefined = await connectIrmd(rundir, config);
    undo.push(() => ouro?.close());
    const device = await openTun({ kind: config.mode, name: config.name });
    undo.push(() => device.close());
    {
      using nl = Netlink.open();
      configureInterface(nl, config, device);
    }
    let tunnel: Tunnel | undefined;
    let irmdState = "connected";
    let stop!: (why: string) => void;
    const stopped = new Promise<string>((r) => (stop = r));
    let stopping: string | undefined;
    void stopped.then((w) => (stopping = w));
    const server: ControlServer = await serveControl(controlSocketPath(rundir, config.name), (req) => {
      if (req.op === "show") {
        if (!tunnel) return { ok: false, message: `the IRMd is not reachable (${irmdState})` };
        return { ok: true, status: { ...tunnel.status(), irmd: irmdState } };
      }
      if (req.op === "down") {
        setTimeout(() => stop("down requested"), 0);
        return { ok: true };
      }
      return { ok: false, message: `unknown op ${JSON.stringify(req.op)}` };
    });
    undo.push(() => server.close());
    const onSignal = () => stop("signal");
    Deno.addSignalListener("SIGINT", onSignal);
    Deno.addSignalListener("SIGTERM", onSignal);
    undo.push(() => {
      Deno.removeSignalListener("SIGINT", onSignal);
      Deno.removeSignalListener("SIGTERM", onSignal);
    });
    undo.push(() => tunnel?.stop());
    console.log(`Tunnel ${config.name} up: device ${device.name}, listening as ${config.listen}.`);
    const sleep = (ms: number) => Promise.race([stopped, new Promise((r) => setTimeout(r, ms))]);
    for (let waitMs = reconnectMinMs; !stopping;) {
      if (!ouro) {
        try {
          ouro = await Ouro.connect({ rundir, prog: `tunnel.${config.name}` });
        } catch {
          await sleep(waitMs);
          waitMs = Math.min(reconnectMaxMs, waitMs * 2);
          continue;
        }
      }
      const transport = ouroTransport(ouro);
      const t = new Tunnel({ config, device, transport });
      try {
        await t.start();
      } catch (e) {
        // the IRMd is back but not the layer yet (name.reg fails): try again shortly
        irmdState = `reconnecting: ${(e as Error).message}`;
        await t.stop();
        await ouro.close().catch(() => {});
        ouro = undefined;
        await sleep(waitMs);
        waitMs = Math.min(reconnectMaxMs, waitMs * 2);
        continue;
      }
      if (irmdState !== "connected") log.warn(`reconnected to the IRMd in ${rundir}; tunnel ${config.name} resumes`);
      tunnel = t;
      irmdState = "connected";
      waitMs = reconnectMinMs;
      const lost = await Promise.race([stopped.then(() => false), transport.done.then(() => true)]);
      if (!lost) break;
      irmdState = "reconnecting";
      log.warn(`lost the IRMd in ${rundir}; tunnel ${config.name} keeps its device and reconnects`);
      await t.stop();
      await ouro.close().catch(() => {});
      ouro = undefined;
    }
    console.log(`Tunnel ${config.name} shutting down (${stopping}).`);
    await unwind();
    return 0;
  } catch (e) {
    await unwind();
    throw e;
  }
}

async function down(name: string, rundir: string): Promise<number> {
  const path = controlSocketPath(rundir, name);
  let r: Record<string, unknown>;
  try {
    r = await controlRequest(path, { op: "down" });
  } catch (e) {
    throw new Error(`Cannot reach tunnel ${name} (${path}): ${(e as Error).message}; is it up?`);
  }
  if (r.ok !== true) throw new Error(`Cannot stop tunnel ${name}: ${r.message}`);
  // wait until its socket is gone (the process has cleaned up)
  for (let i = 0; i < 100; i++) {
    if (!(await Deno.stat(path).then(() => true, () => false))) break;
    await new Promise((res) => setTimeout(res, 50));
  }
  console.log(`Tunnel ${name} is down.`);
  return 0;
}

async function show(name: string | undefined, rundir: string, json: boolean): Promise<number> {
  const names = name ? [name] : await listTunnels(rundir);
  const all: TunnelStatus[] = [];
  let failed = 0;
  for (const n of names) {
    try {
      const r = await controlRequest(controlSocketPath(rundir, n), { op: "show" });
      if (r.ok !== true) throw new Error(String(r.message));
      all.push(r.status as TunnelStatus);
    } catch (e) {
      failed++;
      console.error(`ouro tunnel: Cannot reach tunnel ${n}: ${(e as Error).message}; is it up?`);
    }
  }
  if (json) console.log(JSON.stringify(name ? all[0] ?? null : all, null, 2));
  else if (all.length) console.log(all.map((s) => formatStatus(s, Date.now())).join("\n\n"));
  else if (!failed) console.log(`No tunnels are up (run directory ${rundir}).`);
  return failed ? 1 : 0;
}

if (import.meta.main) Deno.exit(await tunnelMain(Deno.args));
