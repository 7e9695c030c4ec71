/**
 * `ouro irm`: the reference's `irm` grammar (spec 06 §1) — keywords match by
 * prefix, `keyword value` pairs, `*` wildcards on IPCP names.
 * @module
 */
import { Ouro } from "../client/api.ts";
import { Errno, OuroError } from "../lib/errors.ts";
import { HASH_NAMES } from "../lib/hash.ts";
import { qosByName, qosToJson, qosRaw } from "../lib/qos.ts";
import { isIpcpType } from "../ipcp/types.ts";
import { UsageError } from "./args.ts";
import { ribCmd } from "./rib.ts";
import { table } from "./table.ts";

/** `a` matches keyword `k` iff it is a prefix of it (spec 06 §1.1). */
export function matchKw(a: string, k: string): boolean {
  return a.length <= k.length && k.startsWith(a);
}

/** First keyword of `kws` that `a` abbreviates. */
export function pickKw(a: string, kws: string[]): string | undefined {
  return kws.find((k) => matchKw(a, k));
}

/** `*` glob match. */
export function wildcard(pattern: string, s: string): boolean {
  const re = new RegExp("^" + pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*") + "$");
  return re.test(s);
}

interface Ctx {
  ouro: Ouro;
  json: boolean;
}

type IpcpRow = { id: number; name: string; type: string; state: string; layer?: string; detail?: Record<string, unknown> };

/** Split `keyword value` pairs; flags listed in `flags` take no value. */
function pairs(args: string[], kws: string[], flags: string[] = []): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const k = pickKw(a, [...kws, ...flags]);
    if (!k) throw new UsageError(`"${a}" is not a keyword here (expected one of: ${[...kws, ...flags].join(", ")})`);
    if (flags.includes(k)) {
      out.set(k, ["true"]);
      continue;
    }
    const v = args[++i];
    if (v === undefined) throw new UsageError(`"${k}" needs a value`);
    out.set(k, [...(out.get(k) ?? []), v]);
  }
  return out;
}

function one(p: Map<string, string[]>, k: string, required = false): string | undefined {
  const v = p.get(k)?.[0];
  if (required && v === undefined) throw new UsageError(`missing "${k} <value>"`);
  return v;
}

async function listIpcps(c: Ctx): Promise<IpcpRow[]> {
  return (await c.ouro.request({ op: "ipcp.list" })).ipcps as IpcpRow[];
}

const BOOT_KWS = [
  "type", "layer", "name", "hash", "ip", "dns", "device", "ethertype", "addr", "eid", "ttl", "port",
  "addr_auth", "directory", "dht_alpha", "dht_k", "dht_t_expire", "dht_t_refresh", "dht_t_replicate",
  "routing", "ls_t_timeo", "ls_t_update", "ls_t_recalc", "congestion", "peer",
];

