/**
 * The main thread's side of the script worker: runs one job at a time (compile, EVAL, FUNCTION
 * LOAD, FCALL), answers the script's redis.call requests while it runs, and knows which script
 * is running and for how long (BUSY, SCRIPT KILL).
 *
 * The handshake, per redis.call: the worker posts {request} on its outbox port, sets the shared
 * TO_MAIN flag and blocks in Atomics.wait; the main thread runs the command (asynchronously:
 * PostgreSQL's driver, other clients meanwhile), posts the reply on the worker's inbox port, then
 * sets TO_WORKER and notifies. The worker wakes and takes the reply with receiveMessageOnPort.
 * Jobs and their ends go the same way. A script's turns are short (a lock release is two calls
 * of a few microseconds of Lua each), so after each message the main thread first waits for the
 * worker's answer itself, blocking for at most HANDOVER_WAIT_MS: a hand-over is then one futex
 * wake, not an event-loop turn on each side (which, on a busy machine, was most of a script's
 * time). Past that wait the answer comes as a message on the event loop, and so does every
 * answer once the main thread has spent HANDOVER_BUDGET_MS in such waits and their handling
 * without an event-loop turn (on SQLite a redis.call completes in microtasks: a script looping
 * on redis.call would otherwise never let the event loop run). So a long script leaves the
 * server responsive (BUSY, SCRIPT KILL, SHUTDOWN NOSAVE).
 *
 * A killed script (SCRIPT KILL, FUNCTION KILL, SHUTDOWN) or one that runs out of memory ends
 * with its worker: worker.terminate() stops Lua wherever it is. A new worker starts at once,
 * and gets the function libraries again; scripts are compiled again on first use.
 */
import path from 'node:path';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { RespError } from '../protocol/errors';
import { TO_MAIN, TO_WORKER, type FromWorker, type FunctionInfo, type HostRequest, type JobResult, type ToWorker, type Wire } from './wire';

/** How long the main thread blocks waiting for the worker's answer before it leaves it to the event loop. */
const HANDOVER_WAIT_MS = 2;
/** How long hand-overs may go on without an event-loop turn. */
const HANDOVER_BUDGET_MS = 5;

export interface RunnerOptions {
  redisVersion: string;
  /** The worker's heap limit, MB: what one script may allocate (plus the VM's own ~10 MB). */
  memoryMb: number;
  log?: (level: number, message: string) => void;
}

/** Answers one redis.call of the running script. */
export type RequestHandler = (request: HostRequest) => Promise<Wire> | Wire;

/** Jobs as submitted: the worker's message without its id. */
type Job = ToWorker extends infer M ? (M extends { id: number } ? Omit<M, 'id'> : never) : never;

interface Pending {
  job: Job;
  onRequest?: RequestHandler;
  resolve: (r: JobResult) => void;
  reject: (e: unknown) => void;
}

export type ScriptKind = 'eval' | 'function';

/** The script running now: what BUSY and SCRIPT KILL look at. */
export interface RunningScript {
  readonly kind: ScriptKind;
  readonly since: number;
  /** A write command has run: the script can no longer be killed (its writes would be half done). */
  wrote: boolean;
}

/** A script stopped by the server (not by SCRIPT KILL): its command's transaction must not commit. */
export class ScriptStopped extends Error {}

export const KILLED_MESSAGE = 'ERR Script killed by user with SCRIPT KILL...';

export class ScriptRunner {
  private worker: Worker | null = null;
  private flag: Int32Array | null = null;
  /** The worker's inbox (jobs, replies) and outbox (requests, job ends, log lines). */
  private toWorker: MessagePort | null = null;
  private fromWorker: MessagePort | null = null;
  private nextId = 1;
  private queue: Pending[] = [];
  private current: (Pending & { id: number }) | null = null;
  /** Scripts compiled in the current worker. */
  private compiled = new Set<string>();
  /** Function libraries by name (their code): loaded again into every new worker. */
  private readonly libraries = new Map<string, Uint8Array>();
  /** Why the worker is being terminated: a kill (the script's reply) or a stop (its work fails). */
  private ending: { reason: string; stop: boolean } | null = null;
  private closed = false;
  /** When the current stretch of hand-overs without an event-loop turn began, or null (see pump). */
  private stretchSince: number | null = null;
  running: RunningScript | null = null;

  constructor(private readonly options: RunnerOptions) {}

  /** Starts the worker ahead of the first script (it takes ~50-90 ms to load the VM). */
  warm(): void {
    if (!this.worker && !this.closed) this.spawn();
  }

