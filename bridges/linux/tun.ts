/**
 * Linux TUN/TAP devices: `/dev/net/tun` + `TUNSETIFF` through FFI, with
 * the packet path in a Worker (`tun_worker.ts`) that reads and writes the
 * fd synchronously and meets the main thread in two SharedArrayBuffer
 * packet rings (`src/io/ring.ts`). Needs `--allow-ffi` (and root or
 * CAP_NET_ADMIN). The interface exists while the device is open (it is not
 * made persistent) and is created down: configure it with `netlink.ts`.
 *
 * @example
 * ```ts ignore
 * import { openTun } from "./tun.ts";
 * await using dev = await openTun({ kind: "tun", name: "ouro0" });
 * for await (const batch of dev.batches()) console.log(batch.length);
 * ```
 * @module
 */

import { PacketRing } from "../../src/io/ring.ts";
import {
  batchesFrom,
  maxIpPacketBytes,
  pumpFrom,
  type SignalOptions,
  tapHeaderBytes,
  type TunCounters,
  type TunDevice,
  type TunKind,
} from "../device.ts";
import { adviceFor, reasonOf, TunError } from "../errors.ts";
import {
  AF_INET,
  cstr,
  E,
  EFD_CLOEXEC,
  EFD_NONBLOCK,
  errno,
  errnoName,
  libc,
  O_CLOEXEC,
  O_NONBLOCK,
  O_RDWR,
  SOCK_CLOEXEC,
  SOCK_DGRAM,
} from "./libc.ts";
import { Stat, STAT_COUNT, type TunWorkerInit } from "./tun_shared.ts";
import { FastTxControl, fastTxShared } from "../../src/io/fast_tx.ts";

/** `_IOW('T', 202, int)`: attach the fd to a (new) interface. */
const TUNSETIFF = 0x400454ca;
/** `_IOR('T', 210, unsigned int)`: read the interface an fd is attached to. */
const TUNGETIFF = 0x800454d2;

/** Is `fd` an open TUN/TAP device attached to an interface? */
export function isTunFd(fd: number): boolean {
  return libc().ioctl(fd, BigInt(TUNGETIFF), new Uint8Array(40)) >= 0;
}
/** Read an interface's MTU. */
const SIOCGIFMTU = 0x8921;
const IFF_TUN = 0x0001;
const IFF_TAP = 0x0002;
const IFF_NO_PI = 0x1000;
/** Bytes of `struct ifreq`. */
const IFREQ_BYTES = 40;
/** Longest interface name (IFNAMSIZ - 1). */
export const maxIfNameBytes = 15;

/** Default tunables of {@link openTun}. */
export const tunDefaults = {
  /** Ring slots per direction. */
  queuePackets: 256,
  /** Most packets per read batch. */
  batchPackets: 64,
  /** Longest poll(2) sleep of the Worker, ms (close normally wakes it at once). */
  pollTimeoutMs: 250,
} as const;

/** Options of {@link openTun}. */
export interface OpenTunOptions {
  /** `tun` (IP packets, default) or `tap` (Ethernet frames). Never with a packet-info header. */
  kind?: TunKind;
  /** Requested interface name; a `%d` pattern (e.g. `ouro%d`) lets the kernel number it. Default: kernel's `tun%d`/`tap%d`. */
  name?: string;
  /** Ring slots per direction (rounded up to a power of two). */
  queuePackets?: number;
  /** Most packets per read batch. */
  batchPackets?: number;
  /** Largest packet the rings carry; default 65535 (+18 on TAP). Larger packets are dropped and counted. */
  maxPacketBytes?: number;
  /** Longest poll(2) sleep of the Worker, ms. */
  pollTimeoutMs?: number;
}

function fail(what: string, e: number, tunPath = false): TunError {
  const reason = tunPath && (e === E.ENOENT || e === E.ENODEV || e === E.ENXIO)
    ? "no-tun"
    : reasonOf(e);
  const advice = adviceFor(reason);
  return new TunError(reason, `Cannot ${what}: ${errnoName(e)}${advice ? `; ${advice}` : ""}`, e);
}

function ifreq(name: string, flags = 0): Uint8Array {
  const b = new Uint8Array(IFREQ_BYTES);
  const n = new TextEncoder().encode(name);
  if (n.length > maxIfNameBytes || n.includes(0) || n.includes(0x2f) || /\s/.test(name)) {
    throw new TunError(
      "bad-address",
      `Cannot use interface name "${name}": at most 15 bytes, no spaces or "/"`,
    );
  }
  b.set(n);
  new DataView(b.buffer).setUint16(16, flags, true);
  return b;
}

