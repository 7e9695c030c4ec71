/**
 * Synchronous FFI bindings to the few libc calls the packet I/O layer needs
 * (Linux, LP64: x86-64 / aarch64), the errno of the calling thread, and the
 * socket constants. Each isolate (main thread, each Worker) opens libc once
 * on first use; a synchronous call costs ~0.1 µs plus the syscall.
 *
 * @example
 * ```ts
 * import { libc, errno, AF_INET, SOCK_DGRAM } from "./libc.ts";
 * const fd = libc().socket(AF_INET, SOCK_DGRAM, 0);
 * if (fd < 0) console.log("socket failed, errno", errno());
 * else libc().close(fd);
 * ```
 * @module
 */

export { AF_INET, AF_INET6, AF_PACKET } from "./sockaddr.ts";

/** Datagram socket type. */
export const SOCK_DGRAM = 2;
/** Raw socket type. */
export const SOCK_RAW = 3;
/** `socket()` flag: non-blocking. */
export const SOCK_NONBLOCK = 0o4000;
/** `socket()` flag: close on exec. */
export const SOCK_CLOEXEC = 0o2000000;
/** UDP protocol number. */
export const IPPROTO_UDP = 17;
/** IPv6 socket option level. */
export const IPPROTO_IPV6 = 41;
/** IPv6 option: refuse IPv4-mapped traffic. */
export const IPV6_V6ONLY = 26;
/** Generic socket option level. */
export const SOL_SOCKET = 1;
/** Socket option: allow reusing a local address. */
export const SO_REUSEADDR = 2;
/** Socket option: send buffer size. */
export const SO_SNDBUF = 7;
/** Socket option: receive buffer size. */
export const SO_RCVBUF = 8;
/** Socket option: send buffer size beyond rmem_max (root). */
export const SO_SNDBUFFORCE = 32;
/** Socket option: receive buffer size beyond rmem_max (root). */
export const SO_RCVBUFFORCE = 33;
/** Packet socket option level. */
export const SOL_PACKET = 263;
/** Packet socket option: do not loop our own transmissions back to us. */
export const PACKET_IGNORE_OUTGOING = 23;
/** Ethertype matching every protocol. */
export const ETH_P_ALL = 3;
/** `recv` flag: do not block. */
export const MSG_DONTWAIT = 0x40;
/** `msg_flags`: datagram was longer than the buffer. */
export const MSG_TRUNC = 0x20;
/** poll(2) events. */
export const POLLIN = 0x1, POLLOUT = 0x4, POLLERR = 0x8, POLLHUP = 0x10, POLLNVAL = 0x20;
/** ioctl: get interface flags. */
export const SIOCGIFFLAGS = 0x8913;
/** ioctl: get hardware address. */
export const SIOCGIFHWADDR = 0x8927;
/** ioctl: get MTU. */
export const SIOCGIFMTU = 0x8921;
/** Interface flag: administratively up. */
export const IFF_UP = 0x1;
/** `eventfd()` flags. */
export const EFD_NONBLOCK = 0o4000, EFD_CLOEXEC = 0o2000000;
/** `open()` flags. */
export const O_RDONLY = 0, O_CLOEXEC = 0o2000000;
/** `setns()` type: network namespace. */
export const CLONE_NEWNET = 0x40000000;

