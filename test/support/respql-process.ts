/** Runs the built CLI (dist/src/cli.js) as a child process, the way users run respql. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort } from './free-port';

export const CLI = path.resolve(__dirname, '../../src/cli.js');

/** RESPQL_TEST_WORKERS=N: the spawned servers (and startRespql's) run with `--workers N`, to prove a suite holds with workers. */
export const TEST_WORKERS = Number(process.env.RESPQL_TEST_WORKERS ?? 1);

export interface RespqlProcess {
  proc: ChildProcess;
  port: number;
  output(): string;
  /** SIGKILL, no chance to clean up. */
  kill9(): Promise<void>;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
}

export async function spawnRespql(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RespqlProcess> {
  const port = await freePort();
  const workers = TEST_WORKERS > 1 && !args.includes('--workers') ? ['--workers', String(TEST_WORKERS)] : [];
  const proc = spawn(process.execPath, [CLI, '--port', String(port), ...workers, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group: kill -9 reaches every worker at once, as a machine crash would.
    detached: true,
  });
  let out = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Don't leave it running (and holding the test process open) once we give up on it.
      proc.kill('SIGKILL');
      reject(new Error(`respql did not start in 20 s:\n${out}`));
    }, 20_000);
    const check = () => {
      if (/ready on/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stdout.on('data', check);
    proc.stderr.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`respql exited with ${code} before it was ready:\n${out}`));
    });
  });
  return {
    proc,
    port,
    output: () => out,
    async kill9() {
      process.kill(-proc.pid!, 'SIGKILL');
      await exited;
    },
    async stop() {
      proc.kill('SIGTERM');
      return exited;
    },
  };
}
