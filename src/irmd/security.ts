/**
 * The IRMd's side of OAP (spec 04): per-name credentials, the trust store,
 * the replay window, and the three handshake steps the flow broker calls.
 * @module
 */
import { loadCredentials, SECURITY_DIR, type SecurityPaths, TrustStore } from "../crypto/credentials.ts";
import { cipherByNid, kexByNid } from "../crypto/nid.ts";
import {
  oapClientComplete,
  oapClientPrepare,
  type OapClientState,
  type OapResult,
  oapServerProcess,
  type OapServerResult,
} from "../crypto/oap.ts";
import { oapIdText } from "../crypto/oap_wire.ts";
import { ReplayWindow } from "../crypto/replay.ts";
import type { EncConf } from "../crypto/enc_conf.ts";
import type { Logger } from "../lib/log.ts";

/** Default security directory: `$OURO_SECDIR`, else the reference's. */
export function defaultSecDir(): string {
  return Deno.env.get("OURO_SECDIR") ?? SECURITY_DIR;
}

/** What a flow learns from OAP: its cipher and key (cipherNid 0: clear). */
export interface FlowCrypto {
  cipherNid: number;
  key?: Uint8Array;
  /** What OAP proved about the other end (its certificate's CN, if any). */
  peer?: { authenticated: boolean; cn?: string };
}

/** OAP for one daemon. */
export class OapAgent {
  readonly replay = new ReplayWindow();
  /** Path overrides per name (from `[name.X]` config keys). */
  readonly overrides = new Map<string, { server: Partial<SecurityPaths>; client: Partial<SecurityPaths> }>();

  private constructor(readonly secDir: string, readonly trust: TrustStore, readonly log: Logger) {}

  /** Load the trust store of `secDir` (a missing directory is fine). */
  static async create(secDir: string, log: Logger): Promise<OapAgent> {
    const trust = await TrustStore.load(secDir);
    return new OapAgent(secDir, trust, log);
  }

  #load(role: "client" | "server", name: string) {
    return loadCredentials(role, name, { secDir: this.secDir, trust: this.trust, paths: this.overrides.get(name)?.[role] });
  }

  #done(r: OapResult, name: string, side: string): FlowCrypto {
    if (r.cipherNid !== 0) {
      const kex = kexByNid(r.kexNid)?.name ?? `kex ${r.kexNid}`;
      const cipher = cipherByNid(r.cipherNid)?.name ?? `cipher ${r.cipherNid}`;
      this.log.info(`[${oapIdText(r.id)}] Negotiated ${kex} + ${cipher} for ${name} (${side}).`);
    }
    return { cipherNid: r.cipherNid, key: r.key, peer: { authenticated: r.peer.authenticated, cn: r.peer.cn } };
  }

  /** Client: build the request for a flow to `dst`. */
  async clientPrepare(dst: string, encConf?: EncConf): Promise<{ request: Uint8Array; state: OapClientState }> {
    const c = await this.#load("client", dst);
    // an app's own choice (flowAlloc's `encryption`) wins over the name's file
    return await oapClientPrepare({ name: dst, ...c, ...(encConf ? { encConf } : {}) });
  }

  /** Server: check and answer a request for `name`. */
  async serverProcess(name: string, request: Uint8Array): Promise<{ response: Uint8Array; crypto: FlowCrypto }> {
    const c = await this.#load("server", name);
    const r: OapServerResult = await oapServerProcess(request, { name, ...c, replay: this.replay });
    this.log.debug(`[${oapIdText(r.id)}] OAP request processed for ${name}.`);
    return { response: r.response, crypto: this.#done(r, name, "server") };
  }

  /** Client: check the response and finish the key agreement. */
  async clientComplete(state: OapClientState, response: Uint8Array, dst: string): Promise<FlowCrypto> {
    const r = await oapClientComplete(state, response);
    this.log.debug(`[${oapIdText(r.id)}] OAP completed for ${dst}.`);
    return this.#done(r, dst, "client");
  }

  /** Both sides in this daemon (same-host flows). */
  async local(name: string, encConf?: EncConf): Promise<{ client: FlowCrypto; server: FlowCrypto }> {
    const { request, state } = await this.clientPrepare(name, encConf);
    const srv = await this.serverProcess(name, request);
    return { client: await this.clientComplete(state, srv.response, name), server: srv.crypto };
  }
}
