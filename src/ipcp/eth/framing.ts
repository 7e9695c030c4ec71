/**
 * The two Ethernet framings (eth-dix, eth-llc) behind one small interface,
 * so the IPCP (`eth.ts`) never branches on the kind. Built on the codecs of
 * `wire.ts`.
 *
 * Both framings name a flow end by a small local id: the eid (DIX, the
 * IRMd's flow id itself) or the logical SAP (LLC). A management message
 * carries the sender's id (`sId`: seid / ssap) and the receiver's id
 * (`dId`: deid / dsap).
 * @module
 */
import { DecodeError } from "../../lib/errors.ts";
import type { QosSpec } from "../../lib/qos.ts";
import {
  decodeEthDix,
  decodeEthDixMgmt,
  decodeEthLlc,
  decodeEthLlcMgmt,
  encodeEthDix,
  encodeEthDixMgmt,
  encodeEthLlc,
  encodeEthLlcMgmt,
  ETH_DIX_HDR_LEN,
  ETH_DIX_MGMT_EID,
  ETH_DIX_MGMT_LEN,
  ETH_HDR_LEN,
  ETH_LLC_HDR_LEN,
  ETH_LLC_LENGTH_MAX,
  ETH_LLC_MGMT_LEN,
  ETH_LLC_MGMT_SAP,
  ETH_LLC_SAP_MAX,
  ETH_LLC_SAP_MIN,
  type EthKind,
  type EthMgmtCode,
} from "./wire.ts";

/** A management message in the kind-neutral form. */
export interface EthMgmtMsg {
  code: EthMgmtCode;
  /** Sender's local id (DIX seid, LLC ssap). */
  sId: number;
  /** Receiver's local id (DIX deid, LLC dsap); 0 when unknown. */
  dId: number;
  response: number;
  qos: QosSpec;
  hash: Uint8Array;
  payload: Uint8Array;
}

/** A received frame of our protocol. Views of the input. */
export type EthRx =
  | { mgmt: true; src: Uint8Array; body: Uint8Array }
  | {
    mgmt: false;
    src: Uint8Array;
    /** Receiver's local id (eid / DSAP). */
    dId: number;
    /** Sender's local id (SSAP), or -1 when the framing does not carry it (DIX). */
    sId: number;
    payload: Uint8Array;
  };

/** One framing. */
export interface EthFraming {
  readonly kind: EthKind;
  /** Header bytes before the payload. */
  readonly hdrLen: number;
  /** Management body bytes before the hash. */
  readonly mgmtLen: number;
  /** Smallest and largest local id this IPCP gives a flow end. */
  readonly idMin: number;
  readonly idMax: number;
  /**
   * Largest id a peer may use for its end (the reference's LLC SAP pool
   * reaches 65, beyond our 63); the smallest is idMin.
   */
  readonly peerIdMax: number;
  /**
   * Parse a frame: undefined if it is not of this protocol (other
   * Ethertype, other LLC traffic); throws DecodeError if it is ours but bad.
   */
  decode(frame: Uint8Array): EthRx | undefined;
  /** Decode a management body; throws DecodeError. */
  decodeMgmt(body: Uint8Array, hashLen: number): EthMgmtMsg;
  /** A whole management frame. */
  mgmtFrame(dst: Uint8Array, src: Uint8Array, m: EthMgmtMsg): Uint8Array;
  /** A data header (payload length 0) toward `remoteId` from `localId`. */
  dataHeader(dst: Uint8Array, src: Uint8Array, remoteId: number, localId: number): Uint8Array;
  /** Write the payload length of a frame built on {@link dataHeader}. */
  setLength(frame: Uint8Array, payloadLen: number): void;
}

const EMPTY = new Uint8Array(0);

/** The eth-dix framing for one Ethertype. */
export function dixFraming(ethertype: number): EthFraming {
  return {
    kind: "dix",
    hdrLen: ETH_DIX_HDR_LEN,
    mgmtLen: ETH_DIX_MGMT_LEN,
    idMin: 1,
    idMax: 0xffff,
    peerIdMax: 0xffff,
    decode(b) {
      if (b.length < ETH_HDR_LEN) throw new DecodeError("eth-truncated", "runt frame");
      if (((b[12]! << 8) | b[13]!) !== ethertype) return undefined;
      const f = decodeEthDix(b, ethertype);
      return f.eid === ETH_DIX_MGMT_EID
        ? { mgmt: true, src: f.src, body: f.payload }
        : { mgmt: false, src: f.src, dId: f.eid, sId: -1, payload: f.payload };
    },
    decodeMgmt(body, hashLen) {
      const m = decodeEthDixMgmt(body, hashLen);
      return { ...m, sId: m.seid, dId: m.deid };
    },
    mgmtFrame(dst, src, m) {
      const body = encodeEthDixMgmt({ ...m, seid: m.sId, deid: m.dId });
      return encodeEthDix({ dst, src, ethertype, eid: ETH_DIX_MGMT_EID, payload: body });
    },
    dataHeader(dst, src, remoteId) {
      return encodeEthDix({ dst, src, ethertype, eid: remoteId, payload: EMPTY });
    },
    setLength(frame, n) {
      frame[16] = n >> 8;
      frame[17] = n & 0xff;
    },
  };
}

/** The eth-llc framing. */
export function llcFraming(): EthFraming {
  return {
    kind: "llc",
    hdrLen: ETH_LLC_HDR_LEN,
    mgmtLen: ETH_LLC_MGMT_LEN,
    idMin: ETH_LLC_SAP_MIN,
    idMax: ETH_LLC_SAP_MAX,
    peerIdMax: 0xff,
    decode(b) {
      if (b.length < ETH_HDR_LEN) throw new DecodeError("eth-truncated", "runt frame");
      if (((b[12]! << 8) | b[13]!) > ETH_LLC_LENGTH_MAX) return undefined;
      let f;
      try {
        f = decodeEthLlc(b);
      } catch (e) {
        // other LLC users (STP, …) use other control values: not ours
        if (e instanceof DecodeError && e.reason === "eth-llc-control") return undefined;
        throw e;
      }
      return f.dsap === ETH_LLC_MGMT_SAP && f.ssap === ETH_LLC_MGMT_SAP
        ? { mgmt: true, src: f.src, body: f.payload }
        : { mgmt: false, src: f.src, dId: f.dsap, sId: f.ssap, payload: f.payload };
    },
    decodeMgmt(body, hashLen) {
      const m = decodeEthLlcMgmt(body, hashLen);
      return { ...m, sId: m.ssap, dId: m.dsap };
    },
    mgmtFrame(dst, src, m) {
      const body = encodeEthLlcMgmt({ ...m, ssap: m.sId, dsap: m.dId });
      return encodeEthLlc({
        dst,
        src,
        dsap: ETH_LLC_MGMT_SAP,
        ssap: ETH_LLC_MGMT_SAP,
        payload: body,
      });
    },
    dataHeader(dst, src, remoteId, localId) {
      return encodeEthLlc({ dst, src, dsap: remoteId, ssap: localId, payload: EMPTY });
    },
    setLength(frame, n) {
      const len = n + 3; // the 802.3 length counts DSAP, SSAP and control
      frame[12] = len >> 8;
      frame[13] = len & 0xff;
    },
  };
}
