/**
 * The DHT directory node (spec 13 §2–5) as pure protocol logic over plain
 * `DhtMsg` objects: messages leave through the injected `send(addr, msg)`
 * (the owner encodes them with `encodeDhtMsg` and writes one DT SDU to eid 1),
 * validated messages come in through {@link DhtNode.handle}, time through the
 * injected clock and {@link DhtNode.tick}. Only `query` waits (on a timer).
 *
 * Addresses are `number`s (≤ 4-byte unicast addresses); contacts or senders
 * with larger u64 addresses are ignored.
 *
 * @example
 * ```ts
 * import { DhtNode } from "./node.ts";
 * const dht = new DhtNode({ selfAddr: 7, keyLen: 32, send: () => true });
 * dht.reg(new Uint8Array(32)); // publishes locally; no contacts yet, nothing sent
 * ```
 * @module
 */
import type { Logger } from "../../../lib/log.ts";
import { DhtCode, type DhtContact, type DhtMsg } from "../wire/dht.ts";
import { Buckets } from "./buckets.ts";
import {
  DHT_ALPHA,
  DHT_K,
  DHT_MAX_REQS,
  DHT_T_EXPIRE_S,
  DHT_T_REFRESH_S,
  DHT_T_REPLICATE_S,
  DHT_T_RESP_MS,
  dhtWorkerIntervalS,
} from "./constants.ts";
import { type DhtId, type DhtPeer, idKey, randomCookie, randomId } from "./id.ts";
import { Lookup, type LookupKind } from "./lookup.ts";
import { DhtStore } from "./store.ts";

/** Clocks used by the DHT: monotonic ms for timers, UNIX seconds for value expiry. */
export interface DhtClock {
  /** Monotonic milliseconds. */
  monoMs(): number;
  /** Wall-clock UNIX seconds (value expiry is absolute on the wire). */
  unixS(): number;
}

/** Options of {@link DhtNode}. */
export interface DhtNodeOptions {
  /** Own unicast address (non-zero). */
  selfAddr: number;
  /** Key / node-id length = directory hash length (≥ 8). */
  keyLen: number;
  /** Send one message to `addr` (eid 1); `false` if there is no route. Must not throw. */
  send(addr: number, msg: DhtMsg): boolean;
  /** Node id, default random. */
  id?: DhtId;
  /** Config `alpha`, default 3. */
  alpha?: number;
  /** Config `k`, default 8. */
  k?: number;
  /** Config `t_expire` (s), default 86400. */
  tExpireS?: number;
  /** Config `t_refresh` (s), default 900. */
  tRefreshS?: number;
  /** Config `t_replicate` (s), default 900. */
  tReplicateS?: number;
  /** Bootstrap / emergency peer address (0 = none). */
  peer?: number;
  /** How long `query` waits for values (ms), default 2000. */
  queryTimeoutMs?: number;
  /** Clocks, default `performance.now` and `Date.now() / 1000`. */
  clock?: DhtClock;
  /** Cookie source (tests), default random non-zero u64. */
  cookie?: () => bigint;
  /** Logger (component "dht"). */
  log?: Logger;
}

const defaultClock: DhtClock = {
  monoMs: () => performance.now(),
  unixS: () => Math.floor(Date.now() / 1000),
};

/** An address as the 8-byte big-endian value published under a name. */
export function addrToValue(addr: number): Uint8Array {
  const v = new Uint8Array(8);
  new DataView(v.buffer).setBigUint64(0, BigInt(addr));
  return v;
}

/** An 8-byte value as an address, or 0 if it is not one (wrong length, too large). */
export function valueToAddr(v: Uint8Array): number {
  if (v.length !== 8) return 0;
  const a = new DataView(v.buffer, v.byteOffset, 8).getBigUint64(0);
  return a <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(a) : 0;
}

function toPeer(c: DhtContact): DhtPeer | undefined {
  return c.addr > 0n && c.addr <= BigInt(Number.MAX_SAFE_INTEGER)
    ? { id: c.id, addr: Number(c.addr) }
    : undefined;
}

