/**
 * The control socket of a running tunnel: `tunnel.<name>.sock` in the
 * IRMd's run directory, a UNIX stream socket (mode 0600) that answers one
 * JSON request line with one JSON reply line, then closes. Requests:
 * `{"op":"show"}` → `{"ok":true,"status":…}`; `{"op":"down"}` →
 * `{"ok":true}` and the tunnel shuts down.
 *
 * @example
 * ```ts ignore
 * const r = await controlRequest(controlSocketPath("/run/ouro", "ouro0"), { op: "show" });
 * ```
 * @module
 */

/** Longest request or reply accepted, bytes. */
export const maxControlBytes = 1 << 20;
/** How long a client waits for a reply, ms. */
export const controlTimeoutMs = 5000;

/** Path of the control socket of tunnel `name`. */
export function controlSocketPath(rundir: string, name: string): string {
  return `${rundir}/tunnel.${name}.sock`;
}

/** Names of the tunnels with a control socket in `rundir`. */
export async function listTunnels(rundir: string): Promise<string[]> {
  const out: string[] = [];
  try {
    for await (const e of Deno.readDir(rundir)) {
      const m = /^tunnel\.(.+)\.sock$/.exec(e.name);
      if (m) out.push(m[1]!);
    }
  } catch {
    // no run directory: no tunnels
  }
  return out.sort();
}

/** Read up to the first newline; a blocked read is ended by closing the socket after `timeoutMs`. */
async function readLine(conn: Deno.Conn, timeoutMs: number): Promise<string> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  const buf = new Uint8Array(65536);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      conn.close();
    } catch { /* closed */ }
  }, timeoutMs);
  for (;;) {
    let n: number | null;
    try {
      n = await conn.read(buf);
    } catch (e) {
      clearTimeout(timer);
      throw timedOut ? new Error("timed out waiting for the tunnel") : e;
    }
    if (n === null) break;
    const part = buf.slice(0, n);
    chunks.push(part);
    total += n;
    if (total > maxControlBytes) {
      clearTimeout(timer);
      throw new Error("message too long");
    }
    if (part.includes(10)) break;
  }
  clearTimeout(timer);
  const all = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) (all.set(c, at), at += c.length);
  const text = new TextDecoder().decode(all);
  const nl = text.indexOf("\n");
  return nl < 0 ? text : text.slice(0, nl);
}

async function writeAll(conn: Deno.Conn, b: Uint8Array): Promise<void> {
  for (let at = 0; at < b.length;) at += await conn.write(b.subarray(at));
}

/** A listening control socket. */
export interface ControlServer {
  /** Stop listening and remove the socket file. */
  close(): Promise<void>;
}

/**
 * Listen on `path` and answer requests with `handler`. Refuses to start if
 * another live process answers there; removes a stale socket file.
 */
export async function serveControl(
  path: string,
  handler: (req: Record<string, unknown>) => Promise<Record<string, unknown>> | Record<string, unknown>,
): Promise<ControlServer> {
  try {
    const c = await Deno.connect({ transport: "unix", path });
    c.close();
    throw new Error(`Cannot start: a tunnel already answers on ${path}; run "ouro tunnel down" first`);
  } catch (e) {
    if ((e as Error).message.startsWith("Cannot start")) throw e;
    await Deno.remove(path).catch(() => {});
  }
  const listener = Deno.listen({ transport: "unix", path });
  await Deno.chmod(path, 0o600).catch(() => {});
  const te = new TextEncoder();
  const serve = async (conn: Deno.Conn) => {
    try {
      const line = await readLine(conn, controlTimeoutMs);
      let reply: Record<string, unknown>;
      try {
        const req = JSON.parse(line);
        if (typeof req !== "object" || req === null) throw new Error("request must be a JSON object");
        reply = await handler(req as Record<string, unknown>);
      } catch (e) {
        reply = { ok: false, message: (e as Error).message };
      }
      await writeAll(conn, te.encode(JSON.stringify(reply) + "\n"));
    } catch {
      // client went away
    } finally {
      try {
        conn.close();
      } catch { /* closed */ }
    }
  };
  const loop = (async () => {
    for await (const conn of listener) void serve(conn);
  })().catch(() => {});
  return {
    close: async () => {
      try {
        listener.close();
      } catch { /* closed */ }
      await loop;
      await Deno.remove(path).catch(() => {});
    },
  };
}

/** Send one request to a control socket and return its reply. */
export async function controlRequest(
  path: string,
  req: Record<string, unknown>,
  timeoutMs = controlTimeoutMs,
): Promise<Record<string, unknown>> {
  const conn = await Deno.connect({ transport: "unix", path });
  try {
    await writeAll(conn, new TextEncoder().encode(JSON.stringify(req) + "\n"));
    const line = await readLine(conn, timeoutMs);
    if (!line) throw new Error("no reply");
    return JSON.parse(line) as Record<string, unknown>;
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
}
