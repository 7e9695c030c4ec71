/**
 * What a shim IPCP (udp, eth) offers a flow's fast path (see `flow.fast`
 * in the IRMd, `src/io/fast_rx.ts`, `src/io/fast_tx.ts`).
 * @module
 */
import type { FastRxControl, FastRxCounters, FastRxSpec, FastShimLayout } from "../../io/fast_rx.ts";
import { libc } from "../../io/libc.ts";
import { Errno, OuroError } from "../../lib/errors.ts";

/** How to send on one of the shim's flows without it, and how its packets to us look. */
export interface FastShimInfo {
  /** The shim's socket (to borrow). */
  fd: number;
  /** Destination sockaddr for `sendto` (empty: the socket is bound to its peer's link). */
  dst: Uint8Array;
  /** The shim header of packets to the peer (a length field, if any, still to fill). */
  header: Uint8Array;
  /** Where that length field is (big-endian u16) and what to add to the payload length. */
  lenAt?: number;
  lenAdd?: number;
  /** The header of packets to us. */
  shim: FastShimLayout;
  /** The key of this flow in packets to us. */
  key: number;
}

/** A shim IPCP with a fast path. */
export interface FastShim {
  /**
   * How to send on flow `flowId` without the IPCP.
   * @throws OuroError ENOTALLOC when the flow is unknown or not yet allocated
   */
  fastSendInfo(flowId: number): FastShimInfo;
  /** Receive a flow straight into a TUN device (takes ownership of `spec.tunFd`). */
  fastInstall(spec: FastRxSpec): Promise<void>;
  /** Stop that and close the device fd. */
  fastRemove(id: number): void;
  /** Counters of a flow's fast receive path. */
  fastCounters(id: number): FastRxCounters | undefined;
}

/**
 * The TUN fds a shim IPCP holds for its fast flows (borrowed by the IRMd),
 * with the install/remove bookkeeping both shims share: a device fd is
 * closed only once the Worker no longer writes to it.
 */
export class FastRxFds {
  readonly #fds = new Map<number, number>();

  /** `rx()` is the I/O Worker's fast path, undefined when the IPCP (`name()`) is not running. */
  constructor(readonly name: () => string, readonly rx: () => FastRxControl | undefined) {}

  /** See {@link FastShim.fastInstall}. */
  async install(spec: FastRxSpec): Promise<void> {
    const rx = this.rx();
    if (!rx) {
      libc().close(spec.tunFd);
      throw new OuroError(Errno.EIPCPSTATE, `Cannot take a fast path: ${this.name()} is not running`);
    }
    const old = this.#fds.get(spec.id);
    this.#fds.set(spec.id, spec.tunFd);
    await rx.install(spec);
    if (old !== undefined && old !== spec.tunFd) libc().close(old);
  }

  /** See {@link FastShim.fastRemove}. */
  remove(id: number): void {
    const fd = this.#fds.get(id);
    if (fd === undefined) return;
    this.#fds.delete(id);
    const close = () => libc().close(fd);
    this.rx()?.remove(id).then(close, close) ?? close();
  }

  /** See {@link FastShim.fastCounters}. */
  counters(id: number): FastRxCounters | undefined {
    return this.rx()?.counters(id);
  }

  /** Take every fd (to close once the Worker has stopped). */
  takeAll(): number[] {
    const fds = [...this.#fds.values()];
    this.#fds.clear();
    return fds;
  }
}