function ifreqName(b: Uint8Array): string {
  const end = b.indexOf(0);
  return new TextDecoder().decode(b.subarray(0, end < 0 || end > 16 ? 16 : end));
}

/**
 * Create a TUN or TAP interface and start its packet Worker.
 * Throws {@link TunError}: `no-tun`, `permission`, `busy` (name held by
 * another fd), `bad-address` (bad name, or the name is a non-TUN device).
 */
export async function openTun(options: OpenTunOptions = {}): Promise<TunDevice> {
  if (Deno.build.os !== "linux") {
    throw new TunError(
      "unsupported",
      `Cannot open a TUN device on ${Deno.build.os}: only Linux is supported`,
    );
  }
  const kind = options.kind ?? "tun";
  const c = libc();
  const req = ifreq(options.name ?? "", (kind === "tap" ? IFF_TAP : IFF_TUN) | IFF_NO_PI);
  const fd = c.open(cstr("/dev/net/tun"), O_RDWR | O_NONBLOCK | O_CLOEXEC, 0);
  if (fd < 0) throw fail("open /dev/net/tun", errno(), true);
  const undo: (() => void)[] = [() => c.close(fd)];
  const unwind = () => {
    for (const u of undo.reverse()) u();
  };
  try {
    if (c.ioctl(fd, BigInt(TUNSETIFF), req) < 0) {
      const e = errno();
      throw fail(`create ${kind} "${options.name ?? ""}"`, e);
    }
    const efd = c.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (efd < 0) throw fail("create eventfd", errno());
    undo.push(() => c.close(efd));
    const sock = c.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) throw fail("create control socket", errno());
    undo.push(() => c.close(sock));
    const dev = new LinuxTun(kind, ifreqName(req), fd, efd, sock, options);
    await dev.start();
    return dev;
  } catch (e) {
    unwind();
    throw e;
  }
}

class LinuxTun implements TunDevice {
  readonly kind: TunKind;
  readonly name: string;
  readonly #fd: number;
  readonly #efd: number;
  readonly #sock: number;
  readonly #rx: PacketRing;
  readonly #tx: PacketRing;
  readonly #stats: Float64Array;
  readonly #batch: number;
  readonly #pollMs: number;
  readonly #worker: Worker;
  readonly #bell = new Uint8Array(8);
  readonly #mtuReq: Uint8Array;
  #closed = false;
  #closing: Promise<void> | undefined;
  #workerDone!: Promise<void>;
  readonly #fastShared = fastTxShared();
  /** The Worker's fast send path (`src/io/fast_tx.ts`). */
  readonly fastTx: FastTxControl;

  /** The device's fd (owned: closed by {@link LinuxTun.close}). */
  get fd(): number {
    return this.#fd;
  }

