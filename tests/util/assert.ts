/**
 * Test assertions (no @std here: jsr is unreachable), on top of node:assert.
 * @module
 */
import assert from "node:assert/strict";

export function assertEquals<T>(actual: unknown, expected: T, msg?: string): asserts actual is T {
  assert.deepStrictEqual(actual, expected, msg);
}
export function assertNotEquals(actual: unknown, expected: unknown, msg?: string): void {
  assert.notDeepStrictEqual(actual, expected, msg);
}
export function assert_(cond: unknown, msg?: string): asserts cond {
  assert.ok(cond, msg);
}
export { assert_ as assert };
export function assertMatch(s: string, re: RegExp, msg?: string): void {
  assert.match(s, re, msg);
}
export function assertStringIncludes(s: string, part: string, msg?: string): void {
  if (!s.includes(part)) throw new assert.AssertionError({ message: msg ?? `expected ${JSON.stringify(s.slice(0, 2000))} to include ${JSON.stringify(part)}` });
}
// deno-lint-ignore no-explicit-any
type Ctor = new (...a: any[]) => Error;
export function assertThrows(fn: () => unknown, cls?: Ctor, includes?: string): Error {
  try {
    fn();
  } catch (e) {
    if (cls && !(e instanceof cls)) throw new assert.AssertionError({ message: `expected ${cls.name}, got ${e}` });
    if (includes && !String((e as Error).message).includes(includes)) {
      throw new assert.AssertionError({ message: `error ${(e as Error).message} lacks ${includes}` });
    }
    return e as Error;
  }
  throw new assert.AssertionError({ message: "expected function to throw" });
}
export async function assertRejects(fn: () => Promise<unknown>, cls?: Ctor, includes?: string): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    if (cls && !(e instanceof cls)) throw new assert.AssertionError({ message: `expected ${cls.name}, got ${e}` });
    if (includes && !String((e as Error).message).includes(includes)) {
      throw new assert.AssertionError({ message: `error ${(e as Error).message} lacks ${includes}` });
    }
    return e as Error;
  }
  throw new assert.AssertionError({ message: "expected promise to reject" });
}
export function assertBytes(actual: Uint8Array, expected: Uint8Array, msg?: string): void {
  assert.deepStrictEqual(Array.from(actual), Array.from(expected), msg);
}