/** One DHT node: routing table, store, outstanding lookups, periodic tasks. */
export class DhtNode {
  /** Own node id. */
  readonly id: DhtId;
  /** The routing table. */
  readonly buckets: Buckets;
  /** Local values. */
  readonly store = new DhtStore();
  /** Random non-zero cookie for emergency-peer requests. */
  readonly magicCookie: bigint;
  readonly #o: DhtNodeOptions;
  readonly #clock: DhtClock;
  readonly #alpha: number;
  readonly #k: number;
  readonly #tExpireS: number;
  readonly #tReplicateS: number;
  readonly #intervalMs: number;
  #lookups = new Map<string, Lookup>();
  #nextTaskMs: number;
  #task = 0;

  /** A node with an empty routing table and store; see {@link seed}. */
  constructor(opts: DhtNodeOptions) {
    this.#o = opts;
    this.#clock = opts.clock ?? defaultClock;
    this.id = opts.id?.slice() ?? randomId(opts.keyLen);
    if (this.id.length !== opts.keyLen) {
      throw new RangeError("Cannot create dht: id length ≠ keyLen");
    }
    this.#alpha = opts.alpha ?? DHT_ALPHA;
    this.#k = opts.k ?? DHT_K;
    this.#tExpireS = opts.tExpireS ?? DHT_T_EXPIRE_S;
    this.#tReplicateS = opts.tReplicateS ?? DHT_T_REPLICATE_S;
    const tRefreshS = opts.tRefreshS ?? DHT_T_REFRESH_S;
    this.#intervalMs = dhtWorkerIntervalS(this.#tExpireS, this.#tReplicateS, tRefreshS) * 1000;
    this.magicCookie = (opts.cookie ?? randomCookie)();
    const now = this.#clock.monoMs();
    this.#nextTaskMs = now + this.#intervalMs;
    this.buckets = new Buckets({
      self: { id: this.id, addr: opts.selfAddr },
      k: this.#k,
      tRefreshMs: tRefreshS * 1000,
      nowMs: now,
    });
  }