  constructor(
    kind: TunKind,
    name: string,
    fd: number,
    efd: number,
    sock: number,
    o: OpenTunOptions,
  ) {
    this.kind = kind;
    this.name = name;
    this.#fd = fd;
    this.#efd = efd;
    this.#sock = sock;
    const slotBytes = o.maxPacketBytes ?? maxIpPacketBytes + (kind === "tap" ? tapHeaderBytes : 0);
    const slots = o.queuePackets ?? tunDefaults.queuePackets;
    this.#rx = PacketRing.create({ slots, slotBytes });
    this.#tx = PacketRing.create({ slots, slotBytes });
    this.#stats = new Float64Array(new SharedArrayBuffer(8 * STAT_COUNT));
    this.#batch = o.batchPackets ?? tunDefaults.batchPackets;
    this.#pollMs = o.pollTimeoutMs ?? tunDefaults.pollTimeoutMs;
    new DataView(this.#bell.buffer).setBigUint64(0, 1n, true);
    this.#mtuReq = ifreq(name);
    const ring = () => void libc().writeBuf(this.#efd, this.#bell, 8n);
    this.#tx.onConsumerWake = ring;
    this.#rx.onProducerWake = ring;
    this.fastTx = new FastTxControl(this.#fastShared, ring);
    this.#worker = new Worker(new URL("./tun_worker.ts", import.meta.url), { type: "module" });
  }

  /** Hand the fds and rings to the Worker and wait until it runs. */
  start(): Promise<void> {
    let ready!: () => void;
    let failed!: (e: Error) => void;
    const started = new Promise<void>((res, rej) => {
      ready = res;
      failed = rej;
    });
    this.#workerDone = new Promise<void>((done) => {
      this.#worker.onmessage = (ev: MessageEvent<{ type: string; message?: string }>) => {
        if (ev.data.type === "ready") ready();
        else if (ev.data.type === "closed") done();
        else if (ev.data.type === "error") {
          const err = new TunError(
            "system",
            `Cannot run ${this.name} packet worker: ${ev.data.message}`,
          );
          failed(err);
          this.#rx.close();
          this.#tx.close();
          done();
        }
      };
      this.#worker.onerror = (ev) => {
        ev.preventDefault();
        failed(new TunError("system", `Cannot run ${this.name} packet worker: ${ev.message}`));
        this.#rx.close();
        this.#tx.close();
        done();
      };
    });
    const init: TunWorkerInit = {
      fd: this.#fd,
      efd: this.#efd,
      rx: this.#rx.buffer,
      tx: this.#tx.buffer,
      stats: this.#stats.buffer as SharedArrayBuffer,
      batchPackets: this.#batch,
      pollTimeoutMs: this.#pollMs,
      fastTx: this.#fastShared,
    };
    this.#worker.postMessage(init);
    return started.catch((e) => {
      this.#worker.terminate();
      throw e;
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  get mtu(): number {
    if (this.#closed) return 0;
    const req = this.#mtuReq;
    if (libc().ioctl(this.#sock, BigInt(SIOCGIFMTU), req) < 0) return 0;
    return new DataView(req.buffer).getInt32(16, true);
  }

  async read(options?: SignalOptions): Promise<Uint8Array[] | null> {
    const rx = this.#rx;
    if (rx.size() === 0) {
      if (this.#closed) return null;
      // The wait alone does not keep Deno's event loop alive.
      const keep = setInterval(() => {}, 1 << 30);
      try {
        if (!(await rx.waitReadableAsync(options?.signal))) return null;
      } finally {
        clearInterval(keep);
      }
      if (this.#closed) return null;
    }
    const n = Math.min(rx.size(), this.#batch);
    const mask = rx.slots - 1;
    const t = rx.tail();
    let total = 0;
    for (let i = 0; i < n; i++) total += rx.lens[(t + i) & mask]!;
    const store = new Uint8Array(total);
    const out: Uint8Array[] = [];
    let at = 0;
    rx.popBatch((d) => {
      store.set(d, at);
      out.push(store.subarray(at, at + d.length));
      at += d.length;
    }, n);
    return out;
  }

  batches(options?: SignalOptions): AsyncIterableIterator<Uint8Array[]> {
    return batchesFrom((o) => this.read(o), options);
  }

  pump(onBatch: (p: Uint8Array[]) => void | Promise<void>, options?: SignalOptions): Promise<void> {
    return pumpFrom((o) => this.read(o), onBatch, options);
  }

  write(packet: Uint8Array): boolean {
    if (this.#closed || packet.length > this.#tx.slotBytes || !this.#tx.push(packet)) {
      this.#stats[Stat.txDropped]!++;
      return false;
    }
    return true;
  }

  writeBatch(packets: readonly Uint8Array[]): number {
    if (this.#closed) {
      this.#stats[Stat.txDropped]! += packets.length;
      return 0;
    }
    let ok = packets;
    if (packets.some((p) => p.length > this.#tx.slotBytes)) {
      ok = packets.filter((p) => p.length <= this.#tx.slotBytes);
    }
    const n = this.#tx.pushBatch(ok);
    this.#stats[Stat.txDropped]! += packets.length - n;
    return n;
  }

  async drain(options?: SignalOptions): Promise<boolean> {
    if (this.#closed) return false;
    if (this.#tx.free() > 0) return true;
    const keep = setInterval(() => {}, 1 << 30);
    try {
      return await this.#tx.waitWritableAsync(options?.signal) && !this.#closed;
    } finally {
      clearInterval(keep);
    }
  }

  counters(): TunCounters {
    const s = this.#stats;
    return {
      rxPackets: s[Stat.rxPackets]!,
      rxBytes: s[Stat.rxBytes]!,
      rxDropped: s[Stat.rxDropped]!,
      rxErrors: s[Stat.rxErrors]!,
      txPackets: s[Stat.txPackets]!,
      txBytes: s[Stat.txBytes]!,
      txDropped: s[Stat.txDropped]!,
      txErrors: s[Stat.txErrors]!,
    };
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.#closed = true;
    const c = libc();
    this.#tx.close();
    this.#rx.close();
    c.writeBuf(this.#efd, this.#bell, 8n);
    await this.#workerDone;
    this.#worker.terminate();
    this.fastTx.closeAll();
    // Reverse order of acquisition: control socket, doorbell, device.
    c.close(this.#sock);
    c.close(this.#efd);
    c.close(this.#fd);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
