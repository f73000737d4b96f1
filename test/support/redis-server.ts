/**
 * Starts a real, throwaway redis-server (Debian's /usr/bin/redis-server) on a
 * free loopback port, so tests can compare respql's replies with the real
 * thing. Nothing is persisted: no RDB, no AOF, and a temp --dir removed on stop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './free-port';
import { RawClient, isErrorReply } from './resp-client';

export const REDIS_SERVER_BIN = '/usr/bin/redis-server';

export interface RedisServer {
  port: number;
  /** redis://127.0.0.1:PORT */
  url: string;
  /** What the server printed so far (its log), for diagnosing a failing test. */
  log(): string;
  /** Stops the server (SIGTERM, then SIGKILL if it hangs) and removes its dir. Idempotent. */
  stop(): Promise<void>;
}

const START_ATTEMPTS = 3;
const READY_TIMEOUT_MS = 10_000;
const LOG_LIMIT = 64 * 1024;

/** Servers still running, killed if the test process exits without stopping them. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Only synchronous work is possible here; the temp dirs are left behind in this case.
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

export async function startRedisServer(opts: { args?: string[] } = {}): Promise<RedisServer> {
  try {
    await access(REDIS_SERVER_BIN, fsConstants.X_OK);
  } catch {
    throw new Error(`redis-server not found at ${REDIS_SERVER_BIN}: install Debian's redis-server (apt-get install redis-server)`);
  }
  installExitHook();
  const dir = await mkdtemp(join(tmpdir(), 'respql-redis-'));
  try {
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      try {
        return await launch(port, dir, opts.args ?? []);
      } catch (err) {
        // Someone else grabbed the port between freePort() and bind: try another.
        if (attempt < START_ATTEMPTS && /Address already in use/i.test((err as Error).message)) continue;
        throw err;
      }
    }
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

async function launch(port: number, dir: string, extraArgs: string[]): Promise<RedisServer> {
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--daemonize',
    'no',
    '--dir',
    dir,
    // Last, so a test's own arguments override the defaults above.
    ...extraArgs,
  ];
  // Output is piped (not sent to a --logfile) so that config errors, which
  // redis prints before opening any log file, also reach our error messages.
  const child = spawn(REDIS_SERVER_BIN, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);

  let log = '';
  const collect = (chunk: Buffer): void => {
    log += chunk.toString('utf8');
    if (log.length > LOG_LIMIT) log = log.slice(-LOG_LIMIT);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);

  let exitInfo: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = signal ? `signal ${signal}` : `code ${code}`;
      live.delete(child);
      resolve();
    });
  });
  child.once('error', (err) => {
    // Spawn failures (ENOENT, EACCES) emit 'error' and possibly no 'exit'.
    exitInfo ??= `spawn error: ${err.message}`;
    live.delete(child);
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      if (exitInfo === undefined) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    })());

  try {
    await waitForPong(port, () => exitInfo);
  } catch (err) {
    // Don't remove the dir here: startRedisServer may retry with it.
    if (exitInfo === undefined) {
      child.kill('SIGKILL');
      await exited;
    }
    throw new Error(`redis-server on port ${port} did not start: ${(err as Error).message}\n--- redis-server output ---\n${log}`, {
      cause: err,
    });
  }

  return { port, url: `redis://127.0.0.1:${port}`, log: () => log, stop };
}

async function waitForPong(port: number, exitInfo: () => string | undefined): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastError = 'no attempt made';
  while (Date.now() < deadline) {
    const exited = exitInfo();
    if (exited !== undefined) throw new Error(`it exited (${exited})`);
    try {
      const client = await RawClient.connect(port);
      try {
        const reply = await client.send('PING');
        if (Buffer.isBuffer(reply) && reply.toString() === 'PONG') return;
        // Started with --requirepass: alive, and waiting for AUTH.
        if (isErrorReply(reply) && reply.error.startsWith('NOAUTH')) return;
        lastError = `PING answered ${JSON.stringify(reply)}`;
      } finally {
        await client.destroy();
      }
    } catch (err) {
      lastError = (err as Error).message;
    }
    await sleep(50);
  }
  throw new Error(`no PONG within ${READY_TIMEOUT_MS} ms (last: ${lastError})`);
}
