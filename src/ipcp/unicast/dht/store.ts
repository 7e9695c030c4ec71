/**
 * The DHT's local value store (spec 13 §5.3–5.5). Per key: *stored* values
 * received through STORE (from other nodes) and *own* values this node
 * published with `reg`. Expiry times are absolute UNIX seconds, as on the
 * wire; `t_repl` is the last time a value was (re)sent.
 *
 * @example
 * ```ts
 * import { DhtStore } from "./store.ts";
 * const s = new DhtStore();
 * const key = new Uint8Array(32);
 * s.put(key, new Uint8Array([1]), 1000, 10); // "added"
 * s.get(key).length; // 1
 * ```
 * @module
 */
import { DHT_MAX_VALS, DHT_N_REPUB } from "./constants.ts";
import { type DhtId, idKey } from "./id.ts";

/** One value with its expiry and last replication time. */
export interface StoredValue {
  /** The value (for names: the registrant's address, 8 bytes BE). */
  val: Uint8Array;
  /** Absolute expiry, UNIX seconds. */
  expS: number;
  /** Last (re)publication, UNIX seconds; 0 = never. */
  replS: number;
}

interface Entry {
  key: DhtId;
  stored: StoredValue[];
  own: StoredValue[];
}

/** Outcome of {@link DhtStore.put}. */
export type PutResult = "added" | "extended" | "unchanged" | "expired" | "own";

/** A value due for (re)sending by the replicate/republish task. */
export interface ReplicationItem {
  /** Key. */
  key: DhtId;
  /** Value. */
  val: Uint8Array;
  /** Expiry to send: the stored one, or now + t_expire for own values. */
  expS: number;
  /** Whether it is an own value (republish) or a stored one (replicate). */
  own: boolean;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Stored and own values per key. */
export class DhtStore {
  #map = new Map<string, Entry>();
  readonly #maxVals: number;

  /** `maxVals`: values returned per key (default 8). */
  constructor(maxVals = DHT_MAX_VALS) {
    this.#maxVals = maxVals;
  }

  #entry(key: DhtId, create: boolean): Entry | undefined {
    const k = idKey(key);
    let e = this.#map.get(k);
    if (!e && create) this.#map.set(k, e = { key: key.slice(), stored: [], own: [] });
    return e;
  }

  /** Number of keys. */
  get size(): number {
    return this.#map.size;
  }

  /**
   * STORE from another node: refused if `expS < nowS`; ignored if it is one of
   * our own values for `key`; an existing value's expiry only grows; a new
   * value starts with `replS = 0` (replicated at the next replicate task).
   */
  put(key: DhtId, val: Uint8Array, expS: number, nowS: number): PutResult {
    if (expS < nowS) return "expired";
    const e = this.#entry(key, false);
    if (e?.own.some((v) => sameBytes(v.val, val))) return "own";
    const cur = e?.stored.find((v) => sameBytes(v.val, val));
    if (cur) {
      if (expS <= cur.expS) return "unchanged";
      cur.expS = expS;
      return "extended";
    }
    this.#entry(key, true)!.stored.push({ val: val.slice(), expS, replS: 0 });
    return "added";
  }

  /** Publish an own value (`reg`); `false` (and no change) if already present. */
  putOwn(key: DhtId, val: Uint8Array, expS: number, nowS: number): boolean {
    const e = this.#entry(key, true)!;
    if (e.own.some((v) => sameBytes(v.val, val))) return false;
    e.own.push({ val: val.slice(), expS, replS: nowS });
    e.stored = e.stored.filter((v) => !sameBytes(v.val, val));
    return true;
  }

  /** Withdraw an own value (`unreg`, local only); `false` if not found. */
  delOwn(key: DhtId, val: Uint8Array): boolean {
    const e = this.#entry(key, false);
    const i = e?.own.findIndex((v) => sameBytes(v.val, val)) ?? -1;
    if (!e || i < 0) return false;
    e.own.splice(i, 1);
    if (e.own.length === 0 && e.stored.length === 0) this.#map.delete(idKey(key));
    return true;
  }

  /** Whether `val` is an own value for `key`. */
  hasOwn(key: DhtId, val: Uint8Array): boolean {
    return this.#entry(key, false)?.own.some((v) => sameBytes(v.val, val)) ?? false;
  }

  /** Up to `max` (≤ 8) values for `key`: stored ones first, then own ones (copies). */
  get(key: DhtId, max = this.#maxVals): Uint8Array[] {
    const e = this.#entry(key, false);
    if (!e) return [];
    return [...e.stored, ...e.own].slice(0, Math.min(max, this.#maxVals)).map((v) => v.val.slice());
  }

  /** Details of `key`'s values, for the RIB and tests (copies). */
  inspect(key: DhtId): { stored: StoredValue[]; own: StoredValue[] } | undefined {
    const e = this.#entry(key, false);
    if (!e) return undefined;
    const cp = (v: StoredValue) => ({ ...v, val: v.val.slice() });
    return { stored: e.stored.map(cp), own: e.own.map(cp) };
  }

  /** Keys, for the RIB (copies). */
  keys(): DhtId[] {
    return [...this.#map.values()].map((e) => e.key.slice());
  }

  /** Drop stored values with `nowS > expS` and keys left empty; returns how many values. */
  removeExpired(nowS: number): number {
    let n = 0;
    for (const [k, e] of this.#map) {
      const before = e.stored.length;
      e.stored = e.stored.filter((v) => nowS <= v.expS);
      n += before - e.stored.length;
      if (e.stored.length === 0 && e.own.length === 0) this.#map.delete(k);
    }
    return n;
  }

  /**
   * Values the replicate/republish task must send now (spec 13 §5.4), over
   * all keys: stored values with `nowS > replS + t_replicate` (with their own
   * expiry), own values with `nowS > replS + t_replicate` and
   * `expS − nowS < 5·t_replicate` (with a fresh `nowS + t_expire`). Call
   * {@link replicated} for each one that was sent.
   */
  replicationDue(nowS: number, tReplicateS: number, tExpireS: number): ReplicationItem[] {
    const out: ReplicationItem[] = [];
    for (const e of this.#map.values()) {
      for (const v of e.stored) {
        if (nowS > v.replS + tReplicateS && nowS <= v.expS) {
          out.push({ key: e.key.slice(), val: v.val.slice(), expS: v.expS, own: false });
        }
      }
      for (const v of e.own) {
        if (nowS > v.replS + tReplicateS && v.expS - nowS < DHT_N_REPUB * tReplicateS) {
          out.push({ key: e.key.slice(), val: v.val.slice(), expS: nowS + tExpireS, own: true });
        }
      }
    }
    return out;
  }

  /** Record that `item` was sent at `nowS` (own values also get its new expiry). */
  replicated(item: ReplicationItem, nowS: number): void {
    const e = this.#entry(item.key, false);
    const v = (item.own ? e?.own : e?.stored)?.find((x) => sameBytes(x.val, item.val));
    if (!v) return;
    v.replS = nowS;
    if (item.own) v.expS = Math.max(v.expS, item.expS);
  }
}
