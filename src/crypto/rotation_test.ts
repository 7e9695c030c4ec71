import { assert, assertEquals } from "../../tests/util/assert.ts";
import { bytesEqual } from "../lib/hash.ts";
import { KeyRotation, PRV_DROP_AGE, ROTATION_MASK, RX_ROTATE_AGE } from "./rotation.ts";
import { rotateKey, rotationSalt } from "./kdf.ts";

const KEY = Uint8Array.from({ length: 32 }, (_, i) => 255 - i);

Deno.test("rotation: constants", () => {
  assertEquals([ROTATION_MASK, RX_ROTATE_AGE, PRV_DROP_AGE], [1048576, 786432, 524288]);
});

Deno.test("rotation: tx rotates when bit 20 flips, drops prv at age 2^19", () => {
  const r = new KeyRotation(KEY, { cntr: ROTATION_MASK - 1, age: 5 });
  const t = r.nextTx();
  assertEquals(t.phaseBit, 0);
  assert(bytesEqual(t.key, KEY));
  assertEquals([r.cntr, r.age, r.phase, r.hasPrevious], [ROTATION_MASK, 0, 1, true]);
  assert(bytesEqual(r.current, rotateKey(KEY, rotationSalt(KEY))));
  assertEquals(r.nextTx().phaseBit, 1);
  const s = new KeyRotation(KEY, { cntr: 5, age: PRV_DROP_AGE - 1 });
  s.nextRx(0);
  assertEquals(s.nextRx(0).length, 1, "no prv yet");
});

Deno.test("rotation: rx rotates on a phase change only when old enough", () => {
  const young = new KeyRotation(KEY, { age: RX_ROTATE_AGE - 1 });
  assertEquals(young.nextRx(1).length, 1);
  assertEquals(young.phase, 0);
  const old = new KeyRotation(KEY, { age: RX_ROTATE_AGE });
  const keys = old.nextRx(1);
  assertEquals([old.phase, old.age, old.cntr, keys.length], [1, 1, 1, 2]);
  assert(bytesEqual(keys[1]!, KEY));
});

/**
 * Two peers exchanging packets by `pattern` (true = a→b, false = b→a); every
 * packet must be decryptable at the receiver with one of the keys it tries.
 */
function simulate(
  n: number,
  pattern: (i: number) => boolean,
): { a: KeyRotation; b: KeyRotation; rotations: number } {
  const a = new KeyRotation(KEY), b = new KeyRotation(KEY);
  let rotations = 0, lastPhase = 0;
  for (let i = 0; i < n; i++) {
    const [tx, rx] = pattern(i) ? [a, b] : [b, a];
    const { key, phaseBit } = tx.nextTx();
    const keys = rx.nextRx(phaseBit);
    if (!keys.some((k) => k === key || bytesEqual(k, key))) {
      throw new Error(`packet ${i} undecryptable (tx cntr ${tx.cntr}, rx cntr ${rx.cntr})`);
    }
    if (a.phase !== lastPhase) (rotations++, (lastPhase = a.phase));
  }
  return { a, b, rotations };
}

Deno.test("rotation: one-way stream over 2.5 × 2^20 packets stays decryptable", () => {
  const { a, b, rotations } = simulate(2.5 * ROTATION_MASK, () => true);
  assertEquals(rotations, 2);
  assert(bytesEqual(a.current, b.current));
});

Deno.test("rotation: ping-pong and bursty two-way traffic stay decryptable", () => {
  simulate(3 * ROTATION_MASK, (i) => i % 2 === 0);
  simulate(3 * ROTATION_MASK, (i) => i % 5 !== 0); // 4 a→b per b→a
});
