/**
 * Per-packet cost of flow encryption (spec 04 §8) and the CRC trailer.
 * Prints µs per packet (default 1400 B) for seal and open of each cipher, with a
 * plain buffer copy as the baseline of the same run. Each figure is the best of
 * 10 rounds (the machine is shared: the best round is the least disturbed).
 *
 *   deno run -A bench/crypto_bench.ts [packets] [bytes]
 * @module
 */
import { PacketCrypt } from "../src/crypto/aead.ts";
import { crc32 } from "../src/crypto/crc.ts";
import { CipherNid } from "../src/crypto/nid.ts";

const N = Number(Deno.args[0] ?? 20000);
const SIZE = Number(Deno.args[1] ?? 1400);
const key = crypto.getRandomValues(new Uint8Array(32));
const plain = crypto.getRandomValues(new Uint8Array(SIZE));

const ROUNDS = 10;

function time(fn: () => void): number {
  for (let i = 0; i < Math.min(2000, N); i++) fn(); // warm-up
  const n = Math.max(1, Math.floor(N / ROUNDS));
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn();
    best = Math.min(best, ((performance.now() - t0) * 1000) / n); // µs per op
  }
  return best;
}

let sink = 0;
const base = time(() => {
  sink += plain.slice()[0]!;
});
const rows: [string, number][] = [[`copy ${SIZE} B (baseline)`, base]];
for (
  const [name, nid] of [
    ["aes-256-gcm", CipherNid.AES_256_GCM],
    ["chacha20-poly1305", CipherNid.CHACHA20_POLY1305],
    ["aes-128-ctr", CipherNid.AES_128_CTR],
  ] as const
) {
  const tx = new PacketCrypt(nid, key), rx = new PacketCrypt(nid, key);
  const sealed = Array.from({ length: 64 }, () => tx.encrypt(plain));
  let j = 0;
  rows.push([`${name} seal`, time(() => (sink += tx.encrypt(plain).length))]);
  rows.push([`${name} open`, time(() => (sink += rx.decrypt(sealed[j++ & 63]!)!.length))]);
}
rows.push([`crc32 ${SIZE} B`, time(() => (sink += crc32(plain)))]);

console.log(`crypto_bench: ${N} packets of ${SIZE} B, Deno ${Deno.version.deno}`);
for (const [n, us] of rows) {
  const mbps = (SIZE * 8) / us; // bits per µs = Mbit/s
  console.log(
    `${n.padEnd(28)} ${us.toFixed(2).padStart(7)} µs  ${
      (us / base).toFixed(1).padStart(6)
    }× baseline  ${mbps.toFixed(0).padStart(6)} Mbit/s`,
  );
}
if (sink === -1) console.log(sink);
