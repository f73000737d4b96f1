/**
 * Starts respql for a test on any backend: a fresh SQLite file in a temp dir, or a fresh
 * database in the shared throwaway PostgreSQL cluster or MariaDB server. All run in every test run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createServer, type RespqlOptions, type RespqlServer } from '../../src';
import { sharedPgbouncer } from './pgbouncer';
import { freshMariadbDatabase } from './mariadb';
import { freshDatabase } from './postgres';
import { RawClient, toStrings } from './resp-client';
import { spawnRespql, TEST_WORKERS } from './respql-process';

/** 'pgbouncer': the shared cluster through PgBouncer in transaction mode (see PGBOUNCER_BACKENDS). */
export type Backend = 'sqlite' | 'postgres' | 'mariadb' | 'pgbouncer';
const ALL_BACKENDS: readonly Backend[] = ['sqlite', 'postgres', 'mariadb'];
/** Every backend; RESPQL_TEST_BACKENDS=postgres (a comma-separated list) keeps only those: CI's serializable run (.ci/run). */
export const BACKENDS: readonly Backend[] = chosenBackends(process.env.RESPQL_TEST_BACKENDS);

function chosenBackends(list: string | undefined): readonly Backend[] {
  if (!list) return ALL_BACKENDS;
  const chosen = list.split(',').map((name) => name.trim());
  const unknown = chosen.filter((name) => !ALL_BACKENDS.includes(name as Backend));
  if (unknown.length > 0)
    throw new Error(`RESPQL_TEST_BACKENDS: unknown backend ${unknown.join(', ')} (known: ${ALL_BACKENDS.join(', ')})`);
  return chosen as Backend[];
}
/** For the files that also run through PgBouncer (a representative subset: it would double the PostgreSQL time). */
export const PGBOUNCER_BACKENDS: readonly Backend[] = [...BACKENDS, 'pgbouncer'];

export interface RunningRespql {
  server: RespqlServer;
  port: number;
  /** redis://127.0.0.1:port */
  url: string;
  databaseUrl: string;
  stop(): Promise<void>;
}

/** A database URL for a backend: a new SQLite path, or a new PostgreSQL or MariaDB database. */
export async function freshDatabaseUrl(backend: Backend): Promise<{ url: string; cleanup(): void }> {
  if (backend === 'mariadb') return { url: await freshMariadbDatabase(), cleanup: () => undefined };
  // RESPQL_TEST_POSTGRES_VIA=pgbouncer: the whole PostgreSQL suite through PgBouncer (not in CI: see .ci/run).
  if (backend === 'postgres' && process.env.RESPQL_TEST_POSTGRES_VIA !== 'pgbouncer')
    return { url: await freshDatabase(), cleanup: () => undefined };
  if (backend === 'postgres' || backend === 'pgbouncer')
    return { url: (await sharedPgbouncer()).through(await freshDatabase()), cleanup: () => undefined };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'respql-test-'));
  return { url: path.join(dir, 'respql.sqlite'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Options startRespql passes as flags to a `--workers` server (RESPQL_TEST_WORKERS). */
const WORKER_FLAGS: Partial<Record<keyof RespqlOptions, (v: never) => string[]>> = {
  requirepass: (v: string) => ['--requirepass', v],
  notifyKeyspaceEvents: (v: string) => ['--notify-keyspace-events', v],
  cleanupIntervalMs: (v: number) => ['--cleanup-interval', `${v}ms`],
};

/** respql with `--workers` (RESPQL_TEST_WORKERS): the CLI in a process of its own; there is no RespqlServer object to hand out. */
async function startWorkers(backend: Backend, options: Partial<RespqlOptions>): Promise<RunningRespql> {
  const flags: string[] = [];
  for (const [name, value] of Object.entries(options)) {
    const flag = WORKER_FLAGS[name as keyof RespqlOptions];
    if (!flag) throw new Error(`startRespql: option ${name} is not passed to a server with RESPQL_TEST_WORKERS`);
    flags.push(...flag(value as never));
  }
  const db = await freshDatabaseUrl(backend);
  const proc = await spawnRespql(['--database-url', db.url, '--cleanup-interval', '0', ...flags]);
  return {
    get server(): RespqlServer {
      throw new Error('startRespql: no RespqlServer object with RESPQL_TEST_WORKERS');
    },
    port: proc.port,
    url: `redis://127.0.0.1:${proc.port}`,
    databaseUrl: db.url,
    async stop() {
      await proc.stop();
      db.cleanup();
    },
  };
}

export async function startRespql(backend: Backend, options: Partial<RespqlOptions> = {}): Promise<RunningRespql> {
  if (TEST_WORKERS > 1 && !options.knex) return startWorkers(backend, options);
  const db = options.knex ? { url: '', cleanup: () => undefined } : await freshDatabaseUrl(backend);
  const server = createServer({ databaseUrl: db.url, port: 0, cleanupIntervalMs: 0, ...options });
  const { port } = await server.listen();
  return {
    server,
    port,
    url: `redis://127.0.0.1:${port}`,
    databaseUrl: db.url,
    async stop() {
      await server.close();
      db.cleanup();
    },
  };
}

/** respql on `backend` and one client connected to it, for the enclosing describe block (before/after hooks). */
export function useRespqlWithClient(backend: Backend): { readonly respql: RunningRespql; readonly client: RawClient } {
  const started = {} as { respql: RunningRespql; client: RawClient };
  before(async function () {
    started.respql = await startRespql(backend);
    started.client = await RawClient.connect(started.respql.port);
  });
  after(async function () {
    await started.client?.close();
    await started.respql?.stop();
  });
  return started;
}

/**
 * The SQL statements respql ran, and its batches, while `action` ran: read from INFO respql
 * before and after. The first INFO's own (empty) transaction falls between the readings, one
 * batch of BEGIN and COMMIT: it is taken off.
 */
export async function sqlWorkDuring(client: RawClient, action: () => Promise<void>): Promise<{ statements: number; batches: number }> {
  const counters = async () => {
    const info = toStrings(await client.send('INFO', 'respql')) as string;
    const field = (name: string) => Number(new RegExp(`${name}:(\\d+)`).exec(info)?.[1]);
    return { statements: field('sql_statements'), batches: field('sql_transactions') };
  };
  const before = await counters();
  await action();
  const after = await counters();
  return { statements: after.statements - before.statements - 2, batches: after.batches - before.batches - 1 };
}
