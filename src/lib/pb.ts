/**
 * A small proto2 wire-format reader and writer (no code generation).
 *
 * The reference encodes its control messages with protobuf-c; a port must
 * produce byte-identical encodings (spec 10, conventions): fields in
 * ascending field-number order, required fields always present, optional
 * fields only when set, repeated scalars unpacked, negative `int32`/`int64`
 * as 10-byte sign-extended varints, `sint32`/`sint64` zig-zag. The message
 * codecs build on {@link Writer} (ascending calls give ascending order) and
 * {@link Reader} (a cursor over the fields of one message).
 *
 * Decoding follows protobuf-c where it is lenient on purpose: fields may come
 * in any order, a repeated scalar may be packed or unpacked, unknown fields of
 * any valid wire type are skipped, a varint for a 32-bit field keeps its low
 * 32 bits. A non-repeated field given twice: the codecs keep the last one
 * (protobuf-c would merge two copies of a sub-message; no sender emits
 * duplicates). Unknown fields are dropped, not re-emitted. Everything else
 * that is malformed throws {@link DecodeError}: truncated or over-long varints,
 * lengths past the end, wire types 3, 4, 6, 7, field number 0, a known field
 * with the wrong wire type, nesting deeper than `maxDepth`, input longer than
 * `maxBytes`, strings that are not UTF-8, and missing required fields (via
 * {@link required}).
 *
 * @example
 * ```ts
 * import { Reader, Writer, required } from "./pb.ts";
 * const bytes = new Writer().uint32(1, 150).string(2, "hi").finish(); // 08 96 01 12 02 68 69
 * const r = new Reader(bytes, { maxBytes: 64 });
 * let a: number | undefined, b: string | undefined;
 * while (r.next()) {
 *   if (r.field === 1) a = r.uint32();
 *   else if (r.field === 2) b = r.string();
 *   else r.skip();
 * }
 * console.log(required(a, "demo", "a"), required(b, "demo", "b")); // 150 hi
 * ```
 * @module
 */
import { DecodeError } from "./errors.ts";

/** Wire types of the protobuf encoding. */
export const WireType = {
  VARINT: 0,
  I64: 1,
  LEN: 2,
  SGROUP: 3,
  EGROUP: 4,
  I32: 5,
} as const;

/** Default limit on nested sub-messages a {@link Reader} follows. */
export const PB_MAX_DEPTH = 16;
/** Default limit on the size of a message handed to a {@link Reader}. */
export const PB_MAX_BYTES = 65536;
/** Largest field number protobuf allows (2^29 − 1). */
export const PB_MAX_FIELD = 0x1fffffff;

/** Options of a {@link Reader}. */
export interface ReaderOptions {
  /** Reject input longer than this many bytes (default {@link PB_MAX_BYTES}). */
  maxBytes?: number;
  /** Reject sub-messages nested deeper than this (default {@link PB_MAX_DEPTH}). */
  maxDepth?: number;
}

/** Scalar kinds a {@link Reader} can read as a (possibly packed) repeated field. */
export type NumberKind =
  | "uint32"
  | "int32"
  | "sint32"
  | "bool"
  | "fixed32"
  | "sfixed32"
  | "float"
  | "double";
/** 64-bit scalar kinds, read as bigint. */
export type BigKind = "uint64" | "int64" | "sint64" | "fixed64" | "sfixed64";

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const utf8enc = new TextEncoder();
const TWO32 = 0x100000000;

/**
 * A cursor over the fields of one message. Call {@link Reader.next} until it
 * returns false; after each call, `field` and `wireType` describe the current
 * field, and exactly one value accessor (or {@link Reader.skip}) must consume
 * its value.
 */
export class Reader {
  /** Field number of the current field. */
  field = 0;
  /** Wire type of the current field. */
  wireType = 0;
  #pos = 0;
  readonly #end: number;
  readonly #buf: Uint8Array;
  readonly #depth: number;
  readonly #maxDepth: number;
  readonly #dv: DataView;

