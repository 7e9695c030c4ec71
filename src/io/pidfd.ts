/**
 * Borrow a file descriptor of another process on this host (Linux ≥ 5.6:
 * `pidfd_open` + `pidfd_getfd`). The IRMd and a tunnel use it to hand each
 * other the sockets and devices of a flow's fast path, so packets skip the
 * IRMd's main thread. Needs ptrace rights over the other process (root, or
 * the same user where Yama allows it); callers fall back to the slow path
 * when it fails.
 *
 * @example
 * ```ts ignore
 * import { borrowFd } from "./pidfd.ts";
 * const fd = borrowFd(irmdPid, udpSocketFd); // a new fd in this process
 * ```
 * @module
 */
import { addressOf, IoError, libc, throwErrno } from "./libc.ts";

const SYS_PIDFD_OPEN = 434n, SYS_PIDFD_GETFD = 438n;

/**
 * A duplicate, in this process, of fd `fd` of process `pid` (close-on-exec).
 * @throws IoError with the errno (ESRCH: no such process, EPERM: no
 *   ptrace rights, EBADF: no such fd, ENOSYS: kernel older than 5.6)
 */
export function borrowFd(pid: number, fd: number): number {
  const c = libc();
  const pfd = Number(c.syscall(SYS_PIDFD_OPEN, BigInt(pid), 0n, 0n));
  if (pfd < 0) throwErrno(`open process ${pid}`);
  try {
    const got = Number(c.syscall(SYS_PIDFD_GETFD, BigInt(pfd), BigInt(fd), 0n));
    if (got < 0) throwErrno(`borrow fd ${fd} of process ${pid}`);
    return got;
  } finally {
    c.close(pfd);
  }
}

/**
 * Read `n` bytes at address `addr` in process `pid` (`process_vm_readv`;
 * needs ptrace rights). Proves who a local peer is: only that process can
 * have put a fresh random value at an address it names.
 * @throws IoError with the errno (ESRCH, EPERM, EFAULT: nothing mapped there)
 */
export function readProcessMemory(pid: number, addr: bigint, n: number): Uint8Array {
  const out = new Uint8Array(n);
  const local = new BigUint64Array([addressOf(out), BigInt(n)]);
  const remote = new BigUint64Array([addr, BigInt(n)]);
  const got = Number(
    libc().process_vm_readv(pid, new Uint8Array(local.buffer), 1n, new Uint8Array(remote.buffer), 1n, 0n),
  );
  if (got < 0) throwErrno(`read the memory of process ${pid}`);
  if (got !== n) throw new IoError(14, `Cannot read the memory of process ${pid}: short read (EFAULT)`);
  return out;
}