async function ipcpCmd(c: Ctx, args: string[]): Promise<number> {
  const sub = pickKw(args[0] ?? "", ["create", "destroy", "bootstrap", "enroll", "connect", "disconnect", "list", "help"]);
  const rest = args.slice(1);
  switch (sub) {
    case "create": {
      const p = pairs(rest, ["name", "type"]);
      const name = one(p, "name", true)!;
      const type = one(p, "type", true)!;
      if (!isIpcpType(type)) throw new UsageError(`unknown IPCP type "${type}" (unicast broadcast local udp4 udp6 eth-llc eth-dix)`);
      const r = await c.ouro.request({ op: "ipcp.create", name, type });
      if (!c.json) console.log(`Created IPCP ${name} (${type}, id ${r.id}).`);
      else console.log(JSON.stringify({ id: r.id, name, type }));
      return 0;
    }
    case "destroy": {
      const p = pairs(rest, ["name"]);
      const name = one(p, "name", true)!;
      const found = (await listIpcps(c)).find((i) => i.name === name);
      if (found) await c.ouro.request({ op: "ipcp.destroy", name });
      return 0;
    }
    case "bootstrap": {
      const p = pairs(rest, BOOT_KWS, ["autobind"]);
      const pattern = one(p, "name", true)!;
      const layer = one(p, "layer", true)!;
      const typeArg = one(p, "type");
      const type = typeArg === undefined
        ? undefined
        : pickKw(typeArg, ["unicast", "broadcast", "local", "udp4", "udp6", "eth-llc", "eth-dix"]);
      if (typeArg !== undefined && !type) throw new UsageError(`unknown IPCP type "${typeArg}"`);
      let list = (await listIpcps(c)).filter((i) => wildcard(pattern, i.name));
      if (list.length === 0) {
        if (!type) throw new OuroError(Errno.EIPCP, `No IPCPs matching ${pattern} found.`);
        await c.ouro.request({ op: "ipcp.create", name: pattern, type });
        list = (await listIpcps(c)).filter((i) => i.name === pattern);
      }
      const options: Record<string, string | number> = {};
      let hashAlgo: number | undefined;
      for (const [k, v] of p) {
        if (["type", "layer", "name", "autobind"].includes(k)) continue;
        if (k === "hash") {
          hashAlgo = HASH_NAMES[v[0]!];
          if (hashAlgo === undefined) throw new UsageError(`hash must be SHA3_224, SHA3_256, SHA3_384 or SHA3_512`);
          continue;
        }
        const key = k === "device" ? "dev" : k === "peer" ? "peers" : k;
        // ethertype is always hex (spec 06): pass it as text for the IPCP to parse
        options[key] = k === "peer" ? v.join(",") : k !== "ethertype" && /^[0-9]+$/.test(v[0]!) ? parseInt(v[0]!, 10) : v[0]!;
      }
      for (const i of list) {
        if (type && i.type !== type) throw new OuroError(Errno.EIPCPTYPE, "Types do not match.");
        await c.ouro.request({ op: "ipcp.bootstrap", name: i.name, conf: { layer, hashAlgo, options } });
        if (p.has("autobind")) {
          if (i.type === "unicast" || i.type === "broadcast") {
            await c.ouro.request({ op: "bind.ipcp", ipcp: i.name, name: i.name });
            await c.ouro.request({ op: "bind.ipcp", ipcp: i.name, name: layer });
          } else console.log(`Autobind is only for unicast and broadcast IPCPs; ignored for ${i.name}.`);
        }
        if (!c.json) console.log(`Bootstrapped IPCP ${i.name} in layer ${layer}.`);
      }
      return 0;
    }
    case "enroll": {
      const p = pairs(rest, ["name", "layer", "dst", "type"], ["autobind"]);
      const pattern = one(p, "name", true)!;
      const layer = one(p, "layer");
      const dst = one(p, "dst") ?? layer;
      if (dst === undefined) throw new UsageError(`enroll needs "layer <layer>" or "dst <dst>"`);
      const type = pickKw(one(p, "type") ?? "unicast", ["unicast", "broadcast"]);
      if (!type) throw new UsageError(`enroll type must be unicast or broadcast`);
      let list = (await listIpcps(c)).filter((i) => wildcard(pattern, i.name) && i.type === type);
      if (list.length === 0) {
        await c.ouro.request({ op: "ipcp.create", name: pattern, type });
        list = (await listIpcps(c)).filter((i) => i.name === pattern);
      }
      for (const i of list) {
        const r = await c.ouro.request({ op: "ipcp.enroll", name: i.name, dst });
        const got = (r.layer as { name: string }).name;
        if (layer !== undefined && got !== layer) {
          throw new OuroError(Errno.EIPCP, "Enrollment destination does not match requested layer.");
        }
        if (p.has("autobind")) {
          await c.ouro.request({ op: "bind.ipcp", ipcp: i.name, name: i.name });
          await c.ouro.request({ op: "bind.ipcp", ipcp: i.name, name: got });
        }
        if (!c.json) console.log(`Enrolled IPCP ${i.name} in layer ${got}.`);
      }
      return 0;
    }
    case "connect":
    case "disconnect": {
      const p = pairs(rest, sub === "connect" ? ["name", "dst", "component", "qos"] : ["name", "dst", "component"]);
      const name = one(p, "name", true)!;
      const dst = one(p, "dst", true)!;
      const comp = one(p, "component") ?? "*";
      const comps = ["mgmt", "dt"].filter((x) => wildcard(comp, x));
      if (comps.length === 0) throw new UsageError(`component must be dt or mgmt`);
      let qos = qosRaw;
      const qn = one(p, "qos");
      if (qn !== undefined) {
        const q = qosByName(qn);
        if (!q) console.log("Unknown QoS cube, defaulting to raw.");
        else qos = q;
      }
      const order = sub === "connect" ? comps : comps.reverse();
      for (const x of order) {
        await c.ouro.request({
          op: `ipcp.${sub}`,
          name,
          dst,
          component: x,
          qos: qosToJson(x === "mgmt" ? qosRaw : qos),
        });
      }
      return 0;
    }
    case "list": {
      pairs(rest, ["name", "type"]);
      const list = await listIpcps(c);
      if (c.json) {
        console.log(JSON.stringify(list, null, 2));
        return 0;
      }
      if (list.length === 0) {
        console.log("No IPCPs in system.\n");
        return 0;
      }
      console.log(table(
        ["id", "name", "type", "state", "layer", "detail"],
        list.map((i) => [
          i.id,
          i.name,
          i.type,
          i.state,
          i.layer ?? "Not enrolled.",
          Object.entries(i.detail ?? {}).filter(([, v]) => typeof v !== "object").map(([k, v]) => `${k}=${v}`).join(" "),
        ]),
      ));
      return 0;
    }
    default:
      console.log(IPCP_HELP);
      return sub === "help" ? 0 : (args[0] === undefined ? 1 : (console.error(`"${args[0]}" is unknown, try "irm ipcp help".`), 1));
  }
}

