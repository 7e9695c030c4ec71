/**
 * An in-memory Ethernet segment for tests: links opened on one
 * {@link FakeEthHub} behave like ports of a hub — every frame sent on one
 * reaches all the others, whatever its destination MAC, so the IPCP's own
 * address filter is exercised too. No kernel, no Worker.
 *
 * @example
 * ```ts
 * import { FakeEthHub } from "./link_fake.ts";
 * const hub = new FakeEthHub();
 * const a = hub.open({ ifname: "a" }), b = hub.open({ ifname: "b" });
 * const got: Uint8Array[] = [];
 * const done = b.onReceive((f) => got.push(f));
 * a.send(new Uint8Array(60));
 * await new Promise((r) => setTimeout(r, 0));
 * await b.close();
 * await done;
 * console.log(got.length); // 1
 * ```
 * @module
 */
import { IoError } from "../../io/libc.ts";
import type { EthLink, EthLinkOpener, EthLinkStats } from "./link.ts";

/** Options of one fake link. */
export interface FakeEthLinkOptions {
  ifname: string;
  /** Own MAC; default 02:00:00:00:00:<n>. */
  mac?: Uint8Array;
  /** Interface MTU; default 1500. */
  mtu?: number;
  /** The interface is down: open fails with ENETDOWN. */
  down?: boolean;
}

/** A set of fake links sharing one segment. */
export class FakeEthHub {
  readonly #links = new Set<FakeEthLink>();
  readonly #known = new Map<string, FakeEthLinkOptions>();
  #next = 1;
  /** Frames each link holds before dropping more. */
  queueLimit = 4096;

  /** Declare an interface that {@link opener} will later open by name. */
  define(o: FakeEthLinkOptions): void {
    this.#known.set(o.ifname, o);
  }

  /** An opener for EthIpcp that knows only the interfaces given to define(). */
  get opener(): EthLinkOpener {
    return (o) => {
      const d = this.#known.get(o.ifname);
      if (!d) {
        return Promise.reject(
          new IoError(19, `Cannot open packet socket on ${o.ifname}: no such device (ENODEV)`),
        );
      }
      if (d.down) {
        return Promise.reject(
          new IoError(100, `Cannot open packet socket on ${o.ifname}: device is down (ENETDOWN)`),
        );
      }
      return Promise.resolve(this.open(d));
    };
  }

  /** Attach a new link. */
  open(o: FakeEthLinkOptions): FakeEthLink {
    const n = this.#next++;
    const mac = o.mac ?? new Uint8Array([2, 0, 0, 0, (n >> 8) & 0xff, n & 0xff]);
    const l = new FakeEthLink(
      o.ifname,
      mac,
      o.mtu ?? 1500,
      (f) => this.#carry(l, f),
      () => this.#links.delete(l),
      this.queueLimit,
    );
    this.#links.add(l);
    return l;
  }

  #carry(from: FakeEthLink, f: Uint8Array): void {
    for (const l of this.#links) if (l !== from) l.inject(f);
  }
}

/** One port of a {@link FakeEthHub}. */
export class FakeEthLink implements EthLink {
  #queue: Uint8Array[] = [];
  #wake: (() => void) | undefined;
  #closed = false;
  #rx = 0;
  #tx = 0;
  #rxDrops = 0;

  constructor(
    readonly ifname: string,
    readonly mac: Uint8Array,
    readonly mtu: number,
    readonly carry: (f: Uint8Array) => void,
    readonly detach: () => void,
    readonly queueLimit: number,
  ) {}

  get closed(): boolean {
    return this.#closed;
  }

  send(frame: Uint8Array): boolean {
    if (this.#closed) return false;
    if (frame.length > this.mtu + 14) {
      throw new IoError(
        90,
        `Cannot send a ${frame.length}-byte frame on ${this.ifname} (EMSGSIZE)`,
      );
    }
    this.#tx++;
    this.carry(frame.slice());
    return true;
  }

  /** Put a frame on this link's receive queue (as if it came off the wire). */
  inject(frame: Uint8Array): void {
    if (this.#closed) return;
    if (this.#queue.length >= this.queueLimit) {
      this.#rxDrops++;
      return;
    }
    this.#queue.push(frame.slice());
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  async onReceive(handler: (frame: Uint8Array) => void): Promise<void> {
    for (;;) {
      while (this.#queue.length > 0) {
        const batch = this.#queue;
        this.#queue = [];
        for (const f of batch) {
          this.#rx++;
          handler(f);
        }
      }
      if (this.#closed) return;
      await new Promise<void>((r) => (this.#wake = r));
    }
  }

  waitWritable(): Promise<boolean> {
    return Promise.resolve(!this.#closed);
  }

  stats(): EthLinkStats & { rxDrops: number } {
    return { rxPackets: this.#rx, txPackets: this.#tx, rxDrops: this.#rxDrops };
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#queue = [];
      this.detach();
      const w = this.#wake;
      this.#wake = undefined;
      w?.();
    }
    return Promise.resolve();
  }
}
