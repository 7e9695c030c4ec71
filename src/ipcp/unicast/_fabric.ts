/**
 * Test helper: an in-memory fabric of N−1 flows and IRMd hosts, so whole
 * unicast IPCPs can enroll, connect and carry flows in one process with no
 * daemon (in the manner of wireguard-go's `bindtest`). Every SDU written on
 * any N−1 flow is recorded in `trace` for byte-exact comparisons.
 * @module
 */
import { Errno, OuroError } from "../../lib/errors.ts";
import { hashName, toHex } from "../../lib/hash.ts";
import { assert, assertEquals } from "../../../tests/util/assert.ts";
import { logger } from "../../lib/log.ts";
import { qosRaw, type QosSpec } from "../../lib/qos.ts";
import type { N1Flow, N1Flows } from "../../irmd/n1.ts";
import type { Ipcp, IpcpHost } from "../types.ts";
import { type UnicastDeps, UnicastIpcp } from "./unicast.ts";

/** One recorded SDU. */
export interface TraceEntry {
  /** Writer's IPCP name. */
  from: string;
  /** Flow id at the writer. */
  flowId: number;
  /** Name the flow was allocated to. */
  flowName: string;
  sdu: Uint8Array;
}

class FakeFlow implements N1Flow {
  peer!: FakeFlow;
  closed = false;
  onPacket: (sdu: Uint8Array) => void = () => {};
  onDealloc: () => void = () => {};
  readonly mpl = 100;
  constructor(
    readonly fabric: Fabric,
    readonly owner: FakeN1,
    readonly id: number,
    readonly qos: QosSpec,
    readonly name: string,
  ) {}
  write(sdu: Uint8Array): Promise<void> | undefined {
    if (this.closed) return undefined;
    this.fabric.trace.push({
      from: this.owner.name,
      flowId: this.id,
      flowName: this.name,
      sdu: sdu.slice(),
    });
    if (!this.peer.closed) this.peer.onPacket(sdu);
    return undefined;
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.owner.flows.delete(this);
    const p = this.peer;
    if (!p.closed) {
      p.closed = true;
      p.owner.flows.delete(p);
      p.onDealloc();
    }
  }
  /** Cut from below: both ends see a dealloc. */
  cut(): void {
    const ends = [this, this.peer];
    for (const e of ends) {
      if (e.closed) continue;
      e.closed = true;
      e.owner.flows.delete(e);
      e.onDealloc();
    }
  }
}

/** N−1 flows of one IPCP in the fabric. */
export class FakeN1 implements N1Flows {
  readonly flows = new Set<FakeFlow>();
  #incoming: FakeFlow[] = [];
  #waiters: ((f: FakeFlow) => void)[] = [];
  constructor(readonly fabric: Fabric, readonly name: string, readonly pid: number) {}
  bind(name: string): void {
    this.fabric.bound.set(name, this);
  }
  unbind(name: string): void {
    if (this.fabric.bound.get(name) === this) this.fabric.bound.delete(name);
  }
  register(): Promise<void> {
    return Promise.resolve();
  }
  alloc(dst: string, qos: QosSpec): Promise<N1Flow> {
    const t = this.fabric.bound.get(dst);
    if (!t) {
      return Promise.reject(new OuroError(Errno.EIPCP, `Cannot allocate flow to ${dst}: unknown`));
    }
    const a = new FakeFlow(this.fabric, this, this.fabric.nextId++, qos, dst);
    const b = new FakeFlow(this.fabric, t, this.fabric.nextId++, qos, dst);
    a.peer = b;
    b.peer = a;
    this.flows.add(a);
    t.flows.add(b);
    t.#offer(b);
    return Promise.resolve(a);
  }
  #offer(f: FakeFlow): void {
    const w = this.#waiters.shift();
    if (w) w(f);
    else this.#incoming.push(f);
  }
  accept(signal?: AbortSignal): Promise<N1Flow> {
    const f = this.#incoming.shift();
    if (f) return Promise.resolve(f);
    if (![...this.fabric.bound.values()].includes(this)) {
      return Promise.reject(new OuroError(Errno.ENAME, "Cannot accept: not bound"));
    }
    return new Promise((resolve, reject) => {
      const w = (x: FakeFlow) => (signal?.removeEventListener("abort", onAbort), resolve(x));
      const onAbort = () => {
        this.#waiters = this.#waiters.filter((x) => x !== w);
        reject(new OuroError(Errno.EPIPE, "Cannot accept: cancelled"));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(w);
    });
  }
  close(): void {
    for (const f of [...this.flows]) f.close();
    for (const [n, o] of this.fabric.bound) if (o === this) this.fabric.bound.delete(n);
  }
}

/** An application flow as the fake host sees it. */
export interface AppFlow {
  flowId: number;
  rx: Uint8Array[];
  reply?: { response: number; data: Uint8Array };
  deallocated: boolean;
}