const IPCP_HELP = `Usage: ouro irm ipcp <command>
  create name <ipcp> type <unicast|broadcast|local|udp4|udp6|eth-llc|eth-dix>
  destroy name <ipcp>
  bootstrap name <ipcp> layer <layer> [type <type>] [hash SHA3_256] [ip A] [port P] [dns A]
            [device IF] [ethertype 0xA000] [addr 4] [eid 8] [ttl 60] [routing link_state|lfa|ecmp]
            [congestion none|mb-ecn] [dht_alpha 3] [dht_k 8] ... [autobind]
  enroll name <ipcp> [layer <layer>] [dst <dst>] [type unicast|broadcast] [autobind]
  connect name <ipcp> dst <dst> [component dt|mgmt] [qos raw|best|voice|video|data]
  disconnect name <ipcp> dst <dst> [component dt|mgmt]
  list`;

const NAME_HELP = `Usage: ouro irm name <command>
  create <name> [lb round-robin|spillover]
  destroy <name>
  register <name> (layer <layer> | ipcp <ipcp>)...
  unregister <name> (layer <layer> | ipcp <ipcp>)...
  list`;

async function nameCmd(c: Ctx, args: string[]): Promise<number> {
  const sub = pickKw(args[0] ?? "", ["create", "destroy", "register", "unregister", "list", "help"]);
  const name = args[1];
  const rest = args.slice(2);
  switch (sub) {
    case "create": {
      if (!name) throw new UsageError("name create needs a name");
      if (new TextEncoder().encode(name).length > 255) throw new UsageError("Name too long.");
      const p = pairs(rest, ["lb", "sencpath", "scrtpath", "skeypath", "cencpath", "ccrtpath", "ckeypath"]);
      const lbArg = one(p, "lb");
      const lb = lbArg === undefined ? "round-robin" : pickKw(lbArg, ["round-robin", "spillover"]);
      if (!lb) throw new UsageError(`lb must be round-robin or spillover`);
      await c.ouro.request({ op: "name.create", name, lb });
      return 0;
    }
    case "destroy": {
      if (!name || rest.length) throw new UsageError("usage: name destroy <name>");
      await c.ouro.request({ op: "name.destroy", name });
      return 0;
    }
    case "register":
    case "unregister": {
      if (!name) throw new UsageError(`name ${sub} needs a name`);
      const p = pairs(rest, ["layer", "ipcp"]);
      const layers = p.get("layer") ?? [];
      const ipcpPats = p.get("ipcp") ?? [];
      if (layers.length + ipcpPats.length === 0) throw new UsageError(`name ${sub} needs "layer <layer>" or "ipcp <ipcp>"`);
      const list = await listIpcps(c);
      if (list.length === 0) throw new OuroError(Errno.EIPCP, "Failed to list IPCPs.");
      const targets = list.filter((i) =>
        layers.some((l) => i.layer !== undefined && wildcard(l, i.layer)) || ipcpPats.some((n) => wildcard(n, i.name))
      );
      if (targets.length === 0) throw new OuroError(Errno.EIPCP, `No IPCP matches ${[...layers, ...ipcpPats].join(", ")}.`);
      for (const i of targets) {
        await c.ouro.request({ op: sub === "register" ? "name.reg" : "name.unreg", name, ipcp: i.name });
      }
      return 0;
    }
    case "list": {
      const names = (await c.ouro.request({ op: "name.list" })).names as {
        name: string; lb: string; pids: number[]; progs: string[]; layers: string[];
      }[];
      const filter = args[1] === "list" ? args[2] : undefined;
      const shown = names.filter((n) => filter === undefined || n.name.startsWith(filter));
      if (c.json) console.log(JSON.stringify(shown, null, 2));
      else if (shown.length === 0) console.log("No names in system.\n");
      else {
        console.log(table(
          ["name", "load-balance policy", "layers", "processes", "programs"],
          shown.map((n) => [n.name, n.lb, n.layers.join(",") || "-", n.pids.join(",") || "-", n.progs.join(",") || "-"]),
        ));
      }
      return 0;
    }
    default:
      console.log(NAME_HELP);
      if (sub === "help") return 0;
      if (args[0] !== undefined) console.error(`"${args[0]}" is unknown, try "irm name help".`);
      return 1;
  }
}

