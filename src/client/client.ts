/**
 * A process's connection to its IRMd: requests, replies, events and the
 * data frames of all its flows, over one UNIX stream socket.
 * @module
 */
import { encodeJson, FrameKind } from "../lib/ctl.ts";
import { Errno, OuroError } from "../lib/errors.ts";
import { FramedConn } from "../lib/framed.ts";
import { defaultRundir, SOCKET_NAME } from "../lib/paths.ts";
import type { Flow } from "./flow.ts";
import { DirectLinks } from "./direct.ts";

/** Options for {@link IrmClient.connect}. */
export interface ConnectOptions {
  /** Run directory of the IRMd (default `$OURO_RUNDIR` or /run/ouro). */
  rundir?: string;
  /** Program name announced to the IRMd (default: the main module's basename). */
  prog?: string;
}

function progName(): string {
  try {
    const m = Deno.mainModule.split("/").pop() ?? "app";
    return m.replace(/\.(ts|js|mjs|tsx)$/, "");
  } catch {
    return "app";
  }
}

/** How often flows check keepalive and peer timeouts. */
export const KEEPALIVE_TICK_MS = 100;
/** How long packets for a not-yet-created flow are kept. */
const EARLY_KEEP_MS = 2000;
/** At most this many early packets per flow, and flows with early packets. */
const EARLY_MAX_PACKETS = 1024;
const EARLY_MAX_FLOWS = 64;
/** Early packets on a direct link beyond which the link stops being read. */
const EARLY_PAUSE_PACKETS = 256;

interface Pending {
  resolve: (m: Record<string, unknown>) => void;
  reject: (e: Error) => void;
}

/** A connection to the IRMd. */
export class IrmClient {
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  /** Open flows by id. */
  readonly flows: Map<number, Flow> = new Map();
  #ticker: ReturnType<typeof setInterval> | undefined;

