import { assertBytes, assertEquals, assertThrows } from "../../../../tests/util/assert.ts";
import { fuzzDecoder } from "../../../../tests/util/fuzz.ts";
import { DecodeError } from "../../../lib/errors.ts";
import { fromHex, toHex } from "../../../lib/hash.ts";
import { Writer } from "../../../lib/pb.ts";
import { sdu } from "./_captures.ts";
import {
  decodeIpcpConfig,
  decodeLayerInfo,
  defaultUniConfig,
  encodeIpcpConfig,
  encodeLayerInfo,
  type IpcpConfig,
  ipv4FromWire,
  ipv4ToWire,
} from "./config.ts";

/** `ipcp_type` wire values (spec 10 §1.1). */
const IpcpType = { LOCAL: 0, UNICAST: 1, BROADCAST: 2, ETH_LLC: 3, ETH_DIX: 4, UDP4: 5, UDP6: 6 };

/** The ipcp_config_msg embedded in udp4-unicast frame 8 (field 5 of enroll_resp, 65 bytes). */
function capturedConf(): Uint8Array {
  const resp = sdu("udp4-unicast.pcap", 8);
  const at = resp.indexOf(0x2a); // tag of field 5; earlier bytes hold no 0x2a here
  assertEquals(resp[at + 1], 0x41);
  return resp.subarray(at + 2, at + 2 + 0x41);
}

Deno.test("config: the captured unicast config decodes to the defaults plus peer", () => {
  const b = capturedConf();
  const uni = defaultUniConfig();
  uni.dir.dht!.peer = 2540519675n;
  const want: IpcpConfig = {
    layerInfo: { name: "net", hashAlgo: 1 },
    ipcpType: IpcpType.UNICAST,
    unicast: uni,
  };
  assertEquals(decodeIpcpConfig(b), want);
  assertBytes(encodeIpcpConfig(want), b);
});

Deno.test("config: layer_info round-trips", () => {
  const b = encodeLayerInfo({ name: "net", hashAlgo: 5 });
  assertEquals(toHex(b), "0a036e65741005");
  assertEquals(decodeLayerInfo(b), { name: "net", hashAlgo: 5 });
  assertThrows(() => decodeLayerInfo(fromHex("0a036e6574")), DecodeError, "dir_hash_algo");
});

Deno.test("config: udp4 addresses use the in_addr word (spec 10 §2.1)", () => {
  assertEquals(ipv4ToWire("10.0.0.1"), 0x0100000a);
  assertEquals(ipv4FromWire(0x0100000a), "10.0.0.1");
  assertEquals(ipv4FromWire(ipv4ToWire("255.254.3.0")), "255.254.3.0");
  assertThrows(() => ipv4ToWire("10.0.0"), RangeError);
  assertThrows(() => ipv4ToWire("10.0.0.256"), RangeError);
  const conf: IpcpConfig = {
    layerInfo: { name: "low", hashAlgo: 5 },
    ipcpType: IpcpType.UDP4,
    udp4: { ipAddr: "10.0.0.1", port: 3435, dnsAddr: "0.0.0.0" },
  };
  const b = encodeIpcpConfig(conf);
  // udp4 part: 08 <varint 0x0100000a> 10 <3435> 18 00
  assertEquals(toHex(b), "0a070a036c6f771005" + "1005" + "220a" + "088a80800810eb1a1800");
  assertEquals(decodeIpcpConfig(b), conf);
});

Deno.test("config: every IPCP type round-trips", () => {
  const li = { name: "layer", hashAlgo: 1 };
  const confs: IpcpConfig[] = [
    { layerInfo: li, ipcpType: IpcpType.LOCAL },
    { layerInfo: li, ipcpType: IpcpType.BROADCAST },
    { layerInfo: li, ipcpType: IpcpType.ETH_LLC, eth: { dev: "veth0", ethertype: 0 } },
    { layerInfo: li, ipcpType: IpcpType.ETH_DIX, eth: { dev: "va", ethertype: 0xa000 } },
    {
      layerInfo: li,
      ipcpType: IpcpType.UDP6,
      udp6: { ipAddr: new Uint8Array(16).fill(0xfe), port: 3435, dnsAddr: new Uint8Array(16) },
    },
    {
      layerInfo: li,
      ipcpType: IpcpType.UNICAST,
      unicast: {
        dt: { addrSize: 4, eidSize: 8, maxTtl: 255, routing: { pol: 7 } },
        dir: { pol: 3 },
        addrAuthType: 0,
        congAvoid: 0,
      },
    },
  ];
  for (const c of confs) assertEquals(decodeIpcpConfig(encodeIpcpConfig(c)), c);
});

Deno.test("config: parts required by type or policy must be present", () => {
  const reason = (b: Uint8Array) =>
    (assertThrows(() => decodeIpcpConfig(b), DecodeError) as DecodeError).reason;
  const li = (w: Writer) => w.string(1, "n").uint32(2, 1);
  // unicast type without unicast part
  assertEquals(reason(new Writer().message(1, li).uint32(2, 1).finish()), "pb-missing");
  // udp4 type without udp4 part
  assertEquals(reason(new Writer().message(1, li).uint32(2, 5).finish()), "pb-missing");
  // link-state routing without ls
  const c = defaultUniConfig();
  delete c.dt.routing.ls;
  assertThrows(
    () =>
      decodeIpcpConfig(
        encodeIpcpConfig({ layerInfo: { name: "n", hashAlgo: 1 }, ipcpType: 1, unicast: c }),
      ),
    DecodeError,
    "ls",
  );
  const d = defaultUniConfig();
  delete d.dir.dht;
  assertThrows(
    () =>
      decodeIpcpConfig(
        encodeIpcpConfig({ layerInfo: { name: "n", hashAlgo: 1 }, ipcpType: 1, unicast: d }),
      ),
    DecodeError,
    "dht",
  );
  // udp6 address of the wrong length
  const u6 = new Writer().message(1, li).uint32(2, 6)
    .message(5, (w) => w.bytes(1, new Uint8Array(4)).uint32(2, 1).bytes(3, new Uint8Array(16)))
    .finish();
  assertEquals(reason(u6), "udp6-addr-len");
  // the encoder refuses a config its type cannot use
  assertThrows(
    () => encodeIpcpConfig({ layerInfo: { name: "n", hashAlgo: 1 }, ipcpType: 4 }),
    RangeError,
  );
});

Deno.test("config: fuzzed input only ever throws DecodeError", () => {
  const seeds = [
    capturedConf(),
    encodeIpcpConfig({
      layerInfo: { name: "l", hashAlgo: 5 },
      ipcpType: 5,
      udp4: { ipAddr: "1.2.3.4", port: 1, dnsAddr: "0.0.0.0" },
    }),
    encodeIpcpConfig({
      layerInfo: { name: "l", hashAlgo: 1 },
      ipcpType: 4,
      eth: { dev: "eth0", ethertype: 0xa000 },
    }),
    encodeIpcpConfig({
      layerInfo: { name: "l", hashAlgo: 1 },
      ipcpType: 6,
      udp6: { ipAddr: new Uint8Array(16), port: 1, dnsAddr: new Uint8Array(16) },
    }),
  ];
  fuzzDecoder(decodeIpcpConfig, seeds, 30000);
  fuzzDecoder(decodeLayerInfo, [encodeLayerInfo({ name: "net", hashAlgo: 1 })], 5000);
});
