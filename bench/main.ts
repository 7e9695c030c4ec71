/**
 * `deno task bench [--quick] [section…]`: every benchmark, figures and
 * ratios against baselines measured in the same run.
 * @module
 */
import { benchLocal } from "./local.ts";
import { benchEth, benchUdp } from "./net.ts";
import { benchScale } from "./scale.ts";
import { benchTrust } from "./trust.ts";
import { benchVpn } from "./vpn.ts";
import { benchWake } from "./wake.ts";

const SECTIONS: Record<string, (quick: boolean) => Promise<void>> = {
  local: benchLocal,
  udp: benchUdp,
  eth: benchEth,
  scale: benchScale,
  trust: benchTrust,
  vpn: benchVpn,
  wake: benchWake,
};

const quick = Deno.args.includes("--quick");
const chosen = Deno.args.filter((a) => !a.startsWith("--"));
for (const s of chosen) {
  if (!SECTIONS[s]) {
    console.error(`bench: unknown section "${s}" (${Object.keys(SECTIONS).join(", ")})`);
    Deno.exit(2);
  }
}
console.log(`ouro benchmarks — ${new Date().toISOString()} — ${navigator.hardwareConcurrency} cores`);
for (const [name, fn] of Object.entries(SECTIONS)) {
  if (chosen.length && !chosen.includes(name)) continue;
  console.log(`\n=== ${name} ===`);
  await fn(quick);
}
