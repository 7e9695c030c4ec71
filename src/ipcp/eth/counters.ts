/**
 * Counters of an Ethernet IPCP (shown by `ouro irm ipcp list`). Bad input
 * from the wire is counted here and dropped, never thrown.
 * @module
 */

/** Counters shown by `info()`. */
export interface EthCounters {
  /** Data SDUs handed up, and their bytes. */
  rxPackets: number;
  rxBytes: number;
  /** Data SDUs sent, and their bytes. */
  txPackets: number;
  txBytes: number;
  /** Management frames received (well-formed) / sent. */
  rxMgmt: number;
  txMgmt: number;
  /** Frames of another protocol (Ethertype, LLC traffic that is not ours). */
  rxIgnored: number;
  /** Frames addressed to another MAC, or looped back from our own. */
  rxNotForUs: number;
  /** Frames of our protocol that did not decode (short, bad length, code, …). */
  rxMalformed: number;
  /** Data for no flow here, or from a MAC/SAP that is not the flow's peer. */
  rxNoFlow: number;
  /** FLOW_REPLYs for no pending allocation or from the wrong MAC. */
  rxBadReply: number;
  /** FLOW_REQs for a name not registered here (silently ignored). */
  rxUnknownName: number;
  /** SDUs written on an unknown or not yet allocated flow. */
  txNoFlow: number;
  /** SDUs above the maximum SDU size. */
  txOversize: number;
  /** SDUs dropped because the send ring and backlog were full, or the link closed. */
  txFull: number;
}

/** A fresh set of counters, all zero. */
export function newEthCounters(): EthCounters {
  return {
    rxPackets: 0,
    rxBytes: 0,
    txPackets: 0,
    txBytes: 0,
    rxMgmt: 0,
    txMgmt: 0,
    rxIgnored: 0,
    rxNotForUs: 0,
    rxMalformed: 0,
    rxNoFlow: 0,
    rxBadReply: 0,
    rxUnknownName: 0,
    txNoFlow: 0,
    txOversize: 0,
    txFull: 0,
  };
}
