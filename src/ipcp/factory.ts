/**
 * Creates IPCPs by type: the one place that knows every IPCP class.
 * @module
 */
import { Errno, OuroError } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";
import type { N1Flows } from "../irmd/n1.ts";
import { LocalIpcp } from "./local/local.ts";
import { UdpIpcp } from "./udp/udp.ts";
import { UnicastIpcp } from "./unicast/unicast.ts";
import { EthIpcp } from "./eth/eth.ts";
import { BroadcastIpcp } from "./broadcast/broadcast.ts";
import type { Ipcp, IpcpHost, IpcpTypeName } from "./types.ts";

/** What an IPCP gets from the daemon besides its host. */
export interface IpcpContext {
  host: IpcpHost;
  log: Logger;
  /** The IPCP's own use of lower layers (unicast, broadcast). */
  n1: N1Flows;
}

type Ctor = (id: number, name: string, ctx: IpcpContext) => Ipcp;

const TYPES: Partial<Record<IpcpTypeName, Ctor>> = {
  local: (id, name, ctx) => new LocalIpcp(id, name, ctx.host, ctx.log),
  unicast: (id, name, ctx) => new UnicastIpcp(id, name, ctx),
  broadcast: (id, name, ctx) => new BroadcastIpcp(id, name, ctx),
  udp4: (id, name, ctx) => new UdpIpcp(id, name, "udp4", ctx.host, ctx.log),
  udp6: (id, name, ctx) => new UdpIpcp(id, name, "udp6", ctx.host, ctx.log),
  "eth-dix": (id, name, ctx) => new EthIpcp(id, name, "eth-dix", ctx.host, ctx.log),
  "eth-llc": (id, name, ctx) => new EthIpcp(id, name, "eth-llc", ctx.host, ctx.log),
};

/** Register an IPCP type (called by each type's module). */
export function registerIpcpType(type: IpcpTypeName, ctor: Ctor): void {
  TYPES[type] = ctor;
}

/** Create an IPCP of `type`. */
export function createIpcp(type: IpcpTypeName, id: number, name: string, ctx: IpcpContext): Ipcp {
  const c = TYPES[type];
  if (!c) {
    throw new OuroError(Errno.EIPCPTYPE, `Cannot create IPCP ${name}: type ${type} is not available in this build yet`);
  }
  return c(id, name, ctx);
}
