import { assert, assertBytes, assertEquals, assertThrows } from "../../../../tests/util/assert.ts";
import { fuzzDecoder } from "../../../../tests/util/fuzz.ts";
import { DecodeError } from "../../../lib/errors.ts";
import { fromHex, HashAlgo, hashName, toHex } from "../../../lib/hash.ts";
import { DT_PCI_LEN, sdu } from "./_captures.ts";
import {
  checkDhtMsg,
  decodeDhtMsg,
  decodeValidDhtMsg,
  DhtCode,
  type DhtMsg,
  encodeDhtMsg,
} from "./dht.ts";

const KEY_LEN = 32;

interface Vec {
  cap: string;
  req: number;
  rsp: number;
  store: number;
  bId: string; // first 8 bytes, as frames.log prints them
  bAddr: bigint;
  aId: string;
  aAddr: bigint;
  cookie: bigint;
  exp: number;
}

/** From each capture's frames.log. */
const VECTORS: Vec[] = [
  {
    cap: "udp4-unicast.pcap",
    req: 20,
    rsp: 22,
    store: 24,
    bId: "eafc305e04669480",
    bAddr: 39535345n,
    aId: "ee672240edae9acf",
    aAddr: 2540519675n,
    cookie: 6678229956363415996n,
    exp: 1795549096,
  },
  {
    cap: "eth-dix-unicast.pcap",
    req: 22,
    rsp: 24,
    store: 26,
    bId: "e5617ad51af80fc3",
    bAddr: 1428380001n,
    aId: "dcdda77f8c463e25",
    aAddr: 3264096334n,
    cookie: 6319039761470096836n,
    exp: 1795549272,
  },
  {
    cap: "udp4-data-qos.pcap",
    req: 20,
    rsp: 22,
    store: 24,
    bId: "54f6e4b36e81b6db",
    bAddr: 3369331490n,
    aId: "a762df8c71cbb13d",
    aAddr: 2139026349n,
    cookie: 15404260081010656849n,
    exp: 1795549351,
  },
];

/** The dht_msg in a DT SDU to eid 1 (after the 15-byte DT PCI). */
function dhtBytes(cap: string, no: number): Uint8Array {
  const s = sdu(cap, no);
  assertEquals(s[DT_PCI_LEN - 8], 1, `${cap} #${no}: DT eid is the DHT`);
  return s.subarray(DT_PCI_LEN);
}

function be64(v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v);
  return b;
}

Deno.test("dht: captured FIND_NODE_REQ/RSP and STORE decode and re-encode byte for byte", () => {
  for (const v of VECTORS) {
    const reqB = dhtBytes(v.cap, v.req);
    const req = decodeValidDhtMsg(reqB, KEY_LEN);
    assertEquals(req.code, DhtCode.FIND_NODE_REQ);
    assertEquals(toHex(req.src.id.subarray(0, 8)), v.bId);
    assertEquals(req.src.addr, v.bAddr);
    assertEquals(req.find?.cookie, v.cookie);
    assertBytes(req.find!.key, req.src.id); // b looks up its own id
    assertBytes(encodeDhtMsg(req), reqB, `${v.cap} req`);
    assertBytes(dhtBytes(v.cap, v.req + 1), reqB); // sent twice, identical
    const bId = req.src.id;

    const rspB = dhtBytes(v.cap, v.rsp);
    const rsp = decodeValidDhtMsg(rspB, KEY_LEN);
    assertEquals(rsp.code, DhtCode.FIND_NODE_RSP);
    assertEquals(toHex(rsp.src.id.subarray(0, 8)), v.aId);
    assertEquals(rsp.src.addr, v.aAddr);
    assertEquals(rsp.node?.cookie, v.cookie);
    assertBytes(rsp.node!.key, bId);
    assertEquals(rsp.node!.contacts, [{ id: bId, addr: v.bAddr }]);
    assertEquals(rsp.store ?? rsp.find ?? rsp.val, undefined);
    assertBytes(encodeDhtMsg(rsp), rspB, `${v.cap} rsp`);

    const stB = dhtBytes(v.cap, v.store);
    const st = decodeValidDhtMsg(stB, KEY_LEN);
    const want: DhtMsg = {
      code: DhtCode.STORE,
      src: { id: bId, addr: v.bAddr },
      store: { key: hashName(HashAlgo.SHA3_256, "oping.srv"), val: be64(v.bAddr), exp: v.exp },
    };
    assertEquals(st, want);
    assertBytes(encodeDhtMsg(want), stB, `${v.cap} store`);
  }
});

