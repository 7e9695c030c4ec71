/**
 * The IPC Resource Manager daemon: control socket, registry, flow broker and
 * every IPCP of this host, in one process.
 * @module
 */
import { encodeJson, FrameKind } from "../lib/ctl.ts";
import { type DecodeError, Errno, OuroError } from "../lib/errors.ts";
import { FramedConn } from "../lib/framed.ts";
import { logger } from "../lib/log.ts";
import type { Ipcp } from "../ipcp/types.ts";
import { AppConn } from "./appconn.ts";
import { FlowBroker } from "./flows.ts";
import { handleRequest } from "./ops.ts";
import { Registry } from "./registry.ts";
import type { N1Flows } from "./n1.ts";
import { defaultSecDir, OapAgent } from "./security.ts";

export { OURO_VERSION } from "./version.ts";
export { defaultRundir, PIDFILE_NAME, SOCKET_NAME } from "../lib/paths.ts";
import { PIDFILE_NAME, SOCKET_NAME } from "../lib/paths.ts";

/** Options of {@link Irmd.start}. */
export interface IrmdOptions {
  rundir: string;
  /** Pair same-host flows directly (default true). */
  direct?: boolean;
  /** OAP security directory (default `$OURO_SECDIR` or /etc/ouroboros/security). */
  secDir?: string;
}

function pidAlive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/** A running IRMd. */
export class Irmd {
  readonly log = logger("irmd");
  readonly reg = new Registry();
  readonly ipcps = new Map<number, Ipcp>();
  /** Each IPCP's use of lower layers, by IPCP id. */
  readonly n1 = new Map<number, N1Flows>();
  readonly broker: FlowBroker;
  readonly conns = new Set<AppConn>();
  readonly counters = { badFrames: 0, badRequests: 0, requests: 0 };
  readonly spawned = new Set<Deno.ChildProcess>();
  #nextIpcpId = 1;
  #nextConnId = 1;
  #listener: Deno.Listener | undefined;
  #stopping: Promise<void> | undefined;
  readonly started = Date.now();

  private constructor(readonly rundir: string, direct: boolean) {
    this.broker = new FlowBroker(this.reg, () => [...this.ipcps.values()], this.log.child("flow"), (argv) => this.spawn(argv));
    this.broker.direct = direct;
  }

  get socketPath(): string {
    return `${this.rundir}/${SOCKET_NAME}`;
  }

  /** Next IPCP id. */
  newIpcpId(): number {
    return this.#nextIpcpId++;
  }

  /** Start a daemon on `opts.rundir`: refuses if one runs there already. */
  static async start(opts: IrmdOptions): Promise<Irmd> {
    const d = new Irmd(opts.rundir, opts.direct ?? true);
    d.broker.oap = await OapAgent.create(opts.secDir ?? defaultSecDir(), d.log.child("oap"));
    await d.#lock();
    try {
      d.#listener = Deno.listen({ transport: "unix", path: d.socketPath });
      await Deno.chmod(d.socketPath, 0o666).catch(() => {});
    } catch (e) {
      await d.#unlock();
      throw new OuroError(Errno.EIRMD, `Cannot listen on ${d.socketPath}: ${(e as Error).message}`);
    }
    d.#acceptLoop();
    d.log.info(`Ouroboros IPC Resource Manager daemon started (pid ${Deno.pid}, rundir ${d.rundir}).`);
    return d;
  }

