/**
 * The IRMd registry (spec 05 §5): names, processes, programs and flow ids.
 * Control only; no packet ever passes through here.
 * @module
 */
import { Errno, OuroError } from "../lib/errors.ts";

/** Load-balancing policy of a name. */
export type LbPolicy = "round-robin" | "spillover";

/** Largest name length in bytes (NAME_SIZE). */
export const NAME_MAX_BYTES = 255;
/** flow_id space: ids 1 … SYS_MAX_FLOWS-1. */
export const SYS_MAX_FLOWS = 10240;
/** Most names in one registry (a full registry answers ENOMEM). */
export const MAX_NAMES = 4096;

/** A registered name. */
export interface NameEntry {
  name: string;
  lb: LbPolicy;
  /** pids bound to this name. */
  pids: Set<number>;
  /** Program basenames bound to this name. */
  progs: Set<string>;
  /** Layers/IPCP ids the name is registered in. */
  regs: Set<number>;
}

/** A program binding (by basename), with optional auto-start vector. */
export interface ProgramEntry {
  prog: string;
  path: string;
  names: Set<string>;
  /** name → argv for auto-start (present only for `auto` bindings). */
  auto: Map<string, string[]>;
}

const te = new TextEncoder();

/** Validate a name: non-empty, ≤ 255 bytes, no NUL. */
export function checkName(name: unknown, what = "name"): string {
  if (typeof name !== "string" || name.length === 0) {
    throw new OuroError(Errno.EINVAL, `Cannot use ${what}: it must be a non-empty string`);
  }
  if (te.encode(name).length > NAME_MAX_BYTES) {
    throw new OuroError(Errno.EINVAL, `Cannot use ${what}: longer than ${NAME_MAX_BYTES} bytes`);
  }
  if (name.includes("\0")) throw new OuroError(Errno.EINVAL, `Cannot use ${what}: contains NUL`);
  return name;
}

/** Names, programs, process bindings. */
export class Registry {
  readonly names = new Map<string, NameEntry>();
  readonly programs = new Map<string, ProgramEntry>();
  /** pid → program basename of announced processes. */
  readonly procs = new Map<number, { prog: string; names: Set<string> }>();

  /** Create a name; an existing name is a success (returns false). */
  createName(name: string, lb: LbPolicy): boolean {
    checkName(name);
    if (this.names.has(name)) return false;
    if (this.names.size >= MAX_NAMES) {
      throw new OuroError(Errno.ENOMEM, `Cannot create name ${name}: registry full (${MAX_NAMES} names)`);
    }
    this.names.set(name, { name, lb, pids: new Set(), progs: new Set(), regs: new Set() });
    return true;
  }

  getName(name: string): NameEntry {
    const n = this.names.get(name);
    if (!n) throw new OuroError(Errno.ENAME, `Cannot find name ${name}: not in the registry`);
    return n;
  }

  destroyName(name: string): void {
    const n = this.getName(name);
    for (const pid of n.pids) this.procs.get(pid)?.names.delete(name);
    for (const p of n.progs) this.programs.get(p)?.names.delete(name);
    this.names.delete(name);
  }

  announce(pid: number, prog: string): void {
    const entry = this.procs.get(pid) ?? { prog, names: new Set<string>() };
    this.procs.set(pid, entry);
    for (const p of this.programs.values()) {
      if (p.prog === prog) for (const n of p.names) this.bindProcess(pid, n);
    }
  }

  removeProcess(pid: number): void {
    const p = this.procs.get(pid);
    if (!p) return;
    for (const n of p.names) this.names.get(n)?.pids.delete(pid);
    this.procs.delete(pid);
  }

  bindProcess(pid: number, name: string): void {
    if (!this.names.has(name)) this.createName(name, "spillover");
    const n = this.getName(name);
    n.pids.add(pid);
    const p = this.procs.get(pid) ?? { prog: "", names: new Set<string>() };
    p.names.add(name);
    this.procs.set(pid, p);
  }

  unbindProcess(pid: number, name?: string): void {
    const p = this.procs.get(pid);
    if (!p) throw new OuroError(Errno.ENOENT, `Cannot unbind process ${pid}: not known`);
    for (const n of name === undefined ? [...p.names] : [name]) {
      p.names.delete(n);
      this.names.get(n)?.pids.delete(pid);
    }
  }

  bindProgram(path: string, name: string, auto: string[] | undefined): void {
    const prog = path.split("/").pop() || path;
    if (!this.names.has(name)) this.createName(name, "spillover");
    const entry = this.programs.get(prog) ??
      { prog, path, names: new Set<string>(), auto: new Map<string, string[]>() };
    entry.path = path;
    entry.names.add(name);
    if (auto) entry.auto.set(name, auto);
    this.programs.set(prog, entry);
    this.getName(name).progs.add(prog);
    for (const [pid, p] of this.procs) if (p.prog === prog) this.bindProcess(pid, name);
  }

  unbindProgram(prog: string, name?: string): void {
    const base = prog.split("/").pop() || prog;
    const entry = this.programs.get(base);
    if (!entry) throw new OuroError(Errno.ENOENT, `Cannot unbind program ${base}: not bound`);
    for (const n of name === undefined ? [...entry.names] : [name]) {
      entry.names.delete(n);
      entry.auto.delete(n);
      this.names.get(n)?.progs.delete(base);
    }
    if (name === undefined || entry.names.size === 0) this.programs.delete(base);
  }

  /** The auto-start argv for a name, if a program was bound with `auto`. */
  autoStart(name: string): string[] | undefined {
    const n = this.names.get(name);
    if (!n) return undefined;
    for (const p of n.progs) {
      const a = this.programs.get(p)?.auto.get(name);
      if (a) return a;
    }
    return undefined;
  }
}

/** Lowest-free-first id allocator over [lo, hi). */
export class IdBitmap {
  readonly #used = new Set<number>();
  #next: number;
  constructor(readonly lo: number, readonly hi: number) {
    this.#next = lo;
  }
  alloc(): number {
    for (let i = this.lo; i < this.hi; i++) {
      if (!this.#used.has(i)) {
        this.#used.add(i);
        return i;
      }
    }
    throw new OuroError(Errno.EBADF, "Cannot allocate flow id: all ids in use");
  }
  release(id: number): void {
    this.#used.delete(id);
  }
  get size(): number {
    return this.#used.size;
  }
}
