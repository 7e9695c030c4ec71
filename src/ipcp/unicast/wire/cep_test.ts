import { assertBytes, assertEquals, assertThrows } from "../../../../tests/util/assert.ts";
import { fuzzDecoder } from "../../../../tests/util/fuzz.ts";
import { DecodeError } from "../../../lib/errors.ts";
import { fromHex } from "../../../lib/hash.ts";
import { sdu } from "./_captures.ts";
import { type Cep, CepSyntax, decodeCep, encodeCep } from "./cep.ts";

const enroll: Cep = {
  compName: "Enrollment",
  protocol: "OEP",
  prefVersion: 1,
  prefSyntax: CepSyntax.GPB,
  address: 0n,
};
const dt = (address: bigint): Cep => ({
  compName: "Data Transfer",
  protocol: "dtp",
  prefVersion: 1,
  prefSyntax: CepSyntax.FIXED,
  address,
});
const mgmt = (address: bigint): Cep => ({
  compName: "Management",
  protocol: "LSP",
  prefVersion: 1,
  prefSyntax: CepSyntax.GPB,
  address,
});

/** [capture, frame, expected] from the captures' frames.log (addresses from the README). */
const VECTORS: [string, number, Cep][] = [
  ["udp4-unicast.pcap", 5, enroll],
  ["udp4-unicast.pcap", 6, enroll],
  ["udp4-unicast.pcap", 12, dt(39535345n)],
  ["udp4-unicast.pcap", 13, dt(2540519675n)],
  ["udp4-unicast.pcap", 16, mgmt(39535345n)],
  ["udp4-unicast.pcap", 17, mgmt(2540519675n)],
  ["eth-dix-unicast.pcap", 5, enroll],
  ["eth-dix-unicast.pcap", 6, enroll],
  ["eth-dix-unicast.pcap", 14, dt(1428380001n)],
  ["eth-dix-unicast.pcap", 15, dt(3264096334n)],
  ["eth-dix-unicast.pcap", 18, mgmt(1428380001n)],
  ["eth-dix-unicast.pcap", 19, mgmt(3264096334n)],
  ["eth-llc-unicast.pcap", 14, dt(3220869140n)],
  ["eth-llc-unicast.pcap", 19, mgmt(2944883052n)],
  ["udp4-data-qos.pcap", 12, dt(3369331490n)],
  ["udp4-data-qos.pcap", 13, dt(2139026349n)],
  ["udp4-data-qos.pcap", 16, mgmt(3369331490n)],
  ["udp4-data-qos.pcap", 17, mgmt(2139026349n)],
];

Deno.test("cep: captured messages decode and re-encode byte for byte", () => {
  for (const [cap, no, want] of VECTORS) {
    const bytes = sdu(cap, no);
    assertEquals(decodeCep(bytes), want, `${cap} #${no}`);
    assertBytes(encodeCep(want), bytes, `${cap} #${no}`);
  }
  assertEquals(sdu("udp4-unicast.pcap", 5).length, 23);
});

Deno.test("cep: optional repeated and syntax fields round-trip in field order", () => {
  const m: Cep = {
    ...dt(7n),
    suppVersion: [1, -1],
    suppSyntax: [0, 2],
    syntaxSpec: { fids: [1, 2], lens: [4, 8] },
  };
  const b = encodeCep(m);
  assertEquals(decodeCep(b), m);
  // broadcast DT: empty protocol, version 0, still all required fields present
  const bc: Cep = {
    compName: "Data Transfer",
    protocol: "",
    prefVersion: 0,
    prefSyntax: 0,
    address: 0n,
  };
  assertBytes(
    encodeCep(bc),
    fromHex("0a0d44617461205472616e73666572" + "1200" + "1800" + "2800" + "4000"),
  );
  assertEquals(decodeCep(encodeCep(bc)), bc);
});

Deno.test("cep: packed supp_version is accepted, unknown fields skipped", () => {
  const b = fromHex("0a01611201621801" + "22020102" + "2800" + "4805" + "4001");
  assertEquals(decodeCep(b), {
    compName: "a",
    protocol: "b",
    prefVersion: 1,
    suppVersion: [1, 2],
    prefSyntax: 0,
    address: 1n,
  });
});

Deno.test("cep: missing required fields and oversized input are rejected", () => {
  const full = encodeCep(enroll);
  // drop the address (last 2 bytes)
  assertThrows(() => decodeCep(full.subarray(0, full.length - 2)), DecodeError, "address");
  assertThrows(() => decodeCep(fromHex("0a0161")), DecodeError, "protocol");
  const big = encodeCep({ ...enroll, compName: "x".repeat(120) });
  const e = assertThrows(() => decodeCep(big), DecodeError) as DecodeError;
  assertEquals(e.reason, "pb-too-big");
  assertEquals(decodeCep(big, { maxBytes: 256 }).compName.length, 120);
});

Deno.test("cep: fuzzed input only ever throws DecodeError", () => {
  const seeds = VECTORS.slice(0, 6).map(([c, n]) => sdu(c, n));
  seeds.push(
    encodeCep({
      ...dt(1n),
      suppVersion: [1],
      suppSyntax: [2],
      syntaxSpec: { fids: [1], lens: [2] },
    }),
  );
  fuzzDecoder(decodeCep, seeds, 20000);
});
