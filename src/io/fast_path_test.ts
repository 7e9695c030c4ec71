import { createSocket } from "node:dgram";
import { assert, assertBytes, assertEquals } from "../../tests/util/assert.ts";
import { fuzzDecoder } from "../../tests/util/fuzz.ts";
import { PacketCrypt } from "../crypto/aead.ts";
import { toHex } from "../lib/hash.ts";
import { FastRxControl, fastRxShared, FastRxTable, UDP_SHIM } from "./fast_rx.ts";
import { FastTxControl, fastTxShared, FastTxTable } from "./fast_tx.ts";
import { AF_INET, cString, libc, SOCK_DGRAM, SOCK_NONBLOCK } from "./libc.ts";
import { encodeSockaddr } from "./sockaddr.ts";

const KEY = Uint8Array.from({ length: 32 }, (_, i) => i * 3);
const O_WRONLY = 1, O_APPEND = 0o2000, O_CREAT = 0o100;

/** An IPv4 header (enough of one) from `src` to `dst`, `n` bytes long. */
function ip4(src: number[], dst: number[], n = 60): Uint8Array {
  const p = new Uint8Array(n);
  p[0] = 0x45;
  p.set(src, 12);
  p.set(dst, 16);
  for (let i = 20; i < n; i++) p[i] = i & 0xff;
  return p;
}

function datagram(eid: number, sdu: Uint8Array): Uint8Array {
  const d = new Uint8Array(4 + sdu.length);
  new DataView(d.buffer).setUint32(0, eid);
  d.set(sdu, 4);
  return d;
}

/** A processed datagram is taken (-1) or kept with a length within it. */
function keptOrTaken(r: number, d: Uint8Array): void {
  assert(r === -1 || (Number.isInteger(r) && r >= 0 && r <= d.length), `process returned ${r} for ${d.length} bytes`);
}

/** Run the Worker side's mailbox in this thread while `fn` runs. */
async function withPump<T>(poll: () => void, fn: () => Promise<T>): Promise<T> {
  const t = setInterval(poll, 1);
  try {
    return await fn();
  } finally {
    clearInterval(t);
  }
}

/** A file standing in for the TUN device, and a fresh fast receive table with its control. */
async function withDevice(
  fn: (d: { fd: number; path: string; table: FastRxTable; ctl: FastRxControl }) => Promise<void>,
): Promise<void> {
  const path = await Deno.makeTempFile();
  const fd = libc().open(cString(path), O_WRONLY | O_APPEND | O_CREAT);
  assert(fd >= 0);
  try {
    const shared = fastRxShared();
    await fn({ fd, path, table: new FastRxTable(shared), ctl: new FastRxControl(shared, () => {}) });
  } finally {
    libc().close(fd);
    await Deno.remove(path);
  }
}

Deno.test("fast rx: decrypts, checks sources by longest match, writes IP to the device, passes control in clear", async () => {
  const path = await Deno.makeTempFile();
  const fd = libc().open(cString(path), O_WRONLY | O_APPEND | O_CREAT);
  assert(fd >= 0);
  try {
    const shared = fastRxShared();
    const table = new FastRxTable(shared);
    const ctl = new FastRxControl(shared, () => {});
    await withPump(() => table.poll(), () =>
      ctl.install({
        id: 7,
        shim: UDP_SHIM,
        keys: [7],
        tunFd: fd,
        cipherNid: 901,
        key: toHex(KEY),
        pass: "a5".repeat(16),
        sources: [
          { family: 4, network: [10, 9, 0, 0], bits: 24 }, // ours
          { family: 4, network: [10, 9, 0, 128], bits: 25, other: true }, // nested, another peer's
        ],
      }));
    assertEquals(table.size, 1);
    const tx = new PacketCrypt(901, KEY);
    const good = ip4([10, 9, 0, 2], [10, 9, 0, 1]);
    assertEquals(table.process(datagram(7, tx.encrypt(good))), -1);
    // source in the nested prefix of another peer, or outside every prefix: dropped
    assertEquals(table.process(datagram(7, tx.encrypt(ip4([10, 9, 0, 200], [10, 9, 0, 1])))), -1);
    assertEquals(table.process(datagram(7, tx.encrypt(ip4([192, 168, 0, 1], [10, 9, 0, 1])))), -1);
    assertEquals(table.process(datagram(7, tx.encrypt(new Uint8Array([0x45, 1, 2])))), -1); // too short
    // tampered: dropped
    const bad = datagram(7, tx.encrypt(good));
    bad[bad.length - 1]! ^= 1;
    assertEquals(table.process(bad), -1);
    // control SDU: kept, rewritten in clear behind the pass token
    const control = new Uint8Array([0x04, 0, 0, 0, 9]);
    const d = datagram(7, tx.encrypt(control));
    const n = table.process(d);
    assertEquals(n, 4 + 16 + control.length);
    assertBytes(d.subarray(4, 20), new Uint8Array(16).fill(0xa5));
    assertBytes(d.subarray(20, n), control);
    // other eids and runts are not ours
    const other = datagram(8, good);
    assertEquals(table.process(other), other.length);
    assertEquals(table.process(new Uint8Array(3)), 3);

    const c = ctl.counters(7)!;
    assertEquals([c.packets, c.bytes, c.spoofed, c.badCrypto, c.passed], [1, good.length, 3, 1, 1]);
    assert(c.lastRxMs > 0);
    assertBytes(await Deno.readFile(path), good);

    // hostile input never throws, and only authentic packets (replays of the
    // seed: this layer has no replay window) reach the device
    const seeds = [datagram(7, tx.encrypt(good)), datagram(7, tx.encrypt(control))];
    fuzzDecoder((b) => keptOrTaken(table.process(b), b), seeds, 3000, 5);
    const written = await Deno.readFile(path);
    assertEquals(written.length % good.length, 0);
    for (let i = 0; i < written.length; i += good.length) assertBytes(written.subarray(i, i + good.length), good);

    await withPump(() => table.poll(), () => ctl.remove(7));
    assertEquals(table.size, 0);
    assertEquals(table.process(datagram(7, tx.encrypt(good))), 4 + tx.overhead + good.length);
  } finally {
    libc().close(fd);
    await Deno.remove(path);
  }
});

