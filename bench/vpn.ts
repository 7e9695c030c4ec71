/**
 * The `vpn` section: `ouro tunnel` against userspace VPNs, side by side in
 * one run, in the same two network namespaces joined by one veth pair.
 *
 * It wraps `../shared/bench/vpn-anchors.sh` (plain veth, wireguard-go,
 * OpenVPN, tinc; iperf3 TCP 1 and 4 streams, UDP at a high offered rate
 * and at a moderate one, ping RTT, CPU of the tunnel processes): a bash
 * plug-in sourced before the script adds setups of its form `setup_<name>`
 * for ouro — an IRMd per namespace, a udp4 layer (or a unicast layer on
 * udp4) and `ouro tunnel up` on each side; the CPU counted is both IRMds
 * and both tunnel processes. The script leaves its raw figures in
 * `results.tsv`; this prints their medians and the ratios to wireguard-go.
 *
 * Needs root and `apt-get install -y wireguard-go wireguard-tools openvpn
 * tinc iperf3 jq`; setups whose tools are missing are left out (said so).
 * Environment: `OURO_VPN_TESTS` (setups), `OURO_VPN_RUNS`, `OURO_VPN_DUR`
 * (iperf3 seconds), `OURO_VPN_SCRIPT` (path of vpn-anchors.sh).
 * @module
 */
import { MAIN, printTable } from "./util.ts";

/** The anchors script, beside the repository. */
const SCRIPT = new URL("../../shared/bench/vpn-anchors.sh", import.meta.url).pathname;

/** Every setup, in table order; the first three come from the script. */
const ALL = ["veth", "wg", "ovpn-gcm", "tinc", "ouro-udp", "ouro-udp-irmd", "ouro-udp-clear", "ouro-uni"];

/** Tools each setup needs beyond iperf3/jq/ip/ping. */
const NEEDS: Record<string, string[]> = {
  wg: ["wireguard-go", "wg"],
  "ovpn-gcm": ["openvpn", "openssl"],
  "ovpn-static": ["openvpn"],
  tinc: ["tincd"],
};

const LABELS: Record<string, string> = {
  veth: "plain veth",
  wg: "wireguard-go",
  "ovpn-gcm": "OpenVPN AES-256-GCM",
  "ovpn-static": "OpenVPN static CBC",
  tinc: "tinc aes-256-cbc",
  "ouro-udp": "ouro tunnel / udp4 (encrypted)",
  "ouro-udp-irmd": "ouro tunnel / udp4 (enc., no fast path)",
  "ouro-udp-clear": "ouro tunnel / udp4 (encryption off)",
  "ouro-uni": "ouro tunnel / unicast / udp4 (enc.)",
};

/**
 * The plug-in: `setup_ouro-*` functions in the script's conventions (they
 * set PEER_IP and TUN_PIDS, add every process to BG_PIDS, return non-zero
 * via `fail`).
 */
