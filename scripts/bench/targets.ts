/** The servers under test: respql, redis-server and the throwaway PostgreSQL cluster, started and
 * stopped; PING, pre-filling and INFO through the one RESP client (src/ops/resp-client.ts). */
import { type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { RawClient, isErrorReply, type Reply } from '../../src/ops/resp-client';
import { freePort } from '../../test/support/free-port';
import { MARIADB_DURABILITY, startMariadb } from '../../test/support/mariadb';
import { POSTGRES_DURABILITY, startCluster } from '../../test/support/postgres';
import { KEYSPACE, type Options, PG_BIN, VALUE_SIZE, fail } from './options';
import { type RunResult, logCommand, onCleanup, readOr, run, sleep, startDaemon } from './processes';

export async function waitForPing(port: number, child: ChildProcess, what: string, log: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null)
      fail(`${what} exited with code ${child.exitCode} before it answered PING; its log:\n${readOr(log).slice(-2000)}`);
    try {
      const client = await RawClient.connect(port);
      try {
        if (isPong(await client.send('PING'))) return;
      } finally {
        await client.destroy();
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) fail(`${what} did not answer PING on port ${port} within ${timeoutMs} ms`);
    await sleep(100);
  }
}

export const isPong = (reply: Reply) => Buffer.isBuffer(reply) && reply.toString() === 'PONG';
export const keyName = (i: number) => `key:${String(i).padStart(12, '0')}`; // redis-benchmark's __rand_int__ format

/**
 * Writes every key of the key space once, so that every GET in the benchmark finds its
 * key (a session store's reads are hits) and every SET replaces a row, on every target.
 */
export async function prefill(port: number): Promise<void> {
  const value = Buffer.alloc(VALUE_SIZE, 'x');
  const client = await RawClient.connect(port);
  try {
    const batch = 1000;
    for (let start = 0; start < KEYSPACE; start += batch) {
      const n = Math.min(batch, KEYSPACE - start);
      const replies = await client.pipeline(Array.from({ length: n }, (_, i) => ['SET', keyName(start + i), value]));
      const bad = replies.find(isErrorReply);
      if (bad) throw new Error(`server replied -${bad.error}`);
    }
  } finally {
    await client.destroy();
  }
}

// The servers under test

export interface Target {
  /** Row label in the report. */
  name: string;
  port: number;
}

export const respqlCli = (options: Options) => path.join(options.respql, 'dist', 'src', 'cli.js');

export interface RespqlOptions {
  nodeFlags?: string[];
  /** More respql flags (e.g. --table, --cleanup-interval). */
  args?: string[];
  /** Run under a raised open-files limit, for many connections (see highFdLimit). */
  manyFiles?: boolean;
}

export async function startRespql(
  options: Options,
  tmp: string,
  name: string,
  databaseUrl: string,
  o: RespqlOptions = {},
): Promise<Target & { child: ChildProcess }> {
  const port = await freePort();
  const log = path.join(tmp, `${slug(name)}.log`);
  const argv = [
    process.execPath,
    ...(o.nodeFlags ?? []),
    respqlCli(options),
    '--port',
    String(port),
    '--database-url',
    databaseUrl,
    ...(o.args ?? []),
  ];
  const [cmd, ...args] = o.manyFiles ? highFdLimit(argv) : argv;
  const child = startDaemon(cmd, args, log, { cwd: tmp });
  await waitForPing(port, child, name, log);
  return { name, port, child };
}

/**
 * The command line `argv` under `ulimit -n 65536`, or the hard limit where raising it is
 * not allowed (a container without CAP_SYS_RESOURCE). `exec` keeps the pid, so /proc/<pid>
 * of the child is the process itself.
 */
export function highFdLimit(argv: string[]): string[] {
  return ['bash', '-c', 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"', 'bash', ...argv];
}

/** A process's soft open-files limit (/proc/<pid>/limits). */
export function openFilesLimit(pid: number): string {
  return /Max open files\s+(\S+)/.exec(readOr(`/proc/${pid}/limits`))?.[1] ?? 'unknown';
}

export async function startRedis(tmp: string, name: string, persistence: string[]): Promise<Target> {
  const port = await freePort();
  const dir = path.join(tmp, slug(name));
  fs.mkdirSync(dir);
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, ...persistence];
  const log = path.join(dir, 'redis.log');
  const child = startDaemon('redis-server', args, log);
  await waitForPing(port, child, name, log);
  return { name, port };
}

