/**
 * Test helper: the N−1 flow payload (SDU) of a data frame in the shared
 * captures, with the lower layer's framing removed. Used by the codec tests.
 * @module
 */
import { ether, loadCapture, type PcapFrame, udpPayload } from "../../../../tests/util/pcap.ts";

/** Length of the default DT PCI (spec 12 §4) in front of component SDUs. */
export const DT_PCI_LEN = 15;

const cache = new Map<string, PcapFrame[]>();

/**
 * The SDU carried by frame `no` (1-based) of `capture`: after the 4-byte eid
 * (udp4), the eid+length header (eth-dix) or the LLC header (eth-llc).
 */
export function sdu(capture: string, no: number): Uint8Array {
  let frames = cache.get(capture);
  if (!frames) cache.set(capture, frames = loadCapture(capture));
  const f = frames[no - 1];
  if (!f) throw new Error(`${capture} has no frame ${no}`);
  const udp = udpPayload(f.data);
  if (udp) return udp.payload.subarray(4);
  const e = ether(f.data);
  if (e.type === 0xa000) {
    const len = (e.payload[2]! << 8) | e.payload[3]!;
    return e.payload.subarray(4, 4 + len);
  }
  if (e.type <= 1500) return e.payload.subarray(3, e.type);
  throw new Error(`${capture} frame ${no}: unknown framing`);
}
