/**
 * Direct links between two processes on one host: the data of a same-host
 * flow goes from socket to socket without passing through the IRMd.
 *
 * The accepting process listens on `<rundir>/apps/<pid>-<n>.sock` and offers
 * that path when it accepts. The allocating process connects (one link per
 * peer process, shared by all flows between the two) and sends `bind` for
 * each flow; data frames on a link carry the receiver's flow id. `dealloc`
 * travels on the link too, so it never overtakes data. If a link cannot be
 * made, both ends fall back to the IRMd's relay.
 * @module
 */
import { encodeJson, type Frame, FrameKind } from "../lib/ctl.ts";
import { FramedConn } from "../lib/framed.ts";

/** What the links report to the client. */
export interface LinkSink {
  onData(flowId: number, data: Uint8Array, link: FramedConn): void;
  onBind(flowId: number, peer: number, link: FramedConn): void;
  onDealloc(flowId: number, link: FramedConn): void;
  onLinkClosed(link: FramedConn): void;
}

let seq = 0;

/** The direct links of one client. */
export class DirectLinks {
  #listener: Deno.Listener | undefined;
  #path: string | undefined;
  readonly #out = new Map<string, Promise<FramedConn>>();
  readonly #all = new Set<FramedConn>();
  #closed = false;

  constructor(readonly rundir: string, readonly sink: LinkSink) {}

  /** The path peers connect to (listening starts on first use); undefined if impossible. */
  async listenPath(): Promise<string | undefined> {
    if (this.#path || this.#closed) return this.#path;
    const dir = `${this.rundir}/apps`;
    const path = `${dir}/${Deno.pid}-${++seq}-${crypto.randomUUID().slice(0, 8)}.sock`;
    try {
      await Deno.mkdir(dir, { recursive: true });
      this.#listener = Deno.listen({ transport: "unix", path });
    } catch {
      return undefined; // no direct links: the IRMd relays
    }
    this.#path = path;
    (async () => {
      for (;;) {
        let c: Deno.Conn;
        try {
          c = await this.#listener!.accept();
        } catch {
          return;
        }
        this.#serve(c);
      }
    })();
    return path;
  }

  #serve(c: Deno.Conn): FramedConn {
    const link: FramedConn = new FramedConn(c, {
      onFrame: (f: Frame) => {
        if (f.kind === FrameKind.DATA) this.sink.onData(f.flowId, f.data, link);
        else if (f.kind === FrameKind.EVT) {
          const id = f.msg.flowId;
          if (typeof id !== "number") return;
          if (f.msg.ev === "bind" && typeof f.msg.peer === "number") this.sink.onBind(id, f.msg.peer, link);
          else if (f.msg.ev === "dealloc") this.sink.onDealloc(id, link);
        }
      },
      onBadFrame: () => {},
      onClose: () => {
        this.#all.delete(link);
        for (const [k, v] of this.#out) v.then((l) => l === link && this.#out.delete(k), () => {});
        this.sink.onLinkClosed(link);
      },
    });
    this.#all.add(link);
    link.run();
    return link;
  }

  /** A link to the process listening on `path` (shared by flows). */
  connect(path: string): Promise<FramedConn> {
    let p = this.#out.get(path);
    if (!p) {
      p = Deno.connect({ transport: "unix", path }).then((c) => this.#serve(c));
      p.catch(() => this.#out.delete(path));
      this.#out.set(path, p);
    }
    return p;
  }

  /** Tell the other end that `peer` (its flow) is ours `flowId`. */
  static bind(link: FramedConn, peer: number, flowId: number): void {
    link.send(encodeJson(FrameKind.EVT, { ev: "bind", flowId: peer, peer: flowId }));
  }

  /** Tell the other end its flow `peer` is over (after any data queued). */
  static dealloc(link: FramedConn, peer: number): void {
    link.send(encodeJson(FrameKind.EVT, { ev: "dealloc", flowId: peer }));
  }

  /** Close every link and the listener. */
  async close(): Promise<void> {
    this.#closed = true;
    try {
      this.#listener?.close();
    } catch { /* closed */ }
    await Promise.all([...this.#all].map((l) => l.end()));
    if (this.#path) await Deno.remove(this.#path).catch(() => {});
  }
}
