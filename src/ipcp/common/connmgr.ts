/**
 * The connection manager (spec 10 §3): components of a unicast or broadcast
 * IPCP get their N−1 flows here. Every new flow starts with a CEP exchange
 * that names the component; the initiator checks the peer's protocol,
 * version and syntax, the responder only picks the component by name.
 *
 * Components register their CEP (`register`) and a handler that receives
 * each established {@link Conn} — from `connect`/`alloc` (initiator) or
 * from the accept loop (responder) alike.
 *
 * @example
 * ```ts
 * import { ConnMgr } from "./connmgr.ts";
 * import { CepSyntax } from "../unicast/wire/cep.ts";
 * declare const n1: import("../../irmd/n1.ts").N1Flows;
 * const cm = new ConnMgr(n1);
 * cm.register("mgmt", () => ({ compName: "Management", protocol: "LSP", prefVersion: 1,
 *   prefSyntax: CepSyntax.GPB, address: 7n }), (c) => console.log(c.peer.address));
 * cm.start();
 * ```
 * @module
 */
import { DecodeError, Errno, OuroError } from "../../lib/errors.ts";
import { type Logger, logger } from "../../lib/log.ts";
import { qosRaw, type QosSpec } from "../../lib/qos.ts";
import type { N1Flow, N1Flows } from "../../irmd/n1.ts";
import { type Cep, CEP_MAX_BYTES, decodeCep, encodeCep } from "../unicast/wire/cep.ts";
import { FlowReader } from "./flow_reader.ts";

/** `CONNMGR_RCV_TIMEOUT`: how long each side waits for the peer's CEP. */
export const CONNMGR_RCV_TIMEOUT_MS = 1000;
/** Pause before accepting again after `accept` failed (e.g. not bound to a name yet). */
export const CONNMGR_ACCEPT_RETRY_MS = 100;
/** Longest kept destination name (the reference keeps 64 chars). */
export const CONN_DST_MAX_CHARS = 64;

/** Component ids (`comp.h`). */
export type CompId = "dt" | "enroll" | "mgmt";

/** The all-empty CEP sent back for an unknown component. */
export const CEP_EMPTY: Readonly<Cep> = Object.freeze({
  compName: "",
  protocol: "",
  prefVersion: 0,
  prefSyntax: 0,
  address: 0n,
});

/** An established connection of a component. */
export interface Conn {
  readonly comp: CompId;
  /** The N−1 flow (its id is the component's fd). */
  readonly flow: N1Flow;
  /** Reads on the flow until a component takes it over. */
  readonly reader: FlowReader;
  /** The peer's CEP (its address for DT and MGMT). */
  readonly peer: Cep;
  /** Destination name (initiator) or the local name the flow came in for. */
  readonly dst: string;
  /** Did this side allocate the flow? */
  readonly initiator: boolean;
}

interface Component {
  info: () => Cep;
  onConn: (c: Conn) => void;
  /** Connections made with `connect`, by destination (for `disconnect`). */
  conns: Conn[];
}

/** Counters of the connection manager. */
export interface ConnMgrCounters {
  /** Flows accepted. */
  accepted: number;
  /** Connections established (both sides). */
  established: number;
  /** CEPs that did not decode (flow released). */
  cepBad: number;
  /** CEPs naming no registered component (empty CEP sent back, flow released). */
  cepUnknown: number;
  /** Initiator side: the peer's protocol, version or syntax differed. */
  cepRejected: number;
  /** No CEP within the receive timeout. */
  cepTimeout: number;
}

/** The connection manager of one IPCP. */
export class ConnMgr {
  readonly counters: ConnMgrCounters = {
    accepted: 0,
    established: 0,
    cepBad: 0,
    cepUnknown: 0,
    cepRejected: 0,
    cepTimeout: 0,
  };
  readonly #comps = new Map<CompId, Component>();
  readonly #log: Logger;
  #ac: AbortController | undefined;
  #loop: Promise<void> | undefined;

  /** A connection manager allocating and accepting over `n1`. */
  constructor(readonly n1: N1Flows, log: Logger = logger("connmgr")) {
    this.#log = log;
  }

  /** Make a component known: its CEP (computed when needed) and what to do with connections. */
  register(comp: CompId, info: () => Cep, onConn: (c: Conn) => void): void {
    this.#comps.set(comp, { info, onConn, conns: [] });
  }

  /** Forget a component (new flows for it get the empty CEP). */
  unregister(comp: CompId): void {
    this.#comps.delete(comp);
  }

