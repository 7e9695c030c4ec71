/**
 * The control-socket protocol between processes and the IRMd.
 *
 * One UNIX stream connection per process carries framed messages:
 *
 * | offset | size | field |
 * |---|---|---|
 * | 0 | 4 | length of the rest (u32 LE), 1 … {@link MAX_FRAME} |
 * | 4 | 1 | kind ({@link FrameKind}) |
 * | 5 | … | body |
 *
 * Bodies: REQ/REP = u32 LE request id + UTF-8 JSON object; EVT = JSON object;
 * DATA = u32 LE flow id + one SDU. JSON keeps the control plane readable and
 * strict to validate; the data plane stays binary.
 * @module
 */
import { DecodeError } from "./errors.ts";

/** Frame kinds. */
export const FrameKind = { REQ: 1, REP: 2, EVT: 3, DATA: 4 } as const;
export type FrameKind = typeof FrameKind[keyof typeof FrameKind];

/** Largest SDU carried on the control socket. */
export const MAX_SDU = 1 << 20;
/** Per-packet headroom for FRCT, IV, tag and CRC (the reference reserves 256 B too). */
export const PACKET_HEADROOM = 256;
/** Largest frame body (kind + header + SDU + headroom). */
export const MAX_FRAME = MAX_SDU + PACKET_HEADROOM + 16;
/** Largest JSON control message. */
export const MAX_JSON = 64 * 1024;

/** A decoded frame. `data` is a view into the decoder's buffer: copy to keep. */
export type Frame =
  | { kind: 1 | 2; id: number; msg: Record<string, unknown> }
  | { kind: 3; msg: Record<string, unknown> }
  | { kind: 4; flowId: number; data: Uint8Array };

const te = new TextEncoder();
const td = new TextDecoder("utf-8", { fatal: true });

function header(buf: Uint8Array, off: number, len: number, kind: number): void {
  buf[off] = len & 0xff;
  buf[off + 1] = (len >>> 8) & 0xff;
  buf[off + 2] = (len >>> 16) & 0xff;
  buf[off + 3] = (len >>> 24) & 0xff;
  buf[off + 4] = kind;
}

function putU32(buf: Uint8Array, off: number, v: number): void {
  buf[off] = v & 0xff;
  buf[off + 1] = (v >>> 8) & 0xff;
  buf[off + 2] = (v >>> 16) & 0xff;
  buf[off + 3] = (v >>> 24) & 0xff;
}

function getU32(buf: Uint8Array, off: number): number {
  return (buf[off]! | (buf[off + 1]! << 8) | (buf[off + 2]! << 16) | (buf[off + 3]! << 24)) >>> 0;
}

/** Encode a JSON frame (REQ/REP with an id, or EVT). */
export function encodeJson(kind: FrameKind, msg: unknown, id = 0): Uint8Array {
  const body = te.encode(JSON.stringify(msg, (_k, v) => typeof v === "bigint" ? v.toString() : v));
  if (body.length > MAX_JSON) throw new RangeError("control message too large");
  const hasId = kind !== FrameKind.EVT;
  const len = 1 + (hasId ? 4 : 0) + body.length;
  const out = new Uint8Array(4 + len);
  header(out, 0, len, kind);
  let off = 5;
  if (hasId) (putU32(out, 5, id), off = 9);
  out.set(body, off);
  return out;
}

/** Size on the wire of a DATA frame carrying `n` bytes. */
export function dataFrameSize(n: number): number {
  return 9 + n;
}

/** Write a DATA frame for `sdu` into `buf` at `off`; returns the new offset. */
export function putData(buf: Uint8Array, off: number, flowId: number, sdu: Uint8Array): number {
  header(buf, off, 5 + sdu.length, FrameKind.DATA);
  putU32(buf, off + 5, flowId);
  buf.set(sdu, off + 9);
  return off + 9 + sdu.length;
}

/** Encode one DATA frame. */
export function encodeData(flowId: number, sdu: Uint8Array): Uint8Array {
  if (sdu.length > MAX_SDU + PACKET_HEADROOM) throw new RangeError("SDU too large");
  const out = new Uint8Array(9 + sdu.length);
  putData(out, 0, flowId, sdu);
  return out;
}

/** Decode one frame body (without the 4-byte length). */
export function decodeFrameBody(body: Uint8Array): Frame {
  if (body.length < 1) throw new DecodeError("empty", "empty frame");
  const kind = body[0]!;
  switch (kind) {
    case FrameKind.DATA:
      if (body.length < 5) throw new DecodeError("truncated", "truncated DATA frame");
      return { kind, flowId: getU32(body, 1), data: body.subarray(5) };
    case FrameKind.REQ:
    case FrameKind.REP: {
      if (body.length < 5) throw new DecodeError("truncated", "truncated control frame");
      return { kind, id: getU32(body, 1), msg: parseJson(body.subarray(5)) };
    }
    case FrameKind.EVT:
      return { kind, msg: parseJson(body.subarray(1)) };
    default:
      throw new DecodeError("kind", `unknown frame kind ${kind}`);
  }
}

function parseJson(b: Uint8Array): Record<string, unknown> {
  if (b.length > MAX_JSON) throw new DecodeError("oversized", "control message too large");
  let v: unknown;
  try {
    v = JSON.parse(td.decode(b));
  } catch {
    throw new DecodeError("json", "malformed control message");
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new DecodeError("json", "control message is not an object");
  }
  return v as Record<string, unknown>;
}

/**
 * Incremental stream decoder: push chunks, take frames. A bad length makes
 * the stream unusable (`FrameStream.fatal`); a bad body is reported per frame
 * and skipped.
 */
export class FrameStream {
  #buf = new Uint8Array(256 * 1024);
  #start = 0;
  #end = 0;
  /** Set when the stream lost framing (oversized or zero length). */
  fatal: DecodeError | undefined;

  /** Append bytes read from the socket. */
  push(chunk: Uint8Array): void {
    if (this.#end + chunk.length > this.#buf.length) {
      const live = this.#end - this.#start;
      const need = live + chunk.length;
      if (need <= this.#buf.length && this.#start > 0) {
        this.#buf.copyWithin(0, this.#start, this.#end);
      } else {
        let size = this.#buf.length;
        while (size < need) size *= 2;
        const nb = new Uint8Array(size);
        nb.set(this.#buf.subarray(this.#start, this.#end));
        this.#buf = nb;
      }
      this.#start = 0;
      this.#end = live;
    }
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  /**
   * Next frame, `undefined` when more bytes are needed. Throws DecodeError
   * for a malformed frame body (the frame is consumed) and sets `fatal` (and
   * throws) when the length prefix is out of range.
   */
  next(): Frame | undefined {
    if (this.fatal) throw this.fatal;
    const avail = this.#end - this.#start;
    if (avail < 4) return undefined;
    const len = getU32(this.#buf, this.#start);
    if (len < 1 || len > MAX_FRAME) {
      this.fatal = new DecodeError("length", `frame length ${len} out of range`);
      throw this.fatal;
    }
    if (avail < 4 + len) return undefined;
    const body = this.#buf.subarray(this.#start + 4, this.#start + 4 + len);
    this.#start += 4 + len;
    if (this.#start === this.#end) this.#start = this.#end = 0;
    return decodeFrameBody(body);
  }
}
