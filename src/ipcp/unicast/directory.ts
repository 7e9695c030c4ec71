/**
 * The directory of the unicast layer (spec 12 §9, spec 13): the DHT node of
 * dht/node.ts on DT eid 1. `reg`/`unreg` publish and withdraw our address
 * under a name hash, `query` resolves a hash to an address with a real
 * (iterative) lookup. This file only carries messages and runs the timers.
 *
 * @example
 * ```ts
 * import { Directory } from "./directory.ts";
 * declare const dir: Directory;
 * dir.start();
 * const addr = await dir.query(new Uint8Array(32)); // 0: not found
 * ```
 * @module
 */
import { type Logger, logger } from "../../lib/log.ts";
import type { DhtClock } from "./dht/node.ts";
import { DhtNode } from "./dht/node.ts";
import type { DataTransfer } from "./dt.ts";
import type { DhtConfig } from "./wire/config.ts";
import { decodeValidDhtMsg, encodeDhtMsg } from "./wire/dht.ts";
import { DT_EID_DHT } from "./wire/dt.ts";

/** How often lookups are timed out and periodic tasks checked. */
export const DIR_TICK_MS = 250;
/** Seeding back-off: first sleep, and the cap (the reference settles between 1 and 2 s). */
export const DIR_SEED_FIRST_MS = 2;
/** See {@link DIR_SEED_FIRST_MS}. */
export const DIR_SEED_MAX_MS = 1000;

/** Options of {@link Directory}. */
export interface DirectoryOptions {
  dt: DataTransfer;
  /** Key length = directory hash length. */
  keyLen: number;
  /** The layer's DHT parameters (`peer` = bootstrap peer, 0 = none). */
  conf: DhtConfig;
  log?: Logger;
  /** Node id (tests), default random. */
  id?: Uint8Array;
  /** Cookie source (tests). */
  cookie?: () => bigint;
  /** Clocks (tests). */
  clock?: DhtClock;
  /** How long a query waits for values (ms), default 2000. */
  queryTimeoutMs?: number;
}

/** Counters of the directory. */
export interface DirectoryCounters {
  /** Messages that did not decode or failed validation. */
  badMsgs: number;
  /** Valid messages the node ignored (unsolicited responses, our own address). */
  ignored: number;
  /** Messages handled. */
  handled: number;
  /** Sends that found no route. */
  sendFails: number;
}

/** The DHT directory component. */
export class Directory {
  readonly node: DhtNode;
  readonly counters: DirectoryCounters = { badMsgs: 0, ignored: 0, handled: 0, sendFails: 0 };
  readonly #o: DirectoryOptions;
  readonly #log: Logger;
  #tick: ReturnType<typeof setInterval> | undefined;
  #seedTimer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  /** The node is created (own contact inserted) but nothing is sent before {@link start}. */
  constructor(opts: DirectoryOptions) {
    this.#o = opts;
    this.#log = opts.log ?? logger("dht");
    const peer = opts.conf.peer;
    this.node = new DhtNode({
      selfAddr: opts.dt.addr,
      keyLen: opts.keyLen,
      send: (addr, msg) => {
        const ok = opts.dt.write(addr, 0, DT_EID_DHT, encodeDhtMsg(msg));
        if (!ok) this.counters.sendFails++;
        return ok;
      },
      id: opts.id,
      alpha: opts.conf.alpha,
      k: opts.conf.k,
      tExpireS: opts.conf.tExpireS,
      tRefreshS: opts.conf.tRefreshS,
      tReplicateS: opts.conf.tReplicateS,
      peer: peer > 0n && peer <= 0xffffffffn ? Number(peer) : 0,
      queryTimeoutMs: opts.queryTimeoutMs,
      clock: opts.clock,
      cookie: opts.cookie,
      log: this.#log,
    });
    const c = opts.conf;
    this.#log.info(
      `DHT initialized: alpha=${c.alpha}, k=${c.k}, t_exp=${c.tExpireS}, t_refr=${c.tRefreshS}, t_replicate=${c.tReplicateS}.`,
    );
  }

  /** Register on DT eid 1, then start seeding from the peer and the periodic work. */
  start(): void {
    this.#o.dt.registerComponent(Number(DT_EID_DHT), (sdu) => this.#onMsg(sdu));
    this.#tick = setInterval(() => this.node.tick(), DIR_TICK_MS);
    this.#seed(DIR_SEED_FIRST_MS);
  }

  #seed(sleepMs: number): void {
    if (this.#stopped) return;
    if (this.node.seed()) return;
    this.#log.debug("Failed to bootstrap peer; retrying.");
    this.#seedTimer = setTimeout(() => this.#seed(Math.min(sleepMs * 2, DIR_SEED_MAX_MS)), sleepMs);
  }

  #onMsg(sdu: Uint8Array): void {
    let m;
    try {
      m = decodeValidDhtMsg(sdu, this.#o.keyLen);
    } catch {
      this.counters.badMsgs++;
      return;
    }
    if (this.node.handle(m)) this.counters.handled++;
    else this.counters.ignored++;
  }

  /** Publish our address under `hash`. */
  reg(hash: Uint8Array): void {
    this.node.reg(hash);
  }

  /** Withdraw our address for `hash` (locally; remote copies expire). */
  unreg(hash: Uint8Array): void {
    this.node.unreg(hash);
  }

  /** The address `hash` is registered at, 0 if none was found. */
  query(hash: Uint8Array, opts: { signal?: AbortSignal } = {}): Promise<number> {
    return this.node.query(hash, opts);
  }

  /** Stop timers and leave DT eid 1. */
  stop(): void {
    this.#stopped = true;
    clearInterval(this.#tick);
    clearTimeout(this.#seedTimer);
    this.#o.dt.unregisterComponent(Number(DT_EID_DHT));
  }
}
