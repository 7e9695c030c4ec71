/**
 * DHT directory messages (`dht.proto`, spec 13 §3): one `dht_msg` per DT SDU
 * on component eid 1, plus the receive-side validation of spec 13 §3.1.
 *
 * @example
 * ```ts
 * import { DhtCode, decodeValidDhtMsg, encodeDhtMsg } from "./dht.ts";
 * const id = new Uint8Array(32).fill(1);
 * const b = encodeDhtMsg({ code: DhtCode.FIND_NODE_REQ, src: { id, addr: 42n },
 *   find: { cookie: 7n, key: id } });
 * console.log(decodeValidDhtMsg(b, 32).find?.cookie); // 7n
 * ```
 * @module
 */
import { DecodeError } from "../../../lib/errors.ts";
import { Reader, type ReaderOptions, required, Writer } from "../../../lib/pb.ts";

/** `dht_msg.code` values. */
export const DhtCode = {
  STORE: 0,
  FIND_NODE_REQ: 1,
  FIND_NODE_RSP: 2,
  FIND_VALUE_REQ: 3,
  FIND_VALUE_RSP: 4,
} as const;

/** `dht_contact_msg`: a node id and its unicast address. */
export interface DhtContact {
  /** Node id (key length bytes). */
  id: Uint8Array;
  /** Unicast address. */
  addr: bigint;
}

/** `dht_find_req_msg` (FIND_NODE_REQ, FIND_VALUE_REQ). */
export interface DhtFindReq {
  /** Per-(request, peer) random non-zero cookie, echoed in the response. */
  cookie: bigint;
  /** Name hash or node id looked up. */
  key: Uint8Array;
}

/** `dht_find_node_rsp_msg` (FIND_NODE_RSP, FIND_VALUE_RSP). */
export interface DhtFindNodeRsp {
  /** The request's cookie. */
  cookie: bigint;
  /** The request's key. */
  key: Uint8Array;
  /** Up to k contacts, never the responder itself. */
  contacts: DhtContact[];
}

/** `dht_find_value_rsp_msg`: up to 8 values (addresses as 8 bytes BE). */
export interface DhtFindValueRsp {
  /** The values (each an 8-byte BE address for a name). */
  values: Uint8Array[];
}

/** `dht_store_msg`. */
export interface DhtStore {
  /** Name hash. */
  key: Uint8Array;
  /** Value: the registrant's address as 8 bytes BE. */
  val: Uint8Array;
  /** Absolute expiry, UNIX seconds truncated to u32. */
  exp: number;
}

/** `dht_msg`. Which parts are present follows `code` (see {@link checkDhtMsg}). */
export interface DhtMsg {
  /** {@link DhtCode} value. */
  code: number;
  /** The sender. Responses go to `src.addr`. */
  src: DhtContact;
  /** STORE part. */
  store?: DhtStore;
  /** FIND_*_REQ part. */
  find?: DhtFindReq;
  /** FIND_*_RSP part (cookie, key, contacts). */
  node?: DhtFindNodeRsp;
  /** FIND_VALUE_RSP values. */
  val?: DhtFindValueRsp;
}

function writeContact(w: Writer, c: DhtContact): void {
  w.bytes(1, c.id).uint64(2, c.addr);
}

/** Encode a `dht_msg` (byte-identical to the reference's). */
export function encodeDhtMsg(m: DhtMsg): Uint8Array {
  const w = new Writer().uint32(1, m.code);
  w.message(2, (s) => writeContact(s, m.src));
  if (m.store) {
    const st = m.store;
    w.message(3, (s) => s.bytes(1, st.key).bytes(2, st.val).uint32(3, st.exp));
  }
  if (m.find) {
    const f = m.find;
    w.message(4, (s) => s.uint64(1, f.cookie).bytes(2, f.key));
  }
  if (m.node) {
    const n = m.node;
    w.message(5, (s) => {
      s.uint64(1, n.cookie).bytes(2, n.key);
      for (const c of n.contacts) s.message(3, (x) => writeContact(x, c));
    });
  }
  if (m.val) {
    const v = m.val;
    w.message(6, (s) => {
      for (const x of v.values) s.bytes(1, x);
    });
  }
  return w.finish();
}

function readContact(r: Reader): DhtContact {
  let id: Uint8Array | undefined, addr: bigint | undefined;
  while (r.next()) {
    if (r.field === 1) id = r.bytes();
    else if (r.field === 2) addr = r.uint64();
    else r.skip();
  }
  return {
    id: required(id, "dht_contact_msg", "id"),
    addr: required(addr, "dht_contact_msg", "addr"),
  };
}

function readStore(r: Reader): DhtStore {
  let key: Uint8Array | undefined, val: Uint8Array | undefined, exp: number | undefined;
  while (r.next()) {
    if (r.field === 1) key = r.bytes();
    else if (r.field === 2) val = r.bytes();
    else if (r.field === 3) exp = r.uint32();
    else r.skip();
  }
  const M = "dht_store_msg";
  return {
    key: required(key, M, "key"),
    val: required(val, M, "val"),
    exp: required(exp, M, "exp"),
  };
}