export const slug = (s: string) =>
  s
    .replace(/[^a-z0-9]+/gi, '-')
    .replace(/^-|-$/g, '')
    .toLowerCase();

export interface Postgres {
  port: number;
  url: string;
}

/** Those settings and the run's own (--postgres-setting), as the reports describe them. */
export function postgresSettingsText(options: Options): string {
  return [...POSTGRES_DURABILITY, ...options.postgresSettings].map((s) => `\`${s}\``).join(', ');
}

/** The throwaway cluster (test/support/postgres.ts), in the run's temp dir, stopped at clean-up; its command lines go in the report. */
export async function startPostgres(tmp: string, extraSettings: readonly string[]): Promise<Postgres> {
  const cluster = await startCluster({
    dir: path.join(tmp, 'postgres'),
    settings: ['max_connections=200', ...extraSettings],
    inheritLocale: true,
    // As the commands are typed by hand: PostgreSQL refuses to run as root.
    onCommand: (file, args) =>
      process.getuid?.() === 0 ? logCommand('runuser', ['-u', 'postgres', '--', file, ...args]) : logCommand(file, args),
  });
  onCleanup(() => cluster.stop());
  return { port: cluster.port, url: `postgres://postgres@127.0.0.1:${cluster.port}/postgres` };
}

/** Each statement goes in its own -c, so each runs in its own transaction (VACUUM needs that). */
export function psql(pg: Postgres, ...statements: string[]): Promise<RunResult> {
  const args = ['-X', '-q', '-h', '127.0.0.1', '-p', String(pg.port), '-U', 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1'];
  return run(`${PG_BIN}/psql`, [...args, ...statements.flatMap((sql) => ['-c', sql])]);
}

/** The throwaway MariaDB (test/support/mariadb.ts), in the run's temp dir, stopped at clean-up, with a database `respql`. */
export async function startMariadbTarget(tmp: string): Promise<{ url: string }> {
  const server = await startMariadb({ dir: path.join(tmp, 'mariadb'), options: ['--max-connections=300'] });
  onCleanup(() => server.stop());
  await mariadbSql(server.url, 'CREATE DATABASE respql CHARACTER SET utf8mb4');
  return { url: `${server.url}respql` };
}

/** Runs statements on a MariaDB URL, one connection. */
export async function mariadbSql(url: string, ...statements: string[]): Promise<void> {
  const { createConnection } = await import('mysql2/promise');
  const c = await createConnection({ uri: url });
  try {
    for (const sql of statements) await c.query(sql);
  } finally {
    await c.end();
  }
}

/** The MariaDB server's durability options, as the reports describe them. */
export const mariadbSettingsText = (): string => MARIADB_DURABILITY.map((s) => `\`${s}\``).join(', ');

// Measurements

export const NAMES = {
  sqlite: 'respql, SQLite',
  postgres: 'respql, PostgreSQL',
  redisAof: 'redis, appendfsync always',
  redisNone: 'redis, no persistence',
  pgbench: 'pgbench, same PostgreSQL',
  mariadb: 'respql, MariaDB',
  mariadbClient: 'one-statement client, same MariaDB',
} as const;

/** One command on a connection of its own. */
export async function command(port: number, args: string[]): Promise<Reply> {
  const client = await RawClient.connect(port);
  try {
    return await client.command(...args);
  } finally {
    await client.destroy();
  }
}

/** INFO <section> as a map (through redis-cli, as a user would look). */
export async function info(port: number, section: string): Promise<Record<string, string>> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'INFO', section]);
  const fields: Record<string, string> = {};
  for (const line of stdout.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) fields[line.slice(0, i)] = line.slice(i + 1);
  }
  return fields;
}

/** A process's resident set and its peak, in MiB (/proc/<pid>/status VmRSS, VmHWM). */
export function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readOr(`/proc/${pid}/status`);
  const kb = (field: string) => Number(new RegExp(`${field}:\\s*(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}