  /** Start the accept loop (idempotent). */
  start(): void {
    if (this.#loop) return;
    const ac = this.#ac = new AbortController();
    this.#loop = this.#acceptLoop(ac.signal);
  }

  /** Stop accepting and release the flows of every `connect`. */
  async stop(): Promise<void> {
    this.#ac?.abort();
    await this.#loop;
    this.#loop = undefined;
    for (const c of this.#comps.values()) {
      for (const conn of c.conns.splice(0)) conn.flow.close();
    }
  }

  async #acceptLoop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let flow: N1Flow;
      try {
        flow = await this.n1.accept(signal);
      } catch {
        if (signal.aborted) return;
        await sleep(CONNMGR_ACCEPT_RETRY_MS, signal);
        continue;
      }
      this.counters.accepted++;
      this.#respond(flow).catch((e) =>
        this.#log.warn(`Cannot handle flow ${flow.id}: ${(e as Error).message}`)
      );
    }
  }

  /** Responder side of the CEP exchange (spec 10 §3.4). */
  async #respond(flow: N1Flow): Promise<void> {
    this.#log.debug(`Handling incoming flow ${flow.id}.`);
    const reader = new FlowReader(flow);
    let peer: Cep;
    try {
      peer = decodeCep(await reader.read(CONNMGR_RCV_TIMEOUT_MS), { maxBytes: CEP_MAX_BYTES });
    } catch (e) {
      if (e instanceof DecodeError) this.counters.cepBad++;
      else if (e instanceof OuroError && e.code === Errno.ETIMEDOUT) this.counters.cepTimeout++;
      flow.close();
      return;
    }
    const entry = [...this.#comps.entries()].find(([, c]) => c.info().compName === peer.compName);
    if (!entry) {
      this.counters.cepUnknown++;
      this.#log.warn(
        `Flow ${flow.id} asks for unknown component ${JSON.stringify(peer.compName.slice(0, 64))}.`,
      );
      reader.write(encodeCep(CEP_EMPTY));
      flow.close();
      return;
    }
    const [comp, c] = entry;
    this.#log.info(`Request to connect to ${peer.compName}.`);
    reader.write(encodeCep(c.info()));
    this.counters.established++;
    c.onConn({
      comp,
      flow,
      reader,
      peer,
      dst: flow.name.slice(0, CONN_DST_MAX_CHARS),
      initiator: false,
    });
  }

  /**
   * Initiator side (spec 10 §3.3): allocate a flow to `dst`, exchange CEPs,
   * require the peer's protocol, version and syntax to equal ours. The
   * connection is returned, not handed to the component (enrollment).
   */
  async alloc(comp: CompId, dst: string, qos: QosSpec = qosRaw): Promise<Conn> {
    const c = this.#comps.get(comp);
    if (!c) throw new OuroError(Errno.EINVAL, `Cannot connect ${comp}: no such component`);
    const flow = await this.n1.alloc(dst, qos);
    const reader = new FlowReader(flow);
    const mine = c.info();
    let peer: Cep;
    try {
      reader.write(encodeCep(mine));
      peer = decodeCep(await reader.read(CONNMGR_RCV_TIMEOUT_MS), { maxBytes: CEP_MAX_BYTES });
    } catch (e) {
      flow.close();
      if (e instanceof DecodeError) {
        this.counters.cepBad++;
        throw new OuroError(
          Errno.EIPCP,
          `Cannot connect ${mine.compName} to ${dst}: bad CEP (${e.message})`,
        );
      }
      if (e instanceof OuroError && e.code === Errno.ETIMEDOUT) this.counters.cepTimeout++;
      throw e;
    }
    if (
      peer.protocol !== mine.protocol || peer.prefVersion !== mine.prefVersion ||
      peer.prefSyntax !== mine.prefSyntax
    ) {
      this.counters.cepRejected++;
      flow.close();
      throw new OuroError(
        Errno.EIPCP,
        `Cannot connect ${mine.compName} to ${dst}: peer speaks ${
          JSON.stringify(peer.protocol.slice(0, 32))
        } ` +
          `v${peer.prefVersion} syntax ${peer.prefSyntax}`,
      );
    }
    this.counters.established++;
    return { comp, flow, reader, peer, dst: dst.slice(0, CONN_DST_MAX_CHARS), initiator: true };
  }

  /** `connect` (IRMd command): `alloc`, remember under `dst`, hand to the component. */
  async connect(comp: CompId, dst: string, qos: QosSpec): Promise<Conn> {
    const conn = await this.alloc(comp, dst, qos);
    const c = this.#comps.get(comp);
    if (!c) {
      conn.flow.close();
      throw new OuroError(Errno.EINVAL, `Cannot connect ${comp}: component went away`);
    }
    c.conns.push(conn);
    this.#log.info(`Established ${conn.peer.compName} connection with ${dst}.`);
    c.onConn(conn);
    return conn;
  }

  /** `disconnect`: release the first connection to `dst` of `comp` (no error if none). */
  disconnect(comp: CompId, dst: string): boolean {
    const c = this.#comps.get(comp);
    const key = dst.slice(0, CONN_DST_MAX_CHARS);
    const i = c?.conns.findIndex((x) => x.dst === key) ?? -1;
    if (!c || i < 0) return false;
    const [conn] = c.conns.splice(i, 1);
    conn!.flow.close();
    // a local close raises no dealloc event: tell the component ourselves
    conn!.flow.onDealloc();
    return true;
  }

  /** Connections made with `connect`, for listings. */
  connected(comp: CompId): readonly Conn[] {
    return this.#comps.get(comp)?.conns ?? [];
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
