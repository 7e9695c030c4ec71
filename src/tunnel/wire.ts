/**
 * What travels on a tunnel flow. Every SDU is one of:
 *
 * | first byte | meaning                                              |
 * |------------|------------------------------------------------------|
 * | `0x4_`     | an IPv4 packet, unchanged (as the reference's ovpn)  |
 * | `0x6_`     | an IPv6 packet, unchanged                            |
 * | `0x20`     | TAP mode: an Ethernet frame follows                  |
 * | `0x01`     | HELLO: version, flags, class, sender's name          |
 * | `0x02`     | WELCOME: version, acceptor's name (answers a HELLO)  |
 * | `0x03`     | REJECT: reason text (then the flow is closed)        |
 * | `0x04`     | PING: u32 id (keepalive and RTT probe)               |
 * | `0x05`     | PONG: u32 id (answers a PING)                        |
 *
 * HELLO layout: `01 ver flags classLen class… nameLen name…` (lengths one
 * byte, text UTF-8, flags bit 0 = TAP). WELCOME: `02 ver nameLen name…`.
 * REJECT: `03 len reason…`. PING/PONG: type then the id, big-endian.
 *
 * @example
 * ```ts
 * import { decodeControl, encodeControl } from "./wire.ts";
 * const b = encodeControl({ type: "ping", id: 7 });
 * console.log(decodeControl(b)); // { type: "ping", id: 7 }
 * ```
 * @module
 */

import { DecodeError } from "../lib/errors.ts";

/** Version of the tunnel's flow protocol carried in HELLO and WELCOME. */
export const tunnelWireVersion = 1;
/** First byte of a TAP frame SDU. */
export const tapFrameTag = 0x20;
/** Longest name or class or reason text (bytes). */
export const maxTextBytes = 255;

const T_HELLO = 0x01;
const T_WELCOME = 0x02;
const T_REJECT = 0x03;
const T_PING = 0x04;
const T_PONG = 0x05;
const FLAG_TAP = 0x01;

/** A tunnel control message. */
export type ControlMsg =
  | { type: "hello"; version: number; tap: boolean; traffic: string; name: string }
  | { type: "welcome"; version: number; name: string }
  | { type: "reject"; reason: string }
  | { type: "ping"; id: number }
  | { type: "pong"; id: number };

/** The kind of an SDU, from its first byte (no validation). */
export type SduKind = "ip" | "tap" | "control" | "unknown";

/** Classify an SDU by its first byte. */
export function sduKind(sdu: Uint8Array): SduKind {
  if (sdu.length === 0) return "unknown";
  const b = sdu[0]!;
  const v = b >> 4;
  if (v === 4 || v === 6) return "ip";
  if (b === tapFrameTag) return "tap";
  if (b >= T_HELLO && b <= T_PONG) return "control";
  return "unknown";
}

const te = new TextEncoder();
const td = new TextDecoder("utf-8", { fatal: true });

function text(s: string, what: string): Uint8Array {
  const b = te.encode(s);
  if (b.length > maxTextBytes) throw new RangeError(`Cannot encode ${what}: longer than ${maxTextBytes} bytes`);
  return b;
}

/** Encode a control message. */
export function encodeControl(m: ControlMsg): Uint8Array {
  switch (m.type) {
    case "hello": {
      const c = text(m.traffic, "class"), n = text(m.name, "name");
      const out = new Uint8Array(5 + c.length + n.length);
      out[0] = T_HELLO;
      out[1] = m.version;
      out[2] = m.tap ? FLAG_TAP : 0;
      out[3] = c.length;
      out.set(c, 4);
      out[4 + c.length] = n.length;
      out.set(n, 5 + c.length);
      return out;
    }
    case "welcome": {
      const n = text(m.name, "name");
      const out = new Uint8Array(3 + n.length);
      out[0] = T_WELCOME;
      out[1] = m.version;
      out[2] = n.length;
      out.set(n, 3);
      return out;
    }
    case "reject": {
      const r = text(m.reason, "reason");
      const out = new Uint8Array(2 + r.length);
      out[0] = T_REJECT;
      out[1] = r.length;
      out.set(r, 2);
      return out;
    }
    case "ping":
    case "pong": {
      const out = new Uint8Array(5);
      out[0] = m.type === "ping" ? T_PING : T_PONG;
      new DataView(out.buffer).setUint32(1, m.id >>> 0);
      return out;
    }
  }
}

function readText(b: Uint8Array, at: number, what: string): [string, number] {
  if (at >= b.length) throw new DecodeError("tunnel-truncated", `${what} length missing`);
  const n = b[at]!;
  if (at + 1 + n > b.length) throw new DecodeError("tunnel-truncated", `${what} truncated`);
  try {
    return [td.decode(b.subarray(at + 1, at + 1 + n)), at + 1 + n];
  } catch {
    throw new DecodeError("tunnel-utf8", `${what} is not UTF-8`);
  }
}

function end(b: Uint8Array, at: number): void {
  if (at !== b.length) throw new DecodeError("tunnel-trailing", `${b.length - at} bytes after the message`);
}

/** Decode a control message; throws `DecodeError` on anything malformed. */
export function decodeControl(b: Uint8Array): ControlMsg {
  if (b.length === 0) throw new DecodeError("tunnel-truncated", "empty control message");
  switch (b[0]) {
    case T_HELLO: {
      if (b.length < 3) throw new DecodeError("tunnel-truncated", "HELLO truncated");
      const [traffic, at] = readText(b, 3, "HELLO class");
      const [name, at2] = readText(b, at, "HELLO name");
      end(b, at2);
      if (name.length === 0) throw new DecodeError("tunnel-name", "HELLO without a name");
      return { type: "hello", version: b[1]!, tap: (b[2]! & FLAG_TAP) !== 0, traffic, name };
    }
    case T_WELCOME: {
      if (b.length < 2) throw new DecodeError("tunnel-truncated", "WELCOME truncated");
      const [name, at] = readText(b, 2, "WELCOME name");
      end(b, at);
      return { type: "welcome", version: b[1]!, name };
    }
    case T_REJECT: {
      const [reason, at] = readText(b, 1, "REJECT reason");
      end(b, at);
      return { type: "reject", reason };
    }
    case T_PING:
    case T_PONG: {
      if (b.length !== 5) throw new DecodeError("tunnel-length", `PING/PONG of ${b.length} bytes, expected 5`);
      const id = new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(1);
      return { type: b[0] === T_PING ? "ping" : "pong", id };
    }
    default:
      throw new DecodeError("tunnel-type", `unknown control type 0x${b[0]!.toString(16)}`);
  }
}

/** Prefix an Ethernet frame with the TAP tag. */
export function encodeTapFrame(frame: Uint8Array): Uint8Array {
  const out = new Uint8Array(frame.length + 1);
  out[0] = tapFrameTag;
  out.set(frame, 1);
  return out;
}
