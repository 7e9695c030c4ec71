/**
 * `ouro echo` — oecho (spec 06 §2.4).
 * @module
 */
import { Errno, OuroError } from "../lib/errors.ts";
import type { OptSpec } from "../cli/args.ts";
import { acceptLoop, COMMON_OPTS, listen, LISTEN_OPTS, out, runTool } from "./common.ts";

const SPECS: OptSpec[] = [
  { short: "l", long: "listen", type: "flag", help: "run the echo server" },
  {
    short: "n",
    long: "server-name",
    type: "string",
    arg: "NAME",
    default: "oecho",
    help: "name of the server",
  },
  {
    short: "m",
    long: "message",
    type: "string",
    arg: "TEXT",
    default: "Client says hi!",
    help: "message to send",
  },
  ...LISTEN_OPTS,
  ...COMMON_OPTS,
];

const te = new TextEncoder();
const td = new TextDecoder();
const cstr = (b: Uint8Array) => td.decode(b[b.length - 1] === 0 ? b.subarray(0, -1) : b);

/** Entry point. */
export function echoMain(argv: string[]): Promise<number> {
  return runTool({
    usage: "ouro echo [-n NAME] [-m TEXT] | ouro echo -l [--name NAME]",
    about: "Send one message and print the echo (oecho).",
    specs: SPECS,
    prog: "oecho",
    run: async (ouro, opts, _rest, signal) => {
      if (opts.listen) {
        const name = await listen(ouro, opts, "oecho");
        out(`Echo server started (name ${name}).`);
        await acceptLoop(ouro, signal, async (flow) => {
          const msg = await flow.read({ timeoutMs: 5000 }).catch(() => null);
          if (msg) {
            out(`Message from client is ${cstr(msg.subarray(0, 256))}.`);
            await flow.write(msg);
          }
          await flow.close();
        });
        return 0;
      }
      const flow = await ouro.flowAlloc(opts["server-name"] as string);
      const m = te.encode(opts.message as string);
      const buf = new Uint8Array(m.length + 1);
      buf.set(m);
      await flow.write(buf);
      const r = await flow.read({ timeoutMs: 5000 });
      if (r === null) {
        throw new OuroError(Errno.EFLOWDOWN, "Server closed the flow without replying.");
      }
      out(`Server replied with ${cstr(r.subarray(0, 256))}`);
      await flow.close();
      return 0;
    },
  }, argv);
}
