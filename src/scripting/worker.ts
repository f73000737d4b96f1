/**
 * The script worker: one Lua VM on its own thread. It never returns to its event loop: it
 * blocks in Atomics.wait for the main thread's next message (a job, or the reply to a
 * redis.call) and takes it with receiveMessageOnPort, so that each hand-over is one futex wake
 * rather than an event-loop turn on each side. A script's redis.call posts the command to the
 * main thread and blocks until the main thread has run it (through the engine, in the script's
 * transaction) and posted the reply. The main thread's event loop never waits for Lua.
 *
 * The shared Int32Array: [TO_WORKER] is set by the main thread when its message is posted,
 * [TO_MAIN] by the worker when a request or a job's end is posted (see ScriptRunner).
 */
import { receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { LuaVm, ScriptError } from './vm';
import { TO_MAIN, TO_WORKER, type FromWorker, type JobResult, type ToWorker, type Wire } from './wire';

interface WorkerInit {
  signal: SharedArrayBuffer;
  /** The main thread's jobs and replies. */
  inbox: MessagePort;
  /** Requests, job ends and log lines, to the main thread. */
  outbox: MessagePort;
  redisVersion: string;
}

const { signal, inbox, outbox, redisVersion } = workerData as WorkerInit;
const flag = new Int32Array(signal);

/** Posts a message the main thread waits for (a request, a job's end), then blocks until its answer. */
function exchange(message: FromWorker): unknown {
  Atomics.store(flag, TO_WORKER, 0);
  outbox.postMessage(message);
  Atomics.store(flag, TO_MAIN, 1);
  Atomics.notify(flag, TO_MAIN);
  return next();
}

/** The main thread's next message: blocks until it is posted. */
function next(): unknown {
  for (;;) {
    Atomics.wait(flag, TO_WORKER, 0);
    const received = receiveMessageOnPort(inbox);
    if (received) return received.message;
    // Set before the message was visible (should not happen: postMessage enqueues at once): look again shortly.
    Atomics.wait(flag, TO_WORKER, 1, 0.05);
  }
}

const vm = new LuaVm(
  {
    request: (request) => exchange({ type: 'request', request }) as Wire,
    // Needs no answer: it goes ahead of the script's next exchange on the same port.
    log: (level, message) => outbox.postMessage({ type: 'log', level, message } satisfies FromWorker),
  },
  { redisVersion },
);

function handle(msg: ToWorker): JobResult {
  switch (msg.type) {
    case 'eval':
      if (!vm.has(msg.sha)) {
        if (!msg.body) return { ok: true, reply: { t: 'err', m: 'NOSCRIPT No matching script. Please use EVAL.' } };
        vm.compile(msg.sha, msg.body);
      }
      return { ok: true, reply: vm.run(msg.sha, msg.keys, msg.args, msg.readOnly) };
    case 'compile':
      vm.compile(msg.sha, msg.body);
      return { ok: true, reply: null };
    case 'flush':
      vm.flush();
      return { ok: true, reply: null };
    case 'fload': {
      const { library, functions } = vm.loadLibrary(msg.code, msg.replace, msg.check);
      return { ok: true, library, functions };
    }
    case 'fdelete':
      return { ok: true, reply: vm.deleteLibrary(msg.library) ? 1 : 0 };
    case 'fflush':
      vm.flushFunctions();
      return { ok: true, reply: null };
    case 'fcall':
      return { ok: true, reply: vm.callFunction(msg.name, msg.keys, msg.args, msg.readOnly) };
  }
}

/** Runs one job; an error from inside the VM itself (not the script's) comes back as `fatal`. */
function run(msg: ToWorker): { result: JobResult } | { fatal: string } {
  try {
    return { result: handle(msg) };
  } catch (err) {
    if (err instanceof ScriptError) return { result: { ok: false, error: err.message } };
    return { fatal: `ERR Error running script: ${(err as Error).message}` };
  }
}

for (let msg = next() as ToWorker; ;) {
  const outcome = run(msg);
  if ('fatal' in outcome) {
    // The VM's state is not to be trusted any more: the host answers this job with the error
    // and starts a new worker for the next one.
    outbox.postMessage({ type: 'done', id: msg.id, result: { ok: false, error: outcome.fatal } } satisfies FromWorker);
    Atomics.store(flag, TO_MAIN, 1);
    Atomics.notify(flag, TO_MAIN);
    process.exit(70);
  }
  msg = exchange({ type: 'done', id: msg.id, result: outcome.result }) as ToWorker;
}
