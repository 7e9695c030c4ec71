/**
 * Flooding (spec 14 §4.2): the neighbour set of a broadcast IPCP is every
 * N−1 DT link and every locally joined N+1 flow. An SDU written by a local
 * member goes to every link and every other local member; an SDU from a
 * link goes to every local member and every other link.
 *
 * Beyond the reference, duplicates are suppressed so any topology works
 * (ring, mesh): on *framed* links (both ends this port, see wire.ts) every
 * SDU carries (ttl, origin, seq) and a {@link SeenSet} drops copies already
 * handled. The origin stamps its own SDUs — and SDUs that enter from a raw
 * link, before they go out on framed links — so loops through framed links
 * end at the first member that sees a copy twice, and the TTL bounds them
 * even if the seen-set forgot an origin. Raw links (reference members)
 * keep the reference's behaviour: what comes in raw is not de-duplicated,
 * so a cycle through a reference member still loops.
 *
 * @example
 * ```ts
 * import { Flooder } from "./flood.ts";
 * declare const link: import("../../irmd/n1.ts").N1Flow;
 * const f = new Flooder({ deliver: (id, sdu) => console.log(id, sdu.length) });
 * link.onPacket = f.addLink(link, true, "bc.b");
 * f.join(7);
 * f.write(7, new TextEncoder().encode("hi")); // to bc.b, stamped
 * ```
 * @module
 */
import { DecodeError } from "../../lib/errors.ts";
import { type Logger, logger } from "../../lib/log.ts";
import type { N1Flow } from "../../irmd/n1.ts";
import { SeenSet } from "./seen.ts";
import { BCAST_TTL_DEFAULT, BROADCAST_MTU, decodeFrame, encodeFrame } from "./wire.ts";

/** Counters of the flooding engine. */
export interface FloodCounters {
  /** SDUs written by local members. */
  originated: number;
  /** SDUs that arrived on links. */
  received: number;
  /** Copies handed to local members. */
  delivered: number;
  /** Copies written to links. */
  forwarded: number;
  /** Framed SDUs dropped because this member had handled them already. */
  duplicates: number;
  /** Framed SDUs dropped because they were too far behind their origin's newest. */
  tooOld: number;
  /** Framed SDUs that arrived with TTL 1: delivered but not forwarded. */
  ttlExpired: number;
  /** Framed SDUs that did not decode (dropped). */
  malformed: number;
  /** SDUs over {@link BROADCAST_MTU} (dropped). */
  oversize: number;
  /** Link writes that failed. */
  writeErrors: number;
}

/** One N−1 link as listings show it. */
export interface LinkInfo {
  flowId: number;
  /** Peer name (initiator) or the local name the flow came in for. */
  dst: string;
  /** Does the link carry flood headers? */
  framed: boolean;
  rxPkts: number;
  txPkts: number;
}

interface Link extends LinkInfo {
  flow: N1Flow;
}

/** What the flooder needs. */
export interface FloodOptions {
  /** Hand an SDU to the local member on `flowId` (the buffer may be reused after return). */
  deliver: (flowId: number, sdu: Uint8Array) => void;
  /** This member's origin id (random u64 by default). */
  origin?: bigint;
  /** TTL stamped on SDUs this member originates. */
  ttl?: number;
  /** Duplicate memory (tests shrink it). */
  seen?: SeenSet;
  log?: Logger;
}

function randomOrigin(): bigint {
  const b = crypto.getRandomValues(new Uint8Array(8));
  return new DataView(b.buffer).getBigUint64(0);
}

/** The flooding engine of one broadcast IPCP. */
export class Flooder {
  readonly counters: FloodCounters = {
    originated: 0,
    received: 0,
    delivered: 0,
    forwarded: 0,
    duplicates: 0,
    tooOld: 0,
    ttlExpired: 0,
    malformed: 0,
    oversize: 0,
    writeErrors: 0,
  };
  /** This member's origin id in flood headers. */
  readonly origin: bigint;
  readonly seen: SeenSet;
  readonly #ttl: number;
  readonly #deliver: (flowId: number, sdu: Uint8Array) => void;
  readonly #log: Logger;
  readonly #links = new Map<number, Link>();
  readonly #joiners = new Set<number>();
  #seq = 0;

  constructor(opts: FloodOptions) {
    this.origin = opts.origin ?? randomOrigin();
    this.seen = opts.seen ?? new SeenSet();
    this.#ttl = Math.min(255, Math.max(1, opts.ttl ?? BCAST_TTL_DEFAULT));
    this.#deliver = opts.deliver;
    this.#log = opts.log ?? logger("flood");
  }

  /** Add an N−1 link; returns the handler for its arriving SDUs. */
  addLink(flow: N1Flow, framed: boolean, dst: string): (sdu: Uint8Array) => void {
    const l: Link = { flowId: flow.id, dst, framed, rxPkts: 0, txPkts: 0, flow };
    this.#links.set(flow.id, l);
    this.#log.info(`Added ${framed ? "framed" : "raw"} link ${flow.id} to ${dst}.`);
    return (sdu) => this.#fromLink(l, sdu);
  }

