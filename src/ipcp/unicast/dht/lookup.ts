/**
 * The iterative lookup state machine (spec 13 §5.2): one per key, for
 * FIND_NODE or FIND_VALUE. Pure logic: requests leave through the injected
 * `send`, responses come in through {@link Lookup.respond}, time through
 * {@link Lookup.tick}.
 *
 * Unlike the reference (whose follow-up requests are de-duplicated away), this
 * lookup really iterates: up to `alpha` requests are in flight at once, always
 * to the closest not-yet-asked candidates among the k closest known live
 * ones; contacts from responses join the candidates. It ends when a value
 * arrives (FIND_VALUE), or when nothing is in flight and every one of the k
 * closest live candidates has answered (or none is left). Every request has
 * its own random cookie; a response is accepted only with a cookie we sent.
 *
 * @example
 * ```ts
 * import { Lookup } from "./lookup.ts";
 * const key = new Uint8Array(32);
 * const lk = new Lookup({ key, kind: "value", selfAddr: 1, send: () => true });
 * lk.start([{ id: new Uint8Array(32).fill(1), addr: 2 }], 0);
 * ```
 * @module
 */
import { DHT_ALPHA, DHT_K, DHT_T_RESP_MS } from "./constants.ts";
import { compareDistance, type DhtId, type DhtPeer, randomCookie } from "./id.ts";

/** FIND_NODE or FIND_VALUE. */
export type LookupKind = "node" | "value";

/** State of one peer of a lookup. */
export type PeerState = "candidate" | "sent" | "answered" | "failed";

/** A peer of a lookup. */
export interface LookupPeer extends DhtPeer {
  /** Cookie of the request sent to it (0 before sending). */
  cookie: bigint;
  /** Where it stands. */
  state: PeerState;
  /** When the request was sent (ms). */
  sentMs: number;
  /** The emergency peer asked with the magic cookie (does not block a normal request). */
  emergency: boolean;
}

/** Outcome of {@link Lookup.respond}. */
export type RespondResult = "accepted" | "unknown-cookie" | "duplicate";

/** Options of {@link Lookup}. */
export interface LookupOptions {
  /** Key (name hash or node id) looked up. */
  key: DhtId;
  /** What is asked. */
  kind: LookupKind;
  /** Own address: never asked, never a candidate. */
  selfAddr: number;
  /**
   * Send one request (FIND_NODE_REQ or FIND_VALUE_REQ for `key`) to `peer` with
   * `cookie`. Return `false` if it could not be sent (no route): the peer then
   * counts as failed at once.
   */
  send(peer: DhtPeer, cookie: bigint): boolean;
  /** A peer missed its response window (feed to `Buckets.failed`). */
  onPeerFailed?(peer: DhtPeer): void;
  /** Requests in flight at most, default 3. */
  alpha?: number;
  /** How many closest live peers must answer, default 8. */
  k?: number;
  /** Response window per request (ms), default 2000. */
  tRespMs?: number;
  /** Cookie source (tests), default random non-zero u64. */
  cookie?: () => bigint;
}

/** One iterative lookup. */
export class Lookup {
  /** The key looked up. */
  readonly key: DhtId;
  /** FIND_NODE or FIND_VALUE. */
  readonly kind: LookupKind;
  readonly #o: LookupOptions;
  readonly #alpha: number;
  readonly #k: number;
  readonly #tRespMs: number;
  #peers: LookupPeer[] = [];
  #values: Uint8Array[] = [];
  #done = false;
  #lastUpdateMs = 0;
  #waiters: Array<() => void> = [];

  /** A lookup that does nothing until {@link start}. */
  constructor(opts: LookupOptions) {
    this.key = opts.key.slice();
    this.kind = opts.kind;
    this.#o = opts;
    this.#alpha = opts.alpha ?? DHT_ALPHA;
    this.#k = opts.k ?? DHT_K;
    this.#tRespMs = opts.tRespMs ?? DHT_T_RESP_MS;
  }

  /** Whether the lookup has ended. */
  get done(): boolean {
    return this.#done;
  }

  /** Values received so far (FIND_VALUE), first response's first. */
  get values(): readonly Uint8Array[] {
    return this.#values;
  }

  /** Time of the last send or response (ms); the record lives until this + t_resp. */
  get lastUpdateMs(): number {
    return this.#lastUpdateMs;
  }

  /** Requests currently in flight. */
  get inFlight(): number {
    return this.#peers.filter((p) => p.state === "sent").length;
  }

