import type { Knex } from 'knex';
import type { Dialect } from '../dialect';
import * as typedKeys from './typed-keys';
import { createScriptsTable, scriptsTable } from '../scripts';
import { databasesTable } from '../databases';

/**
 * Migrations are listed here in code (not discovered on disk), so the compiled server,
 * the knexfile and a user's own Knex instance all run the same list.
 */
interface Migration {
  name: string;
  /** Only for database 0's tables: what all the databases share (lease, scripts, the registry of databases). */
  shared?: boolean;
  up: (knex: Knex, table: string, dialect: Dialect) => Promise<void>;
  down: (knex: Knex, table: string, dialect: Dialect) => Promise<void>;
}

const migrations: Migration[] = [
  {
    name: '001_create_sessions',
    up: (knex, table, dialect) => dialect.createTable(knex, table),
    down: (knex, table) => knex.schema.dropTable(table),
  },
  {
    name: '002_create_sweeper_lease',
    shared: true,
    up: (knex, table, dialect) => dialect.createLeaseTable(knex, leaseTable(table)),
    down: (knex, table) => knex.schema.dropTable(leaseTable(table)),
  },
  {
    // Rows without expiry leave the expiry index: the sweeper never looks for them, and a SET
    // of such a key no longer rewrites an index page as well as the row's (SQLite: 2 WAL
    // frames per SET -> 1; BENCHMARKS.md). `expiry <= ?` implies IS NOT NULL, so the sweep
    // still uses the index on both databases.
    name: '003_partial_expiry_index',
    // MariaDB has no partial indexes: its full index stays.
    up: (knex, table, dialect) =>
      dialect.name === 'mariadb' ? Promise.resolve() : replaceExpiryIndex(knex, table, 'WHERE expiry IS NOT NULL'),
    down: (knex, table, dialect) => (dialect.name === 'mariadb' ? Promise.resolve() : replaceExpiryIndex(knex, table, '')),
  },
  {
    name: '004_typed_keys',
    up: (knex, table, dialect) => typedKeys.up(knex, table, dialect.name),
    down: (knex, table, dialect) => typedKeys.down(knex, table, dialect.name),
  },
  {
    // The script cache and function libraries, shared by the instances on one database.
    name: '005_create_scripts',
    shared: true,
    up: (knex, table, dialect) => createScriptsTable(knex, table, dialect),
    down: (knex, table) => knex.schema.dropTable(scriptsTable(table)),
  },
  {
    // Numbered databases (see databases.ts): which ones have their tables, for every instance.
    name: '006_create_databases',
    shared: true,
    up: (knex, table) => knex.schema.createTable(databasesTable(table), (t) => t.integer('db').primary().notNullable()),
    down: (knex, table) => knex.schema.dropTable(databasesTable(table)),
  },
];

async function replaceExpiryIndex(knex: Knex, table: string, where: string): Promise<void> {
  const index = `${table}_expiry_idx`;
  await knex.raw('DROP INDEX ??', [index]);
  await knex.raw(`CREATE INDEX ?? ON ?? (expiry) ${where}`, [index, table]);
}

/** The sweeper's lease table of a sessions table (one per sessions table, like its migration log). */
export function leaseTable(table: string): string {
  return `${table}_sweeper_lease`;
}

/**
 * A Knex migration source for the sessions table named `table`; `keysOnly` for a numbered
 * database's tables (see databases.ts), whose log lists the shared migrations as done without them.
 */
export function migrationSource(table: string, dialect: Dialect, keysOnly = false): Knex.MigrationSource<Migration> {
  return {
    getMigrations: () => Promise.resolve(migrations),
    getMigrationName: (m) => m.name,
    getMigration: (m) =>
      Promise.resolve(
        keysOnly && m.shared
          ? { up: () => Promise.resolve(), down: () => Promise.resolve() }
          : { up: unbound(m.up), down: unbound(m.down) },
      ),
  };

  /** A migration step in its transaction, without the served connections' statement timeout. */
  function unbound(step: Migration['up']) {
    return async (knex: Knex) => {
      if (dialect.unboundMigration) await knex.raw(dialect.unboundMigration);
      await step(knex, table, dialect);
    };
  }
}

/**
 * knex.migrate.latest for instances that start at once on one database: the losers of the
 * race to create the migration log (duplicate table or key), or of Knex's migration lock,
 * wait and try again, and then find the work done. Other errors fail at once.
 */
export async function migrateLatest(knex: Knex, table: string, dialect: Dialect, waitMs = 30_000, keysOnly = false): Promise<void> {
  const deadline = Date.now() + waitMs;
  const config = migrationConfig(table, dialect, keysOnly);
  for (;;) {
    try {
      await ensureLockRow(knex, `${config.tableName}_lock`);
      await knex.migrate.latest(config);
      return;
    } catch (err) {
      // A serialization failure (a SERIALIZABLE database) is the same race, seen as a conflict.
      if (!(isMigrationRace(err) || dialect.retryReason?.(err)) || Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200));
    }
  }
}

/**
 * Knex creates its lock table with a check-then-insert, so instances starting together on a
 * fresh database can insert two rows, after which Knex reports "Migration table is already
 * locked" for ever. Create the table as Knex would and insert its one row race-free first.
 */
async function ensureLockRow(knex: Knex, lockTable: string): Promise<void> {
  if (!(await knex.schema.hasTable(lockTable))) {
    await knex.schema.createTable(lockTable, (t) => {
      t.increments('index').primary();
      t.integer('is_locked');
    });
  }
  await knex(lockTable).insert({ index: 1, is_locked: 0 }).onConflict('index').ignore();
}

function isMigrationRace(err: unknown): boolean {
  const e = err as { name?: unknown; code?: unknown; message?: unknown } | null;
  if (e?.name === 'MigrationLocked') return true;
  // PostgreSQL: unique_violation, duplicate_table, duplicate_object (the row type); SQLite: another process holds the write lock, or won the CREATE.
  if (e?.code === '23505' || e?.code === '42P07' || e?.code === '42710' || e?.code === 'SQLITE_BUSY') return true;
  // MariaDB: duplicate key, table exists.
  if (e?.code === 'ER_DUP_ENTRY' || e?.code === 'ER_TABLE_EXISTS_ERROR') return true;
  return e?.code === 'SQLITE_ERROR' && /already exists/.test(String(e.message));
}

/** Each sessions table keeps its own migration log, so several tables can share a database. */
export function migrationConfig(table: string, dialect: Dialect, keysOnly = false): Knex.MigratorConfig {
  return { migrationSource: migrationSource(table, dialect, keysOnly), tableName: `${table}_migrations` };
}
