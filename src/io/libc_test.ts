import { assert, assertEquals, assertThrows } from "../../tests/util/assert.ts";
import {
  AF_INET,
  drainDoorbell,
  errno,
  errnoCode,
  eventfd,
  ifreq,
  inNetns,
  IoError,
  libc,
  POLLIN,
  ringDoorbell,
  SOCK_DGRAM,
  throwErrno,
} from "./libc.ts";

Deno.test("libc: errno reports the failure of the last call", () => {
  assertEquals(libc().close(-1), -1);
  assertEquals(errno(), 9);
  assertEquals(errnoCode(9), "EBADF");
  const fd = libc().socket(AF_INET, SOCK_DGRAM, 0);
  assert(fd >= 0);
  assertEquals(libc().close(fd), 0);
});

Deno.test("libc: IoError carries code, number and a 'Cannot' message", () => {
  libc().close(-1);
  const e = assertThrows(() => throwErrno("close fd -1", "it was never open"), IoError) as IoError;
  assertEquals([e.code, e.errno], ["EBADF", 9]);
  assertEquals(e.message, "Cannot close fd -1: bad file descriptor (EBADF); it was never open");
  assertEquals(new IoError(4242, "x").code, "E4242");
  assertEquals(
    (assertThrows(() => ifreq("a-name-that-is-too-long"), IoError) as IoError).code,
    "ENODEV",
  );
});

Deno.test("libc: a doorbell eventfd wakes poll and drains to quiet", () => {
  const fd = eventfd();
  try {
    const pfd = new Uint8Array(8);
    const dv = new DataView(pfd.buffer);
    dv.setInt32(0, fd, true);
    dv.setInt16(4, POLLIN, true);
    assertEquals(libc().poll(pfd, 1n, 0), 0);
    ringDoorbell(fd);
    ringDoorbell(fd);
    assertEquals(libc().poll(pfd, 1n, 0), 1);
    drainDoorbell(fd);
    assertEquals(libc().poll(pfd, 1n, 0), 0);
  } finally {
    libc().close(fd);
  }
});

Deno.test("libc: inNetns names a missing namespace and restores ours", () => {
  const before = Deno.readLinkSync("/proc/thread-self/ns/net");
  const e = assertThrows(() => inNetns("ouro-io-absent-namespace", () => 1), IoError) as IoError;
  assertEquals(e.code, "ENOENT");
  assertEquals(Deno.readLinkSync("/proc/thread-self/ns/net"), before);
});