  private spawn(): void {
    const signal = new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
    const inbox = new MessageChannel();
    const outbox = new MessageChannel();
    const worker = new Worker(path.join(__dirname, 'worker.js'), {
      workerData: { signal, inbox: inbox.port2, outbox: outbox.port2, redisVersion: this.options.redisVersion },
      transferList: [inbox.port2, outbox.port2],
      resourceLimits: {
        maxOldGenerationSizeMb: this.options.memoryMb,
        maxYoungGenerationSizeMb: Math.min(32, Math.max(4, this.options.memoryMb >> 3)),
        stackSizeMb: 4,
      },
      stdout: false,
      stderr: false,
    });
    worker.unref();
    this.worker = worker;
    this.flag = new Int32Array(signal);
    this.toWorker = inbox.port1;
    this.fromWorker = outbox.port1;
    this.compiled.clear();
    // What the main thread did not wait for itself (see pump) comes here, on the event loop.
    outbox.port1.on('message', (msg: FromWorker) => this.onMessage(worker, msg));
    outbox.port1.unref(); // see next()
    worker.on('error', (err) => this.onExit(worker, err));
    worker.on('exit', (code) => this.onExit(worker, new Error(`script worker exited with code ${code}`)));
    // A new worker has no libraries: load them first, ahead of any queued job.
    const reloads: Pending[] = [...this.libraries.values()].map((code) => ({
      job: { type: 'fload', code, replace: true, check: false },
      resolve: () => undefined,
      reject: () => undefined,
    }));
    this.queue.unshift(...reloads);
  }

  private onMessage(worker: Worker, msg: FromWorker): void {
    if (worker !== this.worker) return;
    if (msg.type === 'log') return this.options.log?.(msg.level, msg.message);
    const current = this.current;
    if (msg.type === 'request') {
      if (!current?.onRequest) return this.send({ t: 'err', m: 'ERR no script is running' });
      let reply: Promise<Wire> | Wire;
      try {
        reply = current.onRequest(msg.request);
      } catch (err) {
        reply = { t: 'err', m: err instanceof Error ? err.message : String(err) };
      }
      if (reply instanceof Promise) {
        reply.then(
          (r) => worker === this.worker && this.send(r),
          (err) => worker === this.worker && this.send({ t: 'err', m: err instanceof Error ? err.message : String(err) }),
        );
      } else this.send(reply);
      return;
    }
    if (!current || current.id !== msg.id) return;
    this.current = null;
    this.running = null;
    this.fromWorker!.unref();
    current.resolve(msg.result);
    this.next();
  }

  /** Posts a job or a reply to the worker and wakes it, then waits briefly for its answer (see pump). */
  private send(message: ToWorker | Wire): void {
    const flag = this.flag!;
    // The worker is blocked until this message: it cannot have set TO_MAIN for the next one yet.
    Atomics.store(flag, TO_MAIN, 0);
    this.toWorker!.postMessage(message);
    Atomics.store(flag, TO_WORKER, 1);
    Atomics.notify(flag, TO_WORKER);
    this.pump();
  }

  /**
   * Waits up to HANDOVER_WAIT_MS for the worker's answer (a request or a job's end) and handles
   * it at once, with any log lines before it. Not there in time: the port's listener gets it.
   */
  private pump(): void {
    const worker = this.worker!;
    const port = this.fromWorker!;
    const now = performance.now();
    if (this.stretchSince === null) {
      this.stretchSince = now;
      // After the poll phase, where the port's listener takes what was not waited for here.
      setImmediate(() => (this.stretchSince = null));
    } else if (now - this.stretchSince > HANDOVER_BUDGET_MS) return;
    if (Atomics.wait(this.flag!, TO_MAIN, 0, HANDOVER_WAIT_MS) === 'timed-out') return;
    for (let received; worker === this.worker && (received = receiveMessageOnPort(port));) {
      const msg = received.message as FromWorker;
      this.onMessage(worker, msg);
      if (msg.type !== 'log') return;
    }
  }

