/**
 * Minimal pcap (libpcap classic format) reader for codec tests over
 * ../shared/captures. Link type EN10MB only.
 * @module
 */

export interface PcapFrame {
  /** 1-based frame number, as in the captures' frames.log. */
  no: number;
  /** Seconds since the first frame. */
  t: number;
  data: Uint8Array;
}

/** Parse a pcap file's bytes into frames. */
export function readPcap(buf: Uint8Array): PcapFrame[] {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = dv.getUint32(0, true);
  let le: boolean;
  let nano = false;
  if (magic === 0xa1b2c3d4) le = true;
  else if (magic === 0xd4c3b2a1) le = false;
  else if (magic === 0xa1b23c4d) (le = true), (nano = true);
  else if (magic === 0x4d3cb2a1) (le = false), (nano = true);
  else throw new Error("not a pcap file");
  const linktype = dv.getUint32(20, le);
  if (linktype !== 1) throw new Error(`unsupported link type ${linktype}`);
  const frames: PcapFrame[] = [];
  let off = 24;
  let t0: number | undefined;
  while (off + 16 <= buf.length) {
    const sec = dv.getUint32(off, le);
    const frac = dv.getUint32(off + 4, le);
    const incl = dv.getUint32(off + 8, le);
    off += 16;
    const t = sec + frac / (nano ? 1e9 : 1e6);
    t0 ??= t;
    frames.push({ no: frames.length + 1, t: t - t0, data: buf.slice(off, off + incl) });
    off += incl;
  }
  return frames;
}

/** Directory of the shared captures, relative to the repository. */
export const CAPTURES = new URL("../../../shared/captures/", import.meta.url);

/** Load a capture by file name (e.g. "udp4-unicast.pcap"). */
export function loadCapture(name: string): PcapFrame[] {
  return readPcap(Deno.readFileSync(new URL(name, CAPTURES)));
}

/** Ethernet II header fields of a frame. */
export function ether(f: Uint8Array): { dst: Uint8Array; src: Uint8Array; type: number; payload: Uint8Array } {
  const type = (f[12]! << 8) | f[13]!;
  return { dst: f.subarray(0, 6), src: f.subarray(6, 12), type, payload: f.subarray(14) };
}

/** For an IPv4/UDP frame, the UDP payload and ports; undefined otherwise. */
export function udpPayload(f: Uint8Array): { sport: number; dport: number; payload: Uint8Array } | undefined {
  const e = ether(f);
  if (e.type !== 0x0800) return undefined;
  const ip = e.payload;
  const ihl = (ip[0]! & 0x0f) * 4;
  if (ip[9] !== 17) return undefined;
  const totLen = (ip[2]! << 8) | ip[3]!;
  const udp = ip.subarray(ihl, totLen);
  const sport = (udp[0]! << 8) | udp[1]!;
  const dport = (udp[2]! << 8) | udp[3]!;
  const ulen = (udp[4]! << 8) | udp[5]!;
  return { sport, dport, payload: udp.subarray(8, ulen) };
}
