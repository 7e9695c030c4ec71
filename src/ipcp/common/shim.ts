/**
 * What every shim IPCP (udp4/udp6, eth-llc/eth-dix) refuses the same way:
 * a shim only bootstraps (no enrollment), has no components to connect,
 * and is not a broadcast layer.
 * @module
 */
import { Errno, OuroError } from "../../lib/errors.ts";
import type { LayerInfo } from "../types.ts";
import type { FastRxCounters, FastRxSpec } from "../../io/fast_rx.ts";
import type { FastRxFds } from "./fast.ts";
import { libc } from "../../io/libc.ts";

/** Base of the shim IPCPs: the operations they refuse, and their fast receive paths. */
export abstract class ShimIpcp {
  /** The IPCP type, as named in the refusals. */
  abstract readonly type: string;
  /** TUN fds (borrowed by the IRMd) of flows received by the fast path. */
  protected abstract readonly fast: FastRxFds;

  /**
   * Receive flow `spec.id` straight into a TUN device in the I/O Worker
   * (decrypted, source-checked; other SDUs still come the normal way, in
   * clear). Takes ownership of `spec.tunFd`, closed by
   * {@link ShimIpcp.fastRemove} (called when a flow of this IPCP ends).
   */
  fastInstall(spec: FastRxSpec): Promise<void> {
    return this.fast.install(spec);
  }

  /** Counters of a flow's fast receive path, if it has one. */
  fastCounters(flowId: number): FastRxCounters | undefined {
    return this.fast.counters(flowId);
  }

  /** Stop the fast receive path of flow `flowId` (if any) and close its device fd. */
  fastRemove(flowId: number): void {
    this.fast.remove(flowId);
  }

  /**
   * Stop the packet I/O with `close` (its Worker stops writing to devices
   * there), and only then close the fast flows' device fds.
   */
  protected async stopIo(close: () => Promise<void>): Promise<void> {
    const fds = this.fast.takeAll();
    try {
      await close();
    } finally {
      for (const fd of fds) libc().close(fd);
    }
  }

  /** Refused: shims only bootstrap. */
  enroll(): Promise<LayerInfo> {
    return Promise.reject(
      new OuroError(Errno.ENOTSUP, `Cannot enroll: ${this.type} IPCPs only bootstrap`),
    );
  }

  /** Refused: shims have no components. */
  connect(): Promise<void> {
    return Promise.reject(
      new OuroError(Errno.ENOTSUP, `Cannot connect: ${this.type} IPCPs have no components`),
    );
  }

  /** Refused, as {@link ShimIpcp.connect}. */
  disconnect(): Promise<void> {
    return this.connect();
  }

  /** Refused: not a broadcast layer. */
  flowJoin(): Promise<void> {
    return Promise.reject(new OuroError(Errno.ENOTSUP, "Cannot join: not a broadcast layer"));
  }
}
