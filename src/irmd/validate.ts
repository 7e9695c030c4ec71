/**
 * Field checks for control requests: every violation is an EINVAL OuroError
 * naming the field, never a TypeError.
 * @module
 */
import { Errno, OuroError } from "../lib/errors.ts";
import type { FastPrefix } from "../io/fast_rx.ts";

type Msg = Record<string, unknown>;

export function str(m: Msg, k: string): string {
  const v = m[k];
  if (typeof v !== "string" || v.length === 0 || v.length > 4096) {
    throw new OuroError(Errno.EINVAL, `Bad request: "${k}" must be a non-empty string`);
  }
  return v;
}

export function optStr(m: Msg, k: string): string | undefined {
  return m[k] === undefined || m[k] === null ? undefined : str(m, k);
}

export function int(m: Msg, k: string, min = 0, max = 0xffffffff): number {
  const v = m[k];
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw new OuroError(Errno.EINVAL, `Bad request: "${k}" must be an integer in ${min}..${max}`);
  }
  return v;
}

export function optInt(m: Msg, k: string, min = 0, max = 0xffffffff): number | undefined {
  return m[k] === undefined || m[k] === null ? undefined : int(m, k, min, max);
}

export function strArray(m: Msg, k: string): string[] | undefined {
  const v = m[k];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.length > 256 || v.some((x) => typeof x !== "string")) {
    throw new OuroError(Errno.EINVAL, `Bad request: "${k}" must be a list of strings`);
  }
  return v as string[];
}

export function obj(m: Msg, k: string): Msg {
  const v = m[k];
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new OuroError(Errno.EINVAL, `Bad request: "${k}" must be an object`);
  }
  return v as Msg;
}

/** Source prefixes of a fast path: `[{ family: 4|6, network: bytes[], bits, other? }]`, at most 1024. */
export function prefixArray(m: Msg, k: string): FastPrefix[] {
  const v = m[k];
  const bad = (why: string) => new OuroError(Errno.EINVAL, `Bad request: ${k} ${why}`);
  if (!Array.isArray(v) || v.length > 1024) throw bad("must be an array of at most 1024 prefixes");
  return v.map((p: unknown, i) => {
    const o = (p ?? {}) as Msg;
    const family = o.family, bits = o.bits, net = o.network;
    if (family !== 4 && family !== 6) throw bad(`[${i}].family must be 4 or 6`);
    const len = family === 4 ? 4 : 16;
    if (!Array.isArray(net) || net.length !== len || !net.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) {
      throw bad(`[${i}].network must be ${len} bytes`);
    }
    if (!Number.isInteger(bits) || (bits as number) < 0 || (bits as number) > len * 8) {
      throw bad(`[${i}].bits must be 0..${len * 8}`);
    }
    return { family, network: net as number[], bits: bits as number, other: o.other === true };
  });
}
