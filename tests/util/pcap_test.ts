import { assertEquals } from "./assert.ts";
import { loadCapture, udpPayload } from "./pcap.ts";

Deno.test("pcap: reads the udp4-unicast capture", () => {
  const frames = loadCapture("udp4-unicast.pcap");
  assertEquals(frames.length, 36);
  const f3 = udpPayload(frames[2]!.data)!;
  assertEquals(f3.dport, 3435);
  assertEquals(f3.payload.length, 141 - 42);
});
