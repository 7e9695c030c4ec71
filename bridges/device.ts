/**
 * The TUN/TAP device seam: the only thing the tunnel code knows about the
 * operating system's virtual network interface. Implementations: the Linux
 * kernel device (`linux/tun.ts`) and an in-memory pair (`fake.ts`) for
 * tests. Configuration (addresses, routes, MTU, up/down) is not part of the
 * device: it is done on the interface by name/index (`linux/netlink.ts`).
 *
 * Semantics, shared by every implementation:
 * - A packet is one IP packet (`kind: "tun"`, no packet-info header) or one
 *   Ethernet frame (`kind: "tap"`), never both, never a partial one.
 * - Reading is batched: {@link TunDevice.read} resolves with every packet
 *   that is waiting (at least one, at most the device's batch limit); the
 *   packets are fresh copies owned by the caller. Only one reader at a time:
 *   use `read`, `batches` or `pump`, not two of them at once.
 * - Writing is datagram-like and never blocks: {@link TunDevice.write}
 *   queues a copy of the packet and returns false (counting `txDropped`)
 *   when the queue is full; {@link TunDevice.drain} waits for room.
 * - After {@link TunDevice.close} reads resolve `null`, iterators end,
 *   writes return false and the interface disappears from the system.
 *
 * @example
 * ```ts
 * import { createFakePair } from "./fake.ts";
 * const [a, b] = createFakePair();
 * a.write(new Uint8Array([0x45, 0, 0, 20]));
 * const batch = await b.read(); // [Uint8Array(4)]
 * await a.close();
 * await b.close();
 * ```
 * @module
 */
import type { FastTxControl } from "../src/io/fast_tx.ts";

/** Layer of the device: `tun` carries IP packets, `tap` Ethernet frames. */
export type TunKind = "tun" | "tap";

/** Packet and byte counters of a device (since it was opened). */
export interface TunCounters {
  /** Packets read from the device (system → us) and handed to the reader. */
  rxPackets: number;
  /** Bytes of those packets. */
  rxBytes: number;
  /** Packets the reader never got (too large for a slot, or dropped by a fake's queue limit). */
  rxDropped: number;
  /** Read errors reported by the system. */
  rxErrors: number;
  /** Packets written to the device (us → system). */
  txPackets: number;
  /** Bytes of those packets. */
  txBytes: number;
  /** Packets refused by `write`/`writeBatch` because the queue was full or the device closed. */
  txDropped: number;
  /** Packets the system refused (e.g. malformed, interface down). */
  txErrors: number;
}

/** Options of blocking calls. */
export interface SignalOptions {
  /** Abort the wait; a pending `read` then resolves `null`. */
  signal?: AbortSignal;
}

/** A TUN or TAP device, open for packet I/O. */
export interface TunDevice extends AsyncDisposable {
  /** Interface name, e.g. `tun0` (as the system assigned it). */
  readonly name: string;
  /** `tun` (IP packets) or `tap` (Ethernet frames). */
  readonly kind: TunKind;
  /** Current MTU of the interface in bytes (IP payload size, without an Ethernet header). */
  readonly mtu: number;
  /** Has {@link TunDevice.close} been called? */
  readonly closed: boolean;
  /**
   * The system fd of a real device (undefined for the in-memory fake).
   * Only for fast paths that write received packets straight to it.
   */
  readonly fd?: number;
  /** The device Worker's fast send path (real devices only; see `src/io/fast_tx.ts`). */
  readonly fastTx?: FastTxControl;

  /**
   * Next batch of packets read from the device (at least one). Resolves
   * `null` when the device is closed or `options.signal` aborts.
   */
  read(options?: SignalOptions): Promise<Uint8Array[] | null>;
  /** The batches of {@link TunDevice.read} as an async iterator; ends on close or abort. */
  batches(options?: SignalOptions): AsyncIterableIterator<Uint8Array[]>;
  /**
   * Call `onBatch` for every batch until the device closes or the signal
   * aborts; a returned promise is awaited before the next batch (backpressure).
   * Resolves when delivery stops.
   */
  pump(
    onBatch: (packets: Uint8Array[]) => void | Promise<void>,
    options?: SignalOptions,
  ): Promise<void>;

  /** Queue one packet for the device. False (and `txDropped`) if the queue is full or closed. */
  write(packet: Uint8Array): boolean;
  /** Queue packets in order with one wake-up; returns how many were queued (the rest are dropped). */
  writeBatch(packets: readonly Uint8Array[]): number;
  /** Resolve when the write queue has room again (immediately if it has); false if closed/aborted. */
  drain(options?: SignalOptions): Promise<boolean>;

  /** A snapshot of the counters. */
  counters(): TunCounters;
  /** Stop I/O, release the device (the interface is removed). Idempotent. */
  close(): Promise<void>;
}

/** A zeroed counters record. */
export function zeroCounters(): TunCounters {
  return {
    rxPackets: 0,
    rxBytes: 0,
    rxDropped: 0,
    rxErrors: 0,
    txPackets: 0,
    txBytes: 0,
    txDropped: 0,
    txErrors: 0,
  };
}

/** Largest IP packet (bytes): the IPv4 total-length limit. */
export const maxIpPacketBytes = 65535;
/** Ethernet header plus one VLAN tag (bytes), added to the MTU on a TAP device. */
export const tapHeaderBytes = 18;

/**
 * Build `batches()` and `pump()` from a `read()`; implementations share these.
 * @example
 * ```ts
 * import { batchesFrom } from "./device.ts";
 * let n = 0;
 * const it = batchesFrom(async () => n++ < 2 ? [new Uint8Array(1)] : null);
 * for await (const b of it) console.log(b.length); // 1, 1
 * ```
 */
export async function* batchesFrom(
  read: (o?: SignalOptions) => Promise<Uint8Array[] | null>,
  options?: SignalOptions,
): AsyncGenerator<Uint8Array[]> {
  for (;;) {
    const b = await read(options);
    if (b === null) return;
    yield b;
  }
}

/** Run `onBatch` for each batch from `read` until it yields `null`. */
export async function pumpFrom(
  read: (o?: SignalOptions) => Promise<Uint8Array[] | null>,
  onBatch: (packets: Uint8Array[]) => void | Promise<void>,
  options?: SignalOptions,
): Promise<void> {
  for (;;) {
    const b = await read(options);
    if (b === null) return;
    const r = onBatch(b);
    if (r instanceof Promise) await r;
  }
}