  private onExit(worker: Worker, err: Error): void {
    if (worker !== this.worker) return;
    const port = this.fromWorker!;
    this.worker = null;
    const current = this.current;
    this.current = null;
    this.running = null;
    // What the worker posted just before it ended: log lines, and the end of a job that broke the VM itself.
    let done: JobResult | null = null;
    for (let received; (received = receiveMessageOnPort(port));) {
      const msg = received.message as FromWorker;
      if (msg.type === 'log') this.options.log?.(msg.level, msg.message);
      else if (msg.type === 'done' && msg.id === current?.id) done = msg.result;
    }
    this.toWorker?.close();
    port.close();
    this.toWorker = this.fromWorker = null;
    if (current) {
      const reason =
        this.ending?.reason ??
        ((err as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? 'ERR Script exceeded the memory limit of scripts (lua-memory-limit)'
          : `ERR Error running script: ${err.message}`);
      if (this.ending?.stop) current.reject(new ScriptStopped(reason));
      else current.resolve(done ?? { ok: false, error: reason });
    }
    this.ending = null;
    this.next();
    // A job ended with its worker (a kill, the memory limit): the next script need not wait for a new one to load.
    if (current) this.warm();
  }

  private submit(job: Job, onRequest?: RequestHandler): Promise<JobResult> {
    if (this.closed) return Promise.resolve({ ok: false, error: 'ERR the server is shutting down' });
    return new Promise((resolve, reject) => {
      this.queue.push({ job, onRequest, resolve, reject });
      if (!this.current) this.next();
    });
  }

  private next(): void {
    if (this.current || !this.queue.length || this.closed) return;
    if (!this.worker) this.spawn();
    const pending = this.queue.shift()!;
    const id = this.nextId++;
    this.current = { ...pending, id };
    // A job's end is awaited: the process stays up for it (an idle worker does not keep it up).
    this.fromWorker!.ref();
    const { job } = pending;
    if (job.type === 'eval' || job.type === 'fcall') {
      this.running = { kind: job.type === 'eval' ? 'eval' : 'function', since: performance.now(), wrote: false };
    }
    this.send({ ...job, id });
  }

  /** Compiles a script (SCRIPT LOAD, EVAL's first run); throws RespError with Redis's text. */
  async compile(sha: string, body: Uint8Array): Promise<void> {
    if (this.compiled.has(sha)) return;
    const result = await this.submit({ type: 'compile', sha, body });
    if (!result.ok) throw new RespError(result.error);
    this.compiled.add(sha);
  }

  /** Runs a script; its reply (errors included, as error replies). */
  async eval(
    sha: string,
    body: Uint8Array,
    keys: Uint8Array[],
    args: Uint8Array[],
    readOnly: boolean,
    onRequest: RequestHandler,
  ): Promise<Wire> {
    const known = this.compiled.has(sha);
    const result = await this.submit({ type: 'eval', sha, body: known ? null : body, keys, args, readOnly }, onRequest);
    if (!result.ok) return { t: 'err', m: result.error };
    if ('reply' in result) {
      this.compiled.add(sha);
      return result.reply;
    }
    return null;
  }

  /** Drops the compiled scripts (SCRIPT FLUSH). */
  async flushScripts(): Promise<void> {
    await this.submit({ type: 'flush' });
    this.compiled.clear();
  }

  /** Loads a library (FUNCTION LOAD/RESTORE); with `check`, only validates it. */
  async loadLibrary(code: Uint8Array, replace: boolean, check = false): Promise<{ library: string; functions: FunctionInfo[] }> {
    const result = await this.submit({ type: 'fload', code, replace, check });
    if (!result.ok) throw new RespError(result.error);
    if (!('library' in result)) throw new Error('unexpected reply to fload');
    if (!check) this.libraries.set(result.library, new Uint8Array(code));
    return { library: result.library, functions: result.functions };
  }

  async deleteLibrary(library: string): Promise<boolean> {
    this.libraries.delete(library);
    const result = await this.submit({ type: 'fdelete', library });
    return result.ok && 'reply' in result && result.reply === 1;
  }

  async flushFunctions(): Promise<void> {
    this.libraries.clear();
    await this.submit({ type: 'fflush' });
  }

  async callFunction(name: string, keys: Uint8Array[], args: Uint8Array[], readOnly: boolean, onRequest: RequestHandler): Promise<Wire> {
    const result = await this.submit({ type: 'fcall', name, keys, args, readOnly }, onRequest);
    if (!result.ok) return { t: 'err', m: result.error };
    return 'reply' in result ? result.reply : null;
  }

  /** SCRIPT KILL / FUNCTION KILL: stops the running script unless it has written. */
  kill(kind: ScriptKind): RespError | null {
    const running = this.running;
    if (!running) return new RespError('NOTBUSY No scripts in execution right now.');
    if (running.wrote) {
      return new RespError(
        'UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.',
      );
    }
    if (kind !== running.kind) return busyError(running.kind);
    this.ending = { reason: KILLED_MESSAGE, stop: false };
    void this.worker?.terminate();
    return null;
  }

  /**
   * Ends the running script whatever it did (SHUTDOWN NOSAVE, server close): its job fails
   * with ScriptStopped, so that its transaction rolls back, as Redis drops a script's effects
   * when it shuts down without saving.
   */
  stop(reason: string): void {
    if (!this.worker || !this.current) return;
    this.ending = { reason, stop: true };
    void this.worker.terminate();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.resolve({ ok: false, error: 'ERR the server is shutting down' });
    const worker = this.worker;
    if (worker) {
      this.ending ??= { reason: 'ERR the server is shutting down', stop: true };
      await worker.terminate();
    }
  }
}

/** What other clients get while a script is busy (Redis's slowevalerr / slowscripterr). */
export function busyError(kind: ScriptKind): RespError {
  return new RespError(
    kind === 'eval'
      ? 'BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.'
      : 'BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.',
  );
}
