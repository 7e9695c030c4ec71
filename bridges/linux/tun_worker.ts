/**
 * The packet path of one Linux TUN/TAP device, run in a Worker so that
 * blocking system calls never stall the main thread.
 *
 * The Worker owns no state of its own: it gets the device fd, an eventfd
 * (the doorbell), two packet rings and a counters array, then loops:
 * 1. write every packet waiting in the tx ring to the fd (straight from the
 *    shared memory, no copy);
 * 2. read packets from the non-blocking fd straight into free rx slots,
 *    up to the batch limit, and publish them with one atomic store;
 * 3. when neither made progress, arm the rings' wait flags and sleep in
 *    `poll(2)` on the fd and the doorbell (with a timeout as a safety net).
 * The main thread rings the doorbell when it queues packets for a sleeping
 * Worker, frees rx slots the Worker waits for, or closes the device. On
 * close the Worker flushes the tx ring, posts `{ type: "closed" }` and
 * stops; the main thread then closes the fds.
 * @module
 */

/// <reference lib="deno.worker" />

import { PacketRing } from "../../src/io/ring.ts";
import { addressOf, E, errno, libc, POLLIN, POLLOUT } from "./libc.ts";
import { Stat, type TunWorkerInit } from "./tun_shared.ts";
import { FastTxTable } from "../../src/io/fast_tx.ts";

function run(init: TunWorkerInit): void {
  const c = libc();
  const rx = PacketRing.from(init.rx);
  const tx = PacketRing.from(init.tx);
  const stats = new Float64Array(init.stats);
  const rxBase = addressOf(rx.bytes);
  const txBase = addressOf(tx.bytes);
  const rxMask = rx.slots - 1;
  const txMask = tx.slots - 1;
  const slotBytes = BigInt(rx.slotBytes);
  const fds = new Uint8Array(16);
  const fdv = new DataView(fds.buffer);
  fdv.setInt32(0, init.fd, true);
  fdv.setInt32(8, init.efd, true);
  fdv.setInt16(12, POLLIN, true);
  const efdBuf = new Uint8Array(8);
  let txBlocked = false; // the fd returned EAGAIN on write
  const fast = new FastTxTable(init.fastTx);

  const flushTx = (): boolean => {
    const n = tx.size();
    if (n === 0) return false;
    const t = tx.tail();
    let done = 0;
    txBlocked = false;
    for (; done < n; done++) {
      const idx = (t + done) | 0;
      const len = tx.lens[idx & txMask]!;
      const r = Number(c.write(init.fd, txBase + BigInt(tx.dataOffset(idx)), BigInt(len)));
      if (r < 0) {
        const e = errno();
        if (e === E.EAGAIN) {
          txBlocked = true;
          break;
        }
        stats[Stat.txErrors]!++;
      } else {
        stats[Stat.txPackets]!++;
        stats[Stat.txBytes]! += len;
      }
    }
    if (done > 0) tx.release(done);
    return done > 0;
  };

  const fillRx = (): boolean => {
    const room = Math.min(rx.free(), init.batchPackets);
    const h = rx.head();
    let k = 0;
    while (k < room) {
      const idx = (h + k) | 0;
      const r = Number(c.read(init.fd, rxBase + BigInt(rx.dataOffset(idx)), slotBytes));
      if (r < 0) {
        const e = errno();
        if (e !== E.EAGAIN && e !== E.EINTR) stats[Stat.rxErrors]!++;
        break;
      }
      if (r > rx.slotBytes) {
        stats[Stat.rxDropped]!++;
        continue;
      }
      stats[Stat.rxPackets]!++;
      stats[Stat.rxBytes]! += r;
      if (fast.size > 0) {
        // fast flows: sealed and sent from here, the slot is reused
        const at = rx.dataOffset(idx);
        if (fast.process(rx.bytes.subarray(at, at + r))) continue;
      }
      rx.lens[idx & rxMask] = r;
      k++;
    }
    if (k > 0) rx.publish(k);
    return k > 0;
  };

  for (;;) {
    if (tx.closed) {
      flushTx();
      break;
    }
    fast.poll();
    const wrote = flushTx();
    const read = fillRx();
    if (wrote || read) continue;
    // Nothing to do: arm the wake-ups, re-check, then sleep.
    if (!txBlocked && !tx.armConsumerWait()) continue;
    const rxFull = rx.free() === 0;
    if (rxFull && !rx.armProducerWait()) {
      tx.disarmConsumerWait();
      continue;
    }
    fdv.setInt16(4, (rxFull ? 0 : POLLIN) | (txBlocked ? POLLOUT : 0), true);
    fdv.setInt16(6, 0, true);
    fdv.setInt16(14, 0, true);
    c.poll(fds, 2n, init.pollTimeoutMs);
    tx.disarmConsumerWait();
    if (rxFull) rx.disarmProducerWait();
    if (fdv.getInt16(14, true) & POLLIN) c.readBuf(init.efd, efdBuf, 8n);
  }
  self.postMessage({ type: "closed" });
}

self.onmessage = (ev: MessageEvent<TunWorkerInit>) => {
  try {
    self.postMessage({ type: "ready" });
    run(ev.data);
  } catch (e) {
    self.postMessage({ type: "error", message: String((e as Error)?.stack ?? e) });
  }
};
