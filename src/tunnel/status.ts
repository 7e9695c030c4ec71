/**
 * What `ouro tunnel show` reports: the status record a running tunnel
 * returns over its control socket (JSON with `--json`), and its text form
 * in the manner of `wg show`.
 *
 * @example
 * ```ts ignore
 * console.log(formatStatus(tunnel.status(), Date.now()));
 * ```
 * @module
 */

import type { Link, PeerCounters } from "./peer.ts";

/** One flow of a peer. */
export interface FlowStatus {
  /** Flow id. */
  id: number;
  /** `out` (we allocated) or `in` (the peer did). */
  dir: "out" | "in";
  /** Traffic class name. */
  class: string;
  /** QoS preset name. */
  qos: string;
  /** `handshake`, `up` or `closed`. */
  state: string;
  /** ms since it came up. */
  upMs: number;
  /** Latest RTT, ms. */
  rttMs?: number;
  /** Bytes received on it. */
  rxBytes: number;
  /** Bytes sent on it. */
  txBytes: number;
  /** Cipher OAP agreed; absent: in the clear. */
  cipher?: string;
  /** Received packets go from the IRMd's I/O Worker straight to the device; sends skip the IRMd. */
  fastPath: boolean;
  /** On the fast path, sends too (false: they go through the IRMd, which receives for us). */
  fastSend: boolean;
}

/** One peer: its configuration, state and {@link PeerCounters}. */
export interface PeerStatus extends PeerCounters {
  name: string;
  allowedIps: string[];
  connect: string;
  /** `up`, `connecting`, `retrying` (back-off after a failure) or `idle` (no flow, none wanted). */
  state: string;
  rttMs?: number;
  lastError?: string;
  flows: FlowStatus[];
}

/** A whole tunnel. */
export interface TunnelStatus {
  name: string;
  device: string;
  mode: string;
  mtu: number;
  listen: string;
  layer?: string;
  addresses: string[];
  uptimeMs: number;
  /** The IRMd connection as `ouro tunnel up` sees it: `connected` or `reconnecting…`. */
  irmd?: string;
  counters: {
    dropUnroutable: number;
    dropMulticast: number;
    dropNotIp: number;
    flowsRefused: number;
    deviceRxPackets: number;
    deviceTxPackets: number;
    deviceTxDropped: number;
    deviceRxDropped: number;
  };
  peers: PeerStatus[];
}

/** The status of one link. */
export function linkStatus(l: Link, now: number): FlowStatus {
  return {
    id: l.flow.id,
    dir: l.dir,
    class: l.className,
    qos: l.qos,
    state: l.state,
    upMs: now - l.since,
    rttMs: l.rttMs,
    rxBytes: l.rxBytes,
    txBytes: l.txBytes,
    cipher: l.flow.cipher,
    fastPath: l.fast !== undefined,
    fastSend: (l.fast?.slot ?? -1) >= 0,
  };
}

/** `1.50 MiB` style. */
export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) (n /= 1024, i++);
  return i === 0 ? `${n} B` : `${n.toFixed(2)} ${units[i]}`;
}

/** `1 minute, 3 seconds ago` style (short form). */
export function formatAgo(atMs: number, now: number): string {
  if (!atMs) return "never";
  let s = Math.max(0, Math.round((now - atMs) / 1000));
  const parts: string[] = [];
  for (const [unit, len] of [["h", 3600], ["min", 60]] as const) {
    if (s >= len) {
      parts.push(`${Math.floor(s / len)} ${unit}`);
      s %= len;
    }
  }
  parts.push(`${s} s`);
  return `${parts.join(" ")} ago`;
}

function rtt(ms: number | undefined): string {
  return ms === undefined ? "-" : `${ms < 10 ? ms.toFixed(2) : ms.toFixed(0)} ms`;
}

/** Text form of a status, `wg show` style. */
export function formatStatus(s: TunnelStatus, now: number): string {
  const out: string[] = [];
  out.push(`interface: ${s.name} (${s.mode}, device ${s.device})`);
  out.push(`  listening name: ${s.listen}${s.layer ? ` (layer ${s.layer})` : ""}`);
  if (s.addresses.length) out.push(`  addresses: ${s.addresses.join(", ")}`);
  out.push(`  mtu: ${s.mtu}`);
  if (s.irmd && s.irmd !== "connected") out.push(`  irmd: ${s.irmd}`);
  const c = s.counters;
  const drops = [
    c.dropUnroutable ? `${c.dropUnroutable} unroutable` : "",
    c.dropNotIp ? `${c.dropNotIp} not IP` : "",
    c.flowsRefused ? `${c.flowsRefused} flows refused` : "",
  ].filter(Boolean);
  if (drops.length) out.push(`  dropped: ${drops.join(", ")}`);
  for (const p of s.peers) {
    out.push("");
    out.push(`peer: ${p.name}`);
    out.push(`  allowed ips: ${p.allowedIps.length ? p.allowedIps.join(", ") : "(everything: point-to-point)"}`);
    out.push(`  state: ${p.state}${p.connect !== "on-demand" ? ` (connect ${p.connect})` : ""}`);
    for (const f of p.flows) {
      out.push(`  flow ${f.id}: ${f.dir} class ${f.class} qos ${f.qos} ${f.state}, rtt ${rtt(f.rttMs)}, ${f.cipher ?? "NOT encrypted"}${
          f.fastPath ? f.fastSend ? ", fast path" : ", fast path (receive only)" : ""
        }`);
    }
    if (p.lastHandshakeAt) out.push(`  latest handshake: ${formatAgo(p.lastHandshakeAt, now)}`);
    const last = Math.max(p.lastRxAt, p.lastTxAt);
    if (last) out.push(`  latest packet: ${formatAgo(last, now)}`);
    out.push(`  rtt: ${rtt(p.rttMs)}`);
    out.push(
      `  transfer: ${formatBytes(p.rxBytes)} received (${p.rxPackets} pkts), ${formatBytes(p.txBytes)} sent (${p.txPackets} pkts)`,
    );
    const pd = [
      p.dropNoFlow ? `${p.dropNoFlow} no flow` : "",
      p.dropSpoofed ? `${p.dropSpoofed} spoofed source` : "",
      p.dropTooBig ? `${p.dropTooBig} too big (${p.icmpTooBig} ICMP sent)` : "",
      p.dropDevice ? `${p.dropDevice} device full` : "",
      p.dropMalformed ? `${p.dropMalformed} malformed` : "",
      p.dropFast ? `${p.dropFast} on the fast path` : "",
    ].filter(Boolean);
    if (pd.length) out.push(`  dropped: ${pd.join(", ")}`);
    if (p.fragmented) out.push(`  fragmented: ${p.fragmented} IPv4 packets`);
    if (p.lastError && p.state !== "up") out.push(`  last error: ${p.lastError}`);
  }
  return out.join("\n");
}
