/**
 * Test hosts in network namespaces: make nodes, join them with veth links
 * (point-to-point /30s in 10.200.0.0/16) or a Linux bridge, cut and restore
 * links, and remove everything afterwards. Traffic never leaves the
 * namespaces this creates.
 * @module
 */
import { TestDaemon } from "./daemon.ts";

async function run(cmd: string[], check = true): Promise<{ code: number; out: string; err: string }> {
  const o = await new Deno.Command(cmd[0]!, { args: cmd.slice(1), stdout: "piped", stderr: "piped" }).output();
  const r = { code: o.code, out: new TextDecoder().decode(o.stdout), err: new TextDecoder().decode(o.stderr) };
  if (check && r.code !== 0) throw new Error(`${cmd.join(" ")} failed: ${r.err}`);
  return r;
}

/** Why namespaces cannot be used here, or undefined if they can. */
export async function netnsUnavailable(): Promise<string | undefined> {
  if (Deno.uid() !== 0) return "not root";
  try {
    const r = await run(["ip", "netns", "list"], false);
    return r.code === 0 ? undefined : `ip netns: ${r.err.trim()}`;
  } catch (e) {
    return `no ip command: ${(e as Error).message}`;
  }
}

/** One link between two nodes. */
export interface Link {
  a: string;
  b: string;
  devA: string;
  devB: string;
  ipA: string;
  ipB: string;
}

let topoSeq = 0;

/** A set of namespaces and the links between them. */
export class Topology {
  readonly ns = new Map<string, string>();
  readonly links: Link[] = [];
  readonly daemons = new Map<string, TestDaemon>();
  #linkNo = 0;
  #bridgeNs: string | undefined;

  private constructor(readonly tag: string) {}

  /** Namespaces `ouro-<tag>-<pid>-<n>-<node>` for each node, loopback up. */
  static async create(tag: string, nodes: string[]): Promise<Topology> {
    const t = new Topology(`${tag}${Deno.pid % 100000}${topoSeq++}`);
    try {
      for (const n of nodes) await t.addNode(n);
    } catch (e) {
      await t.destroy();
      throw e;
    }
    return t;
  }

  /** The namespace of a node. */
  nsOf(node: string): string {
    const n = this.ns.get(node);
    if (!n) throw new Error(`no node ${node}`);
    return n;
  }

  async addNode(node: string): Promise<string> {
    const name = `o-${this.tag}-${node}`.slice(0, 30);
    await run(["ip", "netns", "add", name]);
    this.ns.set(node, name);
    await run(["ip", "-n", name, "link", "set", "lo", "up"]);
    return name;
  }

  /** A veth link a↔b with a /30 of 10.200.0.0/16 (or given addresses). */
  async link(a: string, b: string, opts: { mtu?: number } = {}): Promise<Link> {
    const k = this.#linkNo++;
    const devA = `v${k}${b}`.slice(0, 15), devB = `v${k}${a}`.slice(0, 15);
    const base = 4 * k;
    const ipA = `10.200.${base >> 8}.${(base & 255) + 1}`, ipB = `10.200.${base >> 8}.${(base & 255) + 2}`;
    await run(["ip", "-n", this.nsOf(a), "link", "add", devA, "type", "veth", "peer", "name", devB, "netns", this.nsOf(b)]);
    for (const [n, dev, ip] of [[a, devA, ipA], [b, devB, ipB]] as const) {
      await run(["ip", "-n", this.nsOf(n), "addr", "add", `${ip}/30`, "dev", dev]);
      if (opts.mtu) await run(["ip", "-n", this.nsOf(n), "link", "set", dev, "mtu", String(opts.mtu)]);
      await run(["ip", "-n", this.nsOf(n), "link", "set", dev, "up"]);
    }
    const l = { a, b, devA, devB, ipA, ipB };
    this.links.push(l);
    return l;
  }

  /** Put every node on one Linux bridge (in its own namespace), 10.201.0.x/24; returns node → {dev, ip}. */
  async bridge(nodes: string[]): Promise<Map<string, { dev: string; ip: string }>> {
    this.#bridgeNs = await this.addNode("br");
    await run(["ip", "-n", this.#bridgeNs, "link", "add", "br0", "type", "bridge"]);
    await run(["ip", "-n", this.#bridgeNs, "link", "set", "br0", "up"]);
    const out = new Map<string, { dev: string; ip: string }>();
    let i = 1;
    for (const n of nodes) {
      const dev = "eth0", peer = `p${i}`;
      await run(["ip", "-n", this.nsOf(n), "link", "add", dev, "type", "veth", "peer", "name", peer, "netns", this.#bridgeNs]);
      await run(["ip", "-n", this.#bridgeNs, "link", "set", peer, "master", "br0"]);
      await run(["ip", "-n", this.#bridgeNs, "link", "set", peer, "up"]);
      const ip = `10.201.0.${i}`;
      await run(["ip", "-n", this.nsOf(n), "addr", "add", `${ip}/24`, "dev", dev]);
      await run(["ip", "-n", this.nsOf(n), "link", "set", dev, "up"]);
      out.set(n, { dev, ip });
      i++;
    }
    return out;
  }

  /** Find the link between two nodes. */
  linkOf(a: string, b: string): Link {
    const l = this.links.find((x) => (x.a === a && x.b === b) || (x.a === b && x.b === a));
    if (!l) throw new Error(`no link ${a}-${b}`);
    return l;
  }

  /** Take a link down (both ends) or bring it back. */
  async setLink(a: string, b: string, up: boolean): Promise<void> {
    const l = this.linkOf(a, b);
    await run(["ip", "-n", this.nsOf(l.a), "link", "set", l.devA, up ? "up" : "down"]);
    await run(["ip", "-n", this.nsOf(l.b), "link", "set", l.devB, up ? "up" : "down"]);
  }

  /** `tc netem` on both ends of a link, e.g. ["loss", "10%", "duplicate", "5%"]. */
  async netem(a: string, b: string, args: string[]): Promise<void> {
    const l = this.linkOf(a, b);
    for (const [n, dev] of [[l.a, l.devA], [l.b, l.devB]] as const) {
      await run(["ip", "netns", "exec", this.nsOf(n), "tc", "qdisc", "replace", "dev", dev, "root", "netem", ...args]);
    }
  }

  /** Run a command inside a node. */
  exec(node: string, cmd: string[], check = true): Promise<{ code: number; out: string; err: string }> {
    return run(["ip", "netns", "exec", this.nsOf(node), ...cmd], check);
  }

  /** Start `ouro irmd` in a node (kept for destroy()). */
  async daemon(node: string, args: string[] = []): Promise<TestDaemon> {
    const d = await TestDaemon.start({ netns: this.nsOf(node), args });
    this.daemons.set(node, d);
    return d;
  }

  /** Stop daemons, delete namespaces (and their links). */
  async destroy(): Promise<void> {
    for (const d of this.daemons.values()) await d.stop().catch(() => {});
    this.daemons.clear();
    for (const n of [...this.ns.values()].reverse()) await run(["ip", "netns", "del", n], false);
    this.ns.clear();
  }

  /** `await using topo = …` */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.destroy();
  }
}