  get #src(): DhtContact {
    return { id: this.id, addr: BigInt(this.#o.selfAddr) };
  }

  /** Outstanding lookup for `key`, if any (RIB, tests). */
  lookup(key: DhtId): Lookup | undefined {
    return this.#lookups.get(idKey(key));
  }

  /**
   * Process a message that passed `checkDhtMsg`. Responses without a matching
   * outstanding cookie are dropped (returns `false`); otherwise the sender is
   * inserted in the routing table and the message handled.
   */
  handle(m: DhtMsg): boolean {
    const src = toPeer(m.src);
    if (!src || src.addr === this.#o.selfAddr) return false;
    const now = this.#clock.monoMs();
    let lk: Lookup | undefined;
    if (m.code === DhtCode.FIND_NODE_RSP || m.code === DhtCode.FIND_VALUE_RSP) {
      lk = this.#lookups.get(idKey(m.node!.key));
      if (!lk?.hasCookie(m.node!.cookie)) return false;
    } else if (m.code > DhtCode.FIND_VALUE_RSP) {
      return false;
    }
    this.buckets.insert(src, now);
    switch (m.code) {
      case DhtCode.STORE: {
        const s = m.store!;
        this.store.put(s.key, s.val, s.exp, this.#clock.unixS());
        break;
      }
      case DhtCode.FIND_NODE_REQ:
      case DhtCode.FIND_VALUE_REQ: {
        const f = m.find!;
        const contacts = this.buckets.closest(f.key, this.#k, now)
          .map((c) => ({ id: c.id, addr: BigInt(c.addr) }));
        const node = { cookie: f.cookie, key: f.key, contacts };
        const rsp: DhtMsg = m.code === DhtCode.FIND_NODE_REQ
          ? { code: DhtCode.FIND_NODE_RSP, src: this.#src, node }
          : {
            code: DhtCode.FIND_VALUE_RSP,
            src: this.#src,
            node,
            val: { values: this.store.get(f.key) },
          };
        this.#o.send(src.addr, rsp);
        break;
      }
      default: {
        const contacts = m.node!.contacts.map(toPeer)
          .filter((c): c is DhtPeer => c !== undefined && c.addr !== this.#o.selfAddr);
        for (const c of contacts) this.buckets.insert(c, now);
        lk!.respond(m.node!.cookie, contacts, m.val?.values ?? [], now);
      }
    }
    return true;
  }

  /**
   * Publish our address under `key` (spec 13 §5.3); succeeds even with no
   * peers. As the reference, STORE goes at once to the alpha closest known
   * contacts; in addition (a port choice, wire-compatible) a FIND_NODE lookup
   * for `key` finds the k nodes closest to it network-wide and STOREs there,
   * where iterating lookups will look.
   */
  reg(key: DhtId): void {
    const val = addrToValue(this.#o.selfAddr);
    const nowS = this.#clock.unixS();
    this.store.putOwn(key, val, nowS + this.#tExpireS, nowS);
    this.#publish(key, val, nowS + this.#tExpireS);
  }

  /** Withdraw our address for `key` locally; `false` if it was not registered. */
  unreg(key: DhtId): boolean {
    return this.store.delOwn(key, addrToValue(this.#o.selfAddr));
  }

  /**
   * Resolve `key` to an address (spec 13 §5.2), 0 on failure. Local values
   * decide if there are any (our own address is skipped); otherwise the
   * values cached by a live lookup, otherwise a FIND_VALUE lookup, waited for
   * up to `queryTimeoutMs`.
   */
  async query(key: DhtId, opts: { signal?: AbortSignal } = {}): Promise<number> {
    const local = this.store.get(key);
    if (local.length > 0) return this.#pick(local);
    const contacts = this.buckets.closest(key, this.#alpha, this.#clock.monoMs());
    if (contacts.length === 0) return 0;
    let lk = this.#lookups.get(idKey(key));
    if (lk && lk.kind === "value" && lk.values.length > 0) return this.#pick(lk.values);
    if (!lk || lk.done || lk.kind !== "value") {
      lk = this.#start(key, "value", contacts);
      if (!lk) return 0;
    }
    const ok = await this.#wait(lk, opts.signal);
    if (!ok || lk.values.length === 0) {
      if (this.#lookups.get(idKey(key)) === lk) this.#lookups.delete(idKey(key));
      lk.abort();
      return 0;
    }
    return this.#pick(lk.values);
  }

  /**
   * Try to seed the routing table from the bootstrap peer: a FIND_NODE for
   * our own id to `peer` with the magic cookie, continued as a lookup.
   * Returns whether the request could be sent (no route yet → retry later,
   * backing off from 2 ms up to 1–2 s as the reference does).
   */
  seed(): boolean {
    const peer = this.#o.peer ?? 0;
    if (peer === 0) return true;
    const lk = this.#start(this.id, "node", [], {
      peer: { id: this.id, addr: peer },
      cookie: this.magicCookie,
    });
    return lk !== undefined && lk.peers().some((p) => p.emergency && p.state !== "failed");
  }

  /** Start (or join) a FIND_NODE lookup for `key` over the routing table. */
  findNode(key: DhtId): Lookup | undefined {
    const cur = this.#lookups.get(idKey(key));
    if (cur && !cur.done) return cur;
    return this.#start(key, "node", this.buckets.closest(key, this.#k, this.#clock.monoMs()));
  }

  /** Time out lookup requests and run the periodic task that is due (spec 13 §5.4). */
  tick(nowMs = this.#clock.monoMs()): void {
    for (const lk of this.#lookups.values()) lk.tick(nowMs);
    while (nowMs >= this.#nextTaskMs) {
      this.#runTask(this.#task, nowMs);
      this.#task = (this.#task + 1) % 5;
      this.#nextTaskMs += this.#intervalMs;
    }
  }

  /** When `tick` next has a periodic task to run (monotonic ms). */
  nextTaskAtMs(): number {
    return this.#nextTaskMs;
  }

  #runTask(task: number, nowMs: number): void {
    const nowS = this.#clock.unixS();
    switch (task) {
      case 0: // check contacts
        if (this.buckets.closest(this.id, this.#k).length === 0) this.seed();
        break;
      case 1: // remove expired values
        this.store.removeExpired(nowS);
        break;
      case 2: // remove expired requests
        for (const [k, lk] of this.#lookups) {
          if (nowMs > lk.lastUpdateMs + DHT_T_RESP_MS) {
            lk.abort();
            this.#lookups.delete(k);
          }
        }
        break;
      case 3: // replicate / republish
        for (const item of this.store.replicationDue(nowS, this.#tReplicateS, this.#tExpireS)) {
          const sent = item.own
            ? this.#publish(item.key, item.val, item.expS)
            : this.#storeAt(item.key, item.val, item.expS);
          if (sent) this.store.replicated(item, nowS);
        }
        break;
      case 4: // refresh
        for (const id of this.buckets.dueRefreshes(nowMs)) this.findNode(id);
        break;
    }
  }

  /** STORE to the peer list (≤ alpha closest contacts); `true` if any send succeeded. */
  #storeAt(key: DhtId, val: Uint8Array, expS: number): boolean {
    const peers = this.buckets.closest(key, this.#k, this.#clock.monoMs()).slice(0, this.#alpha);
    return this.#storeTo(peers, key, val, expS);
  }

  #storeTo(peers: DhtPeer[], key: DhtId, val: Uint8Array, expS: number): boolean {
    let ok = false;
    for (const p of peers) {
      const store = { key, val, exp: expS >>> 0 };
      ok = this.#o.send(p.addr, { code: DhtCode.STORE, src: this.#src, store }) || ok;
    }
    return ok;
  }

  /** STORE to the alpha closest known contacts now, and to the k closest found by a lookup. */
  #publish(key: DhtId, val: Uint8Array, expS: number): boolean {
    const first = this.buckets.closest(key, this.#k, this.#clock.monoMs()).slice(0, this.#alpha);
    const ok = this.#storeTo(first, key, val, expS);
    const lk = this.findNode(key);
    lk?.finished().then(() => {
      const done = new Set(first.map((p) => p.addr));
      this.#storeTo(lk.closest().filter((p) => !done.has(p.addr)), key, val, expS);
    });
    return ok;
  }

  #start(
    key: DhtId,
    kind: LookupKind,
    contacts: DhtPeer[],
    emergency?: { peer: DhtPeer; cookie: bigint },
  ): Lookup | undefined {
    const k = idKey(key);
    if (!this.#lookups.has(k) && this.#lookups.size >= DHT_MAX_REQS) {
      this.#o.log?.warn(`Cannot start lookup: ${DHT_MAX_REQS} outstanding`);
      return undefined;
    }
    const code = kind === "value" ? DhtCode.FIND_VALUE_REQ : DhtCode.FIND_NODE_REQ;
    const lk = new Lookup({
      key,
      kind,
      selfAddr: this.#o.selfAddr,
      alpha: this.#alpha,
      k: this.#k,
      cookie: this.#o.cookie,
      send: (p, cookie) => this.#o.send(p.addr, { code, src: this.#src, find: { cookie, key } }),
      onPeerFailed: (p) => this.buckets.failed(p.addr),
    });
    this.#lookups.set(k, lk);
    lk.start(contacts, this.#clock.monoMs(), emergency);
    return lk;
  }

  async #wait(lk: Lookup, signal?: AbortSignal): Promise<boolean> {
    if (lk.done) return true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onAbort: (() => void) | undefined;
    const expired = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), this.#o.queryTimeoutMs ?? DHT_T_RESP_MS);
      onAbort = () => resolve(false);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
    try {
      return await Promise.race([lk.finished().then(() => true), expired]);
    } finally {
      clearTimeout(timer);
      if (onAbort) signal?.removeEventListener("abort", onAbort);
    }
  }

  /** First value as an address; if it is our own, the second (spec 13 §5.2). */
  #pick(values: readonly Uint8Array[]): number {
    const first = values[0] ? valueToAddr(values[0]) : 0;
    if (first !== this.#o.selfAddr) return first;
    return values[1] ? valueToAddr(values[1]) : 0;
  }
}
