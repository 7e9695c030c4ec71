/**
 * The tunnel's view of Ouroboros: bind a name, allocate and accept flows,
 * read and write SDUs. {@link ouroTransport} is the real one over the app
 * library; `fake_transport.ts` is an in-memory one for tests. Also the
 * peer-identity seam: who is at the other end of an accepted flow.
 *
 * @example
 * ```ts ignore
 * import { Ouro } from "../../mod.ts";
 * import { ouroTransport } from "./transport.ts";
 * const t = ouroTransport(await Ouro.connect({ rundir: "/run/ouro" }));
 * await t.bind("tunnel.a", "mylayer");
 * const flow = await t.accept();
 * ```
 * @module
 */

import type { Ouro } from "../client/api.ts";
import type { FastSendInfo, Flow } from "../client/flow.ts";
import type { FastPrefix, FastRxCounters } from "../io/fast_rx.ts";
import { Errno, isErrno } from "../lib/errors.ts";
import type { QosSpec } from "../lib/qos.ts";

/** Why a flow write failed. */
export type FlowWriteFailure = "down" | "too-big";

/** A write that the flow refused. */
export class FlowWriteError extends Error {
  /** `down`: the flow is gone; `too-big`: the SDU exceeds what the flow carries. */
  readonly kind: FlowWriteFailure;
  /** A refused write of this kind. */
  constructor(kind: FlowWriteFailure, message: string) {
    super(message);
    this.name = "FlowWriteError";
    this.kind = kind;
  }
}

/** One flow as the tunnel uses it. */
export interface TunnelFlow {
  /** Flow id (shown by `show`). */
  readonly id: number;
  /** Next SDU; `null` once the flow has ended (peer gone, deallocated, layer down). */
  read(): Promise<Uint8Array | null>;
  /** Send one SDU. Throws {@link FlowWriteError}. May wait while the send queue is full. */
  write(sdu: Uint8Array): Promise<void>;
  /** Deallocate. Idempotent. */
  close(): Promise<void>;
  /** The cipher OAP agreed for this flow (e.g. `chacha20-poly1305`), undefined in the clear. */
  readonly cipher?: string;
  /**
   * The name the peer proved with OAP (its certificate's common name), if
   * it authenticated.
   */
  readonly peerName?: string;
  /**
   * Take the fast path where the layer allows it (see `Flow.fastPath`):
   * received IP packets with a source routed to this peer go straight to
   * the TUN device `tunFd`; the result says how to send without the IRMd
   * (and every later SDU must go that way). Rejects when it cannot.
   */
  fastPath?(tunFd: number, sources: FastPrefix[]): Promise<FastSendInfo>;
  /** Counters of the fast path's receive side (asked of the IRMd). */
  fastRxStats?(): Promise<FastRxCounters | undefined>;
}

/** Options of {@link FlowTransport.alloc}. */
export interface TransportAllocOptions {
  /** Give up after this many ms. */
  timeoutMs?: number;
  /** Abort the allocation. */
  signal?: AbortSignal;
  /** Ask the IRMds for an encrypted flow (X25519 + ChaCha20-Poly1305); rejects with ECRYPT if they cannot agree. */
  encryption?: boolean;
}

/** Flows by name: what the tunnel needs from Ouroboros. */
export interface FlowTransport {
  /** Bind this process to `name` and register it in `layer` (if given). */
  bind(name: string, layer?: string): Promise<void>;
  /** Allocate a flow to `name` with `qos`. */
  alloc(name: string, qos: QosSpec, options?: TransportAllocOptions): Promise<TunnelFlow>;
  /** Wait for the next incoming flow; rejects when `signal` aborts or the transport closes. */
  accept(signal?: AbortSignal): Promise<TunnelFlow>;
  /** Resolves when the transport is gone (daemon connection lost or closed). */
  readonly done: Promise<void>;
  /** Close every flow and the transport. */
  close(): Promise<void>;
}

/**
 * Who is at the other end of an accepted flow. The peer names itself in
 * HELLO; {@link claimedIdentity} believes it, `oapIdentity` (security.ts,
 * the default) checks it against the name OAP authenticated when the flow
 * carries one ({@link TunnelFlow.peerName}) and refuses a mismatch. Return the configured peer name to use, or
 * undefined to refuse the flow.
 */
export interface PeerIdentifier {
  /** The peer the flow belongs to, given the name it claims. */
  identify(claimed: string, flow: TunnelFlow): string | undefined;
}

/** Believe the name a peer says in its HELLO (see `oapIdentity` in security.ts for the default). */
export const claimedIdentity: PeerIdentifier = { identify: (claimed) => claimed };

function wrap(f: Flow): TunnelFlow {
  return {
    id: f.fd,
    cipher: f.cipher,
    peerName: f.peer.authenticated ? f.peer.cn : undefined,
    read: () => f.read(),
    write: async (sdu) => {
      try {
        await f.write(sdu);
      } catch (e) {
        if (isErrno(e, Errno.EMSGSIZE)) throw new FlowWriteError("too-big", (e as Error).message);
        throw new FlowWriteError("down", (e as Error).message);
      }
    },
    close: () => f.close().catch(() => {}),
    fastPath: (tunFd, sources) => f.fastPath(tunFd, sources),
    fastRxStats: () => f.fastRxStats(),
  };
}

/** The real transport: the app library's handle on the IRMd. */
export function ouroTransport(ouro: Ouro): FlowTransport {
  return {
    bind: (name, layer) => ouro.bind(name, { layer }),
    alloc: async (name, qos, o = {}) => wrap(
      await ouro.flowAlloc(name, { qos, timeoutMs: o.timeoutMs, signal: o.signal, encryption: o.encryption || undefined }),
    ),
    accept: async (signal) => wrap(await ouro.flowAccept({ signal })),
    done: ouro.client.done,
    close: () => ouro.close(),
  };
}
