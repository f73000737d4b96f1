/**
 * Replies as they cross between the main thread and the script worker: plain values that
 * structured clone keeps as they are (a Buffer arrives as a Uint8Array, a class instance
 * would lose its prototype, so errors and the other tagged shapes are plain objects).
 */
export type Wire =
  | Uint8Array
  | number
  | bigint
  | null
  | Wire[]
  | { t: 'err'; m: string }
  | { t: 'status'; m: string }
  | { t: 'nullArray' }
  | { t: 'map'; e: [Wire, Wire][] }
  | { t: 'set'; i: Wire[] }
  | { t: 'double'; v: number }
  | { t: 'bool'; v: boolean };

export type WireTagged = Exclude<Wire, Uint8Array | number | bigint | null | Wire[]>;

export const wireError = (m: string): Wire => ({ t: 'err', m });

/** The slots of the Int32Array the main thread and the worker signal each other on: set when a message is posted to that side. */
export const TO_WORKER = 0;
export const TO_MAIN = 1;

/** What a script asked the host for, from the worker. */
export type HostRequest = { kind: 'call'; argv: Uint8Array[]; resp: 2 | 3 } | { kind: 'acl'; argv: Uint8Array[] };

/** How a function was declared by redis.register_function. */
export interface FunctionInfo {
  name: string;
  description: string | null;
  flags: string[];
}

/** Messages the main thread sends to the worker (its parentPort). */
export type ToWorker =
  | { type: 'eval'; id: number; sha: string; body: Uint8Array | null; keys: Uint8Array[]; args: Uint8Array[]; readOnly: boolean }
  | { type: 'compile'; id: number; sha: string; body: Uint8Array }
  | { type: 'fload'; id: number; code: Uint8Array; replace: boolean; check: boolean }
  | { type: 'fdelete'; id: number; library: string }
  | { type: 'fflush'; id: number }
  | { type: 'fcall'; id: number; name: string; keys: Uint8Array[]; args: Uint8Array[]; readOnly: boolean }
  | { type: 'flush'; id: number };

/** Messages the worker sends back: a script's request to the host, or the end of a job. */
export type FromWorker =
  | { type: 'request'; request: HostRequest }
  | { type: 'log'; level: number; message: string }
  | { type: 'done'; id: number; result: JobResult };

export type JobResult =
  { ok: true; reply: Wire; wrote?: boolean } | { ok: true; library: string; functions: FunctionInfo[] } | { ok: false; error: string };
