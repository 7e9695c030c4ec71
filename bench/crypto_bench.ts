/**
 * Per-packet cost of flow encryption (spec 04 §8) and the CRC trailer.
 * Prints µs per packet (default 1400 B) for seal and open of each cipher on
 * both backends (libcrypto through FFI, and node:crypto as the baseline of the
 * same run, with the speed-up), and a plain buffer copy for scale. Each figure is the best of
 * 10 rounds (the machine is shared: the best round is the least disturbed).
 *
 *   deno run -A bench/crypto_bench.ts [packets] [bytes]
 * @module
 */
import { PacketCrypt } from "../src/crypto/aead.ts";
import { crc32 } from "../src/crypto/crc.ts";
import { CipherNid } from "../src/crypto/nid.ts";
import { aeadBackend } from "../src/crypto/evp.ts";

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
const rows: [string, number, string][] = [[`copy ${SIZE} B`, base, ""]];
for (
  const [name, nid] of [
    ["aes-256-gcm", CipherNid.AES_256_GCM],
    ["chacha20-poly1305", CipherNid.CHACHA20_POLY1305],
    ["aes-128-ctr", CipherNid.AES_128_CTR],
  ] as const
) {
  const us: Record<string, [number, number]> = {};
  for (const backend of ["node:crypto", undefined] as const) {
    const tx = new PacketCrypt(nid, key, undefined, backend);
    const rx = new PacketCrypt(nid, key, undefined, backend);
    const sealed = Array.from({ length: 64 }, () => tx.encrypt(plain));
    let j = 0;
    us[tx.backend] = [
      time(() => (sink += tx.encrypt(plain).length)),
      time(() => (sink += rx.decrypt(sealed[j++ & 63]!)!.length)),
    ];
  }
  const node = us["node:crypto"]!, lib = us["libcrypto"];
  rows.push([`${name} seal node:crypto`, node[0], ""]);
  rows.push([`${name} open node:crypto`, node[1], ""]);
  if (lib) {
    rows.push([`${name} seal libcrypto`, lib[0], `${(node[0] / lib[0]).toFixed(1)}× faster`]);
    rows.push([`${name} open libcrypto`, lib[1], `${(node[1] / lib[1]).toFixed(1)}× faster`]);
  }
}
rows.push([`crc32 ${SIZE} B`, time(() => (sink += crc32(plain))), ""]);

const be = aeadBackend();
const why = be.reason ? ` (${be.reason})` : "";
console.log(
  `crypto_bench: ${N} packets of ${SIZE} B, Deno ${Deno.version.deno}, flows use ${be.name}${why}`,
);
for (const [n, us, vs] of rows) {
  const mbps = (SIZE * 8) / us; // bits per µs = Mbit/s
  console.log(`${n.padEnd(34)} ${us.toFixed(2).padStart(7)} µs  ${mbps.toFixed(0).padStart(6)} Mbit/s  ${vs}`);
}
if (sink === -1) console.log(sink);
