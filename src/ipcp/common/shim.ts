/**
 * What every shim IPCP (udp4/udp6, eth-llc/eth-dix) refuses the same way:
 * a shim only bootstraps (no enrollment), has no components to connect,
 * and is not a broadcast layer.
 * @module
 */
import { Errno, OuroError } from "../../lib/errors.ts";
import type { LayerInfo } from "../types.ts";

/** Base of the shim IPCPs: the operations they refuse. */
export abstract class ShimIpcp {
  /** The IPCP type, as named in the refusals. */
  abstract readonly type: string;

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
