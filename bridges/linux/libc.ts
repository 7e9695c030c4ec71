/**
 * The few libc calls the Linux TUN bridge needs, through Deno FFI, plus
 * errno access and the Linux constants they take. Loaded lazily once per
 * thread (the main thread and each TUN Worker load their own copy).
 *
 * Pointer arguments of read/write are declared `usize` so hot paths pass
 * an address (`base + offset`, a bigint: that keeps V8's fast call path)
 * into a SharedArrayBuffer without allocating pointer objects per call.
 * @module
 */

const SYMBOLS = {
  open: { parameters: ["buffer", "i32", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
  read: { parameters: ["i32", "usize", "usize"], result: "isize" },
  write: { parameters: ["i32", "usize", "usize"], result: "isize" },
  readBuf: { name: "read", parameters: ["i32", "buffer", "usize"], result: "isize" },
  writeBuf: { name: "write", parameters: ["i32", "buffer", "usize"], result: "isize" },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32" },
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  send: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  recv: { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

/** The loaded libc symbols. */
export type Libc = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let lib: Deno.DynamicLibrary<typeof SYMBOLS> | undefined;

/** Load libc (once per thread). Throws if FFI is not permitted. */
export function libc(): Libc {
  lib ??= Deno.dlopen("libc.so.6", SYMBOLS);
  return lib.symbols;
}

/** The calling thread's `errno` (read right after a failing call). */
export function errno(): number {
  const p = libc().__errno_location();
  return p === null ? 0 : new Deno.UnsafePointerView(p).getInt32();
}

/**
 * The address of the first byte of a shared buffer. Only for memory that
 * never moves (SharedArrayBuffer): small ordinary typed arrays may live on
 * V8's heap and move under GC; pass those as `buffer` arguments instead.
 */
export function addressOf(bytes: Uint8Array): bigint {
  if (!(bytes.buffer instanceof SharedArrayBuffer)) {
    throw new TypeError("addressOf needs shared memory");
  }
  const p = Deno.UnsafePointer.of(bytes as Uint8Array<ArrayBuffer>);
  return p === null ? 0n : BigInt(Deno.UnsafePointer.value(p));
}

/** A NUL-terminated C string. */
export function cstr(s: string): Uint8Array {
  const b = new TextEncoder().encode(s);
  const out = new Uint8Array(b.length + 1);
  out.set(b);
  return out;
}

/** Linux errno values this bridge reports on. */
export const E = {
  EPERM: 1,
  ENOENT: 2,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  EBADF: 9,
  EAGAIN: 11,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  ENETDOWN: 100,
  EAFNOSUPPORT: 97,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  ENETUNREACH: 101,
  ESRCH: 3,
  EOPNOTSUPP: 95,
  ERANGE: 34,
} as const;

const E_NAMES = new Map<number, string>(Object.entries(E).map(([k, v]) => [v, k]));

/** `EPERM`-style name of an errno value (or `E<n>`). */
export function errnoName(n: number): string {
  return E_NAMES.get(Math.abs(n)) ?? `E${Math.abs(n)}`;
}

/** open(2) flags. */
export const O_RDWR = 0o2;
/** Non-blocking I/O. */
export const O_NONBLOCK = 0o4000;
/** Close on exec. */
export const O_CLOEXEC = 0o2000000;

/** poll(2) events. */
export const POLLIN = 0x1;
/** Writable. */
export const POLLOUT = 0x4;
/** Error condition. */
export const POLLERR = 0x8;
/** Hang-up. */
export const POLLHUP = 0x10;
/** Invalid fd. */
export const POLLNVAL = 0x20;

/** eventfd(2) flags. */
export const EFD_NONBLOCK = 0o4000;
/** Close on exec. */
export const EFD_CLOEXEC = 0o2000000;

/** socket(2) constants. */
export const AF_INET = 2;
/** Netlink family. */
export const AF_NETLINK = 16;
/** Datagram socket. */
export const SOCK_DGRAM = 2;
/** Raw socket. */
export const SOCK_RAW = 3;
/** Close-on-exec socket flag. */
export const SOCK_CLOEXEC = 0o2000000;
/** setsockopt level for sockets. */
export const SOL_SOCKET = 1;
/** Receive timeout option (struct timeval). */
export const SO_RCVTIMEO = 20;
