/**
 * The IRMd's side of a tunnel flow's fast path (`flow.fast`): the flow is
 * on a shim layer (udp, eth) or on a unicast layer whose next hop is on
 * one. The app proves it is the process it said, the IRMd borrows its TUN
 * fd and has the shim's I/O Worker write the flow's received IP packets
 * there, and tells the app how to send without the IRMd (the socket to
 * borrow, the peer's address, the header to put in front).
 * @module
 */
import { isTunFd } from "../../bridges/linux/tun.ts";
import { libc } from "../io/libc.ts";
import { borrowFd, readProcessMemory } from "../io/pidfd.ts";
import { EthIpcp } from "../ipcp/eth/eth.ts";
import type { FastShim, FastShimInfo } from "../ipcp/common/fast.ts";
import { UdpIpcp } from "../ipcp/udp/udp.ts";
import { UnicastIpcp } from "../ipcp/unicast/unicast.ts";
import { Errno, OuroError } from "../lib/errors.ts";
import { toHex } from "../lib/hash.ts";
import type { AppConn } from "./appconn.ts";
import type { Irmd } from "./daemon.ts";
import type { FlowRec } from "./flows.ts";
import { int, optStr, prefixArray } from "./validate.ts";

type Msg = Record<string, unknown>;

function isFastShim(i: unknown): i is FastShim {
  return i instanceof UdpIpcp || i instanceof EthIpcp;
}

/** Where flow `f`'s packets meet a shim: the shim, its send info, and over a unicast layer the DT part. */
function shimOf(d: Irmd, f: FlowRec) {
  const ipcp = f.ipcp;
  // over a unicast layer: the N−1 flow of the next hop must be on a shim (udp, eth)
  const uni = ipcp instanceof UnicastIpcp ? ipcp.fastInfo(f.id) : undefined;
  const below = ipcp instanceof UnicastIpcp ? uni && d.broker.flows.get(uni.fd)?.ipcp : ipcp;
  if (!isFastShim(below) || (ipcp instanceof UnicastIpcp && !uni)) {
    const why = ipcp instanceof UnicastIpcp
      ? uni ? "its next hop is not on a udp or Ethernet layer" : "it has no route"
      : "it is not on a udp, Ethernet or unicast layer";
    throw new OuroError(Errno.ENOTSUP, `Cannot take a fast path for flow ${f.id}: ${why}`);
  }
  const send: FastShimInfo = below.fastSendInfo(uni ? uni.fd : f.id);
  return { low: below, send, uni };
}

/**
 * The pid in hello is only a claim: the process proves it by holding the
 * nonce we gave it at the address it names (nobody else can put it
 * there); then we borrow its TUN device.
 */
function borrowTun(app: AppConn, proof: string | undefined, appFd: number): number {
  const nonce = app.fastNonce;
  app.fastNonce = undefined;
  if (!nonce || proof === undefined || !/^[0-9]{1,20}$/.test(proof)) {
    throw new OuroError(Errno.EPERM, "Cannot take a fast path: ask flow.fast.nonce first and give its address as proof");
  }
  let tunFd: number;
  try {
    if (toHex(readProcessMemory(app.pid, BigInt(proof), nonce.length)) !== toHex(nonce)) {
      throw new OuroError(Errno.EPERM, `Cannot take a fast path: this connection is not process ${app.pid}`);
    }
    tunFd = borrowFd(app.pid, appFd);
  } catch (e) {
    if (e instanceof OuroError) throw e;
    throw new OuroError(Errno.EPERM, `Cannot take a fast path: ${(e as Error).message}`);
  }
  if (!isTunFd(tunFd)) {
    libc().close(tunFd);
    throw new OuroError(Errno.EINVAL, "Cannot take a fast path: tunFd is not a TUN device");
  }
  return tunFd;
}

/** `flow.fast`: check the request whole, then the flow, the proof; install; reply. */
export async function takeFastPath(d: Irmd, app: AppConn, m: Msg): Promise<Msg> {
  const flowId = int(m, "flowId", 1, 0xffffffff);
  const cipherNid = int(m, "cipherNid", 0, 0xffff);
  const key = optStr(m, "key");
  if (cipherNid !== 0 && !/^[0-9a-f]{64}$/.test(key ?? "")) {
    throw new OuroError(Errno.EINVAL, "Bad request: key must be 64 hex digits");
  }
  const sources = prefixArray(m, "sources");
  const appFd = int(m, "tunFd", 0, 0x7fffffff);
  const pass = optStr(m, "pass");
  if (pass !== undefined && !/^[0-9a-f]{32}$/.test(pass)) {
    throw new OuroError(Errno.EINVAL, "Bad request: pass must be 32 hex digits");
  }
  const f = d.broker.flows.get(flowId);
  if (!f || f.owner !== app || f.state !== "ALLOCATED") {
    throw new OuroError(Errno.ENOTALLOC, `Cannot take a fast path: flow ${flowId} is not allocated to this process`);
  }
  const { low, send, uni } = shimOf(d, f);
  const tunFd = borrowTun(app, optStr(m, "proof"), appFd);

  const common = { id: flowId, shim: send.shim, tunFd, cipherNid, key, pass, sources };
  if (!uni) await low.fastInstall({ ...common, keys: [send.key] });
  else {
    await low.fastInstall({
      ...common,
      // DT packets for us may come in on any of the unicast IPCP's N−1 flows there
      keys: uni.dtFds.flatMap((fd) => {
        if (d.broker.flows.get(fd)?.ipcp !== low) return [];
        try {
          return [low.fastSendInfo(fd).key];
        } catch {
          return []; // not allocated yet: its packets take the normal way
        }
      }),
      dt: {
        len: uni.off.len,
        match: [{ at: 0, bytes: [...uni.self] }, { at: uni.off.eid, bytes: [...uni.eidBytes] }],
        ecnAt: uni.off.ecn,
      },
    });
    endWithHop(d, f, uni.fd);
  }
  f.fast = low;
  f.onFree = () => low.fastRemove(flowId);

  const header = new Uint8Array(send.header.length + (uni?.pci.length ?? 0));
  header.set(send.header);
  if (uni) header.set(uni.pci, send.header.length);
  return {
    pid: Deno.pid,
    fd: send.fd,
    dst: toHex(send.dst),
    header: toHex(header),
    // a length field in the shim header counts the DT PCI too
    lenAt: send.lenAt,
    lenAdd: send.lenAt === undefined ? undefined : (send.lenAdd ?? 0) + (uni?.pci.length ?? 0),
  };
}

/**
 * The sender's next hop is fixed in its header: when N−1 flow `hopFd`
 * ends, end flow `f` too, so the app allocates a new one on the new route.
 */
function endWithHop(d: Irmd, f: FlowRec, hopFd: number): void {
  const hop = d.broker.flows.get(hopFd);
  if (!hop) return;
  const before = hop.onFree;
  hop.onFree = () => {
    before?.();
    if (d.broker.flows.get(f.id) !== f) return;
    f.ipcp?.flowDealloc(f.id);
    d.broker.flowDeallocated(f.id);
  };
}
