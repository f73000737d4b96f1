import type { Knex } from 'knex';
import type { Dialect } from '../dialect';

/**
 * Migrations are listed here in code (not discovered on disk), so the compiled server,
 * the knexfile and a user's own Knex instance all run the same list.
 */
interface Migration {
  name: string;
  up(knex: Knex, table: string, dialect: Dialect): Promise<void>;
  down(knex: Knex, table: string, dialect: Dialect): Promise<void>;
}

const migrations: Migration[] = [
  {
    name: '001_create_sessions',
    up: (knex, table, dialect) => dialect.createTable(knex, table),
    down: (knex, table) => knex.schema.dropTable(table),
  },
  {
    name: '002_create_sweeper_lease',
    up: (knex, table, dialect) => dialect.createLeaseTable(knex, leaseTable(table)),
    down: (knex, table) => knex.schema.dropTable(leaseTable(table)),
  },
];

/** The sweeper's lease table of a sessions table (one per sessions table, like its migration log). */
export function leaseTable(table: string): string {
  return `${table}_sweeper_lease`;
}

/** A Knex migration source for the sessions table named `table`. */
export function migrationSource(table: string, dialect: Dialect): Knex.MigrationSource<Migration> {
  return {
    getMigrations: async () => migrations,
    getMigrationName: (m) => m.name,
    getMigration: async (m) => ({
      up: (knex: Knex) => m.up(knex, table, dialect),
      down: (knex: Knex) => m.down(knex, table, dialect),
    }),
  };
}

/** Each sessions table keeps its own migration log, so several tables can share a database. */
export function migrationConfig(table: string, dialect: Dialect): Knex.MigratorConfig {
  return { migrationSource: migrationSource(table, dialect), tableName: `${table}_migrations` };
}