  /** Start reading `buf`; throws DecodeError if it exceeds `opts.maxBytes`. */
  constructor(buf: Uint8Array, opts: ReaderOptions = {}, depth = 0) {
    const max = opts.maxBytes ?? PB_MAX_BYTES;
    if (buf.length > max) {
      throw new DecodeError("pb-too-big", `Cannot decode message: ${buf.length} bytes > ${max}`);
    }
    this.#buf = buf;
    this.#end = buf.length;
    this.#depth = depth;
    this.#maxDepth = opts.maxDepth ?? PB_MAX_DEPTH;
    this.#dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** Advance to the next field. Returns false at the end of the message. */
  next(): boolean {
    if (this.#pos >= this.#end) return false;
    const start = this.#pos;
    const key = this.#rawVarint32(5);
    if (key === undefined) throw new DecodeError("pb-bad-tag", `Cannot decode tag at ${start}`);
    const wt = key & 7;
    const field = Math.floor(key / 8);
    if (field === 0) throw new DecodeError("pb-field-zero", "Cannot decode field number 0");
    if (wt === 3 || wt === 4 || wt > 5) {
      throw new DecodeError("pb-wire-type", `Cannot decode wire type ${wt} (field ${field})`);
    }
    this.field = field;
    this.wireType = wt;
    return true;
  }

  /** Skip the value of the current field (unknown fields). */
  skip(): void {
    switch (this.wireType) {
      case WireType.VARINT:
        this.#varintParts();
        return;
      case WireType.I64:
        this.#take(8);
        return;
      case WireType.I32:
        this.#take(4);
        return;
      default:
        this.#lenBytes();
    }
  }

  /** `uint32` (low 32 bits of the varint, as protobuf-c keeps them). */
  uint32(): number {
    this.#expect(WireType.VARINT);
    return this.#varintParts()[0];
  }
  /** `int32` (low 32 bits, signed). */
  int32(): number {
    this.#expect(WireType.VARINT);
    return this.#varintParts()[0] | 0;
  }
  /** `sint32` (zig-zag). */
  sint32(): number {
    this.#expect(WireType.VARINT);
    const v = this.#varintParts()[0];
    return (v >>> 1) ^ -(v & 1);
  }
  /** `bool` (any non-zero varint is true). */
  bool(): boolean {
    this.#expect(WireType.VARINT);
    const [lo, hi] = this.#varintParts();
    return lo !== 0 || hi !== 0;
  }
  /** `uint64` as bigint. */
  uint64(): bigint {
    this.#expect(WireType.VARINT);
    const [lo, hi] = this.#varintParts();
    return (BigInt(hi) << 32n) | BigInt(lo);
  }
  /** `int64` as bigint. */
  int64(): bigint {
    return BigInt.asIntN(64, this.uint64());
  }
  /** `sint64` (zig-zag) as bigint. */
  sint64(): bigint {
    const v = this.uint64();
    return (v >> 1n) ^ -(v & 1n);
  }
  /** `fixed32`. */
  fixed32(): number {
    this.#expect(WireType.I32);
    return this.#dv.getUint32(this.#take(4), true);
  }
  /** `sfixed32`. */
  sfixed32(): number {
    this.#expect(WireType.I32);
    return this.#dv.getInt32(this.#take(4), true);
  }
  /** `float`. */
  float(): number {
    this.#expect(WireType.I32);
    return this.#dv.getFloat32(this.#take(4), true);
  }
  /** `fixed64` as bigint. */
  fixed64(): bigint {
    this.#expect(WireType.I64);
    return this.#dv.getBigUint64(this.#take(8), true);
  }
  /** `sfixed64` as bigint. */
  sfixed64(): bigint {
    this.#expect(WireType.I64);
    return this.#dv.getBigInt64(this.#take(8), true);
  }
  /** `double`. */
  double(): number {
    this.#expect(WireType.I64);
    return this.#dv.getFloat64(this.#take(8), true);
  }
  /** `bytes` (a copy, so it outlives the input buffer). */
  bytes(): Uint8Array {
    this.#expect(WireType.LEN);
    return this.#lenBytes().slice();
  }
  /** `string`, which must be valid UTF-8. */
  string(): string {
    this.#expect(WireType.LEN);
    try {
      return utf8.decode(this.#lenBytes());
    } catch {
      throw new DecodeError("pb-bad-utf8", `Cannot decode field ${this.field}: not UTF-8`);
    }
  }
  /** A sub-message: a new Reader over its bytes, one level deeper. */
  message(): Reader {
    this.#expect(WireType.LEN);
    if (this.#depth + 1 > this.#maxDepth) {
      throw new DecodeError("pb-too-deep", `Cannot decode: nesting deeper than ${this.#maxDepth}`);
    }
    return new Reader(
      this.#lenBytes(),
      { maxBytes: Infinity, maxDepth: this.#maxDepth },
      this.#depth + 1,
    );
  }

  /**
   * Append the value(s) of a repeated 32-bit-or-smaller scalar field to
   * `out`, accepting both the unpacked and the packed encoding.
   */
  repeated(kind: NumberKind, out: number[]): void {
    if (this.wireType !== WireType.LEN) {
      out.push(this.#scalar(kind));
      return;
    }
    const sub = this.#packedReader(kind);
    while (sub.#pos < sub.#end) out.push(sub.#scalar(kind));
  }

  /** As {@link Reader.repeated}, for 64-bit kinds (bigint values). */
  repeatedBig(kind: BigKind, out: bigint[]): void {
    if (this.wireType !== WireType.LEN) {
      out.push(this.#bigScalar(kind));
      return;
    }
    const sub = this.#packedReader(kind);
    while (sub.#pos < sub.#end) out.push(sub.#bigScalar(kind));
  }

  #packedReader(kind: NumberKind | BigKind): Reader {
    const sub = new Reader(this.#lenBytes(), { maxBytes: Infinity }, this.#depth);
    sub.field = this.field;
    sub.wireType = PACKED_WT[kind];
    return sub;
  }

  #scalar(kind: NumberKind): number {
    switch (kind) {
      case "uint32":
        return this.uint32();
      case "int32":
        return this.int32();
      case "sint32":
        return this.sint32();
      case "bool":
        return this.bool() ? 1 : 0;
      case "fixed32":
        return this.fixed32();
      case "sfixed32":
        return this.sfixed32();
      case "float":
        return this.float();
      default:
        return this.double();
    }
  }

  #bigScalar(kind: BigKind): bigint {
    switch (kind) {
      case "uint64":
        return this.uint64();
      case "int64":
        return this.int64();
      case "sint64":
        return this.sint64();
      case "fixed64":
        return this.fixed64();
      default:
        return this.sfixed64();
    }
  }

  #expect(wt: number): void {
    if (this.wireType !== wt) {
      throw new DecodeError(
        "pb-wire-type",
        `Cannot decode field ${this.field}: wire type ${this.wireType}, expected ${wt}`,
      );
    }
  }

  /** Advance over n bytes; returns their start offset. */
  #take(n: number): number {
    const p = this.#pos;
    if (n > this.#end - p) {
      throw new DecodeError("pb-truncated", `Cannot decode field ${this.field}: truncated`);
    }
    this.#pos = p + n;
    return p;
  }

  #lenBytes(): Uint8Array {
    const [lo, hi] = this.#varintParts();
    if (hi !== 0 || lo > this.#end - this.#pos) {
      throw new DecodeError("pb-length", `Cannot decode field ${this.field}: length past end`);
    }
    const p = this.#pos;
    this.#pos += lo;
    return this.#buf.subarray(p, p + lo);
  }

  /** A varint of at most `maxLen` bytes that fits 32 bits, or undefined. */
  #rawVarint32(maxLen: number): number | undefined {
    let v = 0, mul = 1;
    for (let i = 0; i < maxLen; i++) {
      if (this.#pos >= this.#end) return undefined;
      const b = this.#buf[this.#pos++]!;
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v < TWO32 ? v : undefined;
      mul *= 128;
    }
    return undefined;
  }

  /** A varint (≤ 10 bytes) as [low 32 bits, high 32 bits], both unsigned. */
  #varintParts(): [number, number] {
    let lo = 0, hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.#pos >= this.#end) {
        throw new DecodeError(
          "pb-truncated",
          `Cannot decode field ${this.field}: truncated varint`,
        );
      }
      const b = this.#buf[this.#pos++]!;
      const bits = b & 0x7f;
      if (i < 4) lo |= bits << (7 * i);
      else if (i === 4) {
        lo |= bits << 28;
        hi = bits >>> 4;
      } else hi |= bits << (7 * i - 32);
      if (b < 0x80) return [lo >>> 0, hi >>> 0];
    }
    throw new DecodeError("pb-varint", `Cannot decode field ${this.field}: varint over 10 bytes`);
  }
}