Deno.test("fast tx: routes by longest match, seals, sends eid ‖ SDU; control SDUs go through the ring", async () => {
  const peer = createSocket("udp4");
  const got: Uint8Array[] = [];
  peer.on("message", (m: Uint8Array) => got.push(new Uint8Array(m)));
  await new Promise<void>((r) => peer.bind(0, "127.0.0.1", r));
  const receive = async () => {
    for (let i = 0; i < 200 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    return got.shift()!;
  };
  const c = libc();
  const fd = c.socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  assert(fd >= 0);
  try {
    const shared = fastTxShared();
    const table = new FastTxTable(shared);
    const ctl = new FastTxControl(shared, () => {});
    const dst = encodeSockaddr({ hostname: "127.0.0.1", port: peer.address().port }, AF_INET);
    await withPump(() => table.poll(), async () => {
      await ctl.install({ slot: 3, fd, dst: [...dst], header: [1, 2, 3, 4], cipherNid: 1018, key: toHex(KEY), mtu: 100 });
      await ctl.routes([
        { family: 4, network: [10, 9, 0, 0], bits: 24, slot: 3 },
        { family: 4, network: [10, 9, 0, 128], bits: 25, slot: -1 }, // a peer without a fast flow
      ]);
    });
    const rx = new PacketCrypt(1018, KEY);
    const pkt = ip4([10, 9, 0, 1], [10, 9, 0, 2]);
    assertEquals(table.process(pkt), true);
    const first = await receive();
    assertEquals(new DataView(first.buffer).getUint32(0), 0x01020304);
    assertBytes(rx.decrypt(first.subarray(4))!, pkt);

    assertEquals(table.process(ip4([10, 9, 0, 1], [10, 9, 0, 200])), false, "nested prefix without a fast flow");
    assertEquals(table.process(ip4([10, 9, 0, 1], [10, 8, 0, 2])), false, "no route");
    assertEquals(table.process(ip4([10, 9, 0, 1], [10, 9, 0, 2], 101)), false, "larger than the MTU");
    assertEquals(table.process(new Uint8Array([0x45, 0])), false, "runt");

    const control = new Uint8Array([0x04, 0, 0, 0, 1]);
    assert(ctl.send(3, control));
    assertEquals(ctl.send(9, control), false, "no such slot");
    table.poll();
    assertBytes(rx.decrypt((await receive()).subarray(4))!, control);
    const k = ctl.counters(3);
    assertEquals([k.packets, k.bytes, k.errors], [2, pkt.length + control.length, 0]);

    // a header with a length field (as Ethernet shims have): set per packet
    const fd2 = c.socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    await withPump(() => table.poll(), () =>
      ctl.install({ slot: 4, fd: fd2, dst: [...dst], header: [9, 9, 0, 0], lenAt: 2, lenAdd: 5, cipherNid: 1018, key: toHex(KEY), mtu: 100 }));
    assert(ctl.send(4, control));
    table.poll();
    const withLen = await receive();
    assertEquals([withLen[0], withLen[1]], [9, 9]);
    assertEquals((withLen[2]! << 8) | withLen[3]!, withLen.length - 4 + 5);
    assertBytes(rx.decrypt(withLen.subarray(4))!, control);
    await withPump(() => table.poll(), () => ctl.remove(4));
    await withPump(() => table.poll(), () => ctl.remove(3)); // closes the socket
    assertEquals(table.size, 0);
    assertEquals(table.process(pkt), false);
  } finally {
    peer.close();
  }
});

Deno.test("fast rx over a unicast layer: finds the flow by DT address and eid; ECN marks go the normal way", async () => {
  await withDevice(async ({ fd, path, table, ctl }) => {
    // DT PCI of 15 bytes: dst (4) qc ttl ecn eid (8); our address 0x0a000002, our eid 0x77
    const dt = { len: 15, match: [{ at: 0, bytes: [2, 0, 0, 10] }, { at: 7, bytes: [0x77, 0, 0, 0, 0, 0, 0, 0] }], ecnAt: 6 };
    await withPump(() => table.poll(), () =>
      ctl.install({
        id: 41,
        shim: UDP_SHIM,
        keys: [5, 6],
        dt,
        tunFd: fd,
        cipherNid: 0,
        sources: [{ family: 4, network: [0, 0, 0, 0], bits: 0 }],
      }));
    const pci = (dst: number[], ecn: number, eid: number) => {
      const p = new Uint8Array(15);
      p.set(dst, 0);
      p[4] = 0;
      p[5] = 63;
      p[6] = ecn;
      p[7] = eid;
      return p;
    };
    const pkt = ip4([10, 9, 0, 2], [10, 9, 0, 1]);
    const dgram = (eid: number, h: Uint8Array, sdu: Uint8Array) => datagram(eid, Uint8Array.from([...h, ...sdu]));
    assertEquals(table.process(dgram(5, pci([2, 0, 0, 10], 0, 0x77), pkt)), -1, "on one N-1 flow");
    assertEquals(table.process(dgram(6, pci([2, 0, 0, 10], 0, 0x77), pkt)), -1, "and on another");
    const other = dgram(5, pci([2, 0, 0, 10], 0, 0x78), pkt);
    assertEquals(table.process(other), other.length, "another eid: not ours");
    const fwd = dgram(5, pci([3, 0, 0, 10], 0, 0x77), pkt);
    assertEquals(table.process(fwd), fwd.length, "another address (to forward): not ours");
    const marked = dgram(5, pci([2, 0, 0, 10], 1, 0x77), pkt);
    assertEquals(table.process(marked), marked.length, "ECN marked: the layer must see it");
    const runt = datagram(5, pci([2, 0, 0, 10], 0, 0x77).subarray(0, 10));
    assertEquals(table.process(runt), runt.length, "shorter than the PCI");
    assertEquals(ctl.counters(41)!.packets, 2);
    assertBytes(await Deno.readFile(path), Uint8Array.from([...pkt, ...pkt]));
    fuzzDecoder((b) => keptOrTaken(table.process(b), b), [dgram(5, pci([2, 0, 0, 10], 0, 0x77), pkt)], 2000, 9);
  });
});

Deno.test("fast rx over Ethernet: the header's length field bounds a padded frame, and follows a rewrite", async () => {
  await withDevice(async ({ fd, path, table, ctl }) => {
    // eth-dix: dst(6) src(6) ethertype 0xa000 eid(2) length(2) payload
    const shim = { len: 18, keyAt: 14, keyLen: 2, head: [{ at: 12, bytes: [0xa0, 0x00] }], lenAt: 16, lenSub: 0 };
    await withPump(() => table.poll(), () =>
      ctl.install({
        id: 9,
        shim,
        keys: [0x0102],
        tunFd: fd,
        cipherNid: 1018,
        key: toHex(KEY),
        pass: "5a".repeat(16),
        sources: [{ family: 4, network: [10, 9, 0, 0], bits: 24 }],
      }));
    const tx = new PacketCrypt(1018, KEY);
    const frame = (sdu: Uint8Array, pad = 0, ethertype = 0xa000) => {
      const sealed = tx.encrypt(sdu);
      const f = new Uint8Array(18 + sealed.length + pad);
      f.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, ethertype >> 8, ethertype & 0xff, 1, 2, sealed.length >> 8, sealed.length & 0xff]);
      f.set(sealed, 18);
      return f;
    };
    const pkt = ip4([10, 9, 0, 2], [10, 9, 0, 1], 30);
    assertEquals(table.process(frame(pkt, 30)), -1, "padded to the minimum: only `length` bytes are the packet");
    assertBytes(await Deno.readFile(path), pkt);
    const other = frame(pkt, 0, 0x0800);
    assertEquals(table.process(other), other.length, "another Ethertype: not ours");
    const lying = frame(pkt);
    lying[17] = 0xff; // says longer than the frame: left, untouched, to the shim's decoder
    const before = lying.slice();
    assertEquals(table.process(lying), lying.length);
    assertBytes(lying, before);
    // a control SDU comes back in clear behind the token, with the length field rewritten
    const control = new Uint8Array([0x05, 0, 0, 0, 1]);
    const c = frame(control, 20);
    const n = table.process(c);
    assertEquals(n, 18 + 16 + control.length);
    assertEquals((c[16]! << 8) | c[17]!, 16 + control.length);
    assertBytes(c.subarray(18 + 16, n), control);
    const written = (await Deno.readFile(path)).length;
    fuzzDecoder((b) => keptOrTaken(table.process(b), b), [frame(pkt, 10), frame(control)], 2000, 11);
    // only authentic packets reach the device: whole copies of the one sealed above (no replay window here)
    const all = await Deno.readFile(path);
    assertEquals((all.length - written) % pkt.length, 0);
    for (let i = written; i < all.length; i += pkt.length) assertBytes(all.subarray(i, i + pkt.length), pkt);
  });
});
