/**
 * The application API: a handle on the IRMd ({@link Ouro}) and the
 * module-level shortcuts that use a shared default handle.
 * @module
 */
import { fastestAead } from "../crypto/evp.ts";
import { Errno, OuroError } from "../lib/errors.ts";
import { qosFromJson, qosRaw, type QosSpec, qosToJson } from "../lib/qos.ts";
import { type ConnectOptions, IrmClient } from "./client.ts";
import { Flow } from "./flow.ts";

/** Options of {@link Ouro.flowAlloc}. */
export interface AllocOptions {
  /** QoS to ask for (default raw). */
  qos?: QosSpec;
  /** Give up after this many ms (ETIMEDOUT); the IRMd's default is 20 s. */
  timeoutMs?: number;
  /** Abort the allocation (rejects with EINTR). */
  signal?: AbortSignal;
  /**
   * Require encryption for this flow (instead of the IRMd's per-name
   * enc.conf): `true` for X25519 + the fastest AEAD here (AES-256-GCM when
   * the system's libcrypto runs flow ciphers, ChaCha20-Poly1305 on the
   * node:crypto fallback), or
   * names as in enc.conf (`{ kex: "prime256v1", cipher: "aes-256-gcm" }`;
   * `kex: "ML-KEM-768"` for post-quantum). The allocation fails (ECRYPT) if
   * the server cannot agree.
   */
  encryption?: boolean | { kex?: string; cipher?: string; kdf?: string };
}

/** enc.conf text for an {@link AllocOptions.encryption} choice. */
export function encConfText(e: AllocOptions["encryption"]): string | undefined {
  if (e === undefined || e === false) return e === false ? "none\n" : undefined;
  const c = e === true ? {} : e;
  return `kex = ${c.kex ?? "X25519"}\ncipher = ${c.cipher ?? fastestAead()}\nkdf = ${c.kdf ?? "sha256"}\n`;
}

/** Options of {@link Ouro.flowAccept}. */
export interface AcceptOptions {
  /** Give up after this many ms (ETIMEDOUT); default: wait forever. */
  timeoutMs?: number;
  /** Abort the wait (rejects with EINTR; the IRMd forgets this acceptor). */
  signal?: AbortSignal;
}

/**
 * The reference's default build (QOS_DISABLE_CRC) sets `ber = 1` on every
 * allocation, so CRC32 is never negotiated; we do the same to match it on
 * the wire.
 */
export const QOS_DISABLE_CRC = true;

function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined, onAbort?: () => void): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) {
    p.catch(() => {});
    onAbort?.();
    return Promise.reject(new OuroError(Errno.EINTR, "Cannot continue: aborted"));
  }
  return new Promise<T>((resolve, reject) => {
    const h = () => {
      onAbort?.();
      reject(new OuroError(Errno.EINTR, "Cannot continue: aborted"));
    };
    signal.addEventListener("abort", h, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener("abort", h));
  });
}

/**
 * A handle on the IRMd of this host (or of the run directory given).
 *
 * @example
 * ```ts
 * import { Ouro } from "../../mod.ts";
 * const ouro = await Ouro.connect({ rundir: "/tmp/ouro-demo" });
 * await ouro.bind("my.service");
 * const flow = await ouro.flowAccept();
 * ```
 */
export class Ouro {
  private constructor(readonly client: IrmClient) {}

  /** Connect to the IRMd and announce this process. */
  static async connect(opts: ConnectOptions = {}): Promise<Ouro> {
    return new Ouro(await IrmClient.connect(opts));
  }

  /** Allocate a flow to the process serving `name`. */
  async flowAlloc(name: string, opts: AllocOptions = {}): Promise<Flow> {
    const r = await abortable(
      this.client.request({
        op: "flow.alloc",
        dst: name,
        qos: qosToJson(QOS_DISABLE_CRC ? { ...(opts.qos ?? qosRaw), ber: 1 } : opts.qos ?? qosRaw),
        timeoutMs: opts.timeoutMs,
        direct: true,
        encryption: encConfText(opts.encryption),
      }),
      opts.signal,
    );
    return this.#flow(r);
  }

  /** Wait for a flow to any name this process is bound to. */
  async flowAccept(opts: AcceptOptions = {}): Promise<Flow> {
    let reqId = 0;
    const direct = await this.client.links.listenPath();
    const r = await abortable(
      this.client.request({ op: "flow.accept", timeoutMs: opts.timeoutMs, direct }, (id) => (reqId = id)),
      opts.signal,
      () => this.client.cancel(reqId),
    );
    return this.#flow(r);
  }

