/**
 * QoS specifications (spec 02 §5) and QoS cubes.
 * @module
 */

/** A QoS specification, as `qosspec_t` of the reference. */
export interface QosSpec {
  /** Delay bound in ms. */
  delay: number;
  /** Bandwidth in bit/s (a bigint: it can be UINT64_MAX). */
  bandwidth: bigint;
  /** Availability class of nines. */
  availability: number;
  /** 0 = reliable (retransmission). */
  loss: number;
  /** Bit errors per 1e9 bits; 0 = CRC32 added. */
  ber: number;
  /** Non-zero: FRCT in-order delivery. */
  inOrder: number;
  /** Maximum gap in ms. */
  maxGap: number;
  /** Peer timeout in ms; 0 = none. */
  timeout: number;
}

/** UINT32_MAX. */
export const U32_MAX = 0xffffffff;
/** UINT64_MAX. */
export const U64_MAX = 0xffffffffffffffffn;
/** DEFAULT_PEER_TIMEOUT in ms. */
export const DEFAULT_PEER_TIMEOUT_MS = 120000;

function q(
  delay: number,
  bandwidth: bigint,
  availability: number,
  loss: number,
  ber: number,
  inOrder: number,
  maxGap: number,
  timeout: number,
): Readonly<QosSpec> {
  return Object.freeze({ delay, bandwidth, availability, loss, ber, inOrder, maxGap, timeout });
}

/** Plain datagrams. */
export const qosRaw: Readonly<QosSpec> = q(U32_MAX, 0n, 0, 1, 1, 0, U32_MAX, DEFAULT_PEER_TIMEOUT_MS);
/** Plain datagrams with CRC. */
export const qosRawNoErrors: Readonly<QosSpec> = q(U32_MAX, 0n, 0, 1, 0, 0, U32_MAX, DEFAULT_PEER_TIMEOUT_MS);
/** FRCT, in order, no retransmission. */
export const qosBestEffort: Readonly<QosSpec> = q(U32_MAX, 0n, 0, 1, 0, 1, U32_MAX, DEFAULT_PEER_TIMEOUT_MS);
/** Video: FRCT, no retransmission, 100 ms delay bound. */
export const qosVideo: Readonly<QosSpec> = q(100, U64_MAX, 3, 1, 0, 1, 100, DEFAULT_PEER_TIMEOUT_MS);
/** Voice: FRCT, no retransmission, 50 ms delay bound. */
export const qosVoice: Readonly<QosSpec> = q(50, 100000n, 5, 1, 0, 1, 50, DEFAULT_PEER_TIMEOUT_MS);
/** Data: FRCT with retransmission and linger: every byte in order. */
export const qosData: Readonly<QosSpec> = q(1000, 0n, 0, 0, 0, 1, 2000, DEFAULT_PEER_TIMEOUT_MS);
/** Internal: IPCP N+1 flows and broadcast joins. */
export const qosNp1: Readonly<QosSpec> = q(U32_MAX, 0n, 0, U32_MAX, U32_MAX, 0, U32_MAX, 0);

/** QoS presets by the names the tools use. */
export const QOS_PRESETS: Readonly<Record<string, Readonly<QosSpec>>> = Object.freeze({
  raw: qosRaw,
  best: qosBestEffort,
  video: qosVideo,
  voice: qosVoice,
  data: qosData,
});

/** Look up a preset by CLI name; undefined if unknown. */
export function qosByName(name: string): Readonly<QosSpec> | undefined {
  return Object.hasOwn(QOS_PRESETS, name) ? QOS_PRESETS[name] : undefined;
}

/** The preset name a spec equals, or "custom". */
export function qosName(qs: QosSpec): string {
  for (const [k, v] of Object.entries(QOS_PRESETS)) {
    if (qosEqual(v, qs)) return k;
  }
  if (qosEqual(qosNp1, qs)) return "np1";
  return "custom";
}

/** Field-wise equality. */
export function qosEqual(a: QosSpec, b: QosSpec): boolean {
  return a.delay === b.delay && a.bandwidth === b.bandwidth && a.availability === b.availability &&
    a.loss === b.loss && a.ber === b.ber && a.inOrder === b.inOrder && a.maxGap === b.maxGap &&
    a.timeout === b.timeout;
}

/** QoS cube ids. */
export const QosCube = { BE: 0, VIDEO: 1, VOICE: 2 } as const;

/** The QoS cube a spec maps to (spec 02 §5). */
export function qosCube(qs: QosSpec): number {
  if (qs.delay <= 50 && qs.bandwidth <= 100000n && qs.availability >= 5 && qs.maxGap <= 50) {
    return QosCube.VOICE;
  }
  if (qs.delay <= 100 && qs.bandwidth <= U64_MAX && qs.availability >= 3 && qs.maxGap <= 100) {
    return QosCube.VIDEO;
  }
  return QosCube.BE;
}

/** JSON-safe form (bandwidth as a decimal string). */
export interface QosJson {
  delay: number;
  bandwidth: string;
  availability: number;
  loss: number;
  ber: number;
  inOrder: number;
  maxGap: number;
  timeout: number;
}

/** To the JSON-safe form. */
export function qosToJson(q: QosSpec): QosJson {
  return { ...q, bandwidth: q.bandwidth.toString() };
}

/** From the JSON-safe form; throws TypeError on anything malformed. */
export function qosFromJson(v: unknown): QosSpec {
  if (typeof v !== "object" || v === null) throw new TypeError("qos must be an object");
  const o = v as Record<string, unknown>;
  const u32 = (k: string, max = U32_MAX): number => {
    const x = o[k];
    if (typeof x !== "number" || !Number.isInteger(x) || x < 0 || x > max) {
      throw new TypeError(`qos.${k} must be an integer in 0..${max}`);
    }
    return x;
  };
  const bw = o.bandwidth;
  if (typeof bw !== "string" || !/^[0-9]{1,20}$/.test(bw) || BigInt(bw) > U64_MAX) {
    throw new TypeError("qos.bandwidth must be a decimal string in 0..2^64-1");
  }
  return {
    delay: u32("delay"),
    bandwidth: BigInt(bw),
    availability: u32("availability", 255),
    loss: u32("loss"),
    ber: u32("ber"),
    inOrder: u32("inOrder", 255),
    maxGap: u32("maxGap"),
    timeout: u32("timeout"),
  };
}
