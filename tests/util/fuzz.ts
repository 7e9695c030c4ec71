/**
 * Fuzzing helpers: feed random and mutated input to a decoder and require
 * that it either returns or throws a {@link DecodeError} — nothing else.
 * @module
 */
import { DecodeError } from "../../src/lib/errors.ts";

/** Small seeded PRNG (xorshift32) so failures are reproducible. */
export function rng(seed = 0x9e3779b9): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

/** A mutation of `seed`: bit flips, truncation, extension, byte overwrite. */
export function mutate(seed: Uint8Array, r: () => number): Uint8Array {
  const kind = Math.floor(r() * 5);
  let b = seed.slice();
  switch (kind) {
    case 0: // flip bits
      for (let i = 0, n = 1 + Math.floor(r() * 4); i < n && b.length; i++) {
        b[Math.floor(r() * b.length)]! ^= 1 << Math.floor(r() * 8);
      }
      break;
    case 1: // truncate
      b = b.slice(0, Math.floor(r() * b.length));
      break;
    case 2: { // extend with random bytes
      const ext = new Uint8Array(b.length + 1 + Math.floor(r() * 64));
      ext.set(b);
      for (let i = b.length; i < ext.length; i++) ext[i] = Math.floor(r() * 256);
      b = ext;
      break;
    }
    case 3: // overwrite a byte with an extreme value
      if (b.length) b[Math.floor(r() * b.length)] = [0, 0xff, 0x7f, 0x80][Math.floor(r() * 4)]!;
      break;
    default: // random garbage of similar size
      b = new Uint8Array(Math.floor(r() * (seed.length * 2 + 8)));
      for (let i = 0; i < b.length; i++) b[i] = Math.floor(r() * 256);
  }
  return b;
}

/**
 * Run `decode` on `iterations` inputs derived from `seeds`. Throws if the
 * decoder throws anything but a DecodeError. Returns counts for assertions.
 */
export function fuzzDecoder(
  decode: (b: Uint8Array) => unknown,
  seeds: Uint8Array[],
  iterations = 20000,
  seed = 1,
): { ok: number; rejected: number } {
  const r = rng(seed);
  let ok = 0, rejected = 0;
  for (let i = 0; i < iterations; i++) {
    const s = seeds.length ? seeds[i % seeds.length]! : new Uint8Array(0);
    const input = mutate(s, r);
    try {
      decode(input);
      ok++;
    } catch (e) {
      if (!(e instanceof DecodeError)) {
        throw new Error(
          `decoder threw ${(e as Error)?.name}: ${(e as Error)?.message} on input ${
            Array.from(input).map((x) => x.toString(16).padStart(2, "0")).join("")
          }`,
        );
      }
      rejected++;
    }
  }
  return { ok, rejected };
}
