/**
 * `ouro bc` — obc (spec 06 §2.5): write one message to a broadcast layer,
 * or listen to one and print every message.
 *
 * @example
 * ```sh
 * ouro bc -n chat -l &                 # Message is Ouroboros multicast rocks!.
 * ouro bc -n chat
 * ouro bc -n chat -m "hello, layer"
 * ```
 * @module
 */
import { Errno, isErrno } from "../lib/errors.ts";
import { type OptSpec, UsageError } from "../cli/args.ts";
import { COMMON_OPTS, out, runTool } from "./common.ts";

/** The writer's message when `-m` is not given (the reference's). */
export const BC_DEFAULT_MESSAGE = "Ouroboros multicast rocks!";
/** Longest part of an SDU the listener prints (bytes, as the reference reads). */
export const BC_READ_BYTES = 256;

const SPECS: OptSpec[] = [
  { short: "n", long: "name", type: "string", arg: "LAYER", help: "broadcast layer to join" },
  {
    short: "m",
    long: "message",
    type: "string",
    arg: "TEXT",
    default: BC_DEFAULT_MESSAGE,
    help: "message to send",
  },
  { short: "l", long: "listen", type: "flag", help: "print every message on the layer" },
  ...COMMON_OPTS,
];

const te = new TextEncoder();
const td = new TextDecoder();

/** Text of a C string SDU: up to the first NUL, at most {@link BC_READ_BYTES}. */
export function bcText(sdu: Uint8Array): string {
  const b = sdu.subarray(0, BC_READ_BYTES);
  const nul = b.indexOf(0);
  return td.decode(nul < 0 ? b : b.subarray(0, nul));
}

/** Entry point. */
export function bcMain(argv: string[]): Promise<number> {
  return runTool({
    usage: "ouro bc -n LAYER [-m TEXT] | ouro bc -n LAYER -l",
    about: "Write a message to a broadcast layer, or print what its members write (obc).",
    specs: SPECS,
    prog: "obc",
    run: async (ouro, opts, _rest, signal) => {
      const layer = opts.name as string | undefined;
      if (!layer) throw new UsageError("a layer name is required (-n LAYER)");
      const flow = await ouro.flowJoin(layer, { signal });
      try {
        if (opts.listen) {
          out(`Listening on layer ${layer}.`);
          for (;;) {
            let sdu: Uint8Array | null;
            try {
              sdu = await flow.read({ signal });
            } catch (e) {
              if (signal.aborted || isErrno(e, Errno.EINTR)) return 0;
              throw e;
            }
            if (sdu === null) return 0;
            out(`Message is ${bcText(sdu)}.`);
          }
        }
        const m = te.encode(opts.message as string);
        const buf = new Uint8Array(m.length + 1); // with the C string's NUL
        buf.set(m);
        await flow.write(buf);
        return 0;
      } finally {
        await flow.close();
      }
    },
  }, argv);
}
