/**
 * Control requests of the IRMd, one handler per operation (the `irm_msg`
 * codes of spec 05 §3, as JSON operations).
 * @module
 */
import { Errno, OuroError } from "../lib/errors.ts";
import { HashAlgo, hashName, shortHash, toHex } from "../lib/hash.ts";
import type { FlowGrant } from "./flows.ts";
import { qosFromJson, qosToJson, qosRaw } from "../lib/qos.ts";
import { createIpcp } from "../ipcp/factory.ts";
import { type BootstrapConf, type IpcpInfo, isIpcpType } from "../ipcp/types.ts";
import type { AppConn } from "./appconn.ts";
import type { Irmd } from "./daemon.ts";
import { checkName, type LbPolicy } from "./registry.ts";
import { int, obj, optInt, optStr, str, strArray } from "./validate.ts";
import { takeFastPath } from "./fast.ts";
import { OURO_VERSION } from "./version.ts";
import { parseEncConf } from "../crypto/enc_conf.ts";
import { IPCP_PID_BASE, n1Flows } from "./n1.ts";

type Msg = Record<string, unknown>;
type Handler = (d: Irmd, app: AppConn, m: Msg, reqId: number) => Promise<Msg | void> | Msg | void;

function lbOf(v: unknown, dflt: LbPolicy): LbPolicy {
  if (v === undefined) return dflt;
  if (v === "round-robin" || v === "spillover") return v;
  throw new OuroError(Errno.EINVAL, `Bad request: lb must be round-robin or spillover`);
}

/** The reply to alloc/accept: the flow, its QoS, direct link and OAP key. */
function grantReply(g: FlowGrant): Msg {
  return {
    flowId: g.flowId,
    qos: qosToJson(g.qos),
    mpl: g.mpl,
    name: g.name,
    direct: g.direct,
    cipherNid: g.crypto?.cipherNid ?? 0,
    key: g.crypto?.key ? toHex(g.crypto.key) : undefined,
    peer: g.crypto?.peer,
  };
}

function needHello(app: AppConn): void {
  if (!app.ready) throw new OuroError(Errno.EPERM, "Bad request: say hello first");
}

