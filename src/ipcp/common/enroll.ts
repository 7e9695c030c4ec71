/**
 * Enrollment (OEP, spec 10 §4): a new member asks a member of the layer for
 * the layer's configuration over a flow to the "Enrollment" component.
 *
 * Enrollee: {@link enrollRequest} allocates the flow (CEP exchange), sends
 * `enroll_req`, reads `enroll_resp` within the CEP receive timeout the
 * reference leaves on the flow, validates it and returns the config with a
 * `finish` that sends `enroll_ack` and releases the flow once the new
 * member's components run.
 *
 * Enroller: {@link Enroller} serves connections of the "Enrollment"
 * component one at a time: request → response with the stored config →
 * ack (logged) → release.
 *
 * @example
 * ```ts
 * import { enrollRequest } from "./enroll.ts";
 * declare const cm: import("./connmgr.ts").ConnMgr;
 * const e = await enrollRequest(cm, "net", 1);
 * // … initialize components from e.conf …
 * e.finish(0);
 * ```
 * @module
 */
import { DecodeError, Errno, OuroError } from "../../lib/errors.ts";
import { toHex } from "../../lib/hash.ts";
import { type Logger, logger } from "../../lib/log.ts";
import { qosRaw } from "../../lib/qos.ts";
import { type Cep, CepSyntax } from "../unicast/wire/cep.ts";
import type { IpcpConfig } from "../unicast/wire/config.ts";
import type { LayerInfo } from "../types.ts";
import {
  decodeEnrollAck,
  decodeEnrollReq,
  decodeEnrollResp,
  encodeEnrollAck,
  encodeEnrollReq,
  encodeEnrollResp,
  ENROLL_ID_LEN,
} from "../unicast/wire/enroll.ts";
import { type Conn, type ConnMgr, CONNMGR_RCV_TIMEOUT_MS } from "./connmgr.ts";

/** CEP of the enrollment component (both IPCP types). */
export const ENROLL_CEP: Readonly<Cep> = Object.freeze({
  compName: "Enrollment",
  protocol: "OEP",
  prefVersion: 1,
  prefSyntax: CepSyntax.GPB,
  address: 0n,
});

/** Enroller: how long to wait for the request and the ack (the reference waits forever). */
export const ENROLL_SERVE_TIMEOUT_MS = 10000;
/** Clock offsets above this (after subtracting the RTT) are warned about. */
export const ENROLL_CLOCK_WARN_MS = 20;
/** `result` of an ack that never came (logged by the enroller). */
export const ENROLL_NO_ACK = -100;

/** Wall-clock time as the reference sends it. */
export interface RealTime {
  sec: number;
  nsec: number;
}

/** Sources of time and randomness (injected by tests). */
export interface EnrollDeps {
  /** CLOCK_REALTIME. */
  now?: () => RealTime;
  /** The 8-byte enrollment id. */
  randomId?: () => Uint8Array;
  log?: Logger;
}

function realNow(): RealTime {
  const ms = Date.now();
  return { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1e6 };
}

function randomEnrollId(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(ENROLL_ID_LEN));
}

/** A validated enrollment response, waiting for the new member to start. */
export interface Enrollment {
  /** The layer configuration received. */
  conf: IpcpConfig;
  /** The request id (hex in logs). */
  id: Uint8Array;
  /** Send the ack with `result` and release the flow. */
  finish(result: number): void;
  /** Release the flow without an ack (enrollment failed locally). */
  abort(): void;
}

/**
 * Enrollee side: allocate a flow to `dst`'s "Enrollment" component and ask
 * for the configuration. `ipcpType` is the wire type the config must carry.
 * Throws OuroError on any failure; the flow is released then.
 */