  /** Peers and their states (copies), closest first. */
  peers(): LookupPeer[] {
    return this.#peers.map((p) => ({ ...p }));
  }

  /** Up to k peers that answered, closest first: the lookup's node result. */
  closest(): DhtPeer[] {
    return this.#peers.filter((p) => p.state === "answered" && !p.emergency).slice(0, this.#k)
      .map((p) => ({ id: p.id, addr: p.addr }));
  }

  /** Whether `cookie` belongs to a request of this lookup. */
  hasCookie(cookie: bigint): boolean {
    return cookie !== 0n && this.#peers.some((p) => p.cookie === cookie);
  }

  /** Resolves when the lookup ends. */
  finished(): Promise<void> {
    return this.#done ? Promise.resolve() : new Promise((r) => this.#waiters.push(r));
  }

  /**
   * Begin with `contacts` (from the routing table). An `emergency` peer — the
   * enrollment peer asked with the magic cookie when the table is empty — can
   * be given with its fixed cookie.
   */
  start(contacts: DhtPeer[], nowMs: number, emergency?: { peer: DhtPeer; cookie: bigint }): void {
    this.#lastUpdateMs = nowMs;
    if (emergency) this.#sendTo(this.#add(emergency.peer, true)!, nowMs, emergency.cookie);
    for (const c of contacts) this.#add(c);
    this.#pump(nowMs);
  }

  /**
   * A response with `cookie` arrived: its contacts become candidates, its values
   * (FIND_VALUE) end the lookup. Unknown cookies must be dropped by the caller.
   */
  respond(cookie: bigint, contacts: DhtPeer[], values: Uint8Array[], nowMs: number): RespondResult {
    const p = cookie === 0n ? undefined : this.#peers.find((x) => x.cookie === cookie);
    if (!p) return "unknown-cookie";
    if (p.state === "answered") return "duplicate";
    p.state = "answered"; // late answers after a timeout count too
    this.#lastUpdateMs = nowMs;
    if (this.#done) return "accepted";
    for (const c of contacts) this.#add(c);
    if (this.kind === "value" && values.length > 0) {
      this.#values = values.map((v) => v.slice());
      this.#finish();
      return "accepted";
    }
    this.#pump(nowMs);
    return "accepted";
  }

  /** Time out requests older than t_resp and continue with the next candidates. */
  tick(nowMs: number): void {
    if (this.#done) return;
    for (const p of this.#peers) {
      if (p.state === "sent" && nowMs >= p.sentMs + this.#tRespMs) this.#fail(p);
    }
    this.#pump(nowMs);
  }

  /** Give up now (caller's deadline, shutdown). */
  abort(): void {
    this.#finish();
  }

  #add(c: DhtPeer, emergency = false): LookupPeer | undefined {
    if (c.addr === this.#o.selfAddr || c.addr === 0) return undefined;
    if (!emergency && this.#peers.some((p) => p.addr === c.addr && !p.emergency)) return undefined;
    const p: LookupPeer = {
      id: c.id.slice(),
      addr: c.addr,
      cookie: 0n,
      state: "candidate",
      sentMs: 0,
      emergency,
    };
    this.#peers.push(p);
    this.#peers.sort((a, b) => compareDistance(this.key, a.id, b.id));
    return p;
  }

  #sendTo(p: LookupPeer, nowMs: number, cookie = (this.#o.cookie ?? randomCookie)()): void {
    p.cookie = cookie;
    p.sentMs = nowMs;
    p.state = "sent";
    this.#lastUpdateMs = nowMs;
    if (!this.#o.send({ id: p.id, addr: p.addr }, cookie)) this.#fail(p);
  }

  #fail(p: LookupPeer): void {
    p.state = "failed";
    this.#o.onPeerFailed?.({ id: p.id, addr: p.addr });
  }

  /** Send to the closest unasked candidates among the k closest live peers. */
  #pump(nowMs: number): void {
    for (;;) {
      if (this.#done) return;
      const live = this.#peers.filter((p) => p.state !== "failed").slice(0, this.#k);
      const next = live.find((p) => p.state === "candidate");
      const inFlight = this.inFlight;
      if (!next) {
        if (inFlight === 0) this.#finish();
        return;
      }
      if (inFlight >= this.#alpha) return;
      this.#sendTo(next, nowMs);
    }
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    for (const w of this.#waiters.splice(0)) w();
  }
}
