/**
 * Recognising a resent FLOW_REQ on the responding side.
 *
 * The udp shim has no reliable management channel: a FLOW_REQ or FLOW_REPLY
 * datagram lost by the kernel (a full socket buffer) would hang the
 * allocation until the IRMd gives up. The initiator therefore resends its
 * FLOW_REQ, byte for byte, and the responder keeps this small table of
 * recent requests, keyed by source address, port and the initiator's eid,
 * so that a duplicate creates no second flow: while the first copy is still
 * with the IRMd the duplicate is ignored, once answered the same FLOW_REPLY
 * is sent again. An eid reused for a new allocation carries other bytes
 * (a fresh OAP header) and is treated as new. Entries expire and the table
 * is bounded (oldest evicted first).
 *
 * @example
 * ```ts
 * import { ReqCache } from "./dedup.ts";
 * const c = new ReqCache();
 * const remote = { hostname: "10.0.0.1", port: 3435 };
 * const req = new Uint8Array(63);
 * const e = c.begin(remote, 7, req);
 * c.answer(e, 100, new Uint8Array(47));
 * c.lookup(remote, 7, req)?.reply; // the FLOW_REPLY to send again
 * ```
 * @module
 */
import type { IpEndpoint } from "../../io/sockaddr.ts";

/** First FLOW_REQ resend after this long without a FLOW_REPLY; doubled each time. */
export const FLOW_REQ_RESEND_MS = 300;
/** FLOW_REQ sends per allocation, the first included (300+600+1200+2400 ms: ~4.5 s, well inside the IRMd's 20 s). */
export const FLOW_REQ_TRIES = 5;
/** How long an answered request is remembered (covers every resend of the initiator). */
export const REQ_CACHE_TTL_MS = 10_000;
/** Most requests remembered at once. */
export const REQ_CACHE_MAX = 1024;

/** One remembered FLOW_REQ. */
export interface ReqEntry {
  /** The request datagram as received (a copy). */
  readonly req: Uint8Array;
  /** The encoded FLOW_REPLY once answered; undefined while the IRMd decides. */
  reply: Uint8Array | undefined;
  /** The local flow id given to the request (0 if refused or not yet answered). */
  flowId: number;
  /** Forget after this time (ms since the epoch of `now`). */
  expiresMs: number;
}

/** Options of a {@link ReqCache}. */
export interface ReqCacheOptions {
  ttlMs?: number;
  max?: number;
  /** Clock seam (default `Date.now`). */
  now?: () => number;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Bounded, expiring table of recent FLOW_REQs; see the module documentation. */
export class ReqCache {
  readonly #map = new Map<string, ReqEntry>();
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #now: () => number;

  constructor(opts: ReqCacheOptions = {}) {
    this.#ttlMs = opts.ttlMs ?? REQ_CACHE_TTL_MS;
    this.#max = opts.max ?? REQ_CACHE_MAX;
    this.#now = opts.now ?? Date.now;
  }

  /** Entries held (expired ones included until touched). */
  get size(): number {
    return this.#map.size;
  }

  #key(remote: IpEndpoint, sEid: number): string {
    return `${remote.hostname}|${remote.port}|${sEid}`;
  }

  /** The live entry for this exact request (same source, eid and bytes), if any. */
  lookup(remote: IpEndpoint, sEid: number, req: Uint8Array): ReqEntry | undefined {
    const k = this.#key(remote, sEid);
    const e = this.#map.get(k);
    if (!e) return undefined;
    if (e.expiresMs <= this.#now() || !sameBytes(e.req, req)) {
      this.#map.delete(k);
      return undefined;
    }
    return e;
  }

  /** Remember a new request (a copy of `req` is kept) as being processed. */
  begin(remote: IpEndpoint, sEid: number, req: Uint8Array): ReqEntry {
    const k = this.#key(remote, sEid);
    this.#map.delete(k); // re-insert at the young end
    const now = this.#now();
    for (const [old, e] of this.#map) {
      if (this.#map.size < this.#max && e.expiresMs > now) break;
      this.#map.delete(old);
    }
    const e: ReqEntry = {
      req: req.slice(),
      reply: undefined,
      flowId: 0,
      expiresMs: now + this.#ttlMs,
    };
    this.#map.set(k, e);
    return e;
  }

  /** Record the answer sent for `e` (kept for resends until expiry). */
  answer(e: ReqEntry, flowId: number, reply: Uint8Array): void {
    e.flowId = flowId;
    e.reply = reply;
    e.expiresMs = this.#now() + this.#ttlMs;
  }

  /** Forget `e` (the request failed locally: a resend should be processed afresh). */
  forget(remote: IpEndpoint, sEid: number, e: ReqEntry): void {
    const k = this.#key(remote, sEid);
    if (this.#map.get(k) === e) this.#map.delete(k);
  }

  /** Forget the request that created local flow `flowId` (it was deallocated). */
  forgetFlow(flowId: number): void {
    if (flowId === 0) return;
    for (const [k, e] of this.#map) if (e.flowId === flowId) this.#map.delete(k);
  }

  /** Forget everything. */
  clear(): void {
    this.#map.clear();
  }
}
