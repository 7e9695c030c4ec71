/**
 * The components of a running unicast IPCP and their wiring (spec 10 §4.3):
 * address authority → CA → routing + DT (DT and MGMT connections) →
 * directory (DHT) → flow allocator (eid 0); started as connmgr acceptor →
 * routing → enrollment listener → directory (eid 1). Stopped in reverse.
 * @module
 */
import { Errno, OuroError } from "../../lib/errors.ts";
import { hashLen } from "../../lib/hash.ts";
import type { Logger } from "../../lib/log.ts";
import type { Conn, ConnMgr } from "../common/connmgr.ts";
import { type EnrollDeps, Enroller } from "../common/enroll.ts";
import type { Ipcp, IpcpHost } from "../types.ts";
import { createAddrAuth } from "./addr.ts";
import { type CaPolicy, createCa } from "./ca/ca.ts";
import type { DhtClock } from "./dht/node.ts";
import { Directory } from "./directory.ts";
import { DataTransfer } from "./dt.ts";
import { FlowAllocator } from "./fa.ts";
import { Routing } from "./mgmt.ts";
import { CepSyntax } from "./wire/cep.ts";
import { DirPolicy, type IpcpConfig, RoutingPolicy } from "./wire/config.ts";

/** Sources of randomness and time, injectable for byte-exact tests. */
export interface UnicastDeps {
  /** Address for the flat policy (non-zero u32). */
  randomAddr?: () => number;
  /** High 32 bits of endpoint ids. */
  randomU32?: () => number;
  /** Enrollment id and wall clock. */
  enroll?: Omit<EnrollDeps, "log">;
  /** DHT node id. */
  dhtId?: Uint8Array;
  /** DHT cookies. */
  dhtCookie?: () => bigint;
  /** DHT clocks. */
  dhtClock?: DhtClock;
  /** How long a directory query waits (ms). */
  queryTimeoutMs?: number;
}

/** Counters of dropped connections. */
export interface ComponentCounters {
  /** DT/MGMT connections whose CEP carried an invalid address. */
  badAddress: number;
}

/** The running components of one unicast IPCP. */
export class Components {
  readonly addr: number;
  readonly ca: CaPolicy;
  readonly routing: Routing;
  readonly dt: DataTransfer;
  readonly dir: Directory;
  readonly fa: FlowAllocator;
  readonly enroller: Enroller;
  /** The configuration handed to enrollees (DHT peer = our address). */
  readonly confOut: IpcpConfig;
  readonly counters: ComponentCounters = { badAddress: 0 };
  readonly #cm: ConnMgr;
  /** Neighbours' names, known for the connections this side made. */
  readonly #names = new Map<number, string>();

