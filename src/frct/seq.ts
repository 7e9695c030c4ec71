/**
 * Sequence-number arithmetic modulo 2^32 and 24-bit window reconstruction
 * (spec 03 §2.2, §7).
 * @module
 */
import { FRCT_WINDOW_MASK } from "./constants.ts";

/** `a` comes before `b` modulo 2^32: `(int32)(a - b) < 0`. */
export function before(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/** `a` comes after `b` modulo 2^32: `(int32)(b - a) < 0`. */
export function after(a: number, b: number): boolean {
  return ((b - a) | 0) < 0;
}

/** `(a + n) mod 2^32`. */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/**
 * Reconstruct the peer's 32-bit right window edge from a 24-bit `window`
 * field and the current `snd.rwe` (spec 03 §7). The result may lie before
 * `sndRwe` (the reference lets the edge move backwards).
 */
export function unwrapWindow(window: number, sndRwe: number): number {
  let rwe = ((window & FRCT_WINDOW_MASK) | (sndRwe & 0xff000000)) >>> 0;
  if (before(rwe, sndRwe) && ((sndRwe - rwe) >>> 0) > 0x7fffff) rwe = (rwe + 0x01000000) >>> 0;
  return rwe;
}
