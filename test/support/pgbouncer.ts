/**
 * PgBouncer for tests: Debian's pgbouncer in transaction pooling mode, on a free loopback port,
 * in front of a PostgreSQL server (normally the shared throwaway cluster). Every database of
 * that server is reachable through it by name. Its files live in a temp dir, removed on stop.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { accessSync, chownSync, constants as fsConstants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './resp-client';
import { sharedPostgres } from './postgres';

export const PGBOUNCER = '/usr/sbin/pgbouncer';

export interface Pgbouncer {
  port: number;
  /** `url` (a postgres:// URL of the server behind it) with PgBouncer's host and port instead. */
  through(url: string): string;
  stop(): Promise<void>;
}

/** Starts pgbouncer in front of the server of `upstreamUrl` (host, port and user are taken from it). */
export async function startPgbouncer(
  upstreamUrl: string,
  { poolMode = 'transaction', poolSize = 8 }: { poolMode?: 'transaction' | 'session'; poolSize?: number } = {},
): Promise<Pgbouncer> {
  try {
    accessSync(PGBOUNCER, fsConstants.X_OK);
  } catch {
    throw new Error(`${PGBOUNCER} not found: install Debian's pgbouncer (apt-get install pgbouncer)`);
  }
  const upstream = new URL(upstreamUrl);
  const user = decodeURIComponent(upstream.username || 'postgres');
  // Under /tmp: the postgres account must be able to read it (see postgres.ts).
  const dir = mkdtempSync('/tmp/respql-pgbouncer-');
  const logFile = join(dir, 'pgbouncer.log');
  let child: ChildProcess | undefined;
  const cleanup = (): void => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', cleanup);
  try {
    const port = await freePort();
    writeFileSync(join(dir, 'userlist.txt'), `"${user}" ""\n`);
    writeFileSync(
      join(dir, 'pgbouncer.ini'),
      [
        '[databases]',
        // Any database name: the tests create one per file.
        `* = host=${upstream.hostname} port=${upstream.port || 5432}`,
        '[pgbouncer]',
        'listen_addr = 127.0.0.1',
        `listen_port = ${port}`,
        "unix_socket_dir = ''",
        'auth_type = trust',
        `auth_file = ${join(dir, 'userlist.txt')}`,
        `pool_mode = ${poolMode}`,
        // Fewer server connections than respql's pool may ask for: client connections share them.
        `default_pool_size = ${poolSize}`,
        'max_client_conn = 500',
        'max_db_connections = 40',
        `logfile = ${logFile}`,
        'log_connections = 0',
        'log_disconnections = 0',
        // What the pooled connection's next client must not see (the default in 1.18).
        'server_reset_query = DISCARD ALL',
      ].join('\n') + '\n',
    );
    // PgBouncer, like PostgreSQL, refuses to run as root.
    let ids: { uid?: number; gid?: number } = {};
    if (process.getuid?.() === 0) {
      const id = (flag: string): number => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
      ids = { uid: id('-u'), gid: id('-g') };
      chownSync(dir, ids.uid!, ids.gid!);
    }
    child = spawn(PGBOUNCER, [join(dir, 'pgbouncer.ini')], { ...ids, cwd: dir, stdio: 'ignore' });
    const started = child;
    let exited = false;
    started.on('exit', () => (exited = true));
    const deadline = Date.now() + 10_000;
    while (!(await accepts(port))) {
      if (exited || Date.now() > deadline) throw new Error(`pgbouncer did not start\n--- pgbouncer log ---\n${readLog(logFile)}`);
      await sleep(50);
    }
    let stopping: Promise<void> | undefined;
    return {
      port,
      through(url) {
        const u = new URL(url);
        u.hostname = '127.0.0.1';
        u.port = String(port);
        return u.toString();
      },
      stop: () =>
        (stopping ??= (async () => {
          process.off('exit', cleanup);
          if (!exited) {
            const gone = new Promise((resolve) => started.once('exit', resolve));
            started.kill('SIGTERM');
            await Promise.race([gone, sleep(5000)]);
          }
          cleanup();
        })()),
    };
  } catch (err) {
    process.off('exit', cleanup);
    cleanup();
    throw err;
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-4000);
  } catch {
    return '(no log)';
  }
}

let shared: Promise<Pgbouncer> | undefined;

/** A pgbouncer in transaction mode in front of the shared cluster, started on first use; stopped by the root hook. */
export function sharedPgbouncer(): Promise<Pgbouncer> {
  shared ??= sharedPostgres().then(({ url }) => startPgbouncer(url));
  return shared;
}

export async function stopSharedPgbouncer(): Promise<void> {
  const pending = shared;
  shared = undefined;
  await (await pending?.catch(() => undefined))?.stop();
}
