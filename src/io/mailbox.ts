/**
 * A one-slot mailbox in shared memory from the main thread to a Worker
 * that runs a blocking loop (and so never sees `postMessage`): the main
 * thread writes one JSON command and rings the Worker's doorbell; the
 * Worker takes it between batches and acknowledges it; the next command
 * waits for that acknowledgement. For control only (installing flows),
 * never per packet.
 *
 * @example
 * ```ts ignore
 * const mb = new MailboxSender(sab, ring);   // main thread
 * await mb.post({ op: "install", … });
 * const rd = new MailboxReader(sab);          // Worker
 * rd.take((cmd) => apply(cmd));
 * ```
 * @module
 */

const SEQ = 0, ACK = 1, LEN = 2, HDR = 16;
/** Bytes of a mailbox (the largest command is this less 16). */
export const MAILBOX_BYTES = 64 * 1024;
/** How long a post waits for the Worker, in ms. */
const POST_TIMEOUT_MS = 5000;

/** Main-thread side. */
export class MailboxSender {
  readonly #w: Int32Array;
  readonly #b: Uint8Array;
  readonly #wake: () => void;
  #chain: Promise<void> = Promise.resolve();

  /** Post into `sab` (of {@link MAILBOX_BYTES}); `wake` rings the Worker's doorbell. */
  constructor(sab: SharedArrayBuffer, wake: () => void) {
    this.#w = new Int32Array(sab, 0, 4);
    this.#b = new Uint8Array(sab);
    this.#wake = wake;
  }

  /** Send one command; resolves once the Worker has applied it. */
  post(cmd: unknown): Promise<void> {
    const run = async () => {
      const body = new TextEncoder().encode(JSON.stringify(cmd));
      if (HDR + body.length > this.#b.length) throw new Error("mailbox command too large");
      this.#b.set(body, HDR);
      Atomics.store(this.#w, LEN, body.length);
      const seq = Atomics.add(this.#w, SEQ, 1) + 1;
      this.#wake();
      // the Worker answers between batches, or right after its poll(2) wakes
      for (const end = Date.now() + POST_TIMEOUT_MS; Atomics.load(this.#w, ACK) !== seq;) {
        if (Date.now() > end) throw new Error("packet worker did not take the command");
        await new Promise((r) => setTimeout(r, 1));
      }
    };
    const p = this.#chain.then(run);
    this.#chain = p.catch(() => {});
    return p;
  }
}

/** Worker side. */
export class MailboxReader {
  readonly #w: Int32Array;
  readonly #b: Uint8Array;

  /** Read from `sab`. */
  constructor(sab: SharedArrayBuffer) {
    this.#w = new Int32Array(sab, 0, 4);
    this.#b = new Uint8Array(sab);
  }

  /**
   * Apply the pending command, if any (one atomic load when none). A
   * command that does not parse or that `apply` throws on is dropped
   * (returned as the error): the packet loop must go on.
   */
  take(apply: (cmd: unknown) => void): Error | undefined {
    const seq = Atomics.load(this.#w, SEQ);
    if (seq === Atomics.load(this.#w, ACK)) return undefined;
    try {
      const len = Atomics.load(this.#w, LEN);
      apply(JSON.parse(new TextDecoder().decode(this.#b.slice(HDR, HDR + len))));
      return undefined;
    } catch (e) {
      return e as Error;
    } finally {
      Atomics.store(this.#w, ACK, seq);
    }
  }
}