function plugin(): string {
  return String.raw`
OURO="${Deno.execPath()} run -A --quiet ${MAIN}"
ouro_in() { local ns=$1; shift; ip netns exec "$ns" $OURO "$@"; }
ouro_start() {  # setup-dir enc layer-kind
  local d=$1 enc=$2 kind=$3 n ns ip other oip
  rm -rf "$d"; mkdir -p "$d"
  TUN_PIDS=()
  for n in a b; do
    if [[ $n == a ]]; then ns=$NS_A ip=$VETH_A other=b oip=$VETH_B; else ns=$NS_B ip=$VETH_B other=a oip=$VETH_A; fi
    local peers="tun.$other=$oip"
    [[ $kind == uni ]] && peers="uni.$other=$oip,net=$oip"
    printf '[udp4."udp.%s"]\nbootstrap = "wan"\nip = "%s"\npeers = "%s"\n' $n $ip "$peers" >"$d/irmd-$n.toml"
    ip netns exec "$ns" $OURO irmd --rundir "$d/run-$n" --config "$d/irmd-$n.toml" >"$d/irmd-$n.log" 2>&1 & BG_PIDS+=($!); TUN_PIDS+=($!)
    wait_log "$d/irmd-$n.log" "daemon started" 30 || return $(fail "ouro irmd $n did not start; see $d")
  done
  local layer=wan
  if [[ $kind == uni ]]; then
    layer=net
    ouro_in $NS_A irm --rundir "$d/run-a" ipcp bootstrap name uni.a type unicast layer net autobind >>"$d/irm.log" 2>&1 || return $(fail "bootstrap uni.a")
    ouro_in $NS_A irm --rundir "$d/run-a" name register uni.a layer wan >>"$d/irm.log" 2>&1
    ouro_in $NS_A irm --rundir "$d/run-a" name register net layer wan >>"$d/irm.log" 2>&1
    ouro_in $NS_B irm --rundir "$d/run-b" ipcp enroll name uni.b dst uni.a autobind >>"$d/irm.log" 2>&1 || return $(fail "enroll uni.b; see $d")
    ouro_in $NS_B irm --rundir "$d/run-b" name register uni.b layer wan >>"$d/irm.log" 2>&1
    ouro_in $NS_B irm --rundir "$d/run-b" ipcp connect name uni.b dst uni.a component dt >>"$d/irm.log" 2>&1 || return $(fail "connect dt")
    ouro_in $NS_B irm --rundir "$d/run-b" ipcp connect name uni.b dst uni.a component mgmt >>"$d/irm.log" 2>&1 || return $(fail "connect mgmt")
  fi
  for n in a b; do
    if [[ $n == a ]]; then ns=$NS_A ip=10.99.5.1 other=b oip=10.99.5.2; else ns=$NS_B ip=10.99.5.2 other=a oip=10.99.5.1; fi
    printf '[interface]\nname = "ouro%s"\naddress = ["%s/24"]\nlisten = "tun.%s"\nlayer = "%s"\nencryption = "%s"\n[[peer]]\nname = "tun.%s"\nallowed-ips = ["%s/32"]\n' \
      $n $ip $n $layer $enc $other $oip >"$d/tun-$n.toml"
    ip netns exec "$ns" $OURO tunnel up "$d/tun-$n.toml" --rundir "$d/run-$n" >"$d/tun-$n.log" 2>&1 & BG_PIDS+=($!); TUN_PIDS+=($!)
    wait_log "$d/tun-$n.log" "up: device" 30 || return $(fail "ouro tunnel $n did not come up; see $d")
  done
  PEER_IP=10.99.5.2
  wait_ping "$NS_A" $PEER_IP 30 || return $(fail "no ping through ouro tunnel; see $d")
  ip netns exec "$NS_A" $OURO tunnel show ouroa --rundir "$d/run-a" 2>&1 | grep -E "flow [0-9]+:" | head -2 >&2
}
setup_ouro-udp() { ouro_start "$WORK/ouro-udp" required udp; }
setup_ouro-udp-irmd() { OURO_FAST_PATH=0 ouro_start "$WORK/ouro-udp-irmd" required udp; }
setup_ouro-udp-clear() { ouro_start "$WORK/ouro-udp-clear" off udp; }
setup_ouro-uni() { ouro_start "$WORK/ouro-uni" required uni; }
`;
}

