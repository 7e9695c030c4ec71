/**
 * One connected process (an app, a tool, or `ouro irm`) as the IRMd sees it.
 * @module
 */
import { encodeJson, FrameKind } from "../lib/ctl.ts";
import type { FramedConn } from "../lib/framed.ts";
import type { FlowEvent, FlowOwner } from "./flows.ts";

/** A process connection; owns the flows it allocated or accepted. */
export class AppConn implements FlowOwner {
  pid = 0;
  prog = "";
  /** Announced (hello received). */
  ready = false;
  /** The random value this process must show in its memory to take a fast path (one use). */
  fastNonce: Uint8Array | undefined;
  /** In-flight accepts by request id, to cancel. */
  readonly accepts = new Map<number, AbortController>();
  conn!: FramedConn;

  constructor(readonly connId: number) {}

  deliver(flowId: number, sdu: Uint8Array): boolean {
    return this.conn.sendData(flowId, sdu);
  }

  backpressure(): Promise<void> | undefined {
    return this.conn.congested ? this.conn.drain() : undefined;
  }

  event(flowId: number, ev: FlowEvent): void {
    this.conn.send(encodeJson(FrameKind.EVT, { ev, flowId }));
  }

  reply(id: number, msg: Record<string, unknown>): void {
    this.conn.send(encodeJson(FrameKind.REP, msg, id));
  }
}
