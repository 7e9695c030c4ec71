import { assertEquals } from "../../../tests/util/assert.ts";
import { logger, setLogSink } from "../../lib/log.ts";
import { qosRaw } from "../../lib/qos.ts";
import type { N1Flow } from "../../irmd/n1.ts";
import { Routing } from "./mgmt.ts";
import { decodeLsu, encodeLsu } from "./wire/lsu.ts";

function flow(id: number, sent: Uint8Array[]): N1Flow {
  return {
    id,
    qos: qosRaw,
    name: "peer",
    mpl: 100,
    write(sdu) {
      sent.push(sdu.slice());
      return undefined;
    },
    close() {},
    onPacket: () => {},
    onDealloc: () => {},
  };
}

Deno.test("routing: a silent neighbour is logged and counted down, then up when an LSU comes", () => {
  const lines: string[] = [];
  setLogSink((l) => lines.push(l));
  try {
    let now = 0;
    const sent: Uint8Array[] = [];
    const r = new Routing({
      addr: 1,
      ls: { pol: 0, tRecalcS: 1, tUpdateS: 1, tTimeoS: 3 },
      log: logger("routing"),
      clock: () => now,
      nameOf: (a) => (a === 123 ? "uni.b" : undefined),
    });
    const onLsu = r.mgmtConnAdd(123, flow(20, sent));
    r.dtConnAdd(123, 10);
    for (now = 100; now <= 3600; now += 100) r.ls.tick();
    assertEquals(r.counters.linkDowns, 1);
    const down = lines.filter((l) => l.includes("link down"));
    assertEquals(down.length, 1);
    assertEquals(
      down[0]!.replace(/^\S+ /, ""),
      "WW routing: Neighbour 123 (uni.b) silent for 3.3 s: link down.",
    );
    // alone, it still sends the neighbour a keepalive every t_update
    sent.length = 0;
    for (; now <= 5600; now += 100) r.ls.tick();
    assertEquals(sent.map((b) => decodeLsu(b)).map((m) => [m.sAddr, m.dAddr]), [[1n, 123n], [
      1n,
      123n,
    ]]);
    onLsu(encodeLsu({ sAddr: 123n, dAddr: 1n, seqno: 9n }));
    r.ls.tick(now += 300);
    assertEquals(r.counters.linkUps, 1);
    const up = lines.filter((l) => l.includes("link up"));
    assertEquals(up.map((l) => l.replace(/^\S+ /, "")), [
      "II routing: Neighbour 123 (uni.b) back after 5.7 s: link up.",
    ]);
    assertEquals(r.ls.lsdb.dtFd(123), 10);
    r.stop();
  } finally {
    setLogSink((l) => console.error(l));
  }
});
