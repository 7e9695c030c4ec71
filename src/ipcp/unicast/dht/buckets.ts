/**
 * The DHT routing table (spec 13 §4): a tree of k-buckets. Each split makes
 * 256 children; a child at depth d holds the ids whose byte d−1 equals its
 * mask (the consistent rule the spec recommends). Only the bucket whose range
 * contains the own id splits; other full buckets put newcomers on a
 * replacement list (`alts`, ≤ k, oldest evicted).
 *
 * Local choices, none visible on the wire:
 * - an existing contact is replaced when it has the same address **or** id;
 * - {@link Buckets.closest} returns the n contacts closest to the key by XOR
 *   distance over the whole table (the reference returns a bucket's contacts
 *   unsorted), which is what iterative lookups need;
 * - liveness: a contact that misses {@link DHT_CONTACT_MAX_FAILS} responses in
 *   a row is dropped and the most recently seen replacement takes its place
 *   (the reference never promotes replacements).
 *
 * Times are monotonic milliseconds passed in by the caller.
 *
 * @example
 * ```ts
 * import { Buckets } from "./buckets.ts";
 * import { randomId } from "./id.ts";
 * const t = new Buckets({ self: { id: randomId(32), addr: 1 } });
 * t.insert({ id: randomId(32), addr: 2 }, 0);
 * t.closest(randomId(32), 8).length; // 1
 * ```
 * @module
 */
import { DHT_CONTACT_MAX_FAILS, DHT_FANOUT, DHT_K, DHT_T_REFRESH_S } from "./constants.ts";
import { compareDistance, type DhtId, type DhtPeer, idEquals } from "./id.ts";

/** A contact in the table. */
export interface Contact extends DhtPeer {
  /** Last time (ms) we heard from it. */
  seenMs: number;
  /** Consecutive unanswered requests. */
  fails: number;
}

/** One bucket of the tree. */
interface Bucket {
  depth: number;
  mask: number;
  parent?: Bucket;
  children?: Bucket[];
  /** Least recently seen first. */
  contacts: Contact[];
  /** Replacements, oldest first. */
  alts: Contact[];
  tRefrMs: number;
}

/** Options of {@link Buckets}. */
export interface BucketsOptions {
  /** Own id and address (the own contact is never returned). */
  self: DhtPeer;
  /** Bucket size, default 8. */
  k?: number;
  /** Refresh period (ms), default 900 s. */
  tRefreshMs?: number;
  /** Creation time (ms), default 0. */
  nowMs?: number;
}

/** The k-bucket tree. */
export class Buckets {
  /** Own id and address. */
  readonly self: DhtPeer;
  /** Bucket size. */
  readonly k: number;
  readonly #tRefreshMs: number;
  readonly #root: Bucket;

  /** An empty table holding only the own contact. */
  constructor(opts: BucketsOptions) {
    this.self = { id: opts.self.id.slice(), addr: opts.self.addr };
    this.k = opts.k ?? DHT_K;
    this.#tRefreshMs = opts.tRefreshMs ?? DHT_T_REFRESH_S * 1000;
    this.#root = this.#bucket(0, 0, undefined, opts.nowMs ?? 0);
    this.#root.contacts.push({ ...this.self, seenMs: opts.nowMs ?? 0, fails: 0 });
  }

  #bucket(depth: number, mask: number, parent: Bucket | undefined, nowMs: number): Bucket {
    return { depth, mask, parent, contacts: [], alts: [], tRefrMs: nowMs + this.#tRefreshMs };
  }