function readFind(r: Reader): DhtFindReq {
  let cookie: bigint | undefined, key: Uint8Array | undefined;
  while (r.next()) {
    if (r.field === 1) cookie = r.uint64();
    else if (r.field === 2) key = r.bytes();
    else r.skip();
  }
  return {
    cookie: required(cookie, "dht_find_req_msg", "cookie"),
    key: required(key, "dht_find_req_msg", "key"),
  };
}

function readNode(r: Reader): DhtFindNodeRsp {
  let cookie: bigint | undefined, key: Uint8Array | undefined;
  const contacts: DhtContact[] = [];
  while (r.next()) {
    if (r.field === 1) cookie = r.uint64();
    else if (r.field === 2) key = r.bytes();
    else if (r.field === 3) contacts.push(readContact(r.message()));
    else r.skip();
  }
  const M = "dht_find_node_rsp_msg";
  return { cookie: required(cookie, M, "cookie"), key: required(key, M, "key"), contacts };
}

function readVal(r: Reader): DhtFindValueRsp {
  const values: Uint8Array[] = [];
  while (r.next()) {
    if (r.field === 1) values.push(r.bytes());
    else r.skip();
  }
  return { values };
}

/**
 * Decode a `dht_msg` (proto2 rules only; see {@link checkDhtMsg} for the
 * DHT's own checks). Throws DecodeError.
 */
export function decodeDhtMsg(b: Uint8Array, opts: ReaderOptions = {}): DhtMsg {
  const r = new Reader(b, opts);
  let code: number | undefined, src: DhtContact | undefined;
  const m: Partial<DhtMsg> = {};
  while (r.next()) {
    switch (r.field) {
      case 1:
        code = r.uint32();
        break;
      case 2:
        src = readContact(r.message());
        break;
      case 3:
        m.store = readStore(r.message());
        break;
      case 4:
        m.find = readFind(r.message());
        break;
      case 5:
        m.node = readNode(r.message());
        break;
      case 6:
        m.val = readVal(r.message());
        break;
      default:
        r.skip();
    }
  }
  const out: DhtMsg = {
    code: required(code, "dht_msg", "code"),
    src: required(src, "dht_msg", "src"),
  };
  if (m.store) out.store = m.store;
  if (m.find) out.find = m.find;
  if (m.node) out.node = m.node;
  if (m.val) out.val = m.val;
  return out;
}

function bad(reason: string, why: string): never {
  throw new DecodeError(reason, `Cannot accept dht_msg: ${why}`);
}

/**
 * The receive-side validation of spec 13 §3.1, for a DHT whose keys are
 * `keyLen` bytes. Returns `m` or throws DecodeError (reason `dht-unknown-code`
 * for codes > 4, `dht-invalid` otherwise). Not checked here: that a response's
 * cookie matches an outstanding request (the DHT's state decides).
 *
 * Port choice: contacts in a response must also carry `keyLen`-byte ids.
 */
export function checkDhtMsg(m: DhtMsg, keyLen: number): DhtMsg {
  if (m.code > DhtCode.FIND_VALUE_RSP) bad("dht-unknown-code", `unknown code ${m.code}`);
  if (m.src.id.length !== keyLen) bad("dht-invalid", "src id length");
  if (m.src.addr === 0n) bad("dht-invalid", "src address 0");
  switch (m.code) {
    case DhtCode.FIND_NODE_REQ:
    case DhtCode.FIND_VALUE_REQ:
      if (!m.find) bad("dht-invalid", "find missing");
      if (m.find.key.length !== keyLen) bad("dht-invalid", "find key length");
      break;
    case DhtCode.STORE:
      if (!m.store) bad("dht-invalid", "store missing");
      if (m.store.key.length !== keyLen) bad("dht-invalid", "store key length");
      if (m.store.val.length === 0) bad("dht-invalid", "store value empty");
      break;
    default: // FIND_NODE_RSP, FIND_VALUE_RSP
      if (!m.node) bad("dht-invalid", "node missing");
      if (m.node.key.length !== keyLen) bad("dht-invalid", "node key length");
      if (m.node.contacts.some((c) => c.id.length !== keyLen)) {
        bad("dht-invalid", "contact id length");
      }
      if (m.code === DhtCode.FIND_VALUE_RSP && !m.val) bad("dht-invalid", "val missing");
  }
  return m;
}

/** {@link decodeDhtMsg} followed by {@link checkDhtMsg}. Throws DecodeError. */
export function decodeValidDhtMsg(b: Uint8Array, keyLen: number, opts: ReaderOptions = {}): DhtMsg {
  return checkDhtMsg(decodeDhtMsg(b, opts), keyLen);
}
