/**
 * MariaDB for tests and the benchmark (scripts/bench): either the server named by
 * TEST_MARIADB_URL, or a throwaway mariadbd made with Debian's mariadb-server in a temp dir, on
 * a free loopback port, removed again on stop. One server per mocha process (started on first
 * use, stopped by the root hook in test/setup/hooks.ts), a fresh database per test file.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, chownSync, constants as fsConstants, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createConnection } from 'mysql2/promise';
import { freePort } from './free-port';

const MARIADBD = '/usr/sbin/mariadbd';
const INSTALL_DB = '/usr/bin/mariadb-install-db';
const READY_TIMEOUT_MS = 30_000;
const START_ATTEMPTS = 3;

export interface MariadbServer {
  /** e.g. mysql://root@127.0.0.1:PORT/ (no database: freshMariadbDatabase adds one) */
  url: string;
  /** The server's process, for tests that kill it; null for TEST_MARIADB_URL. */
  process: ChildProcess | null;
  stop(): Promise<void>;
}

/** More `--name=value` options for mariadbd, after the fixed ones (durability as respql asks for it). */
export interface MariadbOptions {
  options?: readonly string[];
  /** Where the server's files go (a new dir, removed on stop); default a new /tmp/respql-mariadb-* dir. */
  dir?: string;
}

/** The server options every throwaway server runs with: durable COMMIT, a small, fast-starting InnoDB. */
export const MARIADB_DURABILITY: readonly string[] = ['--innodb-flush-log-at-trx-commit=1', '--sync-binlog=1'];

export async function startMariadb(settings: MariadbOptions = {}): Promise<MariadbServer> {
  for (const bin of [MARIADBD, INSTALL_DB]) {
    try {
      accessSync(bin, fsConstants.X_OK);
    } catch {
      throw new Error(`${bin} not found: install Debian's mariadb-server (apt-get install mariadb-server)`);
    }
  }
  // mariadbd refuses to run as root unless told --user: run as the mysql account then.
  const user = process.getuid?.() === 0 ? 'mysql' : (process.env.USER ?? 'mysql');
  const dir = settings.dir ?? mkdtempSync('/tmp/respql-mariadb-');
  if (settings.dir) mkdirSync(dir);
  const dataDir = join(dir, 'data');
  const socket = join(dir, 'mariadb.sock');
  const logFile = join(dir, 'mariadb.log');
  if (process.getuid?.() === 0) {
    const id = (flag: string) => Number(spawnSync('id', [flag, 'mysql'], { encoding: 'utf8' }).stdout.trim());
    chownSync(dir, id('-u'), id('-g'));
  }
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  try {
    await new Promise<void>((resolve, reject) =>
      execFile(
        INSTALL_DB,
        [
          '--no-defaults',
          `--user=${user}`,
          `--datadir=${dataDir}`,
          '--auth-root-authentication-method=normal',
          '--skip-test-db',
          '--skip-name-resolve',
        ],
        { cwd: dir },
        (err, stdout, stderr) => (err ? reject(new Error(`mariadb-install-db failed: ${err.message}\n${stdout}${stderr}`)) : resolve()),
      ),
    );
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const child = spawn(
        MARIADBD,
        [
          '--no-defaults',
          `--user=${user}`,
          `--datadir=${dataDir}`,
          `--socket=${socket}`,
          `--port=${port}`,
          '--bind-address=127.0.0.1',
          '--skip-name-resolve',
          `--log-error=${logFile}`,
          `--pid-file=${join(dir, 'mariadb.pid')}`,
          '--character-set-server=utf8mb4',
          '--innodb-buffer-pool-size=64M',
          '--innodb-log-file-size=48M',
          '--max-connections=1000',
          ...MARIADB_DURABILITY,
          ...(settings.options ?? []),
        ],
        { cwd: dir, stdio: 'ignore' },
      );
      const url = `mysql://root@127.0.0.1:${port}/`;
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const ready = await waitReady(url, exited);
      if (ready) {
        const onExit = () => {
          child.kill('SIGKILL');
          cleanup();
        };
        process.on('exit', onExit);
        let stopping: Promise<void> | undefined;
        return {
          url,
          process: child,
          stop: () =>
            (stopping ??= (async () => {
              process.off('exit', onExit);
              if (child.exitCode === null && child.signalCode === null) {
                child.kill('SIGTERM');
                await Promise.race([exited, sleep(20_000)]);
                if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
              }
              cleanup();
            })()),
        };
      }
      const log = readLog(logFile);
      // Another process took the port between freePort() and bind: try another.
      if (attempt < START_ATTEMPTS && /Address already in use|Can't start server/i.test(log)) continue;
      child.kill('SIGKILL');
      throw new Error(`mariadbd did not start\n--- log ---\n${log}`);
    }
  } catch (err) {
    cleanup();
    throw err;
  }
}

/** Connects until the server answers (true), or it exits or the time runs out (false). */
async function waitReady(url: string, exited: Promise<number | null>): Promise<boolean> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!gone && Date.now() < deadline) {
    try {
      const c = await createConnection({ uri: url, connectTimeout: 1000 });
      await c.end();
      return true;
    } catch {
      await sleep(50);
    }
  }
  return false;
}

function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-8000);
  } catch {
    return '(no log)';
  }
}

// ---------------------------------------------------------------------------
// One server per mocha process, with a fresh database per test file.

let shared: Promise<MariadbServer> | undefined;

function sharedMariadb(): Promise<MariadbServer> {
  const external = process.env.TEST_MARIADB_URL;
  shared ??= external ? Promise.resolve({ url: external, process: null, stop: async () => {} }) : startMariadb();
  return shared;
}

/** Creates a new, uniquely named utf8mb4 database on the shared server and returns its URL. */
export async function freshMariadbDatabase(): Promise<string> {
  const { url } = await sharedMariadb();
  const name = `respql_t${process.pid}_${randomBytes(4).toString('hex')}`;
  const c = await createConnection({ uri: url });
  try {
    await c.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
  } finally {
    await c.end();
  }
  const fresh = new URL(url);
  fresh.pathname = `/${name}`;
  return fresh.toString();
}

/** Stops the shared server. Safe to call when none was started. */
export async function stopSharedMariadb(): Promise<void> {
  const pending = shared;
  shared = undefined;
  if (!pending) return;
  try {
    await (await pending).stop();
  } catch {
    // it never started; the error was reported to the tests that needed it
  }
}
