/**
 * An in-memory Ouroboros for tunnel tests: a {@link FakeLayer} where
 * transports bind names and allocate flows to each other. Closing a flow
 * ends its peer's reads; closing a transport (a "process exit") ends all
 * its flows. Optional SDU size limit to test "too big" handling.
 *
 * @example
 * ```ts
 * import { FakeLayer } from "./fake_transport.ts";
 * import { qosRaw } from "../lib/qos.ts";
 * const layer = new FakeLayer();
 * const a = layer.transport(), b = layer.transport();
 * await b.bind("b");
 * const accepted = b.accept();
 * const f = await a.alloc("b", qosRaw);
 * await f.write(new Uint8Array([1]));
 * console.log(await (await accepted).read()); // Uint8Array [1]
 * ```
 * @module
 */

import { Errno, OuroError } from "../lib/errors.ts";
import type { QosSpec } from "../lib/qos.ts";
import { FlowWriteError, type FlowTransport, type TransportAllocOptions, type TunnelFlow } from "./transport.ts";

let nextFlowId = 100;

class FakeFlow implements TunnelFlow {
  readonly id = nextFlowId++;
  peer: FakeFlow | undefined;
  /** Cipher "agreed" for the flow. */
  cipher: string | undefined;
  /** Name the peer "proved". */
  peerName: string | undefined;
  readonly #inbox: Uint8Array[] = [];
  #wake: (() => void) | undefined;
  #ended = false;
  #onClose: (f: FakeFlow) => void;

  constructor(readonly qos: QosSpec, readonly maxSdu: number, onClose: (f: FakeFlow) => void) {
    this.#onClose = onClose;
  }

  deliver(sdu: Uint8Array): void {
    if (this.#ended) return;
    this.#inbox.push(sdu.slice());
    this.#signal();
  }

  #signal(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  async read(): Promise<Uint8Array | null> {
    for (;;) {
      const p = this.#inbox.shift();
      if (p) return p;
      if (this.#ended) return null;
      await new Promise<void>((r) => (this.#wake = r));
    }
  }

  write(sdu: Uint8Array): Promise<void> {
    if (this.#ended || !this.peer) return Promise.reject(new FlowWriteError("down", "Cannot write: flow is down"));
    if (sdu.length > this.maxSdu) {
      return Promise.reject(new FlowWriteError("too-big", `Cannot write: SDU larger than ${this.maxSdu} bytes`));
    }
    this.peer.deliver(sdu);
    return Promise.resolve();
  }

  /** End this side (reads drain then return null). */
  end(): void {
    this.#ended = true;
    this.#signal();
  }

  close(): Promise<void> {
    if (!this.#ended) {
      this.end();
      this.peer?.end();
      this.#onClose(this);
    }
    return Promise.resolve();
  }
}

/** A fake layer: names to transports. */
export class FakeLayer {
  readonly #names = new Map<string, FakeTransport>();
  /** Largest SDU a flow carries (default 1 MiB). */
  maxSdu = 1 << 20;
  /** Allocations made (for tests). */
  allocs = 0;
  /** Cipher given to flows that ask for encryption; undefined: such allocations fail with ECRYPT. */
  cipher: string | undefined = "chacha20-poly1305";
  /** Cipher given to every flow, asked for or not (a name's enc.conf); undefined: none. */
  forcedCipher: string | undefined;

  /** A new transport (one "process") on this layer. */
  transport(): FakeTransport {
    return new FakeTransport(this);
  }

  /** @internal */
  register(name: string, t: FakeTransport): void {
    this.#names.set(name, t);
  }

  /** @internal */
  unregister(t: FakeTransport): void {
    for (const [n, x] of this.#names) if (x === t) this.#names.delete(n);
  }

  /** @internal */
  lookup(name: string): FakeTransport | undefined {
    return this.#names.get(name);
  }
}

/** One process's transport on a {@link FakeLayer}. */
export class FakeTransport implements FlowTransport {
  readonly #layer: FakeLayer;
  readonly #flows = new Set<FakeFlow>();
  readonly #incoming: FakeFlow[] = [];
  #acceptWake: (() => void) | undefined;
  #closed = false;
  #resolveDone!: () => void;
  /** The name OAP would report to the peers of flows this transport allocates (undefined: none). */
  provenName: string | undefined;
  readonly done: Promise<void> = new Promise((r) => (this.#resolveDone = r));

  constructor(layer: FakeLayer) {
    this.#layer = layer;
  }

  bind(name: string): Promise<void> {
    this.#layer.register(name, this);
    return Promise.resolve();
  }

  #track(f: FakeFlow): FakeFlow {
    this.#flows.add(f);
    return f;
  }

  alloc(name: string, qos: QosSpec, options: TransportAllocOptions = {}): Promise<TunnelFlow> {
    if (this.#closed) return Promise.reject(new OuroError(Errno.EIRMD, "Cannot allocate: closed"));
    const dst = this.#layer.lookup(name);
    if (!dst) return Promise.reject(new OuroError(Errno.ENAME, `Cannot allocate: ${name} unknown`));
    const cipher = options.encryption ? this.#layer.cipher : this.#layer.forcedCipher;
    if (options.encryption && !cipher) return Promise.reject(new OuroError(Errno.ECRYPT, "Cannot allocate: no cipher"));
    this.#layer.allocs++;
    const forget = (t: FakeTransport) => (f: FakeFlow) => t.#flows.delete(f);
    const mine = this.#track(new FakeFlow(qos, this.#layer.maxSdu, forget(this)));
    const theirs = dst.#track(new FakeFlow(qos, this.#layer.maxSdu, forget(dst)));
    mine.peer = theirs;
    theirs.peer = mine;
    mine.cipher = theirs.cipher = cipher;
    theirs.peerName = this.provenName;
    dst.#incoming.push(theirs);
    const w = dst.#acceptWake;
    dst.#acceptWake = undefined;
    w?.();
    return Promise.resolve(mine);
  }

  async accept(signal?: AbortSignal): Promise<TunnelFlow> {
    for (;;) {
      const f = this.#incoming.shift();
      if (f) return f;
      if (this.#closed || signal?.aborted) throw new OuroError(Errno.EINTR, "Cannot accept: closed");
      await new Promise<void>((r) => {
        this.#acceptWake = r;
        signal?.addEventListener("abort", () => r(), { once: true });
      });
    }
  }

  /** Flows currently open. */
  get openFlows(): number {
    return this.#flows.size;
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.#layer.unregister(this);
    for (const f of [...this.#flows]) void f.close();
    this.#acceptWake?.();
    this.#resolveDone();
    return Promise.resolve();
  }
}
