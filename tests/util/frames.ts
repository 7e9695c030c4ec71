/**
 * Helpers for codec tests over ../shared/captures: read the `*.frames.log`
 * decode of a capture and pull field values out of its lines, and walk a
 * capture down to the N−1 SDUs (udp4 / eth-dix / eth-llc data frames).
 * @module
 */
import type { QosSpec } from "../../src/lib/qos.ts";
import { decodeUdpData, udpDatagramEid } from "../../src/ipcp/udp/wire.ts";
import {
  decodeEthDix,
  decodeEthLlc,
  ETH_DIX_MGMT_EID,
  ETH_LLC_MGMT_SAP,
} from "../../src/ipcp/eth/wire.ts";
import { CAPTURES, ether, loadCapture, type PcapFrame, udpPayload } from "./pcap.ts";

/** One line of a frames.log. */
export interface LogFrame {
  /** 1-based frame number. */
  no: number;
  /** Direction, e.g. "a>b", "b>bcast". */
  dir: string;
  /** Frame size in bytes as logged. */
  size: number;
  /** The decode text after the size. */
  text: string;
}

/** Parse `<capture>.frames.log` (give the pcap or log name) into frames by number. */
export function loadFramesLog(name: string): Map<number, LogFrame> {
  const file = name.replace(/\.pcap$/, "").replace(/\.frames\.log$/, "") + ".frames.log";
  const out = new Map<number, LogFrame>();
  for (const line of Deno.readTextFileSync(new URL(file, CAPTURES)).split("\n")) {
    const m = /^\s*(\d+)\s+[\d.]+\s+(\S+)\s+(\d+)B\s+(.*)$/.exec(line);
    if (m) out.set(Number(m[1]), { no: Number(m[1]), dir: m[2]!, size: Number(m[3]), text: m[4]! });
  }
  return out;
}

/**
 * The bracketed/braced section of `text` that starts with `open` (e.g.
 * "DT[" or "qos{"), without the brackets; undefined if absent.
 */
export function logSection(text: string, open: string): string | undefined {
  const i = text.indexOf(open);
  if (i < 0) return undefined;
  const o = open.at(-1)!;
  const c = o === "[" ? "]" : o === "{" ? "}" : ")";
  let depth = 0;
  for (let j = i + open.length - 1; j < text.length; j++) {
    if (text[j] === o) depth++;
    else if (text[j] === c && --depth === 0) return text.slice(i + open.length, j);
  }
  return undefined;
}

/** The raw value of `key=value` in `text` (first occurrence), or undefined. */
export function logField(text: string, key: string): string | undefined {
  const re = new RegExp(
    `(?:^|[\\s{\\[,(])${key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}=([^\\s,}\\])]+)`,
  );
  return re.exec(text)?.[1];
}

/** A numeric `key=value` as a bigint (decimal or 0x hex); throws if absent. */
export function logBig(text: string, key: string): bigint {
  const v = logField(text, key);
  if (v === undefined) throw new Error(`field ${key} not in: ${text}`);
  return BigInt(v);
}

/** A numeric `key=value` as a number; throws if absent. */
export function logNum(text: string, key: string): number {
  return Number(logBig(text, key));
}

/** The `qos{…}` of a log line as a QosSpec, or undefined. */
export function logQos(text: string): QosSpec | undefined {
  const s = logSection(text, "qos{");
  if (s === undefined) return undefined;
  return {
    delay: logNum(s, "delay"),
    bandwidth: logBig(s, "bw"),
    availability: logNum(s, "avail"),
    loss: logNum(s, "loss"),
    ber: logNum(s, "ber"),
    inOrder: logNum(s, "in_order"),
    maxGap: logNum(s, "max_gap"),
    timeout: logNum(s, "timeout"),
  };
}

/** The bytes after the 14-byte Ethernet header, whatever the type/length field. */
export function ethPayload(f: Uint8Array): Uint8Array {
  return ether(f).payload;
}

/** An N−1 SDU of a capture with its frame and log line. */
export interface N1Sdu {
  frame: PcapFrame;
  log: LogFrame;
  /** The SDU carried by a udp4 / eth data frame. */
  sdu: Uint8Array;
}

/**
 * Every data (non-management) SDU of a udp4, eth-dix or eth-llc capture,
 * decoded with the shim codecs; ARP and management frames are skipped.
 */
export function n1Sdus(capture: string): N1Sdu[] {
  const frames = loadCapture(capture);
  const log = loadFramesLog(capture);
  const out: N1Sdu[] = [];
  for (const frame of frames) {
    const l = log.get(frame.no);
    if (!l) throw new Error(`frame ${frame.no} missing from the log of ${capture}`);
    let sdu: Uint8Array | undefined;
    if (capture.startsWith("udp")) {
      const u = udpPayload(frame.data);
      if (u && udpDatagramEid(u.payload) !== 0) sdu = decodeUdpData(u.payload).payload;
    } else if (capture.startsWith("eth-dix")) {
      const f = decodeEthDix(frame.data);
      if (f.eid !== ETH_DIX_MGMT_EID) sdu = f.payload;
    } else if (capture.startsWith("eth-llc")) {
      const f = decodeEthLlc(frame.data);
      if (f.dsap !== ETH_LLC_MGMT_SAP) sdu = f.payload;
    } else throw new Error(`unknown capture kind ${capture}`);
    if (sdu) out.push({ frame, log: l, sdu });
  }
  return out;
}
