/**
 * `ouro echo` — oecho (spec 06 §2.4).
 * @module
 */
import { Errno, isErrno } from "../lib/errors.ts";
import { helpText, type OptSpec, parseArgs, UsageError, wantsHelp } from "../cli/args.ts";
import { COMMON_OPTS, connect, interrupted, listen, LISTEN_OPTS, out } from "./common.ts";

const SPECS: OptSpec[] = [
  { short: "l", long: "listen", type: "flag", help: "run the echo server" },
  { short: "n", long: "server-name", type: "string", arg: "NAME", default: "oecho", help: "name of the server" },
  { short: "m", long: "message", type: "string", arg: "TEXT", default: "Client says hi!", help: "message to send" },
  ...LISTEN_OPTS,
  ...COMMON_OPTS,
];

const te = new TextEncoder();
const td = new TextDecoder();
const cstr = (b: Uint8Array) => td.decode(b[b.length - 1] === 0 ? b.subarray(0, -1) : b);

/** Entry point. */
export async function echoMain(argv: string[]): Promise<number> {
  if (wantsHelp(argv)) {
    console.log(helpText("ouro echo [-n NAME] [-m TEXT] | ouro echo -l [--name NAME]", "Send one message and print the echo (oecho).", SPECS));
    return 0;
  }
  const { opts, rest } = parseArgs(argv, SPECS);
  if (rest.length) throw new UsageError(`unexpected argument ${rest[0]}`);
  const ouro = await connect(opts, "oecho");
  const { signal, dispose } = interrupted();
  try {
    if (opts.listen) {
      const name = await listen(ouro, opts, "oecho");
      out(`Echo server started (name ${name}).`);
      while (!signal.aborted) {
        let flow;
        try {
          flow = await ouro.flowAccept({ signal });
        } catch (e) {
          if (signal.aborted || isErrno(e, Errno.EIRMD)) break;
          throw e;
        }
        const msg = await flow.read({ timeoutMs: 5000 }).catch(() => null);
        if (msg) {
          out(`Message from client is ${cstr(msg.subarray(0, 256))}.`);
          await flow.write(msg);
        }
        await flow.close();
      }
      return 0;
    }
    const flow = await ouro.flowAlloc(opts["server-name"] as string);
    const m = te.encode(opts.message as string);
    const buf = new Uint8Array(m.length + 1);
    buf.set(m);
    await flow.write(buf);
    const r = await flow.read({ timeoutMs: 5000 });
    if (r === null) throw new Error("Server closed the flow without replying.");
    out(`Server replied with ${cstr(r.subarray(0, 256))}`);
    await flow.close();
    return 0;
  } finally {
    dispose();
    await ouro.close();
  }
}
