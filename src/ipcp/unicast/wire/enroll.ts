/**
 * Enrollment protocol (OEP) messages (`enroll.proto`, spec 10 §4): request,
 * response (carrying the layer's `ipcp_config_msg`) and acknowledgement.
 *
 * @example
 * ```ts
 * import { decodeEnrollReq, encodeEnrollReq } from "./enroll.ts";
 * const id = crypto.getRandomValues(new Uint8Array(8));
 * console.log(decodeEnrollReq(encodeEnrollReq({ id })).id.length); // 8
 * ```
 * @module
 */
import { DecodeError } from "../../../lib/errors.ts";
import { Reader, type ReaderOptions, required, Writer } from "../../../lib/pb.ts";
import { type IpcpConfig, readIpcpConfig, writeIpcpConfig } from "./config.ts";

/** Length of the enrollment id chosen by the enrollee. */
export const ENROLL_ID_LEN = 8;
/** Enrollment messages are read into buffers of this size; larger ones fail. */
export const ENROLL_MAX_BYTES = 1024;

/** `enroll_req_msg`. */
export interface EnrollReq {
  /** {@link ENROLL_ID_LEN} random bytes. */
  id: Uint8Array;
}

/** `enroll_resp_msg`. */
export interface EnrollResp {
  /** Echo of the request id. */
  id: Uint8Array;
  /** Enroller's CLOCK_REALTIME seconds (int64 on the wire; exact up to 2^53). */
  tSec: number;
  /** Enroller's CLOCK_REALTIME nanoseconds. */
  tNsec: number;
  /** 0 = accepted; the reference never sends anything else. */
  response: number;
  /** The layer configuration; present iff `response ≥ 0`. */
  conf?: IpcpConfig;
}

/** `enroll_ack_msg`. */
export interface EnrollAck {
  /** Echo of the request id (a mismatch is only a warning; any length decodes). */
  id: Uint8Array;
  /** 0 = success. */
  result: number;
}

function checkId(id: Uint8Array, msg: string): Uint8Array {
  if (id.length !== ENROLL_ID_LEN) {
    throw new DecodeError("enroll-id-len", `Cannot decode ${msg}: id is ${id.length} bytes, not 8`);
  }
  return id;
}

function reader(b: Uint8Array, opts: ReaderOptions): Reader {
  return new Reader(b, { maxBytes: ENROLL_MAX_BYTES, ...opts });
}

/** Encode an `enroll_req_msg`. */
export function encodeEnrollReq(m: EnrollReq): Uint8Array {
  return new Writer().bytes(1, m.id).finish();
}

/** Decode an `enroll_req_msg`; the id must be exactly 8 bytes. Throws DecodeError. */
export function decodeEnrollReq(b: Uint8Array, opts: ReaderOptions = {}): EnrollReq {
  const r = reader(b, opts);
  let id: Uint8Array | undefined;
  while (r.next()) {
    if (r.field === 1) id = r.bytes();
    else r.skip();
  }
  return { id: checkId(required(id, "enroll_req_msg", "id"), "enroll_req_msg") };
}

/** Encode an `enroll_resp_msg`. */
export function encodeEnrollResp(m: EnrollResp): Uint8Array {
  if (m.response >= 0 && !m.conf) {
    throw new RangeError("Cannot encode enroll_resp_msg: response >= 0 needs conf");
  }
  const w = new Writer().bytes(1, m.id).int64(2, BigInt(m.tSec)).int32(3, m.tNsec).int32(
    4,
    m.response,
  );
  if (m.conf) w.message(5, (s) => writeIpcpConfig(s, m.conf!));
  return w.finish();
}

/**
 * Decode an `enroll_resp_msg`. Throws DecodeError on malformed input, an id
 * that is not 8 bytes, or a missing `conf` when `response ≥ 0`.
 */
export function decodeEnrollResp(b: Uint8Array, opts: ReaderOptions = {}): EnrollResp {
  const r = reader(b, opts);
  let id: Uint8Array | undefined, tSec: bigint | undefined, tNsec: number | undefined;
  let resp: number | undefined, conf: IpcpConfig | undefined;
  while (r.next()) {
    switch (r.field) {
      case 1:
        id = r.bytes();
        break;
      case 2:
        tSec = r.int64();
        break;
      case 3:
        tNsec = r.int32();
        break;
      case 4:
        resp = r.int32();
        break;
      case 5:
        conf = readIpcpConfig(r.message());
        break;
      default:
        r.skip();
    }
  }
  const M = "enroll_resp_msg";
  const m: EnrollResp = {
    id: checkId(required(id, M, "id"), M),
    tSec: Number(required(tSec, M, "t_sec")),
    tNsec: required(tNsec, M, "t_nsec"),
    response: required(resp, M, "response"),
  };
  if (conf) m.conf = conf;
  else if (m.response >= 0) required(conf, M, "conf");
  return m;
}

/** Encode an `enroll_ack_msg`. */
export function encodeEnrollAck(m: EnrollAck): Uint8Array {
  return new Writer().bytes(1, m.id).int32(2, m.result).finish();
}

/** Decode an `enroll_ack_msg`; throws DecodeError. */
export function decodeEnrollAck(b: Uint8Array, opts: ReaderOptions = {}): EnrollAck {
  const r = reader(b, opts);
  let id: Uint8Array | undefined, result: number | undefined;
  while (r.next()) {
    if (r.field === 1) id = r.bytes();
    else if (r.field === 2) result = r.int32();
    else r.skip();
  }
  return {
    id: required(id, "enroll_ack_msg", "id"),
    result: required(result, "enroll_ack_msg", "result"),
  };
}