const OPS: Record<string, Handler> = {
  hello(d, app, m) {
    app.pid = int(m, "pid", 1, 0x7fffffff);
    app.prog = optStr(m, "prog") ?? "";
    if (!app.ready) {
      app.ready = true;
      d.reg.announce(app.pid, app.prog);
      d.log.debug(`Process added: ${app.pid} (${app.prog}).`);
    }
    return { version: OURO_VERSION, daemonPid: Deno.pid, rundir: d.rundir };
  },

  // ---- IPCPs ----
  "ipcp.create"(d, app, m) {
    const name = checkName(str(m, "name"), "IPCP name");
    const type = str(m, "type");
    if (!isIpcpType(type)) throw new OuroError(Errno.EIPCPTYPE, `Cannot create IPCP: unknown type ${type}`);
    for (const i of d.ipcps.values()) {
      if (i.name === name) throw new OuroError(Errno.EEXIST, `Cannot create IPCP ${name}: exists already`);
    }
    const id = d.newIpcpId();
    const n1 = n1Flows(d.broker, IPCP_PID_BASE + id, async (n, layer) => {
      await OPS["name.reg"]!(d, app, { name: n, layer }, 0);
    });
    const ipcp = createIpcp(type, id, name, { host: d.broker, log: d.log.child(`ipcp/${name}`), n1 });
    d.n1.set(id, n1);
    d.ipcps.set(id, ipcp);
    d.log.info(`Created IPCP ${id} (${name}, ${type}).`);
    return { id };
  },
  async "ipcp.destroy"(d, _app, m) {
    const ipcp = d.ipcpByName(str(m, "name"));
    d.ipcps.delete(ipcp.id);
    d.broker.ipcpGone(ipcp);
    d.n1.get(ipcp.id)?.close();
    d.n1.delete(ipcp.id);
    for (const n of d.reg.names.values()) n.regs.delete(ipcp.id);
    await ipcp.stop();
    d.log.info(`Destroyed IPCP ${ipcp.id} (${ipcp.name}).`);
  },
  async "ipcp.bootstrap"(d, _app, m) {
    const ipcp = d.ipcpByName(str(m, "name"));
    const c = obj(m, "conf");
    const conf: BootstrapConf = {
      layer: checkName(str(c, "layer"), "layer name"),
      hashAlgo: optInt(c, "hashAlgo", 0, 3),
      options: c.options === undefined ? {} : obj(c, "options") as BootstrapConf["options"],
    };
    if (ipcp.type === "udp4" || ipcp.type === "udp6") conf.hashAlgo = HashAlgo.MD5;
    if (ipcp.state !== "BOOT") {
      throw new OuroError(Errno.EIPCPSTATE, `Cannot bootstrap ${ipcp.name}: it is ${ipcp.state}, not BOOT`);
    }
    const layer = await ipcp.bootstrap(conf);
    ipcp.layer = layer;
    d.log.info(`Bootstrapped IPCP ${ipcp.id} (${ipcp.name}) in layer ${layer.name}.`);
    return { layer };
  },
  async "ipcp.enroll"(d, _app, m) {
    const ipcp = d.ipcpByName(str(m, "name"));
    const layer = await ipcp.enroll(str(m, "dst"));
    ipcp.layer = layer;
    d.log.info(`Enrolled IPCP ${ipcp.id} in layer ${layer.name}.`);
    return { layer };
  },
  async "ipcp.connect"(d, _app, m) {
    const ipcp = d.ipcpByName(str(m, "name"));
    const comp = str(m, "component");
    if (comp !== "dt" && comp !== "mgmt") throw new OuroError(Errno.EINVAL, "Bad request: component is dt or mgmt");
    if (ipcp.type !== "unicast" && ipcp.type !== "broadcast") {
      throw new OuroError(Errno.EIPCP, `Cannot connect ${ipcp.name}: only unicast and broadcast IPCPs connect`);
    }
    await ipcp.connect(str(m, "dst"), comp, m.qos === undefined ? qosRaw : qosFromJson(m.qos));
  },
  async "ipcp.disconnect"(d, _app, m) {
    const ipcp = d.ipcpByName(str(m, "name"));
    const comp = str(m, "component");
    if (comp !== "dt" && comp !== "mgmt") throw new OuroError(Errno.EINVAL, "Bad request: component is dt or mgmt");
    await ipcp.disconnect(str(m, "dst"), comp);
  },
  "ipcp.list"(d) {
    const list: IpcpInfo[] = [...d.ipcps.values()].map((i) => i.info())
      .sort((a, b) => a.id - b.id);
    return { ipcps: list };
  },

  // ---- names ----
  "name.create"(d, _app, m) {
    const name = str(m, "name");
    const created = d.reg.createName(name, lbOf(m.lb, "round-robin"));
    if (m.security !== undefined) {
      // per-name path overrides: { server: {enc, crt, key}, client: {…} }
      const sec = obj(m, "security");
      const paths = { server: {} as Record<string, string>, client: {} as Record<string, string> };
      for (const role of ["server", "client"] as const) {
        if (sec[role] === undefined) continue;
        const r = obj(sec, role);
        for (const k of ["enc", "crt", "key"]) if (r[k] !== undefined) paths[role][k] = str(r, k);
      }
      d.broker.oap?.overrides.set(name, paths);
    }
    if (created) d.log.info(`Created new name: ${name}.`);
    return { created };
  },
  "name.destroy"(d, _app, m) {
    const name = str(m, "name");
    const n = d.reg.getName(name);
    for (const id of n.regs) d.ipcps.get(id)?.unreg(hashName(d.ipcps.get(id)!.layer!.hashAlgo, name));
    d.reg.destroyName(name);
    d.log.info(`Destroyed name: ${name}.`);
  },
  "name.list"(d) {
    return {
      names: [...d.reg.names.values()].sort((a, b) => a.name < b.name ? -1 : 1).map((n) => ({
        name: n.name,
        lb: n.lb,
        pids: [...n.pids],
        progs: [...n.progs],
        layers: [...n.regs].map((id) => d.ipcps.get(id)?.layer?.name).filter((x) => x),
      })),
    };
  },
  async "name.reg"(d, _app, m) {
    const name = checkName(str(m, "name"));
    const layer = optStr(m, "layer");
    const targets = layer === undefined
      ? [d.ipcpByName(str(m, "ipcp"))]
      : [...d.ipcps.values()].filter((i) => i.layer?.name === layer);
    if (targets.length === 0) throw new OuroError(Errno.EIPCP, `Cannot register ${name}: no IPCP in layer ${layer}`);
    if (!d.reg.names.has(name)) d.reg.createName(name, "spillover");
    for (const ipcp of targets) {
      if (!ipcp.layer) {
        throw new OuroError(Errno.EIPCPSTATE, `Cannot register ${name}: IPCP ${ipcp.name} is not enrolled`);
      }
      const h = hashName(ipcp.layer.hashAlgo, name);
      await ipcp.reg(h);
      d.reg.getName(name).regs.add(ipcp.id);
      d.log.info(`Registered ${name} with IPCP ${ipcp.id} as ${shortHash(h)}.`);
    }
  },
  async "name.unreg"(d, _app, m) {
    const name = str(m, "name");
    const ipcp = d.ipcpByName(str(m, "ipcp"));
    const n = d.reg.getName(name);
    if (!ipcp.layer || !n.regs.has(ipcp.id)) {
      throw new OuroError(Errno.ENAME, `Cannot unregister ${name}: not registered with ${ipcp.name}`);
    }
    await ipcp.unreg(hashName(ipcp.layer.hashAlgo, name));
    n.regs.delete(ipcp.id);
    d.log.info(`Unregistered ${name} from IPCP ${ipcp.id}.`);
  },

  // ---- bindings ----
  "bind.program"(d, _app, m) {
    const name = checkName(str(m, "name"));
    const path = str(m, "path");
    const auto = strArray(m, "auto");
    d.reg.bindProgram(path, name, auto);
    d.log.info(`Bound program ${path} to name ${name}${auto ? " (auto-start)" : ""}.`);
  },
  "unbind.program"(d, _app, m) {
    d.reg.unbindProgram(str(m, "prog"), optStr(m, "name"));
  },
  "bind.process"(d, app, m) {
    const name = checkName(str(m, "name"));
    const pid = m.pid === undefined ? app.pid : int(m, "pid", 1, 0x7fffffff);
    if (!pid) throw new OuroError(Errno.EINVAL, "Bad request: no pid");
    if (pid !== app.pid && ![...d.conns].some((c) => c.pid === pid && c.ready)) {
      throw new OuroError(Errno.ENOENT, `Cannot bind process ${pid}: it has not announced itself to this IRMd`);
    }
    d.reg.bindProcess(pid, name);
    d.log.info(`Bound process ${pid} to name ${name}.`);
  },
  "unbind.process"(d, app, m) {
    const pid = m.pid === undefined ? app.pid : int(m, "pid", 1, 0x7fffffff);
    d.reg.unbindProcess(pid, optStr(m, "name"));
  },
  "bind.ipcp"(d, _app, m) {
    const ipcp = d.ipcpByName(str(m, "ipcp"));
    // `layer: true` binds the IPCP to the name of the layer it is in
    if (m.layer === true && !ipcp.layer) {
      throw new OuroError(Errno.EIPCPSTATE, `Cannot bind ${ipcp.name} to its layer: not enrolled`);
    }
    const name = m.layer === true ? ipcp.layer!.name : checkName(str(m, "name"));
    d.n1.get(ipcp.id)!.bind(name);
    d.log.info(`Bound IPCP ${ipcp.name} to name ${name}.`);
  },
  "unbind.ipcp"(d, _app, m) {
    const ipcp = d.ipcpByName(str(m, "ipcp"));
    d.n1.get(ipcp.id)!.unbind(str(m, "name"));
  },

  // ---- flows ----
  async "flow.alloc"(d, app, m) {
    needHello(app);
    const dst = checkName(str(m, "dst"), "destination name");
    const qos = m.qos === undefined ? qosRaw : qosFromJson(m.qos);
    // `encryption`: enc.conf lines from the app (flowAlloc's option)
    const enc = optStr(m, "encryption");
    const g = await d.broker.alloc(app, dst, qos, {
      timeoutMs: optInt(m, "timeoutMs"),
      direct: m.direct === true,
      encConf: enc === undefined ? undefined : parseEncConf(enc),
    });
    return grantReply(g);
  },
  async "flow.accept"(d, app, m, reqId) {
    needHello(app);
    const ac = new AbortController();
    app.accepts.set(reqId, ac);
    try {
      const g = await d.broker.accept(app, {
        timeoutMs: optInt(m, "timeoutMs"),
        signal: ac.signal,
        directPath: optStr(m, "direct"),
      });
      return grantReply(g);
    } finally {
      app.accepts.delete(reqId);
    }
  },
  cancel(_d, app, m) {
    app.accepts.get(int(m, "reqId"))?.abort();
  },
  async "flow.join"(d, app, m) {
    needHello(app);
    const g = await d.broker.join(app, str(m, "layer"));
    return { flowId: g.flowId, qos: qosToJson(g.qos), mpl: g.mpl, name: g.name };
  },
  "flow.dealloc"(d, app, m) {
    needHello(app);
    d.broker.dealloc(app, int(m, "flowId", 1, 0xffffffff));
  },
  /** A fresh random value for the next `flow.fast` (the proof of the app's pid, see `fast.ts`). */
  "flow.fast.nonce"(_d, app) {
    needHello(app);
    app.fastNonce = crypto.getRandomValues(new Uint8Array(16));
    return { nonce: toHex(app.fastNonce) };
  },
  /** Fast path of a tunnel's flow: see `fast.ts`. */
  "flow.fast"(d, app, m) {
    needHello(app);
    return takeFastPath(d, app, m);
  },
  "flow.fast.stats"(d, app, m) {
    needHello(app);
    const f = d.broker.flows.get(int(m, "flowId", 1, 0xffffffff));
    if (!f || f.owner !== app) throw new OuroError(Errno.ENOTALLOC, "Cannot read fast path counters: no such flow");
    return { counters: f.fast?.fastCounters(f.id) };
  },
  "flow.list"(d) {
    return {
      flows: [...d.broker.flows.values()].map((f) => ({
        id: f.id,
        pid: f.owner.pid,
        name: f.name,
        state: f.state,
        via: f.peer ? "direct" : f.ipcp?.name ?? "-",
        rxPkts: f.rxPkts,
        txPkts: f.txPkts,
        drops: f.drops,
        fast: f.fast?.fastCounters(f.id),
      })),
    };
  },
  stats(d) {
    return {
      uptimeMs: Date.now() - d.started,
      connections: d.conns.size,
      ipcps: d.ipcps.size,
      names: d.reg.names.size,
      flows: d.broker.flows.size,
      ...d.counters,
      broker: d.broker.counters,
    };
  },
};

/** Run one control request. */
export function handleRequest(d: Irmd, app: AppConn, reqId: number, m: Msg): Promise<Msg | void> {
  const op = m.op;
  if (typeof op !== "string" || !Object.hasOwn(OPS, op)) {
    return Promise.reject(new OuroError(Errno.EINVAL, `Bad request: unknown operation ${JSON.stringify(op)?.slice(0, 40)}`));
  }
  try {
    return Promise.resolve(OPS[op]!(d, app, m, reqId));
  } catch (e) {
    return Promise.reject(e);
  }
}
