/**
 * `ouro irm rib`: a unicast IPCP's resource information base as tables —
 * neighbours (address, name, DT and MGMT flows), the routing table (next
 * hops per destination), the directory (DHT contacts and stored keys with
 * expiry) and the flows of the flow allocator — read from the `detail` of
 * `ipcp.list`.
 *
 * @example
 * ```ts
 * import { renderRib } from "./rib.ts";
 * console.log(renderRib([{ name: "uni.a", type: "unicast", state: "OPERATIONAL",
 *   detail: { address: 7, routes: [{ dst: 9, nhops: [9] }] } }], ["routes"], 0));
 * ```
 * @module
 */
import type { Ouro } from "../client/api.ts";
import { Errno, OuroError } from "../lib/errors.ts";
import { UsageError } from "./args.ts";
import { table } from "./table.ts";

/** The parts of the RIB `irm rib` can show. */
export const RIB_SECTIONS = ["neighbours", "routes", "directory", "flows"] as const;
/** One part of the RIB. */
export type RibSection = typeof RIB_SECTIONS[number];

/** An `ipcp.list` row (only what the RIB reads). */
export interface RibIpcp {
  name: string;
  type: string;
  state: string;
  layer?: string;
  detail?: Record<string, unknown>;
}

interface Nbr {
  addr: number;
  fd: number;
  type: "dt" | "mgmt";
}
interface ConnInfo {
  comp: "dt" | "mgmt";
  dst: string;
  fd: number;
  addr: number;
}
interface Adj {
  src: number;
  dst: number;
  seqno: string;
}
interface DhtValue {
  val: string;
  expS: number;
  own: boolean;
}
interface DhtKey {
  key: string;
  stored: number;
  own: number;
  values?: DhtValue[];
}
interface FlowRow {
  flowId: number;
  rAddr: number;
  qc: number;
  pending: boolean;
  rxPkts: number;
  txPkts: number;
}

const CUBES = ["be", "video", "voice"];
/** Hex ids are shown to this many characters. */
const ID_CHARS = 16;

const arr = <T>(v: unknown): T[] => (Array.isArray(v) ? v as T[] : []);
const short = (hex: string) => (hex.length > ID_CHARS ? `${hex.slice(0, ID_CHARS)}…` : hex);

/** Names of neighbours by address, from the connections this side made. */
function namesByAddr(d: Record<string, unknown>): Map<number, string> {
  const m = new Map<number, string>();
  for (const c of arr<ConnInfo>(d.conns)) m.set(c.addr, c.dst);
  return m;
}

/** A DHT value: an address (8 bytes big-endian) as a number, else its hex. */
function valueText(hex: string): string {
  return /^[0-9a-f]{16}$/i.test(hex) ? BigInt(`0x${hex}`).toString() : short(hex);
}

function neighbours(d: Record<string, unknown>): string {
  const names = namesByAddr(d);
  const self = d.address as number;
  const seq = new Map(
    arr<Adj>(d.adjacencies).filter((a) => a.src === self).map((a) => [a.dst, a.seqno]),
  );
  const by = new Map<number, { dt: number[]; mgmt: number[] }>();
  for (const n of arr<Nbr>(d.neighbours)) {
    const e = by.get(n.addr) ?? { dt: [], mgmt: [] };
    e[n.type].push(n.fd);
    by.set(n.addr, e);
  }
  if (by.size === 0) return "No neighbours.";
  const rows = [...by].sort(([a], [b]) => a - b).map(([addr, e]) => [
    addr,
    names.get(addr) ?? "-",
    e.dt.join(",") || "-",
    e.mgmt.join(",") || "-",
    seq.get(addr) ?? "-",
  ]);
  return table(["address", "name", "dt flows", "mgmt flows", "link seqno"], rows);
}

function routes(d: Record<string, unknown>): string {
  const names = namesByAddr(d);
  const rt = arr<{ dst: number; nhops: number[] }>(d.routes);
  if (rt.length === 0) return "No routes.";
  const hop = (a: number) => (names.has(a) ? `${a} (${names.get(a)})` : String(a));
  // the three QoS cubes get the same table (weights ignore QoS), so one is shown
  return table(
    ["destination", "next hops"],
    [...rt].sort((a, b) => a.dst - b.dst).map((r) => [r.dst, r.nhops.map(hop).join(", ") || "-"]),
  );
}

function directory(d: Record<string, unknown>, nowS: number): string {
  const dht = (d.dht ?? {}) as { id?: string; contacts?: unknown; keys?: unknown };
  const contacts = arr<{ id: string; addr: number }>(dht.contacts);
  const out = [`DHT id ${short(dht.id ?? "?")}, ${contacts.length} contacts`];
  if (contacts.length) {
    out.push(table(["address", "id"], contacts.map((c) => [c.addr, short(c.id)])));
  }
  const rows: (string | number)[][] = [];
  for (const k of arr<DhtKey>(dht.keys)) {
    const vals = k.values ?? [];
    if (vals.length === 0) rows.push([short(k.key), "-", `${k.own} own, ${k.stored} stored`, "-"]);
    for (const v of vals) {
      rows.push([short(k.key), valueText(v.val), v.own ? "own" : "stored", `${v.expS - nowS} s`]);
    }
  }
  out.push(rows.length ? table(["key", "value", "kind", "expires in"], rows) : "No keys stored.");
  return out.join("\n");
}

