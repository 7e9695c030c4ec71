/**
 * Worker side of a {@link DatagramChannel}: owns the blocking loop over one
 * socket fd. Receives with `recvmmsg` straight into the rx ring and sends
 * the tx ring with `sendmmsg`, both zero-copy through {@link MmsgArray}.
 * When there is nothing to do it sleeps in `poll(2)` on the socket and on
 * a doorbell eventfd that the main thread rings when it queues the first
 * packet into an empty tx ring, frees room in a full rx ring, or stops us.
 *
 * Started only by `channel.ts`; the protocol is one `init` message in, one
 * `ready` and one `stopped` message out.
 * @module
 */

/// <reference lib="deno.worker" />

import {
  drainDoorbell,
  errno,
  libc,
  MSG_DONTWAIT,
  MSG_TRUNC,
  POLLERR,
  POLLIN,
  POLLNVAL,
  POLLOUT,
} from "./libc.ts";
import { MmsgArray } from "./mmsg.ts";
import { PacketRing } from "./ring.ts";
import { CTL, type InitMessage, STAT } from "./channel_proto.ts";
import { FastRxTable } from "./fast_rx.ts";

const EINTR = 4, EAGAIN = 11, ENOBUFS = 105;

function run(m: InitMessage): void {
  const c = libc();
  const rx = PacketRing.from(m.rx), tx = PacketRing.from(m.tx);
  const ctl = new Int32Array(m.ctl);
  const stats = new Float64Array(m.stats);
  const rxm = new MmsgArray(rx), txm = new MmsgArray(tx);
  const pfd = new Uint8Array(new ArrayBuffer(16));
  const pdv = new DataView(pfd.buffer);
  pdv.setInt32(0, m.fd, true);
  pdv.setInt32(8, m.doorbell, true);
  pdv.setInt16(12, POLLIN, true);
  const batch = m.batch;
  const fast = new FastRxTable(m.fast);
  let txBlocked = false;

  while (Atomics.load(ctl, CTL.STOP) === 0) {
    fast.poll();
    // ---- transmit everything queued, in batches
    let txIdle = true;
    if (!txBlocked) {
      let avail = tx.size();
      while (avail > 0) {
        const t = tx.tail();
        const k = Math.min(avail, batch, tx.slots - (t & (tx.slots - 1)));
        txm.prepareSend(t, k);
        const r = c.sendmmsg(m.fd, txm.pointer(t), k, 0);
        if (r < 0) {
          const e = errno();
          if (e === EINTR) continue;
          if (e === EAGAIN || e === ENOBUFS) {
            txBlocked = true;
            break;
          }
          // The first packet was refused (bad destination, too big, link
          // down): count it and drop it, keep the rest.
          stats[STAT.TX_ERRORS]!++;
          stats[STAT.LAST_ERRNO] = e;
          tx.release(1);
          avail--;
          continue;
        }
        for (let i = 0; i < r; i++) stats[STAT.TX_BYTES]! += tx.lens[(t + i) & (tx.slots - 1)]!;
        stats[STAT.TX_PACKETS]! += r;
        tx.release(r);
        avail -= r;
      }
      txIdle = avail === 0 || txBlocked;
    }

    // ---- receive one batch into the free slots
    let rxIdle = true;
    const free = rx.free();
    if (free > 0) {
      const h = rx.head();
      const k = Math.min(free, batch, rx.slots - (h & (rx.slots - 1)));
      rxm.prepareRecv(h, k);
      const r = c.recvmmsg(m.fd, rxm.pointer(h), k, MSG_DONTWAIT, null);
      if (r > 0) {
        let w = 0;
        for (let i = 0; i < r; i++) {
          let len = rxm.msgLen(h + i);
          if (rxm.msgFlags(h + i) & MSG_TRUNC) {
            stats[STAT.RX_TRUNCATED]!++;
            continue;
          }
          if (fast.size > 0) {
            // fast flows: decrypted and written to their device here
            const at = rx.metaOffset(h + i) + rx.metaBytes;
            len = fast.process(rx.bytes.subarray(at, at + len));
            if (len < 0) {
              stats[STAT.RX_FAST]!++;
              continue;
            }
          }
          if (w !== i) {
            // Close the gap left by a dropped packet (rare).
            const from = rx.metaOffset(h + i), to = rx.metaOffset(h + w);
            rx.bytes.copyWithin(to, from, from + rx.metaBytes + len);
          }
          rx.lens[(h + w) & (rx.slots - 1)] = len;
          stats[STAT.RX_BYTES]! += len;
          w++;
        }
        stats[STAT.RX_PACKETS]! += w;
        if (w > 0) rx.publish(w);
        rxIdle = r < k;
      } else if (r < 0) {
        const e = errno();
        if (e !== EAGAIN && e !== EINTR) {
          stats[STAT.RX_ERRORS]!++;
          stats[STAT.LAST_ERRNO] = e;
        }
      }
    }
    if (!txIdle || !rxIdle) continue;

    // ---- nothing to do: announce ourselves and sleep
    if (!txBlocked && !tx.armConsumerWait()) continue;
    const rxFull = rx.free() === 0;
    if (rxFull && !rx.armProducerWait()) {
      tx.disarmConsumerWait();
      continue;
    }
    pdv.setInt16(4, (rxFull ? 0 : POLLIN) | (txBlocked ? POLLOUT : 0), true);
    pdv.setInt16(6, 0, true);
    pdv.setInt16(14, 0, true);
    const n = c.poll(pfd, 2n, m.pollMs);
    tx.disarmConsumerWait();
    rx.disarmProducerWait();
    if (n > 0) {
      const rev = pdv.getInt16(6, true);
      if (pdv.getInt16(14, true) & POLLIN) drainDoorbell(m.doorbell);
      if (rev & POLLOUT) txBlocked = false;
      if (rev & POLLNVAL) {
        stats[STAT.LAST_ERRNO] = 9;
        break;
      }
      if ((rev & POLLERR) && rxFull) rx.waitWritable(m.pollMs); // do not spin on a pending error
    }
  }
}

self.onmessage = (e: MessageEvent<InitMessage>) => {
  self.postMessage({ type: "ready" });
  let error: string | undefined;
  try {
    run(e.data);
  } catch (err) {
    error = String((err as Error)?.stack ?? err);
  }
  self.postMessage({ type: "stopped", error });
  self.close();
};
