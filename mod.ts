/**
 * ouro — the Ouroboros flow API for TypeScript applications.
 *
 * Processes reach each other by name over flows with a chosen QoS:
 *
 * ```ts
 * import { bind, flowAccept, flowAlloc, qosData } from "./mod.ts";
 * // server
 * await bind("echo", { layer: "local" });
 * const f = await flowAccept();
 * // client (another process)
 * const c = await flowAlloc("echo", { qos: qosData });
 * await c.write(new TextEncoder().encode("hi"));
 * ```
 *
 * The IRMd is found through `$OURO_RUNDIR` (default `/run/ouro`), or give
 * `rundir` to {@link Ouro.connect}.
 * @module
 */
export { bind, defaultOuro, disconnect, flowAccept, flowAlloc, flowJoin, Ouro } from "./src/client/api.ts";
export type { AcceptOptions, AllocOptions } from "./src/client/api.ts";
export type { ConnectOptions, IrmClient } from "./src/client/client.ts";
export { Flow, RX_QUEUE_PACKETS } from "./src/client/flow.ts";
export type { FlowEventType, FlowOptions, FlowStats, ReadOptions, WriteOptions } from "./src/client/flow.ts";
export type { FrctStats } from "./src/frct/types.ts";
export { FlowSet } from "./src/client/fset.ts";
export type { FlowSetEvent } from "./src/client/fset.ts";
export {
  QOS_PRESETS,
  qosBestEffort,
  qosByName,
  QosCube,
  qosCube,
  qosData,
  qosRaw,
  qosRawNoErrors,
  qosVideo,
  qosVoice,
} from "./src/lib/qos.ts";
export type { QosSpec } from "./src/lib/qos.ts";
export { Errno, errnoName, isErrno, OuroError } from "./src/lib/errors.ts";
export type { ErrnoName } from "./src/lib/errors.ts";
