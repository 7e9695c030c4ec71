/**
 * Send side of a flow's fast path: datagrams go out through a duplicate of
 * the udp IPCP's socket borrowed from the IRMd (`eid ‖ SDU` to the peer's
 * address, exactly what the IPCP would send), so the IRMd's main thread
 * and its I/O Worker never see them. A full socket buffer hands the packet
 * back to the caller, which sends it the normal way through the IRMd.
 * @module
 */
import { libc } from "../io/libc.ts";

/** Largest SDU the fast path carries (the udp4 IPCP's maximum). */
const MAX_SDU = 8980;

/** A borrowed socket, the peer's sockaddr and eid. */
export class FastTx {
  packets = 0;
  bytes = 0;
  /** Packets handed back (socket buffer full, or refused). */
  fallbacks = 0;
  readonly #fd: number;
  readonly #dst: Uint8Array;
  readonly #buf = new Uint8Array(4 + MAX_SDU);
  #closed = false;

  /** Takes ownership of `fd` (closed by {@link FastTx.close}). */
  constructor(fd: number, dst: Uint8Array, dEid: number) {
    this.#fd = fd;
    this.#dst = dst;
    new DataView(this.#buf.buffer).setUint32(0, dEid >>> 0);
  }

  /** Send one wire SDU; false: not sent, use the normal path. */
  send(sdu: Uint8Array): boolean {
    if (this.#closed || sdu.length > MAX_SDU) return false;
    const b = this.#buf, n = 4 + sdu.length;
    b.set(sdu, 4);
    const r = libc().sendto(this.#fd, b, BigInt(n), 0, this.#dst, this.#dst.length);
    if (r < 0) {
      this.fallbacks++;
      return false;
    }
    this.packets++;
    this.bytes += sdu.length;
    return true;
  }

  /** Close the borrowed socket. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    libc().close(this.#fd);
  }
}