  /** Forget a link (it went away). */
  removeLink(flowId: number): boolean {
    const l = this.#links.get(flowId);
    if (!l) return false;
    this.#links.delete(flowId);
    this.#log.info(`Removed link ${flowId} to ${l.dst}.`);
    return true;
  }

  /** Release every link (stop). */
  close(): void {
    for (const l of [...this.#links.values()]) {
      this.#links.delete(l.flowId);
      l.flow.close();
    }
    this.#joiners.clear();
  }

  /** A local N+1 flow joined. */
  join(flowId: number): void {
    this.#joiners.add(flowId);
  }

  /** A local N+1 flow left. */
  leave(flowId: number): boolean {
    return this.#joiners.delete(flowId);
  }

  /** Is `flowId` a joined local flow? */
  joined(flowId: number): boolean {
    return this.#joiners.has(flowId);
  }

  /** Links, for listings. */
  links(): LinkInfo[] {
    return [...this.#links.values()].map(({ flow: _f, ...i }) => ({ ...i }));
  }

  /** Joined local flows. */
  joiners(): number[] {
    return [...this.#joiners];
  }

  /**
   * An SDU from the local member on `flowId`: to every other member and
   * every link. The promise (if any) settles when the links took it.
   */
  write(flowId: number, sdu: Uint8Array): Promise<void> | undefined {
    if (!this.#joiners.has(flowId)) return undefined;
    if (sdu.length > BROADCAST_MTU) {
      this.counters.oversize++;
      this.#log.debug(`Dropped ${sdu.length}-byte SDU from flow ${flowId}: over ${BROADCAST_MTU}.`);
      return undefined;
    }
    this.counters.originated++;
    const copy = sdu.slice(); // the links may keep it
    this.#toMembers(copy, flowId);
    return this.#toLinks(copy, undefined, this.#stamp(), true);
  }

  /** Stamp a new (origin, seq) and remember it, so copies coming back are dropped. */
  #stamp(): { ttl: number; origin: bigint; seq: number } {
    const seq = this.#seq;
    this.#seq = (this.#seq + 1) >>> 0;
    this.seen.check(this.origin, seq);
    return { ttl: this.#ttl, origin: this.origin, seq };
  }

  #fromLink(l: Link, sdu: Uint8Array): void {
    if (!this.#links.has(l.flowId)) return;
    l.rxPkts++;
    this.counters.received++;
    if (!l.framed) {
      if (sdu.length > BROADCAST_MTU) {
        this.counters.oversize++;
        return;
      }
      const copy = sdu.slice();
      this.#toMembers(copy);
      // raw in: reference semantics; stamped by us towards framed links
      this.#toLinks(copy, l, undefined, false);
      return;
    }
    let f;
    try {
      f = decodeFrame(sdu);
    } catch (e) {
      if (!(e instanceof DecodeError)) throw e;
      if (e.reason === "oversize") this.counters.oversize++;
      else this.counters.malformed++;
      return;
    }
    const v = this.seen.check(f.origin, f.seq);
    if (v !== "new") {
      if (v === "dup") this.counters.duplicates++;
      else this.counters.tooOld++;
      return;
    }
    const payload = f.payload.slice();
    this.#toMembers(payload);
    if (f.ttl <= 1) {
      this.counters.ttlExpired++;
      return;
    }
    this.#toLinks(payload, l, { ttl: f.ttl - 1, origin: f.origin, seq: f.seq }, false);
  }

  #toMembers(sdu: Uint8Array, except?: number): void {
    for (const id of this.#joiners) {
      if (id === except) continue;
      this.counters.delivered++;
      this.#deliver(id, sdu);
    }
  }

  /**
   * Write `payload` to every link but `from`: framed links get `hdr` (or a
   * fresh stamp when the SDU came in raw), raw links the bare payload.
   */
  #toLinks(
    payload: Uint8Array,
    from: Link | undefined,
    hdr: { ttl: number; origin: bigint; seq: number } | undefined,
    wait: boolean,
  ): Promise<void> | undefined {
    let framed: Uint8Array | undefined;
    let waits: Promise<void>[] | undefined;
    for (const l of [...this.#links.values()]) {
      if (l === from) continue;
      let out = payload;
      if (l.framed) {
        if (!framed) framed = encodeFrame(hdr ??= this.#stamp(), payload);
        out = framed;
      }
      let p: Promise<void> | undefined;
      try {
        p = l.flow.write(out);
      } catch {
        this.counters.writeErrors++;
        continue;
      }
      l.txPkts++;
      this.counters.forwarded++;
      if (p) {
        const c = p.catch(() => void this.counters.writeErrors++);
        if (wait) (waits ??= []).push(c);
      }
    }
    return waits ? Promise.all(waits).then(() => {}) : undefined;
  }
}
