/**
 * `ouro cat` — netcat over a flow: stdin to a name, or a name to stdout.
 *
 * Listening (`-l`), it accepts one flow and copies every SDU to stdout until
 * the flow ends; sending, it copies stdin in SDUs of `--size` bytes.
 * Every SDU starts with one byte: {@link CAT_DATA} then data, or
 * {@link CAT_EOF} at the end of the stream, so the reader stops exactly when
 * the data is complete, whatever the layer tells it about the flow.
 * @module
 */
import { type OptSpec, UsageError } from "../cli/args.ts";
import {
  COMMON_OPTS,
  ENCRYPT_OPT,
  listen,
  LISTEN_OPTS,
  QOS_OPT,
  qosArg,
  runTool,
} from "./common.ts";

const SPECS: OptSpec[] = [
  {
    short: "l",
    long: "listen",
    type: "flag",
    help: "accept one flow and write what arrives to stdout",
  },
  { short: "s", long: "size", type: "int", arg: "B", default: 1400, help: "SDU size when sending" },
  {
    short: "w",
    long: "wait",
    type: "time",
    arg: "T",
    help: "listener: give up if no flow arrives in time",
  },
  QOS_OPT,
  ENCRYPT_OPT,
  ...LISTEN_OPTS,
  ...COMMON_OPTS,
];

/** First byte of an SDU carrying data. */
export const CAT_DATA = 0;
/** First byte of the SDU that ends the stream. */
export const CAT_EOF = 1;

/** Entry point. */
export function catMain(argv: string[]): Promise<number> {
  return runTool({
    usage: "ouro cat NAME < in | ouro cat -l --name NAME [--layer L] > out",
    about: "Copy a byte stream over a flow (netcat).",
    specs: SPECS,
    prog: "ocat",
    positional: true,
    run: async (ouro, opts, rest, signal) => {
      if (opts.listen) {
        if (rest.length) throw new UsageError(`unexpected argument ${rest[0]}`);
        if (!opts.name) throw new UsageError("a listener needs --name NAME");
        await listen(ouro, opts, "ocat");
        const flow = await ouro.flowAccept({ signal, timeoutMs: opts.wait as number | undefined });
        const w = Deno.stdout.writable.getWriter();
        let total = 0;
        for (;;) {
          const p = await flow.read({ signal });
          if (p === null) {
            console.error("ouro cat: the flow ended before the end of the stream.");
            await w.close().catch(() => {});
            return 1;
          }
          if (p.length === 0) continue;
          if (p[0] === CAT_EOF) break;
          total += p.length - 1;
          await w.write(p.subarray(1));
        }
        await w.close().catch(() => {});
        await flow.close();
        console.error(`ouro cat: received ${total} bytes.`);
        return 0;
      }
      const name = rest[0];
      if (!name || rest.length > 1) {
        throw new UsageError("give exactly one destination NAME (or -l to listen)");
      }
      const size = opts.size as number;
      if (size < 1 || size > 1 << 20) throw new UsageError("size must be 1 B to 1 MiB");
      const flow = await ouro.flowAlloc(name, {
        qos: qosArg(opts.qos),
        encryption: opts.encrypt ? true : undefined,
      });
      const r = Deno.stdin.readable.getReader({ mode: "byob" });
      let total = 0;
      let buf = new Uint8Array(size + 1);
      for (;;) {
        // fill a whole SDU before sending (fewer, fuller packets)
        let filled = 0;
        let eof = false;
        while (filled < size) {
          const { value, done } = await r.read(
            new Uint8Array(buf.buffer, 1 + filled, size - filled),
          );
          // the read transfers the buffer: take it back from the result
          buf = value ? new Uint8Array(value.buffer) : new Uint8Array(size + 1);
          if (done || !value) {
            eof = true;
            break;
          }
          filled += value.length;
          if (signal.aborted) break;
        }
        if (filled > 0) {
          buf[0] = CAT_DATA;
          await flow.write(buf.subarray(0, 1 + filled));
          total += filled;
        }
        if (eof || signal.aborted) break;
      }
      if (signal.aborted) {
        await flow.close();
        console.error(`ouro cat: interrupted after ${total} bytes.`);
        return 130;
      }
      await flow.write(new Uint8Array([CAT_EOF]));
      await flow.close();
      console.error(`ouro cat: sent ${total} bytes.`);
      return 0;
    },
  }, argv);
}
