import { assert, assertEquals, assertThrows } from "../../tests/util/assert.ts";
import { borrowFd, readProcessMemory } from "./pidfd.ts";
import { addressOf, cString, IoError, libc } from "./libc.ts";

Deno.test("pidfd: a borrowed fd reads the same open file; bad pid or fd is a typed error", async () => {
  const path = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(path, "borrowed bytes");
    const c = libc();
    const fd = c.open(cString(path), 0);
    assert(fd >= 0, "open");
    const dup = borrowFd(Deno.pid, fd);
    assert(dup !== fd && dup >= 0);
    const buf = new Uint8Array(64);
    const n = Number(c.read(dup, buf, 64n));
    assertEquals(new TextDecoder().decode(buf.subarray(0, n)), "borrowed bytes");
    c.close(dup);
    c.close(fd);
    assertEquals((assertThrows(() => borrowFd(Deno.pid, 99999), IoError) as IoError).code, "EBADF");
    assertEquals((assertThrows(() => borrowFd(0x3ffffff0, 0), IoError) as IoError).code, "ESRCH");
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("pidfd: reading a process's memory at an address it names proves who it is", () => {
  const secret = crypto.getRandomValues(new Uint8Array(16));
  const addr = addressOf(secret);
  assertEquals(readProcessMemory(Deno.pid, addr, 16), secret);
  assertEquals((assertThrows(() => readProcessMemory(Deno.pid, 8n, 16), IoError) as IoError).code, "EFAULT");
  assertEquals((assertThrows(() => readProcessMemory(0x3ffffff0, addr, 16), IoError) as IoError).code, "ESRCH");
});
