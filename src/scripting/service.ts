/**
 * Scripting as the server holds it: the script worker, the scripts and function libraries this
 * instance knows, and whether a script is busy (running past busy-reply-threshold). The script
 * cache and the libraries are also kept in the database (see ScriptTable), so that every
 * instance on one database shares them and they survive restarts; the maps here only save a
 * database round trip for what this instance has already seen.
 */
import { ScriptRunner, busyError, type ScriptKind } from './runner';
import type { FunctionInfo } from './wire';
import type { RespError } from '../protocol/errors';
import type { ScriptTable } from '../store/scripts';

export interface ScriptingOptions {
  redisVersion: string;
  /** The worker's heap limit (MB). */
  memoryMb: number;
  /** busy-reply-threshold (ms), read each time (CONFIG SET changes it). */
  busyThresholdMs: () => number;
  log?: (level: number, message: string) => void;
}

export interface Library {
  code: Buffer;
  functions: FunctionInfo[];
}

export class Scripting {
  readonly runner: ScriptRunner;
  /** Script bodies by sha: loaded or run here, or read from the database. */
  readonly scripts = new Map<string, Buffer>();
  /** Shas known to be in the database (no INSERT needed). */
  readonly stored = new Set<string>();
  /** The libraries loaded into the worker, by name, as last synchronised with the database. */
  readonly libraries = new Map<string, Library>();
  /** The library of each function. */
  readonly functionLibrary = new Map<string, string>();
  /** Whether `libraries` has been synchronised with the database since start-up. */
  librariesSynced = false;
  /** The running function's name (FUNCTION STATS). */
  runningFunction: string | null = null;

  constructor(private readonly options: ScriptingOptions) {
    this.runner = new ScriptRunner({ redisVersion: options.redisVersion, memoryMb: options.memoryMb, log: options.log });
  }

  /** The BUSY error for other clients' commands while a script runs past the threshold, else null. */
  busy(): RespError | null {
    const running = this.runner.running;
    if (!running || performance.now() - running.since < this.options.busyThresholdMs()) return null;
    return busyError(running.kind);
  }

  get runningKind(): ScriptKind | null {
    return this.runner.running?.kind ?? null;
  }

  /** Brings the worker's libraries in line with the database's (another instance may have changed them). */
  async syncLibraries(table: ScriptTable): Promise<void> {
    const rows = await table.libraries();
    const names = new Set(rows.map((r) => r.name));
    for (const name of [...this.libraries.keys()]) {
      if (!names.has(name)) await this.dropLocal(name);
    }
    for (const { name, code } of rows) {
      const local = this.libraries.get(name);
      if (local && local.code.equals(code)) continue;
      if (local) await this.dropLocal(name);
      try {
        await this.loadLocal(code, false);
      } catch {
        // A library another instance stored that this one cannot load (a function name taken
        // by a library loaded here): left out until the conflict is resolved.
      }
    }
    this.librariesSynced = true;
  }

  /** Loads a library into the worker and the maps; throws RespError with Redis's text. */
  async loadLocal(code: Buffer, replace: boolean): Promise<string> {
    const { library, functions } = await this.runner.loadLibrary(code, replace);
    const previous = this.libraries.get(library);
    if (previous) for (const f of previous.functions) this.functionLibrary.delete(f.name);
    this.libraries.set(library, { code: Buffer.from(code), functions });
    for (const f of functions) this.functionLibrary.set(f.name, library);
    return library;
  }

  async dropLocal(name: string): Promise<void> {
    const lib = this.libraries.get(name);
    if (!lib) return;
    await this.runner.deleteLibrary(name);
    for (const f of lib.functions) this.functionLibrary.delete(f.name);
    this.libraries.delete(name);
  }

  async flushLocalLibraries(): Promise<void> {
    await this.runner.flushFunctions();
    this.libraries.clear();
    this.functionLibrary.clear();
  }

  close(): Promise<void> {
    return this.runner.close();
  }
}