async function bindCmd(c: Ctx, args: string[], unbind: boolean): Promise<number> {
  const what = pickKw(args[0] ?? "", ["program", "process", "ipcp", "help"]);
  const target = args[1];
  const dd = args.indexOf("--");
  const progArgs = dd >= 0 ? args.slice(dd + 1) : [];
  const rest = (dd >= 0 ? args.slice(0, dd) : args).slice(2);
  if (!what || what === "help" || target === undefined) {
    console.log(`Usage: ouro irm ${unbind ? "unbind" : "bind"} program <prog> ${unbind ? "[name <name>]" : "name <name> [auto] [-- args]"}
       ouro irm ${unbind ? "unbind" : "bind"} process <pid> ${unbind ? "[name <name>]" : "name <name>"}
       ouro irm ${unbind ? "unbind" : "bind"} ipcp <ipcp> name <name>`);
    return what === "help" ? 0 : 1;
  }
  const autoIdx = rest.indexOf("auto");
  const auto = !unbind && what === "program" && autoIdx >= 0;
  if (auto) rest.splice(autoIdx, 1);
  const p = pairs(rest, ["name"]);
  const name = one(p, "name", !unbind || what === "ipcp");
  switch (what) {
    case "program": {
      if (unbind) {
        await c.ouro.request({ op: "unbind.program", prog: target, name });
        return 0;
      }
      let path = target;
      try {
        path = await Deno.realPath(target);
      } catch {
        if (target.includes("/")) throw new OuroError(Errno.ENOENT, `${target} does not exist.`);
        const found = (Deno.env.get("PATH") ?? "").split(":").map((d) => `${d}/${target}`)
          .find((f) => { try { return Deno.statSync(f).isFile; } catch { return false; } });
        if (!found) throw new OuroError(Errno.ENOENT, `${target} does not exist.`);
        path = found;
      }
      await c.ouro.request({ op: "bind.program", path, name, auto: auto ? [path, ...progArgs] : undefined });
      return 0;
    }
    case "process": {
      if (!/^[0-9]+$/.test(target)) throw new UsageError(`process id must be a number, not "${target}"`);
      await c.ouro.request({ op: unbind ? "unbind.process" : "bind.process", pid: parseInt(target, 10), name });
      return 0;
    }
    case "ipcp":
      await c.ouro.request({ op: unbind ? "unbind.ipcp" : "bind.ipcp", ipcp: target, name });
      return 0;
  }
  return 1;
}