const PACKED_WT: Record<NumberKind | BigKind, number> = {
  uint32: 0,
  int32: 0,
  sint32: 0,
  bool: 0,
  uint64: 0,
  int64: 0,
  sint64: 0,
  fixed32: 5,
  sfixed32: 5,
  float: 5,
  fixed64: 1,
  sfixed64: 1,
  double: 1,
};

/**
 * Return `v`, or throw a DecodeError naming the missing required field.
 *
 * @example
 * ```ts
 * import { required } from "./pb.ts";
 * const id: Uint8Array | undefined = undefined;
 * try { required(id, "enroll_req_msg", "id"); } catch (e) { console.log((e as Error).message); }
 * ```
 */
export function required<T>(v: T | undefined, msg: string, field: string): T {
  if (v === undefined) {
    throw new DecodeError("pb-missing", `Cannot decode ${msg}: required field ${field} missing`);
  }
  return v;
}

/**
 * Builds one message. Call the field methods in ascending field-number order
 * (as protobuf-c emits them), then {@link Writer.finish}. Values out of range
 * for their type are programming errors and throw RangeError.
 */
export class Writer {
  #buf: Uint8Array<ArrayBuffer> = new Uint8Array(64);
  #len = 0;

  /** `uint32` field. */
  uint32(field: number, v: number): this {
    checkInt(v, 0, 0xffffffff, "uint32");
    this.#tag(field, WireType.VARINT);
    this.#varint32(v);
    return this;
  }
  /** `int32` field (negative values take 10 bytes). */
  int32(field: number, v: number): this {
    checkInt(v, -0x80000000, 0x7fffffff, "int32");
    this.#tag(field, WireType.VARINT);
    if (v >= 0) this.#varint32(v);
    else this.#varint64(BigInt.asUintN(64, BigInt(v)));
    return this;
  }
  /** `sint32` field (zig-zag). */
  sint32(field: number, v: number): this {
    checkInt(v, -0x80000000, 0x7fffffff, "sint32");
    this.#tag(field, WireType.VARINT);
    this.#varint32(((v << 1) ^ (v >> 31)) >>> 0);
    return this;
  }
  /** `bool` field. */
  bool(field: number, v: boolean): this {
    this.#tag(field, WireType.VARINT);
    this.#byte(v ? 1 : 0);
    return this;
  }
  /** `uint64` field. */
  uint64(field: number, v: bigint): this {
    checkBig(v, 0n, 0xffffffffffffffffn, "uint64");
    this.#tag(field, WireType.VARINT);
    this.#varint64(v);
    return this;
  }
  /** `int64` field. */
  int64(field: number, v: bigint): this {
    checkBig(v, -(1n << 63n), (1n << 63n) - 1n, "int64");
    this.#tag(field, WireType.VARINT);
    this.#varint64(BigInt.asUintN(64, v));
    return this;
  }
  /** `sint64` field (zig-zag). */
  sint64(field: number, v: bigint): this {
    checkBig(v, -(1n << 63n), (1n << 63n) - 1n, "sint64");
    this.#tag(field, WireType.VARINT);
    this.#varint64(BigInt.asUintN(64, (v << 1n) ^ (v >> 63n)));
    return this;
  }
  /** `fixed32` field. */
  fixed32(field: number, v: number): this {
    checkInt(v, 0, 0xffffffff, "fixed32");
    this.#tag(field, WireType.I32);
    new DataView(this.#reserve(4).buffer).setUint32(this.#len - 4, v, true);
    return this;
  }
  /** `sfixed32` field. */
  sfixed32(field: number, v: number): this {
    checkInt(v, -0x80000000, 0x7fffffff, "sfixed32");
    this.#tag(field, WireType.I32);
    new DataView(this.#reserve(4).buffer).setInt32(this.#len - 4, v, true);
    return this;
  }
  /** `float` field. */
  float(field: number, v: number): this {
    this.#tag(field, WireType.I32);
    new DataView(this.#reserve(4).buffer).setFloat32(this.#len - 4, v, true);
    return this;
  }
  /** `fixed64` field. */
  fixed64(field: number, v: bigint): this {
    checkBig(v, 0n, 0xffffffffffffffffn, "fixed64");
    this.#tag(field, WireType.I64);
    new DataView(this.#reserve(8).buffer).setBigUint64(this.#len - 8, v, true);
    return this;
  }
  /** `sfixed64` field. */
  sfixed64(field: number, v: bigint): this {
    checkBig(v, -(1n << 63n), (1n << 63n) - 1n, "sfixed64");
    this.#tag(field, WireType.I64);
    new DataView(this.#reserve(8).buffer).setBigInt64(this.#len - 8, v, true);
    return this;
  }
  /** `double` field. */
  double(field: number, v: number): this {
    this.#tag(field, WireType.I64);
    new DataView(this.#reserve(8).buffer).setFloat64(this.#len - 8, v, true);
    return this;
  }
  /** `bytes` field (also used for an already-encoded sub-message). */
  bytes(field: number, v: Uint8Array): this {
    this.#tag(field, WireType.LEN);
    this.#varint32(v.length);
    this.#reserve(v.length).set(v, this.#len - v.length);
    return this;
  }
  /** `string` field (UTF-8). */
  string(field: number, v: string): this {
    return this.bytes(field, utf8enc.encode(v));
  }
  /** Sub-message field: `build` fills a fresh Writer for the sub-message. */
  message(field: number, build: (w: Writer) => void): this {
    const w = new Writer();
    build(w);
    return this.bytes(field, w.finish());
  }
  /** The encoded message (a copy of the used part of the buffer). */
  finish(): Uint8Array<ArrayBuffer> {
    return this.#buf.slice(0, this.#len);
  }

  #tag(field: number, wt: number): void {
    checkInt(field, 1, PB_MAX_FIELD, "field number");
    this.#varint32(field * 8 + wt);
  }
  #byte(b: number): void {
    this.#reserve(1)[this.#len - 1] = b;
  }
  #varint32(v: number): void {
    while (v >= 0x80) {
      this.#byte((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    this.#byte(v);
  }
  #varint64(v: bigint): void {
    if (v < 0x100000000n) return this.#varint32(Number(v));
    while (v >= 0x80n) {
      this.#byte(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.#byte(Number(v));
  }
  /** Make room for n more bytes, advance len, return the buffer. */
  #reserve(n: number): Uint8Array<ArrayBuffer> {
    if (this.#len + n > this.#buf.length) {
      const nb = new Uint8Array(Math.max(this.#buf.length * 2, this.#len + n));
      nb.set(this.#buf.subarray(0, this.#len));
      this.#buf = nb;
    }
    this.#len += n;
    return this.#buf;
  }
}

function checkInt(v: number, lo: number, hi: number, what: string): void {
  if (!Number.isInteger(v) || v < lo || v > hi) {
    throw new RangeError(`Cannot encode ${what}: ${v} out of range [${lo}, ${hi}]`);
  }
}

function checkBig(v: bigint, lo: bigint, hi: bigint, what: string): void {
  if (typeof v !== "bigint" || v < lo || v > hi) {
    throw new RangeError(`Cannot encode ${what}: ${v} out of range`);
  }
}