  async #lock(): Promise<void> {
    await Deno.mkdir(this.rundir, { recursive: true });
    // apps put their direct-link sockets here (any user, like /tmp)
    await Deno.mkdir(`${this.rundir}/apps`, { recursive: true });
    await Deno.chmod(`${this.rundir}/apps`, 0o1777).catch(() => {});
    const pidfile = `${this.rundir}/${PIDFILE_NAME}`;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const f = await Deno.open(pidfile, { write: true, createNew: true });
        await f.write(new TextEncoder().encode(`${Deno.pid}\n`));
        f.close();
        break;
      } catch (e) {
        if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
        const other = parseInt(await Deno.readTextFile(pidfile).catch(() => ""), 10);
        if (Number.isInteger(other) && other !== Deno.pid && pidAlive(other)) {
          throw new OuroError(
            Errno.EEXIST,
            `Cannot start: an IRMd is already running on ${this.rundir} (pid ${other})`,
          );
        }
        this.log.warn(`IRMd didn't properly shut down last time (pid ${other || "?"}); stale resources cleaned.`);
        await Deno.remove(pidfile).catch(() => {});
      }
    }
    await Deno.remove(this.socketPath).catch(() => {});
  }

  async #unlock(): Promise<void> {
    await Deno.remove(this.socketPath).catch(() => {});
    const pidfile = `${this.rundir}/${PIDFILE_NAME}`;
    const owner = parseInt(await Deno.readTextFile(pidfile).catch(() => ""), 10);
    if (owner === Deno.pid) await Deno.remove(pidfile).catch(() => {});
  }

  async #acceptLoop(): Promise<void> {
    const l = this.#listener!;
    for (;;) {
      let c: Deno.Conn;
      try {
        c = await l.accept();
      } catch {
        return;
      }
      this.#serve(c);
    }
  }

  #serve(c: Deno.Conn): void {
    const app = new AppConn(this.#nextConnId++);
    this.conns.add(app);
    app.conn = new FramedConn(c, {
      onFrame: (f) => {
        if (f.kind === FrameKind.DATA) {
          const bp = this.broker.fromOwner(app, f.flowId, f.data);
          if (bp) app.conn.pauseUntil(bp);
        } else if (f.kind === FrameKind.REQ) {
          this.counters.requests++;
          handleRequest(this, app, f.id, f.msg).then(
            (r) => app.reply(f.id, { ok: true, ...r }),
            (e) => {
              if (!(e instanceof OuroError)) this.log.error(`Request ${String(f.msg.op)} failed: ${(e as Error).stack}`);
              const oe = e instanceof OuroError ? e : new OuroError(Errno.EIRMD, (e as Error).message);
              if (oe.code === Errno.EINVAL) this.counters.badRequests++;
              app.reply(f.id, { ok: false, code: oe.code, message: oe.message });
            },
          );
        } else {
          this.counters.badFrames++;
        }
      },
      onBadFrame: (e: DecodeError) => {
        this.counters.badFrames++;
        this.log.warn(`Dropped malformed control frame from connection ${app.connId}: ${e.message}.`);
        if (e.reason !== "length") app.conn.send(encodeJson(FrameKind.EVT, { ev: "error", message: e.message }));
      },
      onClose: () => this.#gone(app),
    });
    app.conn.run();
  }

  #gone(app: AppConn): void {
    if (!this.conns.delete(app)) return;
    this.broker.ownerGone(app);
    if (app.ready) {
      const same = [...this.conns].some((o) => o.pid === app.pid && o.ready);
      if (!same) {
        this.reg.removeProcess(app.pid);
        this.log.info(`Process removed: ${app.pid}.`);
      }
    }
  }

  /** Spawn an auto-started program. */
  spawn(argv: string[]): void {
    try {
      const child = new Deno.Command(argv[0]!, {
        args: argv.slice(1),
        stdin: "null",
        stdout: "inherit",
        stderr: "inherit",
        env: { OURO_RUNDIR: this.rundir },
      }).spawn();
      this.spawned.add(child);
      child.status.then(() => this.spawned.delete(child));
    } catch (e) {
      this.log.error(`Cannot auto-start ${argv[0]}: ${(e as Error).message}`);
    }
  }

  /** Find an IPCP by name. */
  ipcpByName(name: string): Ipcp {
    for (const i of this.ipcps.values()) if (i.name === name) return i;
    throw new OuroError(Errno.EIPCP, `Cannot find IPCP ${name}`);
  }

  /** Shut down: flows ended, IPCPs stopped, socket removed. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.log.info("IRMd shutting down...");
      try {
        this.#listener?.close();
      } catch { /* closed */ }
      for (const app of [...this.conns]) {
        for (const f of [...this.broker.flows.values()]) if (f.owner === app) app.event(f.id, "dealloc");
        await app.conn.end();
      }
      for (const i of [...this.ipcps.values()].reverse()) {
        this.broker.ipcpGone(i);
        this.n1.get(i.id)?.close();
        await i.stop().catch((e) => this.log.warn(`Stopping IPCP ${i.name}: ${(e as Error).message}`));
      }
      this.ipcps.clear();
      for (const c of this.spawned) {
        try {
          c.kill("SIGTERM");
        } catch { /* gone */ }
      }
      await this.#unlock();
      this.log.info("Ouroboros IPC Resource Manager daemon exited. Bye.");
    })();
    return this.#stopping;
  }
}
