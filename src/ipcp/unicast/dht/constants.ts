/**
 * DHT directory constants (spec 13 §1), the reference's values. The first
 * five are layer-config defaults; the rest are protocol constants. Local
 * tunables of this port (not in the reference) are marked as such.
 * @module
 */

/** Parallel requests per lookup round (config `alpha`). */
export const DHT_ALPHA = 3;
/** Bucket size and replication factor (config `k`). */
export const DHT_K = 8;
/** Lifetime of a published value (config `t_expire`, s). */
export const DHT_T_EXPIRE_S = 86400;
/** Bucket refresh period (config `t_refresh`, s). */
export const DHT_T_REFRESH_S = 900;
/** Replication period (config `t_replicate`, s). */
export const DHT_T_REPLICATE_S = 900;
/** Smallest allowed key / node-id length (bytes). */
export const DHT_MIN_KEY_BYTES = 8;
/** Outstanding lookups at most. */
export const DHT_MAX_REQS = 128;
/** Values returned per key at most. */
export const DHT_MAX_VALS = 8;
/** Nominal lifetime of values cached by a lookup (s; the reference never checks it). */
export const DHT_T_CACHE_S = 60;
/** Response window / lifetime of a request (ms). */
export const DHT_T_RESP_MS = 2000;
/** Own values are republished when they expire within this many t_replicate. */
export const DHT_N_REPUB = 5;
/** Bits per routing-tree level: each split makes 2^8 = 256 children. */
export const DHT_BETA = 8;
/** Children per split. */
export const DHT_FANOUT = 1 << DHT_BETA;
/** The "no cookie" value; real cookies are non-zero. */
export const DHT_INVALID_COOKIE = 0n;
/**
 * Local tunable (not in the reference): a contact that failed to answer this
 * many requests in a row is dropped and the newest replacement promoted.
 */
export const DHT_CONTACT_MAX_FAILS = 3;

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return Math.abs(a);
}

/**
 * Sleep between the periodic worker's tasks (spec 13 §5.4), seconds:
 * `max(1, (gcd(gcd(t_exp, t_exp − 5·t_repl), gcd(t_repl, t_refr)) / 2) / 5)`
 * in integer arithmetic. Defaults give 90 s (full five-task cycle 450 s).
 */
export function dhtWorkerIntervalS(
  tExpireS: number,
  tReplicateS: number,
  tRefreshS: number,
): number {
  const g = gcd(gcd(tExpireS, tExpireS - DHT_N_REPUB * tReplicateS), gcd(tReplicateS, tRefreshS));
  return Math.max(1, Math.trunc(Math.trunc(g / 2) / 5));
}
