import { assertEquals, assertThrows } from "../../../tests/util/assert.ts";
import { OuroError } from "../../lib/errors.ts";
import { unicastConfig } from "./options.ts";
import { defaultUniConfig, encodeIpcpConfig } from "./wire/config.ts";
import { sdu } from "./wire/_captures.ts";
import { decodeEnrollResp } from "./wire/enroll.ts";

Deno.test("options: no options give the reference's defaults, byte for byte as enrolled", () => {
  const c = unicastConfig({ layer: "net" });
  assertEquals(c.unicast, defaultUniConfig());
  // the capture's enrollment response carries the same config (peer = the enroller)
  const conf = decodeEnrollResp(sdu("udp4-unicast.pcap", 8)).conf!;
  c.unicast!.dir.dht!.peer = conf.unicast!.dir.dht!.peer;
  assertEquals(encodeIpcpConfig(c), encodeIpcpConfig(conf));
});

Deno.test("options: CLI keywords and config-file keys both set every field", () => {
  const cli = unicastConfig({
    layer: "x",
    hashAlgo: 3,
    options: {
      addr: 4,
      eid: 8,
      ttl: 9,
      routing: "ecmp",
      ls_t_recalc: 2,
      ls_t_update: 3,
      ls_t_timeo: 5,
      addr_auth: "flat",
      directory: "DHT",
      congestion: "none",
      dht_alpha: 2,
      dht_k: 4,
      dht_t_expire: 100,
      dht_t_refresh: 10,
      dht_t_replicate: 11,
    },
  });
  const u = cli.unicast!;
  assertEquals(cli.layerInfo, { name: "x", hashAlgo: 3 });
  assertEquals(u.dt.maxTtl, 9);
  assertEquals(u.dt.routing.ls, { pol: 2, tRecalcS: 2, tUpdateS: 3, tTimeoS: 5 });
  assertEquals(u.congAvoid, 0);
  assertEquals(u.dir.dht, {
    alpha: 2,
    k: 4,
    tExpireS: 100,
    tRefreshS: 10,
    tReplicateS: 11,
    peer: 0n,
  });
  const file = unicastConfig({
    layer: "x",
    options: {
      addr_size: 4,
      max_ttl: "7",
      routing: "link-state",
      "addr-auth": "flat",
      congestion: "lfa",
    },
  });
  assertEquals(file.unicast!.dt.maxTtl, 7);
  assertEquals(file.unicast!.congAvoid, 1); // the reference's "lfa" quirk
  const warned: string[] = [];
  assertEquals(
    unicastConfig({ layer: "x", options: { eid: 4 } }, (m) => warned.push(m)).unicast!.dt.eidSize,
    8,
  );
  assertEquals(warned.length, 1);
});

Deno.test("options: out-of-range and unknown options are EINVAL", () => {
  for (
    const options of <Record<string, string | number>[]> [
      { dht_alpha: 11 },
      { dht_k: 0 },
      { dht_t_expire: 5 },
      { dht_t_refresh: 4000 },
      { ttl: 256 },
      { routing: "rip" },
      { congestion: "cubic" },
      { directory: "dns" },
      { ip: "10.0.0.1" },
      { ttl: "x" },
    ]
  ) assertThrows(() => unicastConfig({ layer: "x", options }), OuroError, "Cannot bootstrap");
  assertThrows(() => unicastConfig({ layer: "x", hashAlgo: 5 }), OuroError, "hash");
  assertThrows(() => unicastConfig({ layer: "" }), OuroError, "layer name");
});
