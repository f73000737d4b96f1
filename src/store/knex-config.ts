/**
 * Knex configuration: which dialect a `--database-url` or a Knex client means, and the settings
 * every dialect's pool shares.
 */
import type { Knex } from 'knex';
import type { Dialect, PreparedStatements } from './dialect';
import { mariadb } from './dialects/mariadb';
import { postgres } from './dialects/postgres';
import { sqlite } from './dialects/sqlite';

/** Every dialect, asked in this order which one a URL is: SQLite, which takes any file path, last. */
const DIALECTS: readonly Dialect[] = [postgres, mariadb, sqlite];

export interface PoolSettings {
  /** Connections at most where the dialect pools several (SQLite always has one). Default 10. */
  poolSize?: number;
  /** How long to wait for a connection (connect and pool), ms. Default 5000. */
  timeoutMs?: number;
  /** PostgreSQL's named prepared statements (see ConnectionSettings). Default auto. */
  preparedStatements?: PreparedStatements;
  /** MariaDB: serve on a server whose COMMIT is not flushed (see ConnectionSettings). Default false. */
  allowLazyCommit?: boolean;
}

/** Knex configuration for a `--database-url`: a postgres://, mysql:// or mariadb:// URL, or a SQLite file path. */
export function knexConfigFor(databaseUrl: string, settings: PoolSettings = {}): Knex.Config {
  const timeoutMs = settings.timeoutMs ?? 5000;
  const dialect = DIALECTS.find((d) => d.acceptsUrl(databaseUrl))!;
  return {
    ...dialect.knexConfig(databaseUrl, {
      poolSize: settings.poolSize ?? 10,
      timeoutMs,
      preparedStatements: settings.preparedStatements ?? 'auto',
      allowLazyCommit: settings.allowLazyCommit ?? false,
    }),
    acquireConnectionTimeout: timeoutMs,
    // respql reports database errors itself, as one line; Knex would print stack traces.
    log: { warn() {}, error() {}, deprecate() {}, debug() {} },
  };
}

/** The dialect of a Knex configuration, by its client. */
export function dialectFromConfig(config: Knex.Config): Dialect {
  const client = String(config.client ?? '');
  const dialect = DIALECTS.find((d) => d.knexClients.includes(client));
  if (dialect) return dialect;
  const supported = DIALECTS.map((d) => `'${d.knexClients[0]}'`).join(', ');
  throw new Error(`unsupported Knex client '${client}': respql supports ${supported}`);
}