const HELP = `Usage: ouro irm [--rundir DIR] [--json] <command> ...

Manage the IPC Resource Manager daemon: IPCPs, layers, names and bindings.
Keywords may be abbreviated (ipcp bootstrap = i b).

Commands:
  ipcp     create, destroy, bootstrap, enroll, connect, disconnect, list IPCPs
  name     create, destroy, register, unregister, list names
  bind     bind a program, process or IPCP to a name
  unbind   undo a binding
  flow     list flows
  stats    daemon counters
  rib      a unicast IPCP's neighbours, routes, directory and flows`;

/** Entry point. */
export async function irmMain(argv: string[]): Promise<number> {
  const args = [...argv];
  let rundir: string | undefined;
  let json = false;
  for (let i = 0; i < args.length;) {
    if (args[i] === "--rundir") {
      rundir = args[i + 1];
      if (!rundir) throw new UsageError("--rundir needs a directory");
      args.splice(i, 2);
    } else if (args[i] === "--json") {
      json = true;
      args.splice(i, 1);
    } else if (args[i] === "--") break;
    else i++;
  }
  const top = pickKw(args[0] ?? "", ["ipcp", "bind", "unbind", "name", "flow", "stats", "rib", "help"]);
  if (args[0] === undefined || top === "help" || args[0] === "--help" || args[0] === "-h") {
    console.log(HELP);
    return args[0] === undefined ? 1 : 0;
  }
  if (!top) {
    console.error(`"${args[0]}" is unknown, try "irm help".`);
    return 1;
  }
  let ouro: Ouro;
  try {
    ouro = await Ouro.connect({ rundir, prog: "irm" });
  } catch (e) {
    if (e instanceof OuroError && e.code === Errno.EIRMD) {
      throw new OuroError(Errno.EIRMD, `Failed to communicate with the Ouroboros IPC Resource Manager daemon. (${e.message})`);
    }
    throw e;
  }
  const c: Ctx = { ouro, json };
  try {
    switch (top) {
      case "ipcp":
        return await ipcpCmd(c, args.slice(1));
      case "name":
        return await nameCmd(c, args.slice(1));
      case "bind":
        return await bindCmd(c, args.slice(1), false);
      case "unbind":
        return await bindCmd(c, args.slice(1), true);
      case "flow": {
        type FlowRow = Record<string, string | number> & { fast?: { packets: number } };
        const flows = (await ouro.request({ op: "flow.list" })).flows as FlowRow[];
        if (json) console.log(JSON.stringify(flows, null, 2));
        else if (flows.length === 0) console.log("No flows.");
        else {
          // fast: packets the I/O Worker received straight into a tunnel's device
          console.log(table(
            ["id", "pid", "name", "state", "via", "rx pkts", "tx pkts", "drops", "fast rx"],
            flows.map((f) => [
              f.id!,
              f.pid!,
              f.name!,
              f.state!,
              f.via!,
              f.rxPkts!,
              f.txPkts!,
              f.drops!,
              f.fast ? f.fast.packets : "-",
            ]),
          ));
        }
        return 0;
      }
      case "rib":
        return await ribCmd(ouro, json, args.slice(1));
      case "stats": {
        const s = await ouro.request({ op: "stats" });
        delete s.ok;
        console.log(JSON.stringify(s, null, json ? 2 : 2));
        return 0;
      }
    }
    return 1;
  } finally {
    await ouro.close();
  }
}