  #leaf(id: DhtId): Bucket {
    let b = this.#root;
    while (b.children) b = b.children[id[b.depth] ?? 0]!;
    return b;
  }

  #canSplit(b: Bucket): boolean {
    return this.#leaf(this.self.id) === b && b.depth < this.self.id.length;
  }

  /** Number of contacts (excluding the own one and replacements). */
  get size(): number {
    return this.all().length;
  }

  /** Depth of the deepest bucket (0 = unsplit). */
  get depth(): number {
    return this.#leaf(this.self.id).depth;
  }

  /**
   * Insert or refresh a contact we just heard from (spec 13 §4): it moves to
   * the most-recently-seen end of its bucket with its failure count cleared.
   * Returns where it went: "contact", "alt", or "self" (ignored).
   */
  insert(peer: DhtPeer, nowMs: number): "contact" | "alt" | "self" {
    if (peer.addr === this.self.addr || idEquals(peer.id, this.self.id)) return "self";
    const b = this.#leaf(peer.id);
    const same = (c: Contact) => c.addr === peer.addr || idEquals(c.id, peer.id);
    b.contacts = b.contacts.filter((c) => !same(c));
    b.alts = b.alts.filter((c) => !same(c));
    const c: Contact = { id: peer.id.slice(), addr: peer.addr, seenMs: nowMs, fails: 0 };
    if (b.contacts.length < this.k) {
      b.contacts.push(c);
      return "contact";
    }
    if (this.#canSplit(b)) {
      b.contacts.push(c);
      this.#split(b, nowMs);
      return this.#leaf(peer.id).contacts.includes(c) ? "contact" : "alt";
    }
    this.#addAlt(b, c);
    return "alt";
  }

  #addAlt(b: Bucket, c: Contact): void {
    b.alts.push(c);
    if (b.alts.length > this.k) b.alts.shift();
  }

  #split(b: Bucket, nowMs: number): void {
    const kids = Array.from(
      { length: DHT_FANOUT },
      (_, m) => this.#bucket(b.depth + 1, m, b, nowMs),
    );
    b.children = kids;
    const byte = (c: Contact) => c.id[b.depth] ?? 0;
    for (const c of b.contacts) kids[byte(c)]!.contacts.push(c);
    for (const c of b.alts) this.#addAlt(kids[byte(c)]!, c);
    b.contacts = [];
    b.alts = [];
    for (const kid of kids) {
      if (kid.contacts.length <= this.k) continue;
      if (this.#canSplit(kid)) {
        this.#split(kid, nowMs);
      } else {
        for (const c of kid.contacts.splice(this.k)) this.#addAlt(kid, c);
      }
    }
  }

  /** The contact with address `addr`, if any. */
  get(addr: number): Contact | undefined {
    return this.all().find((c) => c.addr === addr);
  }

  /** Every contact except the own one, in tree order (copies). */
  all(): Contact[] {
    const out: Contact[] = [];
    const walk = (b: Bucket) => {
      if (b.children) { for (const k of b.children) walk(k); }
      for (const c of b.contacts) if (c.addr !== this.self.addr) out.push({ ...c });
    };
    walk(this.#root);
    return out;
  }

  /**
   * Up to `n` (capped at k) contacts closest to `key` by XOR distance, never
   * the own one. Touches the refresh deadline of `key`'s bucket, as a lookup
   * through it does.
   */
  closest(key: DhtId, n: number, nowMs?: number): DhtPeer[] {
    if (nowMs !== undefined) this.#leaf(key).tRefrMs = nowMs + this.#tRefreshMs;
    return this.all()
      .sort((a, b) => compareDistance(key, a.id, b.id))
      .slice(0, Math.min(n, this.k))
      .map((c) => ({ id: c.id, addr: c.addr }));
  }

  /**
   * A request to `addr` went unanswered. After {@link DHT_CONTACT_MAX_FAILS}
   * in a row the contact is removed and the newest replacement promoted.
   * Returns `true` if the contact was removed.
   */
  failed(addr: number): boolean {
    if (addr === this.self.addr) return false;
    const walk = (b: Bucket): boolean => {
      if (b.children) return b.children.some(walk);
      const i = b.contacts.findIndex((c) => c.addr === addr);
      if (i < 0) return false;
      const c = b.contacts[i]!;
      if (++c.fails < DHT_CONTACT_MAX_FAILS) return false;
      b.contacts.splice(i, 1);
      const alt = b.alts.pop();
      if (alt) b.contacts.push(alt);
      return true;
    };
    return walk(this.#root);
  }

  /**
   * Refresh task (spec 13 §5.4): for each bucket whose deadline passed and
   * whose least recently seen contact is older than t_refresh, the id to look
   * up (FIND_NODE). The bucket's deadline is pushed back by t_refresh.
   */
  dueRefreshes(nowMs: number): DhtId[] {
    const out: DhtId[] = [];
    const walk = (b: Bucket) => {
      if (b.children) {
        for (const k of b.children) walk(k);
        return;
      }
      if (b.tRefrMs > nowMs) return;
      b.tRefrMs = nowMs + this.#tRefreshMs;
      const c = b.contacts.find((x) => x.addr !== this.self.addr);
      if (c && c.seenMs + this.#tRefreshMs < nowMs) out.push(c.id.slice());
    };
    walk(this.#root);
    return out;
  }
}
