/**
 * Component loggers: one line per event, `<time> <LVL> <component>: message`.
 * Quiet by default for debug; `setLogLevel("debug")` for more.
 * @module
 */

export type LogLevel = "error" | "warn" | "info" | "debug";
const ORDER: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };
const TAG: Record<LogLevel, string> = { error: "EE", warn: "WW", info: "II", debug: "DB" };

let level: LogLevel = "info";
let sink: (line: string) => void = (l) => console.error(l);

/** Set the global log level. */
export function setLogLevel(l: LogLevel): void {
  level = l;
}
/** Current log level. */
export function logLevel(): LogLevel {
  return level;
}
/** Redirect log lines (tests). */
export function setLogSink(fn: (line: string) => void): void {
  sink = fn;
}

/** A logger bound to a component name such as "irmd" or "ipcp/local". */
export interface Logger {
  error(msg: string): void;
  warn(msg: string): void;
  info(msg: string): void;
  debug(msg: string): void;
  child(sub: string): Logger;
}

function ts(): string {
  const d = new Date();
  return d.toISOString().slice(11, 23);
}

/** Create a logger for `component`. */
export function logger(component: string): Logger {
  const emit = (l: LogLevel, msg: string) => {
    if (ORDER[l] <= ORDER[level]) sink(`${ts()} ${TAG[l]} ${component}: ${msg}`);
  };
  return {
    error: (m) => emit("error", m),
    warn: (m) => emit("warn", m),
    info: (m) => emit("info", m),
    debug: (m) => emit("debug", m),
    child: (sub) => logger(`${component}/${sub}`),
  };
}
