/**
 * The script worker: one Lua VM on its own thread. A script's redis.call posts the command to
 * the main thread and blocks on Atomics.wait until the main thread has run it (through the
 * engine, in the script's transaction) and posted the reply on `replies`, which is then taken
 * synchronously with receiveMessageOnPort. The main thread's event loop never waits for Lua.
 */
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { LuaVm, ScriptError } from './vm';
import type { FromWorker, JobResult, ToWorker, Wire } from './wire';

interface WorkerInit {
  signal: SharedArrayBuffer;
  replies: MessagePort;
  redisVersion: string;
}

const { signal, replies, redisVersion } = workerData as WorkerInit;
const flag = new Int32Array(signal);
const port = parentPort!;
const post = (message: FromWorker) => port.postMessage(message);

const vm = new LuaVm(
  {
    request(request) {
      Atomics.store(flag, 0, 0);
      post({ type: 'request', request });
      Atomics.wait(flag, 0, 0);
      // The notify can overtake the message: it is then a few microseconds away.
      for (let spins = 0; ; spins++) {
        const received = receiveMessageOnPort(replies);
        if (received) return received.message as Wire;
        if (spins > 1000) Atomics.wait(flag, 0, 1, 0.05);
      }
    },
    log(level, message) {
      post({ type: 'log', level, message });
    },
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

port.on('message', (msg: ToWorker) => {
  let result: JobResult;
  try {
    result = handle(msg);
  } catch (err) {
    if (err instanceof ScriptError) result = { ok: false, error: err.message };
    else {
      // An error from inside the VM itself: its state is not to be trusted any more. The host
      // answers this job with an error and starts a new worker for the next one.
      post({ type: 'done', id: msg.id, result: { ok: false, error: `ERR Error running script: ${(err as Error).message}` } });
      process.exit(70);
    }
  }
  post({ type: 'done', id: msg.id, result });
});