  /** Initialize every component from the layer config (nothing runs yet). */
  constructor(
    readonly conf: IpcpConfig,
    ipcp: Ipcp,
    host: IpcpHost,
    cm: ConnMgr,
    log: Logger,
    deps: UnicastDeps = {},
  ) {
    const u = conf.unicast;
    if (!u) {
      throw new OuroError(Errno.EINVAL, "Cannot start unicast IPCP: config has no unicast part");
    }
    if (u.dt.routing.pol !== RoutingPolicy.LINK_STATE || !u.dt.routing.ls) {
      throw new OuroError(
        Errno.EINVAL,
        `Cannot start unicast IPCP: routing policy ${u.dt.routing.pol} unknown`,
      );
    }
    if (u.dir.pol !== DirPolicy.DHT || !u.dir.dht) {
      throw new OuroError(
        Errno.EINVAL,
        `Cannot start unicast IPCP: directory policy ${u.dir.pol} unknown`,
      );
    }
    if (u.dt.maxTtl < 1 || u.dt.maxTtl > 255) {
      throw new OuroError(
        Errno.EINVAL,
        `Cannot start unicast IPCP: max_ttl ${u.dt.maxTtl} is not a u8`,
      );
    }
    this.#cm = cm;
    this.addr = createAddrAuth(u.addrAuthType, u.dt.addrSize, deps.randomAddr).address();
    log.info(`IPCP got address ${this.addr}.`);
    this.ca = createCa(u.congAvoid);
    this.routing = new Routing({
      addr: this.addr,
      ls: u.dt.routing.ls,
      log: log.child("routing"),
      nameOf: (a) => this.#names.get(a),
    });
    this.dt = new DataTransfer({
      addr: this.addr,
      maxTtl: u.dt.maxTtl,
      layout: { addrSize: u.dt.addrSize, eidSize: u.dt.eidSize },
      pff: (qc) => this.routing.pff(qc),
      ca: this.ca,
      log: log.child("dt"),
    });
    const address = BigInt(this.addr);
    cm.register(
      "dt",
      () => ({
        compName: "Data Transfer",
        protocol: "dtp",
        prefVersion: 1,
        prefSyntax: CepSyntax.FIXED,
        address,
      }),
      (c) => this.#dtConn(c),
    );
    cm.register(
      "mgmt",
      () => ({
        compName: "Management",
        protocol: "LSP",
        prefVersion: 1,
        prefSyntax: CepSyntax.GPB,
        address,
      }),
      (c) => this.#mgmtConn(c),
    );
    const keyLen = hashLen(conf.layerInfo.hashAlgo);
    this.dir = new Directory({
      dt: this.dt,
      keyLen,
      conf: u.dir.dht,
      log: log.child("dht"),
      id: deps.dhtId,
      cookie: deps.dhtCookie,
      clock: deps.dhtClock,
      queryTimeoutMs: deps.queryTimeoutMs,
    });
    this.confOut = structuredClone(conf);
    this.confOut.unicast!.dir.dht!.peer = address;
    this.fa = new FlowAllocator({
      ipcp,
      host,
      dt: this.dt,
      hashLen: keyLen,
      resolve: (h) => this.dir.query(h),
      ca: this.ca,
      log: log.child("fa"),
      randomU32: deps.randomU32,
    });
    this.enroller = new Enroller(() => structuredClone(this.confOut), {
      ...deps.enroll,
      log: log.child("enrollment"),
    });
  }

  /** Start the components (the connmgr acceptor is started by the owner first). */
  start(): void {
    this.routing.start();
    this.dir.start();
  }

  /** Stop in reverse order. */
  stop(): void {
    this.dir.stop();
    this.fa.stop();
    this.routing.stop();
    this.dt.stop();
    this.#cm.unregister("dt");
    this.#cm.unregister("mgmt");
  }

  #peerAddr(c: Conn): number | undefined {
    const a = c.peer.address;
    if (a === 0n || a > 0xffffffffn || Number(a) === this.addr) {
      this.counters.badAddress++;
      c.flow.close();
      return undefined;
    }
    if (c.initiator) this.#names.set(Number(a), c.dst);
    return Number(a);
  }

  #dtConn(c: Conn): void {
    const addr = this.#peerAddr(c);
    if (addr === undefined) return;
    const fd = c.flow.id;
    const onPacket = this.dt.addFlow(c.flow);
    this.routing.dtConnAdd(addr, fd);
    const routing = this.routing;
    let gone = false;
    c.reader.handOver((sdu) => {
      routing.heard(addr);
      onPacket(sdu);
    }, () => {
      if (gone) return;
      gone = true;
      this.dt.removeFlow(fd);
      this.routing.dtConnDel(addr, fd);
    });
  }

  #mgmtConn(c: Conn): void {
    const addr = this.#peerAddr(c);
    if (addr === undefined) return;
    const fd = c.flow.id;
    const onPacket = this.routing.mgmtConnAdd(addr, c.flow);
    let gone = false;
    c.reader.handOver(onPacket, () => {
      if (gone) return;
      gone = true;
      this.routing.mgmtConnDel(addr, fd);
    });
  }
}