  /** Join a broadcast layer: everything written reaches every member. */
  async flowJoin(layer: string, opts: { signal?: AbortSignal } = {}): Promise<Flow> {
    return this.#flow(await abortable(this.client.request({ op: "flow.join", layer }), opts.signal));
  }

  #flow(r: Record<string, unknown>): Flow {
    const d = r.direct as { path?: string; peer: number } | undefined;
    const crypto = { cipherNid: Number(r.cipherNid ?? 0), key: typeof r.key === "string" ? r.key : undefined };
    const f = new Flow(this.client, r.flowId as number, qosFromJson(r.qos), String(r.name), Number(r.mpl), d, crypto);
    const p = r.peer as { authenticated?: unknown; cn?: unknown } | undefined;
    if (p && typeof p === "object") {
      f.peer = { authenticated: p.authenticated === true, cn: typeof p.cn === "string" ? p.cn : undefined };
    }
    return f;
  }

  /**
   * Bind this process to `name` (creating the name if needed), so that
   * {@link Ouro.flowAccept} receives flows for it. With `layer`, also
   * register the name in that layer.
   */
  async bind(name: string, opts: { layer?: string } = {}): Promise<void> {
    await this.client.request({ op: "bind.process", name });
    if (opts.layer !== undefined) await this.register(name, opts.layer);
  }

  /** Register `name` in every IPCP of `layer`. */
  async register(name: string, layer: string): Promise<void> {
    await this.client.request({ op: "name.reg", name, layer });
  }

  /** Send a raw control request (the management CLI uses this). */
  request(msg: Record<string, unknown>): Promise<Record<string, unknown>> {
    return this.client.request(msg);
  }

  /** Close the connection; every flow of this handle ends. */
  close(): Promise<void> {
    return this.client.close();
  }

  /** `await using ouro = …` closes it. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

let shared: Promise<Ouro> | undefined;

/** The shared default handle (connects on first use; `$OURO_RUNDIR` picks the daemon). */
export function defaultOuro(): Promise<Ouro> {
  shared ??= Ouro.connect().catch((e) => {
    shared = undefined;
    throw e;
  });
  return shared;
}

/**
 * Allocate a flow to `name` with the default handle.
 *
 * @example
 * ```ts
 * import { flowAlloc, qosData } from "../../mod.ts";
 * const flow = await flowAlloc("files", { qos: qosData, timeoutMs: 5000 });
 * ```
 */
export async function flowAlloc(name: string, opts: AllocOptions = {}): Promise<Flow> {
  return (await defaultOuro()).flowAlloc(name, opts);
}

/**
 * Accept a flow with the default handle.
 *
 * @example
 * ```ts
 * import { bind, flowAccept } from "../../mod.ts";
 * await bind("echo");
 * const flow = await flowAccept();
 * for (let sdu = await flow.read(); sdu; sdu = await flow.read()) await flow.write(sdu);
 * ```
 */
export async function flowAccept(opts: AcceptOptions = {}): Promise<Flow> {
  return (await defaultOuro()).flowAccept(opts);
}

/**
 * Join a broadcast layer with the default handle.
 *
 * @example
 * ```ts
 * import { flowJoin } from "../../mod.ts";
 * const flow = await flowJoin("chat");
 * await flow.write(new TextEncoder().encode("hello all"));
 * ```
 */
export async function flowJoin(layer: string, opts: { signal?: AbortSignal } = {}): Promise<Flow> {
  return (await defaultOuro()).flowJoin(layer, opts);
}

/**
 * Bind this process to `name` with the default handle (optionally
 * registering it in `layer`).
 *
 * @example
 * ```ts
 * import { bind } from "../../mod.ts";
 * await bind("my.service", { layer: "local" });
 * ```
 */
export async function bind(name: string, opts: { layer?: string } = {}): Promise<void> {
  return (await defaultOuro()).bind(name, opts);
}

/**
 * Close the shared default handle, if any (lets a program exit cleanly).
 *
 * @example
 * ```ts
 * import { disconnect } from "../../mod.ts";
 * await disconnect();
 * ```
 */
export async function disconnect(): Promise<void> {
  const s = shared;
  shared = undefined;
  if (s) await (await s).close().catch(() => {});
}
