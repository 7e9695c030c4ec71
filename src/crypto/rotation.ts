/**
 * Per-packet key rotation state (spec 04 §8.1). One state per flow, shared
 * by both directions: `cntr` counts every encryption and decryption, the
 * key rotates when bit 20 of `cntr` flips on an encryption, and a receiver
 * seeing the other phase late enough rotates too. The previous key is kept
 * for a while to absorb the skew between the peers.
 * @module
 */
import { rotateKey, rotationSalt } from "./kdf.ts";

/** Bit of the packet counter whose flips rotate the key. */
export const KEY_ROTATION_BIT = 20;
/** `1 << KEY_ROTATION_BIT`: packets per key phase. */
export const ROTATION_MASK = 1 << KEY_ROTATION_BIT;
/** Age (packets since rotation) after which a phase change seen on receive rotates: mask − mask/4. */
export const RX_ROTATE_AGE = ROTATION_MASK - ROTATION_MASK / 4;
/** Age after which the previous key is dropped (checked on encryption): mask/2. */
export const PRV_DROP_AGE = ROTATION_MASK / 2;

/** Initial counters (tests, or a port resuming a context). */
export interface RotationStart {
  /** Packet counter (u32). */
  cntr?: number;
  /** Packets since the last rotation. */
  age?: number;
  /** Current phase. */
  phase?: 0 | 1;
}

/**
 * Key-rotation state machine. {@link nextTx} and {@link nextRx} do all the
 * bookkeeping for one packet and return the key(s) to use.
 */
export class KeyRotation {
  #cur: Uint8Array;
  #prv: Uint8Array | undefined;
  readonly #salt: Uint8Array;
  #cntr: number;
  #age: number;
  #phase: 0 | 1;

  /** Start from the OAP key (and optionally given counters). */
  constructor(key: Uint8Array, start: RotationStart = {}) {
    this.#cur = key.slice();
    this.#salt = rotationSalt(key);
    this.#cntr = (start.cntr ?? 0) >>> 0;
    this.#age = start.age ?? 0;
    this.#phase = start.phase ?? 0;
  }

  /** Packets processed (u32, wraps). */
  get cntr(): number {
    return this.#cntr;
  }
  /** Packets since the last rotation. */
  get age(): number {
    return this.#age;
  }
  /** Current key phase. */
  get phase(): 0 | 1 {
    return this.#phase;
  }
  /** Current key (copy not made: do not modify). */
  get current(): Uint8Array {
    return this.#cur;
  }
  /** Whether a previous key is still kept. */
  get hasPrevious(): boolean {
    return this.#prv !== undefined;
  }

  #rotate(): void {
    this.#prv = this.#cur;
    this.#cur = rotateKey(this.#prv, this.#salt);
    this.#age = 0;
    this.#phase = this.#phase === 0 ? 1 : 0;
  }

  /**
   * Account for one encryption: returns the key to encrypt with and the
   * phase bit for the IV (`cntr` bit 20 before the increment).
   */
  nextTx(): { key: Uint8Array; phaseBit: 0 | 1 } {
    const old = this.#cntr;
    const key = this.#cur;
    const phaseBit: 0 | 1 = (old & ROTATION_MASK) !== 0 ? 1 : 0;
    this.#cntr = (old + 1) >>> 0;
    this.#age++;
    if (((old ^ this.#cntr) & ROTATION_MASK) !== 0) this.#rotate();
    if (this.#age >= PRV_DROP_AGE) this.#prv = undefined;
    return { key, phaseBit };
  }

  /**
   * Account for one decryption of a packet whose IV carries `rxPhase`:
   * returns the keys to try in order (current, then previous if kept).
   */
  nextRx(rxPhase: 0 | 1): Uint8Array[] {
    if (rxPhase !== this.#phase && this.#age >= RX_ROTATE_AGE) this.#rotate();
    this.#cntr = (this.#cntr + 1) >>> 0;
    this.#age++;
    return this.#prv ? [this.#cur, this.#prv] : [this.#cur];
  }
}