async function has(tool: string): Promise<boolean> {
  const o = await new Deno.Command("sh", { args: ["-c", `command -v ${tool}`], stdout: "null", stderr: "null" }).output();
  return o.success;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** `vpn` section: see the module documentation. */
export async function benchVpn(quick: boolean): Promise<void> {
  if (Deno.uid() !== 0) return void console.log("vpn: skipped (needs root for namespaces and TUN devices)");
  const script = Deno.env.get("OURO_VPN_SCRIPT") ?? SCRIPT;
  if (!(await Deno.stat(script).then(() => true, () => false))) return void console.log(`vpn: skipped (no ${script})`);
  for (const t of ["iperf3", "jq"]) {
    if (!(await has(t))) return void console.log(`vpn: skipped (no ${t}; apt-get install -y iperf3 jq)`);
  }
  const wanted = (Deno.env.get("OURO_VPN_TESTS") ?? ALL.join(" ")).split(/\s+/).filter(Boolean);
  const tests: string[] = [];
  for (const t of wanted) {
    const missing = [];
    for (const tool of NEEDS[t] ?? []) if (!(await has(tool))) missing.push(tool);
    if (missing.length) console.log(`vpn: leaving out ${t} (missing ${missing.join(", ")}; apt-get install -y wireguard-go wireguard-tools openvpn tinc)`);
    else tests.push(t);
  }
  const runs = Deno.env.get("OURO_VPN_RUNS") ?? (quick ? "1" : "3");
  const dur = Deno.env.get("OURO_VPN_DUR") ?? (quick ? "3" : "10");
  const work = await Deno.makeTempDir({ prefix: "ouro-vpn-" });
  try {
    await Deno.writeTextFile(`${work}/ouro-plugin.sh`, plugin());
    const tag = `${Deno.pid % 100000}`;
    console.log(`vpn: ${tests.join(" ")}; runs=${runs} dur=${dur}s (progress on stderr; raw figures in ${work}/results.tsv)`);
    const child = new Deno.Command("bash", {
      args: ["-c", 'source "$1"; source "$2"', "vpn", `${work}/ouro-plugin.sh`, script],
      env: {
        TESTS: tests.join(" "),
        RUNS: runs,
        DUR: dur,
        PINGS: quick ? "30" : "50",
        NS_A: `ovpn-a-${tag}`,
        NS_B: `ovpn-b-${tag}`,
        WORK: work,
      },
      stdout: "null",
      stderr: "inherit",
    }).spawn();
    const status = await child.status;
    if (!status.success) console.log(`vpn: the anchors script exited with ${status.code}; figures so far follow`);
    report(await Deno.readTextFile(`${work}/results.tsv`).catch(() => ""), tests);
  } finally {
    if (!Deno.env.get("OURO_VPN_KEEP")) await Deno.remove(work, { recursive: true }).catch(() => {});
  }
}

/** Print medians and ratios to wireguard-go from the script's `results.tsv`. */
export function report(tsv: string, tests: string[]): void {
  const d = new Map<string, number[]>();
  for (const line of tsv.split("\n")) {
    const [t, , m, v] = line.split("\t");
    const x = Number(v);
    if (!t || !m || v === undefined || v === "NA" || !Number.isFinite(x)) continue;
    const k = `${t}/${m}`;
    d.set(k, [...(d.get(k) ?? []), x]);
  }
  const med = (t: string, m: string) => median(d.get(`${t}/${m}`) ?? []);
  const fmt = (x: number, digits = 0) => (Number.isFinite(x) ? x.toFixed(digits) : "-");
  // CPU of the tunnel processes per Gbit/s moved (TCP 1 stream): cost per bit, the fairest figure on 2 shared cores
  const cpuPerGbit = (t: string) => med(t, "tcp1_tuncpu") / (med(t, "tcp1_mbps") / 1000);
  printTable(
    "VPNs in two namespaces over one veth (medians; tunnel CPU = % of one core, both ends)",
    ["setup", "TCP1 Mb/s", "TCP4 Mb/s", "UDP recv Mb/s", "UDP loss %", "UDP2 loss %", "ping ms", "CPU% tcp1", "CPU%/Gbit/s"],
    tests.map((t) => [
      LABELS[t] ?? t,
      fmt(med(t, "tcp1_mbps")),
      fmt(med(t, "tcp4_mbps")),
      fmt(med(t, "udp_recv_mbps")),
      fmt(med(t, "udp_loss_pct"), 1),
      fmt(med(t, "udp2_loss_pct"), 2),
      fmt(med(t, "ping_avg_ms"), 3),
      fmt(med(t, "tcp1_tuncpu")),
      t === "veth" ? "-" : fmt(cpuPerGbit(t)),
    ]),
  );
  if (!tests.includes("wg")) return;
  const r = (t: string, m: string) => fmt(med(t, m) / med("wg", m), 2);
  printTable(
    "ratios to wireguard-go (same run; throughput: higher is better, ping and CPU/Gbit: lower is better)",
    ["setup", "TCP1", "TCP4", "UDP recv", "ping", "CPU/Gbit"],
    tests.filter((t) => t !== "wg").map((t) => [
      LABELS[t] ?? t,
      r(t, "tcp1_mbps"),
      r(t, "tcp4_mbps"),
      r(t, "udp_recv_mbps"),
      r(t, "ping_avg_ms"),
      t === "veth" ? "-" : fmt(cpuPerGbit(t) / cpuPerGbit("wg"), 2),
    ]),
  );
  const bg = Math.max(0, ...[...d].filter(([k]) => k.endsWith("/bg_cores")).flatMap(([, v]) => v));
  console.log(`\nfigures vary ±30% on these 2 shared cores; busy cores from other processes between tests up to ${fmt(bg, 2)}`);
}