  /** @internal A flow was opened: run the keepalive tick while any flow exists. */
  flowOpened(f: Flow): void {
    this.flows.set(f.fd, f);
    const w = this.#creationWaiters.get(f.fd);
    if (w) {
      this.#creationWaiters.delete(f.fd);
      queueMicrotask(w); // after the constructor took the early packets
    }
    if (this.#ticker === undefined && !this.#closed) {
      this.#ticker = setInterval(() => {
        const now = performance.now();
        for (const fl of this.flows.values()) fl.tick(now);
        if (this.flows.size === 0) this.#stopTicker();
      }, KEEPALIVE_TICK_MS);
      Deno.unrefTimer(this.#ticker);
    }
  }

  #stopTicker(): void {
    if (this.#ticker !== undefined) clearInterval(this.#ticker);
    this.#ticker = undefined;
  }
  #closed = false;
  /** Resolves when the connection has ended. */
  readonly done: Promise<void>;
  #conn!: FramedConn;
  /** @internal Same-host links to other processes (see direct.ts). */
  readonly links: DirectLinks;
  /** Binds that arrived before their flow was made: flow id → link, peer. */
  readonly #earlyBinds = new Map<number, { link: FramedConn; peer: number; at: number }>();

  private constructor(readonly rundir: string, c: Deno.Conn) {
    this.links = new DirectLinks(rundir, {
      onData: (flowId, data, link) => {
        const fl = this.flows.get(flowId);
        if (fl) fl.onPacket(data);
        else if (this.#stashEarly(flowId, data) >= EARLY_PAUSE_PACKETS) {
          // the peer is faster than our accept reply: stop reading the link until the flow exists
          link.pauseUntil(this.#flowCreated(flowId));
        }
      },
      onBind: (flowId, peer, link) => {
        const fl = this.flows.get(flowId);
        if (fl) fl.bindLink(link, peer);
        else {
          const now = Date.now();
          for (const [id, b] of this.#earlyBinds) if (now - b.at > EARLY_KEEP_MS) this.#earlyBinds.delete(id);
          this.#earlyBinds.set(flowId, { link, peer, at: now });
        }
      },
      onDealloc: (flowId, link) => this.flows.get(flowId)?.onLinkEvent(link, "dealloc"),
      onLinkClosed: (link) => {
        for (const f of [...this.flows.values()]) f.onLinkEvent(link, "closed");
      },
    });
    this.#conn = new FramedConn(c, {
      onFrame: (f) => {
        switch (f.kind) {
          case FrameKind.DATA: {
            const fl = this.flows.get(f.flowId);
            if (fl) fl.onPacket(f.data);
            else this.#stashEarly(f.flowId, f.data);
            break;
          }
          case FrameKind.REP: {
            const p = this.#pending.get(f.id);
            if (!p) break;
            this.#pending.delete(f.id);
            if (f.msg.ok === true) p.resolve(f.msg);
            else {
              const code = typeof f.msg.code === "number" ? f.msg.code : Errno.EIRMD;
              p.reject(new OuroError(code, typeof f.msg.message === "string" ? f.msg.message : undefined));
            }
            break;
          }
          case FrameKind.EVT: {
            const id = f.msg.flowId;
            if (typeof id === "number") this.flows.get(id)?.onEvent(String(f.msg.ev));
            break;
          }
        }
      },
      onBadFrame: () => {},
      onClose: () => this.#onClose(),
    });
    this.done = this.#conn.run();
  }

  /** Connect to the IRMd on `rundir` and announce this process. */
  static async connect(opts: ConnectOptions = {}): Promise<IrmClient> {
    const rundir = opts.rundir ?? defaultRundir();
    const path = `${rundir}/${SOCKET_NAME}`;
    let c: Deno.Conn;
    try {
      c = await Deno.connect({ transport: "unix", path });
    } catch (e) {
      const why = e instanceof Deno.errors.NotFound
        ? "no daemon socket there"
        : e instanceof Deno.errors.ConnectionRefused
        ? "nobody listening (stale socket)"
        : e instanceof Deno.errors.PermissionDenied
        ? "permission denied"
        : (e as Error).message;
      throw new OuroError(Errno.EIRMD, `Cannot reach the IRMd at ${path}: ${why}. Is \`ouro irmd\` running?`);
    }
    const cl = new IrmClient(rundir, c);
    await cl.request({ op: "hello", pid: Deno.pid, prog: opts.prog ?? progName() });
    return cl;
  }

  /**
   * Data can arrive in the same read as the reply that creates its flow,
   * before the Flow object exists: keep it briefly for the Flow to take.
   */
  readonly #early = new Map<number, { at: number; pkts: Uint8Array[] }>();

  #stashEarly(flowId: number, data: Uint8Array): number {
    const now = Date.now();
    for (const [id, e] of this.#early) if (now - e.at > EARLY_KEEP_MS) this.#early.delete(id);
    let e = this.#early.get(flowId);
    if (!e) {
      if (this.#early.size >= EARLY_MAX_FLOWS) return 0;
      e = { at: now, pkts: [] };
      this.#early.set(flowId, e);
    }
    if (e.pkts.length < EARLY_MAX_PACKETS) e.pkts.push(data.slice());
    return e.pkts.length;
  }

  readonly #creationWaiters = new Map<number, () => void>();

  /** Resolves when flow `flowId` is created here, or after EARLY_KEEP_MS. */
  #flowCreated(flowId: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, EARLY_KEEP_MS);
      const prev = this.#creationWaiters.get(flowId);
      function done() {
        clearTimeout(t);
        prev?.();
        resolve();
      }
      this.#creationWaiters.set(flowId, done);
    });
  }

  /** @internal A bind that arrived for `flowId` before its Flow was made. */
  takeEarlyBind(flowId: number): { link: FramedConn; peer: number } | undefined {
    const b = this.#earlyBinds.get(flowId);
    this.#earlyBinds.delete(flowId);
    return b;
  }

  /** Packets that arrived for `flowId` before its Flow was made. */
  takeEarly(flowId: number): Uint8Array[] {
    const e = this.#early.get(flowId);
    this.#early.delete(flowId);
    return e?.pkts ?? [];
  }

  /** Send one request and wait for its reply. */
  request(msg: Record<string, unknown>, onId?: (id: number) => void): Promise<Record<string, unknown>> {
    if (this.#closed) return Promise.reject(new OuroError(Errno.EIRMD, "Cannot talk to the IRMd: connection closed"));
    const id = this.#nextId++;
    onId?.(id);
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#conn.send(encodeJson(FrameKind.REQ, msg, id));
    });
  }

  /** Tell the IRMd to cancel an in-flight request (accept). */
  cancel(reqId: number): void {
    if (!this.#closed) this.#conn.send(encodeJson(FrameKind.REQ, { op: "cancel", reqId }, this.#nextId++));
  }

  /** Queue one SDU on a flow (copied at once). */
  sendData(flowId: number, sdu: Uint8Array): boolean {
    return this.#conn.sendData(flowId, sdu);
  }

  /** Bytes waiting to go to the IRMd. */
  get queued(): number {
    return this.#conn.queued;
  }

  /** Resolves when the send queue is short again. */
  drain(): Promise<void> {
    return this.#conn.drain();
  }

  /** Stop reading from the IRMd until `p` settles (receive back-pressure). */
  pauseReads(p: Promise<unknown>): void {
    this.#conn.pauseUntil(p);
  }

  /** Is the connection gone? */
  get closed(): boolean {
    return this.#closed;
  }

  #onClose(): void {
    this.#closed = true;
    this.#stopTicker();
    for (const p of this.#pending.values()) p.reject(new OuroError(Errno.EIRMD, "Cannot talk to the IRMd: connection lost"));
    this.#pending.clear();
    for (const f of [...this.flows.values()]) f.onEvent("dealloc", true);
  }

  /** Close the connection (all flows end). */
  async close(): Promise<void> {
    await this.links.close();
    if (!this.#closed) await this.#conn.end();
    await this.done;
  }
}
