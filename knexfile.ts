/**
 * Knex CLI configuration: `npx knex migrate:latest` applies respql's migrations to
 * DATABASE_URL (a postgres:// URL or a SQLite path; default respql.sqlite) for the table
 * RESPQL_TABLE (default sessions). respql also runs them itself at start-up.
 */
import type { Knex } from 'knex';
import { dialectFromConfig, knexConfigFor } from './src/store/knex-config';
import { migrationConfig } from './src/store/migrations';

const databaseUrl = process.env.DATABASE_URL || 'respql.sqlite';
const table = process.env.RESPQL_TABLE || 'sessions';
const base = knexConfigFor(databaseUrl);

const config: Knex.Config = { ...base, migrations: migrationConfig(table, dialectFromConfig(base)) };

export default config;
module.exports = config;
