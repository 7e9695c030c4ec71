/**
 * The tunnel's security policy on top of OAP (the flow allocation
 * protocol's key agreement and authentication, done by the IRMds).
 *
 * Encryption: OAP encrypts a flow end to end between the two IRMds'
 * clients whatever the layers underneath (local, udp, eth, unicast), so
 * every layer "supports" it; it costs CPU per packet. A tunnel's
 * `encryption` setting decides what it asks for and what it accepts:
 *
 * - `required` (default, what a VPN user expects): outgoing flows ask for
 *   X25519 + ChaCha20-Poly1305 and are dropped if the IRMds did not agree
 *   a cipher; incoming flows without a cipher are refused.
 * - `preferred`: ask for encryption; if the peer's IRMd cannot agree one
 *   (ECRYPT), allocate a clear flow; accept clear flows; `show` flags them.
 * - `off`: ask for nothing (the name's own `enc.conf` in the IRMd's
 *   security directory still applies), accept anything.
 *
 * Identity: with pinned peer keys (`<sec>/server/<listen>/peers/`) the
 * IRMd refuses clients that do not prove a pinned key. When a flow carries
 * the name the peer proved (its certificate's CN), {@link oapIdentity}
 * requires it to equal the name the peer claims in HELLO.
 *
 * @example
 * ```ts ignore
 * const flow = await allocFlow(transport, "tun.b", qosRaw, "required", { timeoutMs: 5000 });
 * console.log(flow.cipher); // "chacha20-poly1305"
 * ```
 * @module
 */

import { Errno, isErrno } from "../lib/errors.ts";
import type { QosSpec } from "../lib/qos.ts";
import type { FlowTransport, PeerIdentifier, TransportAllocOptions, TunnelFlow } from "./transport.ts";

/** What a tunnel asks for and accepts; see the module documentation. */
export type EncryptionPolicy = "required" | "preferred" | "off";

/** The policies, in the order the config error message lists them. */
export const encryptionPolicies: readonly EncryptionPolicy[] = ["required", "preferred", "off"];

/** Default policy. */
export const defaultEncryption: EncryptionPolicy = "required";

/**
 * Allocate a flow to `name` under `policy`. Throws what the transport
 * throws, or an Error when `required` and the flow came up in the clear
 * (the flow is closed first).
 */
export async function allocFlow(
  transport: FlowTransport,
  name: string,
  qos: QosSpec,
  policy: EncryptionPolicy,
  options: TransportAllocOptions = {},
): Promise<TunnelFlow> {
  if (policy === "off") return await transport.alloc(name, qos, options);
  let flow: TunnelFlow;
  try {
    flow = await transport.alloc(name, qos, { ...options, encryption: true });
  } catch (e) {
    if (policy !== "preferred" || !isErrno(e, Errno.ECRYPT)) throw e;
    flow = await transport.alloc(name, qos, options);
  }
  if (policy === "required" && !flow.cipher) {
    await flow.close();
    throw new Error(`Cannot use the flow to ${name}: it is not encrypted (encryption = "required")`);
  }
  return flow;
}

/** Why an accepted flow must be refused under `policy`, or undefined to take it. */
export function refuseIncoming(policy: EncryptionPolicy, flow: TunnelFlow): string | undefined {
  if (policy === "required" && !flow.cipher) {
    return 'encryption required: allocate with encryption (tunnel setting encryption = "required" or "preferred")';
  }
  return undefined;
}

/**
 * Believe the claimed name unless OAP authenticated the peer as someone
 * else: a flow whose {@link TunnelFlow.peerName} is set must claim exactly
 * that name.
 */
export const oapIdentity: PeerIdentifier = {
  identify: (claimed, flow) => (flow.peerName === undefined || flow.peerName === claimed ? claimed : undefined),
};