/** Bytes of one `struct mmsghdr`. */
export const MMSGHDR_BYTES = 64;
/** Bytes of one `struct iovec`. */
export const IOVEC_BYTES = 16;
/** Bytes of one `struct ifreq`. */
export const IFREQ_BYTES = 40;

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  recvmmsg: { parameters: ["i32", "pointer", "u32", "i32", "pointer"], result: "i32" },
  sendmmsg: { parameters: ["i32", "pointer", "u32", "i32"], result: "i32" },
  sendto: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "isize" },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
  if_nametoindex: { parameters: ["buffer"], result: "u32" },
  __errno_location: { parameters: [], result: "pointer" },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  open: { parameters: ["buffer", "i32"], result: "i32" },
  setns: { parameters: ["i32", "i32"], result: "i32" },
  // variadic in C; integer arguments pass the same way on LP64
  syscall: { parameters: ["i64", "i64", "i64", "i64"], result: "i64" },
  process_vm_readv: { parameters: ["i32", "buffer", "u64", "buffer", "u64", "u64"], result: "isize" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The bound libc functions (see `man 2 <name>`). */
export type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let lib: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;
let errnoView: Deno.UnsafePointerView | undefined;

/** libc of this isolate, opened on first use. Throws IoError ENOTSUP off Linux. */
export function libc(): Libc {
  if (!lib) {
    if (Deno.build.os !== "linux") {
      throw new IoError(95, "Cannot open libc: the packet I/O layer needs Linux");
    }
    lib = Deno.dlopen("libc.so.6", SYMBOLS);
  }
  return lib.symbols;
}

/** The calling thread's errno (read it right after the failing call). */
export function errno(): number {
  if (!errnoView) {
    const p = libc().__errno_location();
    if (!p) return 0;
    errnoView = new Deno.UnsafePointerView(p);
  }
  return errnoView.getInt32();
}

const ERRNO_NAMES: Record<number, [string, string]> = {
  1: ["EPERM", "operation not permitted"],
  2: ["ENOENT", "no such file or directory"],
  3: ["ESRCH", "no such process"],
  4: ["EINTR", "interrupted"],
  6: ["ENXIO", "no such device or address"],
  9: ["EBADF", "bad file descriptor"],
  11: ["EAGAIN", "would block"],
  12: ["ENOMEM", "out of memory"],
  13: ["EACCES", "permission denied"],
  14: ["EFAULT", "bad address pointer"],
  16: ["EBUSY", "device busy"],
  19: ["ENODEV", "no such device"],
  22: ["EINVAL", "invalid argument"],
  24: ["EMFILE", "too many open files"],
  38: ["ENOSYS", "not implemented by this kernel"],
  90: ["EMSGSIZE", "message too long"],
  93: ["EPROTONOSUPPORT", "protocol not supported"],
  95: ["EOPNOTSUPP", "operation not supported"],
  97: ["EAFNOSUPPORT", "address family not supported"],
  98: ["EADDRINUSE", "address in use"],
  99: ["EADDRNOTAVAIL", "address not available on this host"],
  100: ["ENETDOWN", "network is down"],
  101: ["ENETUNREACH", "network unreachable"],
  105: ["ENOBUFS", "no buffer space"],
  111: ["ECONNREFUSED", "connection refused"],
  113: ["EHOSTUNREACH", "no route to host"],
};

/** Symbolic name of a Linux errno (`"EADDRINUSE"`), or `E<n>`. */
export function errnoCode(n: number): string {
  return ERRNO_NAMES[n]?.[0] ?? `E${n}`;
}

/** Short text for a Linux errno. */
export function errnoMessage(n: number): string {
  return ERRNO_NAMES[n]?.[1] ?? `error ${n}`;
}

/**
 * A failed system call or a refused socket set-up. `code` is the errno
 * name (`"EADDRINUSE"`, `"ENODEV"`, …), `errno` its number. Messages read
 * "Cannot X: reason (CODE)".
 */
export class IoError extends Error {
  /** errno name, e.g. "EADDRINUSE". */
  readonly code: string;
  /** Linux errno number. */
  readonly errno: number;
  constructor(errnoValue: number, message: string) {
    super(message);
    this.errno = errnoValue;
    this.code = errnoCode(errnoValue);
    this.name = "IoError";
  }
}

/** Throw an IoError "Cannot `what`: <errno text> (CODE)`hint`" for the current errno. */
export function throwErrno(what: string, hint = "", e = errno()): never {
  throw new IoError(
    e,
    `Cannot ${what}: ${errnoMessage(e)} (${errnoCode(e)})${hint ? `; ${hint}` : ""}`,
  );
}

/** Address of the first byte of `view` as a bigint (the memory must not move: use ArrayBuffer/SAB backed views). */
export function addressOf(view: Uint8Array): bigint {
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(view as Uint8Array<ArrayBuffer>)));
}

/** A pointer `offset` bytes into `view`. */
export function pointerAt(view: Uint8Array, offset: number): Deno.PointerValue {
  return Deno.UnsafePointer.create(addressOf(view) + BigInt(offset));
}

/** NUL-terminated C string. */
export function cString(s: string): Uint8Array<ArrayBuffer> {
  const b = new TextEncoder().encode(s);
  const out = new Uint8Array(new ArrayBuffer(b.length + 1));
  out.set(b);
  return out;
}

/** Set an int socket option; returns 0 or -errno. */
export function setIntOption(fd: number, level: number, name: number, value: number): number {
  const v = new Uint8Array(new ArrayBuffer(4));
  new DataView(v.buffer).setInt32(0, value, true);
  return libc().setsockopt(fd, level, name, v, 4) === 0 ? 0 : -errno();
}

/** An `ifreq` with `ifr_name` set; throws IoError ENODEV for names too long. */
export function ifreq(ifname: string): Uint8Array<ArrayBuffer> {
  const name = new TextEncoder().encode(ifname);
  if (name.length === 0 || name.length > 15) {
    throw new IoError(19, `Cannot use interface "${ifname}": bad interface name (ENODEV)`);
  }
  const r = new Uint8Array(new ArrayBuffer(IFREQ_BYTES));
  r.set(name);
  return r;
}

/** Create a non-blocking eventfd (a doorbell another thread can ring with {@link ringDoorbell}). */
export function eventfd(): number {
  const fd = libc().eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) throwErrno("create eventfd");
  return fd;
}

const ONE = new Uint8Array(new ArrayBuffer(8));
new DataView(ONE.buffer).setBigUint64(0, 1n, true);
const SINK = new Uint8Array(new ArrayBuffer(8));

/** Add 1 to an eventfd (wakes a thread polling it). */
export function ringDoorbell(fd: number): void {
  libc().write(fd, ONE, 8n);
}

/** Reset an eventfd to 0 (non-blocking). */
export function drainDoorbell(fd: number): void {
  libc().read(fd, SINK, 8n);
}

/**
 * Run `fn` with the calling thread switched into the network namespace
 * `/var/run/netns/<name>` (as `ip netns exec` does), then switch back.
 * Sockets created inside stay in that namespace. Needs CAP_SYS_ADMIN.
 */
export function inNetns<T>(name: string, fn: () => T): T {
  const c = libc();
  const self = c.open(cString("/proc/thread-self/ns/net"), O_RDONLY | O_CLOEXEC);
  if (self < 0) throwErrno("open own network namespace");
  try {
    const target = c.open(cString(`/var/run/netns/${name}`), O_RDONLY | O_CLOEXEC);
    if (target < 0) throwErrno(`open network namespace ${name}`);
    const r = c.setns(target, CLONE_NEWNET);
    const e = errno();
    c.close(target);
    if (r < 0) throwErrno(`enter network namespace ${name}`, "", e);
    try {
      return fn();
    } finally {
      if (c.setns(self, CLONE_NEWNET) < 0) throwErrno("return to own network namespace");
    }
  } finally {
    c.close(self);
  }
}