Deno.test("dht: FIND_VALUE messages round-trip (dht_test.c scenario 7)", () => {
  const rnd = (n: number) => crypto.getRandomValues(new Uint8Array(n));
  const src = { id: rnd(KEY_LEN), addr: 0x1234567890abcdefn };
  const contacts = Array.from(
    { length: 10 },
    (_, i) => ({ id: rnd(KEY_LEN), addr: BigInt(i + 1) }),
  );
  const msgs: DhtMsg[] = [
    { code: DhtCode.FIND_VALUE_REQ, src, find: { cookie: 0xffffffffffffffffn, key: rnd(KEY_LEN) } },
    { code: DhtCode.FIND_NODE_RSP, src, node: { cookie: 1n, key: rnd(KEY_LEN), contacts: [] } },
    { code: DhtCode.FIND_NODE_RSP, src, node: { cookie: 2n, key: rnd(KEY_LEN), contacts } },
    {
      code: DhtCode.FIND_VALUE_RSP,
      src,
      node: { cookie: 3n, key: rnd(KEY_LEN), contacts },
      val: { values: Array.from({ length: 8 }, () => rnd(8)) },
    },
    // an empty val part is still sent (tag + zero length)
    {
      code: DhtCode.FIND_VALUE_RSP,
      src,
      node: { cookie: 4n, key: rnd(KEY_LEN), contacts: [] },
      val: { values: [] },
    },
  ];
  for (const m of msgs) assertEquals(decodeValidDhtMsg(encodeDhtMsg(m), KEY_LEN), m);
  const last = encodeDhtMsg(msgs[4]!);
  assertEquals(toHex(last.subarray(last.length - 2)), "3200");
  assertEquals(decodeDhtMsg(encodeDhtMsg(msgs[3]!)).val!.values.length, 8);
});

Deno.test("dht: spec 13 §3.1 validation drops invalid messages", () => {
  const id = new Uint8Array(KEY_LEN).fill(9);
  const src = { id, addr: 5n };
  const reason = (m: DhtMsg) =>
    (assertThrows(() => checkDhtMsg(m, KEY_LEN), DecodeError) as DecodeError).reason;
  assertEquals(reason({ code: 5, src }), "dht-unknown-code");
  assertEquals(
    reason({ code: 1, src: { id: id.subarray(1), addr: 5n }, find: { cookie: 1n, key: id } }),
    "dht-invalid",
  );
  assertEquals(
    reason({ code: 1, src: { id, addr: 0n }, find: { cookie: 1n, key: id } }),
    "dht-invalid",
  );
  assertEquals(reason({ code: DhtCode.FIND_NODE_REQ, src }), "dht-invalid");
  assertEquals(
    reason({ code: DhtCode.FIND_VALUE_REQ, src, find: { cookie: 1n, key: id.subarray(2) } }),
    "dht-invalid",
  );
  assertEquals(reason({ code: DhtCode.STORE, src }), "dht-invalid");
  assertEquals(
    reason({
      code: DhtCode.STORE,
      src,
      store: { key: new Uint8Array(16), val: new Uint8Array(8), exp: 1 },
    }),
    "dht-invalid",
  );
  assertEquals(
    reason({ code: DhtCode.STORE, src, store: { key: id, val: new Uint8Array(0), exp: 1 } }),
    "dht-invalid",
  );
  assertEquals(reason({ code: DhtCode.FIND_NODE_RSP, src }), "dht-invalid");
  assertEquals(
    reason({
      code: DhtCode.FIND_NODE_RSP,
      src,
      node: { cookie: 1n, key: new Uint8Array(31), contacts: [] },
    }),
    "dht-invalid",
  );
  assertEquals(
    reason({
      code: DhtCode.FIND_NODE_RSP,
      src,
      node: { cookie: 1n, key: id, contacts: [{ id: new Uint8Array(8), addr: 1n }] },
    }),
    "dht-invalid",
  );
  assertEquals(
    reason({ code: DhtCode.FIND_VALUE_RSP, src, node: { cookie: 1n, key: id, contacts: [] } }),
    "dht-invalid",
  );
  // valid ones pass, and the proto2 layer alone accepts what §3.1 rejects
  const ok: DhtMsg = {
    code: DhtCode.FIND_VALUE_RSP,
    src,
    node: { cookie: 1n, key: id, contacts: [] },
    val: { values: [] },
  };
  assertEquals(checkDhtMsg(ok, KEY_LEN), ok);
  assertEquals(decodeDhtMsg(encodeDhtMsg({ code: 9, src })).code, 9);
  // missing required proto2 fields
  assertThrows(() => decodeDhtMsg(fromHex("0801")), DecodeError, "src");
  assertThrows(() => decodeDhtMsg(fromHex("080112021001")), DecodeError, "id");
});

Deno.test("dht: fuzzed input only ever throws DecodeError", () => {
  const seeds: Uint8Array[] = [];
  for (const v of VECTORS) {
    seeds.push(dhtBytes(v.cap, v.req), dhtBytes(v.cap, v.rsp), dhtBytes(v.cap, v.store));
  }
  const id = new Uint8Array(KEY_LEN).fill(3);
  seeds.push(encodeDhtMsg({
    code: 4,
    src: { id, addr: 1n },
    node: { cookie: 1n, key: id, contacts: [{ id, addr: 2n }] },
    val: { values: [new Uint8Array(8), new Uint8Array(8)] },
  }));
  const res = fuzzDecoder((b) => decodeValidDhtMsg(b, KEY_LEN), seeds, 40000);
  assert(res.ok > 0 && res.rejected > 0);
});
