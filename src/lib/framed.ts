/**
 * A framed, batched connection over a Deno stream socket (both ends of the
 * control socket use it).
 *
 * Writes are coalesced: the first frame leaves at once, and while a write is
 * in flight new frames pile up and leave together in the next one. Reads
 * feed a {@link FrameStream}.
 * @module
 */
import { type Frame, FrameStream, putData } from "./ctl.ts";
import { DecodeError } from "./errors.ts";

/** Bytes queued beyond which a connection counts as congested (back-pressure). */
export const HIGH_WATER_BYTES = 4 << 20;
/** Bytes queued beyond which data frames are dropped (a peer that never reads). */
export const DROP_BYTES = 32 << 20;
/** Drain waiters resume below this. */
export const LOW_WATER_BYTES = 1 << 20;

/** Callbacks of a framed connection. */
export interface FramedHandlers {
  onFrame(f: Frame): void;
  /** A frame body was malformed (counted and skipped). */
  onBadFrame(e: DecodeError): void;
  onClose(err?: Error): void;
}

/** A framed connection. */
export class FramedConn {
  #out = new Uint8Array(64 * 1024);
  #len = 0;
  #spare = new Uint8Array(64 * 1024);
  #writing = false;
  #closed = false;
  #drainWaiters: (() => void)[] = [];
  #drainPromise: Promise<void> | undefined;
  /** Promises the read loop waits on before its next read (back-pressure). */
  readonly #gates = new Set<Promise<unknown>>();
  readonly stats = { rxBytes: 0, txBytes: 0, rxFrames: 0, badFrames: 0, txDrops: 0 };

  constructor(readonly conn: Deno.Conn, readonly handlers: FramedHandlers) {}

  /** Start the read loop; resolves when the connection ends. */
  async run(): Promise<void> {
    const stream = new FrameStream();
    const buf = new Uint8Array(256 * 1024);
    let err: Error | undefined;
    try {
      for (;;) {
        while (this.#gates.size) await this.#gates.values().next().value!.catch(() => {});
        const n = await this.conn.read(buf);
        if (n === null) break;
        this.stats.rxBytes += n;
        stream.push(buf.subarray(0, n));
        for (;;) {
          let f: Frame | undefined;
          try {
            f = stream.next();
          } catch (e) {
            if (!(e instanceof DecodeError)) throw e;
            this.stats.badFrames++;
            this.handlers.onBadFrame(e);
            if (stream.fatal) throw e;
            continue;
          }
          if (!f) break;
          this.stats.rxFrames++;
          this.handlers.onFrame(f);
        }
      }
    } catch (e) {
      if (!this.#closed) err = e as Error;
    } finally {
      this.close();
      this.handlers.onClose(err);
    }
  }

  /**
   * Stop reading from this connection until `p` settles (back-pressure: the
   * kernel buffer fills and the sender slows down).
   */
  pauseUntil(p: Promise<unknown>): void {
    // the same drain promise comes back for every packet while congested: track it once
    if (this.#gates.has(p)) return;
    this.#gates.add(p);
    const done = () => this.#gates.delete(p);
    p.then(done, done);
  }

  /** More than the high-water mark is queued. */
  get congested(): boolean {
    return this.#len > HIGH_WATER_BYTES;
  }

  /** Bytes waiting to be written. */
  get queued(): number {
    return this.#len;
  }
  get closed(): boolean {
    return this.#closed;
  }

  #reserve(n: number): void {
    if (this.#len + n <= this.#out.length) return;
    let size = this.#out.length;
    while (size < this.#len + n) size *= 2;
    const nb = new Uint8Array(size);
    nb.set(this.#out.subarray(0, this.#len));
    this.#out = nb;
  }

  /** Queue a pre-encoded frame (control messages: never dropped). */
  send(frame: Uint8Array): void {
    if (this.#closed) return;
    this.#reserve(frame.length);
    this.#out.set(frame, this.#len);
    this.#len += frame.length;
    this.#kick();
  }

  /** Queue a DATA frame; false (dropped) above {@link DROP_BYTES}. */
  sendData(flowId: number, sdu: Uint8Array): boolean {
    if (this.#closed) return false;
    if (this.#len > DROP_BYTES) {
      this.stats.txDrops++;
      return false;
    }
    this.#reserve(9 + sdu.length);
    this.#len = putData(this.#out, this.#len, flowId, sdu);
    this.#kick();
    return true;
  }

  /** Resolves when the queue is below the low-water mark. */
  drain(): Promise<void> {
    if (this.#len <= LOW_WATER_BYTES || this.#closed) return Promise.resolve();
    // one promise per congestion episode, shared by every waiter
    this.#drainPromise ??= new Promise<void>((res) => this.#drainWaiters.push(res))
      .finally(() => (this.#drainPromise = undefined));
    return this.#drainPromise;
  }

  /**
   * Start writing at once when idle (a deferred write costs an idle wake-up
   * of ~40 µs per hop here); while a write is in flight, frames pile up and
   * leave together in the next one.
   */
  #kick(): void {
    if (!this.#writing) this.#flush();
  }

  async #flush(): Promise<void> {
    if (this.#writing) return;
    this.#writing = true;
    try {
      while (this.#len > 0 && !this.#closed) {
        const chunk = this.#out.subarray(0, this.#len);
        const len = this.#len;
        // swap buffers so new frames go to the spare while this one is written
        const cur = this.#out;
        this.#out = this.#spare.length >= 64 * 1024 ? this.#spare : new Uint8Array(64 * 1024);
        this.#len = 0;
        let off = 0;
        while (off < len) off += await this.conn.write(chunk.subarray(off));
        this.stats.txBytes += len;
        this.#spare = cur.length <= 1 << 20 ? cur : new Uint8Array(64 * 1024);
        if (this.#len <= LOW_WATER_BYTES && this.#drainWaiters.length) {
          const w = this.#drainWaiters;
          this.#drainWaiters = [];
          for (const f of w) f();
        }
      }
    } catch {
      this.close();
    } finally {
      this.#writing = false;
    }
  }

  /** Close the socket (pending output is discarded). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.conn.close();
    } catch { /* already closed */ }
    const w = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const f of w) f();
  }

  /** Write what is queued, then close. */
  async end(): Promise<void> {
    const deadline = Date.now() + 2000;
    while ((this.#len > 0 || this.#writing) && !this.#closed && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 1));
    }
    this.close();
  }
}
