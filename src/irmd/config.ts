/**
 * The daemon's TOML configuration file, in the shape of the reference's
 * `irmd.conf` (spec 05 §7), turned into a list of control operations that
 * run in file order.
 * @module
 */
import { parse, TomlError } from "smol-toml";
import { isIpcpType } from "../ipcp/types.ts";
import { HASH_NAMES } from "../lib/hash.ts";

/** One step: a control operation as `ouro irm` would send it. */
export type ConfigStep = Record<string, unknown> & { op: string };

/** A configuration error, naming the table and key. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

const IPCP_KEYS = new Set(["bootstrap", "enrol", "enroll", "autobind", "reg", "conn"]);
const TYPE_KEYS: Record<string, string[]> = {
  local: ["hash"],
  "eth-llc": ["dev", "hash"],
  "eth-dix": ["dev", "hash", "ethertype"],
  udp4: ["ip", "port", "dns", "peers"],
  udp6: ["ip", "port", "dns", "peers"],
  broadcast: [],
  unicast: [
    "addr_size", "eid_size", "max_ttl", "routing", "ls_t_recalc", "ls_t_update", "ls_t_timeo",
    "addr-auth", "addr_auth", "congestion", "directory", "dht_alpha", "dht_k", "dht_t_expire",
    "dht_t_refresh", "dht_t_replicate", "hash",
  ],
};
const NAME_KEYS = new Set([
  "lb", "prog", "args", "server_enc_file", "server_crt_file", "server_key_file",
  "client_enc_file", "client_crt_file", "client_key_file",
]);

function strList(v: unknown, where: string): string[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
    throw new ConfigError(`${where} must be a list of strings`);
  }
  return v as string[];
}

/** Parse a configuration file's text into steps. */
export function parseConfig(text: string): ConfigStep[] {
  let doc: Record<string, unknown>;
  try {
    doc = parse(text) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof TomlError) {
      throw new ConfigError(`TOML syntax error at line ${e.line}, column ${e.column}: ${e.message.split("\n")[0]}`);
    }
    throw new ConfigError(`TOML syntax error: ${(e as Error).message}`);
  }
  const steps: ConfigStep[] = [];
  for (const [top, tables] of Object.entries(doc)) {
    if (top !== "name" && !isIpcpType(top)) throw new ConfigError(`Unknown top-level key [${top}]`);
    if (typeof tables !== "object" || tables === null || Array.isArray(tables)) {
      throw new ConfigError(`[${top}] must hold tables such as [${top}.something]`);
    }
    for (const [name, raw] of Object.entries(tables as Record<string, unknown>)) {
      const where = `[${top}.${name}]`;
      if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
        throw new ConfigError(`${where} must be a table`);
      }
      const t = raw as Record<string, unknown>;
      if (top === "name") steps.push(...nameSteps(name, t, where));
      else steps.push(...ipcpSteps(top, name, t, where));
    }
  }
  return steps;
}

function nameSteps(name: string, t: Record<string, unknown>, where: string): ConfigStep[] {
  for (const k of Object.keys(t)) if (!NAME_KEYS.has(k)) throw new ConfigError(`${where}: unknown key ${k}`);
  let lb = "spillover";
  if (t.lb !== undefined) {
    if (t.lb === "spill" || t.lb === "spillover") lb = "spillover";
    else if (t.lb === "round-robin") lb = "round-robin";
    else throw new ConfigError(`${where}: lb must be "spill" or "round-robin"`);
  }
  const security = { server: {} as Record<string, string>, client: {} as Record<string, string> };
  let hasSec = false;
  for (const role of ["server", "client"] as const) {
    for (const k of ["enc", "crt", "key"]) {
      const v = t[`${role}_${k}_file`];
      if (v === undefined) continue;
      if (typeof v !== "string") throw new ConfigError(`${where}: ${role}_${k}_file must be a path`);
      security[role][k] = v;
      hasSec = true;
    }
  }
  const steps: ConfigStep[] = [{ op: "name.create", name, lb, ...(hasSec ? { security } : {}) }];
  const progs = t.prog === undefined ? [] : strList(t.prog, `${where} prog`);
  const args = t.args === undefined ? [] : strList(t.args, `${where} args`);
  progs.forEach((p, i) => {
    const a = args[i];
    steps.push({
      op: "bind.program",
      name,
      path: p,
      auto: a === undefined ? undefined : [p, ...a.split(" ").filter((x) => x)],
    });
  });
  return steps;
}

function ipcpSteps(type: string, name: string, t: Record<string, unknown>, where: string): ConfigStep[] {
  const allowed = new Set([...IPCP_KEYS, ...TYPE_KEYS[type]!]);
  for (const k of Object.keys(t)) if (!allowed.has(k)) throw new ConfigError(`${where}: unknown key ${k}`);
  const steps: ConfigStep[] = [{ op: "ipcp.create", name, type }];
  const enrol = t.enrol ?? t.enroll;
  const options: Record<string, unknown> = {};
  let hashAlgo: number | undefined;
  for (const k of TYPE_KEYS[type]!) {
    if (t[k] === undefined) continue;
    if (k === "hash") {
      const h = HASH_NAMES[String(t[k])];
      if (h === undefined) throw new ConfigError(`${where}: hash must be SHA3_224, SHA3_256, SHA3_384 or SHA3_512`);
      hashAlgo = h;
    } else options[k] = t[k];
  }
  // Quirk kept: the presence of autobind is what counts, not its value.
  const autobind = t.autobind !== undefined;
  if (enrol !== undefined) {
    if (typeof enrol !== "string") throw new ConfigError(`${where}: enrol must be a string`);
    steps.push({ op: "ipcp.enroll", name, dst: enrol });
  } else if (t.bootstrap !== undefined) {
    if (typeof t.bootstrap !== "string") throw new ConfigError(`${where}: bootstrap must be a layer name`);
    steps.push({ op: "ipcp.bootstrap", name, conf: { layer: t.bootstrap, hashAlgo, options } });
  }
  if (autobind) {
    steps.push({ op: "bind.ipcp", ipcp: name, name });
    steps.push({ op: "bind.ipcp", ipcp: name, layer: true });
  }
  for (const n of t.reg === undefined ? [] : strList(t.reg, `${where} reg`)) {
    steps.push({ op: "name.reg", name: n, ipcp: name });
  }
  for (const d of t.conn === undefined ? [] : strList(t.conn, `${where} conn`)) {
    steps.push({ op: "ipcp.connect", name, dst: d, component: "mgmt" });
    steps.push({ op: "ipcp.connect", name, dst: d, component: "dt" });
  }
  return steps;
}