/** A fake IRMd for one IPCP: names served here, app flows, delivered data. */
export class FakeHost implements IpcpHost {
  /** Hex name hash → OAP response data to return. */
  readonly served = new Map<string, Uint8Array>();
  readonly flows = new Map<number, AppFlow>();
  /** Flow id the next accepted flow gets (then incremented). */
  nextFlowId = 1000;
  readonly requests: { hash: Uint8Array; qos: QosSpec; data: Uint8Array }[] = [];
  serve(hash: Uint8Array, response = new Uint8Array(0)): void {
    this.served.set(toHex(hash), response);
  }
  flowReqArr(_i: Ipcp, hash: Uint8Array, qos: QosSpec, _mpl: number, data: Uint8Array) {
    this.requests.push({ hash: hash.slice(), qos, data: data.slice() });
    const resp = this.served.get(toHex(hash));
    if (!resp) return Promise.reject(new OuroError(Errno.ENAME, "unknown name"));
    const f: AppFlow = { flowId: this.nextFlowId++, rx: [], deallocated: false };
    this.flows.set(f.flowId, f);
    return Promise.resolve({ flowId: f.flowId, data: resp });
  }
  flowAllocReply(flowId: number, response: number, _mpl: number, data: Uint8Array): void {
    const f = this.flows.get(flowId);
    if (f) f.reply = { response, data: data.slice() };
  }
  flowDeallocated(flowId: number): void {
    const f = this.flows.get(flowId);
    if (f) f.deallocated = true;
  }
  deliver(flowId: number, sdu: Uint8Array): void {
    this.flows.get(flowId)?.rx.push(sdu.slice());
  }
  backpressure(): undefined {
    return undefined;
  }
}

/** A unicast IPCP in the fabric with its host and N−1 API. */
export interface Node {
  ipcp: UnicastIpcp;
  host: FakeHost;
  n1: FakeN1;
}

/** The fabric. */
export class Fabric {
  readonly bound = new Map<string, FakeN1>();
  readonly trace: TraceEntry[] = [];
  readonly nodes: Node[] = [];
  nextId = 64;

  /** A unicast IPCP named `name`, bound to its own name. */
  node(name: string, deps: UnicastDeps = {}): Node {
    const n1 = new FakeN1(this, name, 1 << 23);
    const host = new FakeHost();
    const ipcp = new UnicastIpcp(this.nodes.length + 1, name, {
      host,
      log: logger(`test/${name}`),
      n1,
    }, deps);
    n1.bind(name);
    const n = { ipcp, host, n1 };
    this.nodes.push(n);
    return n;
  }

  /** A bare N−1 endpoint (to inject raw traffic). */
  endpoint(name: string): FakeN1 {
    return new FakeN1(this, name, 1);
  }

  /** Stop every node. */
  async stop(): Promise<void> {
    for (const n of this.nodes) {
      n.n1.close();
      await n.ipcp.stop();
    }
  }
}

/** Allocate an app flow from `a` to `name` and wait for the reply. */
export async function appAlloc(
  a: Node,
  name: string,
  opts: { flowId?: number; qos?: QosSpec; data?: Uint8Array; hashAlgo?: number } = {},
): Promise<AppFlow> {
  const flowId = opts.flowId ?? a.host.nextFlowId++;
  const f: AppFlow = { flowId, rx: [], deallocated: false };
  a.host.flows.set(flowId, f);
  await a.ipcp.flowAlloc(
    flowId,
    hashName(opts.hashAlgo ?? 1, name),
    opts.qos ?? qosRaw,
    opts.data ?? new Uint8Array(0),
  );
  await waitFor(() => f.reply !== undefined, 3000, `reply for flow to ${name}`);
  return f;
}

/** Poll `cond` every 5 ms until it holds or `ms` pass. */
export async function waitFor(cond: () => boolean, ms = 3000, what = "condition"): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Link-state timers short enough for tests (s). */
export const FAST_LS = { ls_t_recalc: 1, ls_t_update: 1, ls_t_timeo: 3 };
const te = new TextEncoder();
const td = new TextDecoder();

/** b enrolls with a (through `via`), then connects dt and mgmt to `to`. */
export async function join(b: Node, via: string, to: string): Promise<void> {
  await b.ipcp.enroll(via);
  b.n1.bind(b.ipcp.layer!.name);
  await b.ipcp.connect(to, "dt", qosRaw);
  await b.ipcp.connect(to, "mgmt", qosRaw);
}

/** Connect dt and mgmt from `b` to the IPCP named `to`. */
export async function link(b: Node, to: string): Promise<void> {
  await b.ipcp.connect(to, "dt", qosRaw);
  await b.ipcp.connect(to, "mgmt", qosRaw);
}

/** The address of a running node. */
export function addrOf(n: Node): number {
  return n.ipcp.components!.addr;
}

/** Wait until `from` has a next hop towards `to` on cube BE. */
export async function routed(from: Node, to: Node, ms = 4000): Promise<void> {
  await waitFor(
    () => from.ipcp.components!.routing.pff(0).nextHop(addrOf(to)) !== undefined,
    ms,
    `route ${from.ipcp.name} → ${to.ipcp.name}`,
  );
}

/** Register `name` at `srv`, wait until `cli` resolves it, allocate, ping once. */
export async function pingThrough(cli: Node, srv: Node, name: string) {
  const h = hashName(1, name);
  srv.host.serve(h);
  await srv.ipcp.reg(h);
  let ok = false;
  for (let i = 0; i < 50 && !ok; i++) {
    ok = await cli.ipcp.query(h);
    if (!ok) await new Promise((r) => setTimeout(r, 50));
  }
  assert(ok, `${name} resolves at ${cli.ipcp.name}`);
  const cf = await appAlloc(cli, name);
  assertEquals(cf.reply!.response, 0);
  const sf = [...srv.host.flows.values()].at(-1)!;
  cli.ipcp.write(cf.flowId, te.encode("ping"));
  await waitFor(() => sf.rx.length > 0, 2000, "ping at server");
  assertEquals(td.decode(sf.rx[0]!), "ping");
  srv.ipcp.write(sf.flowId, te.encode("pong"));
  await waitFor(() => cf.rx.length > 0, 2000, "pong at client");
  assertEquals(td.decode(cf.rx[0]!), "pong");
  return { cf, sf };
}