function flows(d: Record<string, unknown>): string {
  const fs = arr<FlowRow>(d.flows);
  if (fs.length === 0) return "No flows.";
  return table(
    ["flow id", "remote address", "qos cube", "state", "rx pkts", "tx pkts"],
    fs.map((f) => [
      f.flowId,
      f.rAddr,
      CUBES[f.qc] ?? String(f.qc),
      f.pending ? "pending" : "allocated",
      f.rxPkts,
      f.txPkts,
    ]),
  );
}

const TITLES: Record<RibSection, string> = {
  neighbours: "Neighbours",
  routes: "Routing table (all QoS cubes)",
  directory: "Directory",
  flows: "Flows",
};

/** Render the RIB of each IPCP; `nowS` (UNIX seconds) turns expiries into time left. */
export function renderRib(ipcps: RibIpcp[], sections: readonly RibSection[], nowS: number): string {
  const out: string[] = [];
  for (const i of ipcps) {
    const d = i.detail ?? {};
    out.push(
      `${i.name}: ${i.type}, layer ${i.layer ?? "-"}, address ${d.address ?? "-"}, ` +
        `routing ${d.routing ?? "-"}, congestion ${d.congestion ?? "-"}`,
    );
    for (const s of sections) {
      const body = s === "neighbours"
        ? neighbours(d)
        : s === "routes"
        ? routes(d)
        : s === "directory"
        ? directory(d, nowS)
        : flows(d);
      out.push("", `${TITLES[s]}:`, body);
    }
    out.push("");
  }
  return out.join("\n");
}

/** The RIB parts as JSON, by IPCP name. */
export function ribJson(
  ipcps: RibIpcp[],
  sections: readonly RibSection[],
): Record<string, unknown> {
  const key: Record<RibSection, string[]> = {
    neighbours: ["neighbours", "conns", "adjacencies"],
    routes: ["routes"],
    directory: ["dht"],
    flows: ["flows"],
  };
  const out: Record<string, unknown> = {};
  for (const i of ipcps) {
    const d = i.detail ?? {};
    const o: Record<string, unknown> = { address: d.address, layer: i.layer };
    for (const s of sections) for (const k of key[s]) o[k] = d[k];
    out[i.name] = o;
  }
  return out;
}

/** Usage of `irm rib`. */
export const RIB_HELP =
  `Usage: ouro irm [--json] rib [name <ipcp>] [neighbours|routes|directory|flows]...
  Show the RIB of unicast IPCPs (all of them unless name is given); all parts by default.`;

/** Parse `rib` arguments: an optional `name <ipcp>` and sections (prefixes allowed). */
export function parseRibArgs(args: string[]): { name?: string; sections: RibSection[] } {
  let name: string | undefined;
  const sections: RibSection[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    // "n" alone is ambiguous with neighbours: the keyword needs two letters
    if (a.length >= 2 && "name".startsWith(a)) {
      name = args[++i];
      if (name === undefined) throw new UsageError(`"name" needs a value`);
      continue;
    }
    const s = RIB_SECTIONS.find((x) => a.length > 0 && x.startsWith(a));
    if (!s) {
      throw new UsageError(
        `"${a}" is not a RIB part (expected ${RIB_SECTIONS.join(", ")} or name <ipcp>)`,
      );
    }
    if (!sections.includes(s)) sections.push(s);
  }
  return { name, sections: sections.length ? sections : [...RIB_SECTIONS] };
}

/** `ouro irm rib …` against a connected daemon; prints tables (or JSON) and returns the exit status. */
export async function ribCmd(ouro: Ouro, json: boolean, args: string[]): Promise<number> {
  if (args[0] === "help" || args[0] === "--help" || args[0] === "-h") {
    console.log(RIB_HELP);
    return 0;
  }
  const { name, sections } = parseRibArgs(args);
  const all = (await ouro.request({ op: "ipcp.list" })).ipcps as RibIpcp[];
  let list = all.filter((i) => i.type === "unicast");
  if (name !== undefined) {
    const one = all.find((i) => i.name === name);
    if (!one) throw new OuroError(Errno.EIPCP, `Cannot show the RIB of ${name}: no such IPCP.`);
    if (one.type !== "unicast") {
      throw new OuroError(
        Errno.EIPCPTYPE,
        `Cannot show the RIB of ${name}: it is a ${one.type} IPCP, not unicast.`,
      );
    }
    list = [one];
  }
  if (json) {
    console.log(JSON.stringify(ribJson(list, sections), null, 2));
    return 0;
  }
  const live = list.filter((i) => i.detail);
  if (live.length === 0) {
    console.log(
      list.length ? "The unicast IPCPs are not enrolled yet." : "No unicast IPCPs in system.",
    );
    return 0;
  }
  console.log(renderRib(live, sections, Math.floor(Date.now() / 1000)));
  return 0;
}
