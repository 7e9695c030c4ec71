/**
 * Connection-endpoint message `cep_msg` (`cep.proto`), the first SDU in each
 * direction on every new N−1 flow of the connection manager (spec 10 §3.2).
 *
 * @example
 * ```ts
 * import { CepSyntax, decodeCep, encodeCep } from "./cep.ts";
 * const b = encodeCep({ compName: "Enrollment", protocol: "OEP", prefVersion: 1,
 *   prefSyntax: CepSyntax.GPB, address: 0n });
 * console.log(b.length, decodeCep(b).compName); // 23 Enrollment
 * ```
 * @module
 */
import { Reader, type ReaderOptions, required, Writer } from "../../../lib/pb.ts";

/** `pref_syntax` values. */
export const CepSyntax = { GPB: 0, ASN1: 1, FIXED: 2 } as const;

/** Receivers read a CEP into a buffer of this size; a larger one is not supported. */
export const CEP_MAX_BYTES = 128;

/** `fixed_conc_syntax_msg` (never sent by the reference). */
export interface FixedConcSyntax {
  /** Field ids. */
  fids: number[];
  /** Field lengths. */
  lens: number[];
}

/** `cep_msg`. The reference only ever writes fields 1, 2, 3, 5 and 8. */
export interface Cep {
  /** Component name: "Data Transfer", "Management" or "Enrollment". */
  compName: string;
  /** Protocol: "dtp", "LSP", "OEP" (or "" for broadcast DT). */
  protocol: string;
  /** Protocol version (1). */
  prefVersion: number;
  /** Repeated int32 (omitted when empty). */
  suppVersion?: number[];
  /** {@link CepSyntax} value. */
  prefSyntax: number;
  /** Repeated int32 (omitted when empty). */
  suppSyntax?: number[];
  /** Fixed concrete syntax description. */
  syntaxSpec?: FixedConcSyntax;
  /** Sender's address (0 for enrollment). */
  address: bigint;
}

/** Encode a `cep_msg` (byte-identical to the reference's). */
export function encodeCep(m: Cep): Uint8Array {
  const w = new Writer().string(1, m.compName).string(2, m.protocol).int32(3, m.prefVersion);
  for (const v of m.suppVersion ?? []) w.int32(4, v);
  w.int32(5, m.prefSyntax);
  for (const v of m.suppSyntax ?? []) w.int32(6, v);
  if (m.syntaxSpec) {
    const s = m.syntaxSpec;
    w.message(7, (x) => {
      for (const f of s.fids) x.uint32(1, f);
      for (const l of s.lens) x.uint32(2, l);
    });
  }
  return w.uint64(8, m.address).finish();
}

function readSyntax(r: Reader): FixedConcSyntax {
  const s: FixedConcSyntax = { fids: [], lens: [] };
  while (r.next()) {
    if (r.field === 1) r.repeated("uint32", s.fids);
    else if (r.field === 2) r.repeated("uint32", s.lens);
    else r.skip();
  }
  return s;
}

/**
 * Decode a `cep_msg`; throws DecodeError on malformed input, missing
 * required fields, or more than `opts.maxBytes` (default {@link CEP_MAX_BYTES}).
 */
export function decodeCep(b: Uint8Array, opts: ReaderOptions = {}): Cep {
  const r = new Reader(b, { maxBytes: CEP_MAX_BYTES, ...opts });
  let comp: string | undefined, proto: string | undefined, pv: number | undefined;
  let ps: number | undefined, addr: bigint | undefined, spec: FixedConcSyntax | undefined;
  const sv: number[] = [], ss: number[] = [];
  while (r.next()) {
    switch (r.field) {
      case 1:
        comp = r.string();
        break;
      case 2:
        proto = r.string();
        break;
      case 3:
        pv = r.int32();
        break;
      case 4:
        r.repeated("int32", sv);
        break;
      case 5:
        ps = r.int32();
        break;
      case 6:
        r.repeated("int32", ss);
        break;
      case 7:
        spec = readSyntax(r.message());
        break;
      case 8:
        addr = r.uint64();
        break;
      default:
        r.skip();
    }
  }
  const M = "cep_msg";
  const m: Cep = {
    compName: required(comp, M, "comp_name"),
    protocol: required(proto, M, "protocol"),
    prefVersion: required(pv, M, "pref_version"),
    prefSyntax: required(ps, M, "pref_syntax"),
    address: required(addr, M, "address"),
  };
  if (sv.length) m.suppVersion = sv;
  if (ss.length) m.suppSyntax = ss;
  if (spec) m.syntaxSpec = spec;
  return m;
}