export async function enrollRequest(
  cm: ConnMgr,
  dst: string,
  ipcpType: number,
  deps: EnrollDeps = {},
): Promise<Enrollment> {
  const log = deps.log ?? logger("enrollment");
  const now = deps.now ?? realNow;
  const conn: Conn = await cm.alloc("enroll", dst, qosRaw);
  const id = (deps.randomId ?? randomEnrollId)();
  const tag = `[${toHex(id)}]`;
  const fail = (msg: string, code: number = Errno.EIPCP): never => {
    conn.flow.close();
    throw new OuroError(code, `Cannot enroll with ${dst}: ${msg}`);
  };
  log.info(`${tag} Requesting enrollment.`);
  const t0 = performance.now();
  const tSend = now();
  conn.reader.write(encodeEnrollReq({ id }));
  let raw: Uint8Array;
  try {
    // the reference leaves the CEP receive timeout on the flow (spec 10 §3.3)
    raw = await conn.reader.read(CONNMGR_RCV_TIMEOUT_MS);
  } catch (e) {
    return fail(
      `no response (${(e as Error).message})`,
      e instanceof OuroError ? e.code : Errno.EIPCP,
    );
  }
  const rtt = performance.now() - t0;
  let resp;
  try {
    resp = decodeEnrollResp(raw);
  } catch (e) {
    return fail(`bad response (${(e as DecodeError).message})`);
  }
  if (toHex(resp.id) !== toHex(id)) return fail("response id does not match the request");
  if (resp.response < 0) return fail(`refused (${resp.response})`);
  if (!resp.conf) return fail("response carries no configuration");
  if (resp.conf.ipcpType !== ipcpType) {
    return fail(`layer is of type ${resp.conf.ipcpType}, not ${ipcpType}`, Errno.EIPCPTYPE);
  }
  const offMs = Math.abs((resp.tSec - tSend.sec) * 1000 + (resp.tNsec - tSend.nsec) / 1e6) - rtt;
  if (offMs > ENROLL_CLOCK_WARN_MS) {
    log.warn(`${tag} Clock offset with ${dst} is ${offMs.toFixed(0)} ms.`);
  }
  let done = false;
  return {
    conf: resp.conf,
    id,
    finish(result) {
      if (done) return;
      done = true;
      conn.reader.write(encodeEnrollAck({ id, result }));
      conn.flow.close();
      log.info(`${tag} Enrolled with ${dst}.`);
    },
    abort() {
      if (done) return;
      done = true;
      conn.flow.close();
    },
  };
}

/** Counters of the enroller. */
export interface EnrollerCounters {
  /** Enrollments completed with a 0 ack. */
  completed: number;
  /** Requests that did not decode or had a bad id (no response sent). */
  badRequests: number;
  /** No ack, an ack that did not decode, or a failure ack. */
  failed: number;
}

/** The enroller: answers enrollment connections one at a time. */
export class Enroller {
  readonly counters: EnrollerCounters = { completed: 0, badRequests: 0, failed: 0 };
  #chain: Promise<void> = Promise.resolve();
  readonly #log: Logger;
  readonly #now: () => RealTime;

  /** `conf` returns the configuration to hand out (the stored copy). */
  constructor(readonly conf: () => IpcpConfig, deps: EnrollDeps = {}) {
    this.#log = deps.log ?? logger("enrollment");
    this.#now = deps.now ?? realNow;
  }

  /** Queue an incoming enrollment connection. */
  serve(conn: Conn): Promise<void> {
    const p = this.#chain.then(() => this.#handle(conn));
    this.#chain = p.catch(() => {});
    return p;
  }

  async #handle(conn: Conn): Promise<void> {
    this.#log.info(`Incoming enrollment connection on flow ${conn.flow.id}.`);
    try {
      let req;
      try {
        req = decodeEnrollReq(await conn.reader.read(ENROLL_SERVE_TIMEOUT_MS));
      } catch (e) {
        if (e instanceof DecodeError) this.counters.badRequests++;
        else this.counters.failed++;
        this.#log.warn(`Enrollment on flow ${conn.flow.id} failed: ${(e as Error).message}`);
        return;
      }
      const tag = `[${toHex(req.id)}]`;
      this.#log.info(`${tag} Handling incoming enrollment.`);
      const t = this.#now();
      conn.reader.write(
        encodeEnrollResp({
          id: req.id,
          tSec: t.sec,
          tNsec: t.nsec,
          response: 0,
          conf: this.conf(),
        }),
      );
      let result = ENROLL_NO_ACK;
      try {
        const ack = decodeEnrollAck(await conn.reader.read(ENROLL_SERVE_TIMEOUT_MS));
        if (toHex(ack.id) !== toHex(req.id)) {
          this.#log.warn(`${tag} Enrollment ack id does not match.`);
        }
        result = ack.result;
      } catch { /* no or bad ack */ }
      if (result === 0) {
        this.counters.completed++;
        this.#log.info(`${tag} Enrollment completed.`);
      } else {
        this.counters.failed++;
        this.#log.warn(
          `${tag} Enrollment ${
            result === ENROLL_NO_ACK ? "failed" : "failed remotely"
          } (${result}).`,
        );
      }
    } finally {
      conn.flow.close();
    }
  }
}

/**
 * Enroll with `dst`, then bring the IPCP up with the configuration the
 * member sent: `bringUp` returns the layer joined, or throws, which aborts
 * the enrollment (the member learns it failed).
 */
export async function enrollAndBringUp(
  cm: ConnMgr,
  dst: string,
  ipcpType: number,
  deps: EnrollDeps,
  bringUp: (conf: Enrollment["conf"]) => LayerInfo,
): Promise<LayerInfo> {
  const e = await enrollRequest(cm, dst, ipcpType, deps);
  let layer: LayerInfo;
  try {
    layer = bringUp(e.conf);
  } catch (err) {
    e.abort();
    throw err;
  }
  e.finish(0);
  return layer;
}
