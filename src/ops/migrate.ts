/**
 * `respql migrate`: applies the pending migrations of the configured table through the
 * engine (the same list the server runs at start-up) and reports which ones ran.
 */
import { createServer, type RespqlOptions } from '../server/server';
import { migrationConfig } from '../store/migrations';

export interface MigrateResult {
  backend: string;
  table: string;
  /** Names of the migrations this run applied, in order. */
  applied: string[];
  /** Every migration now recorded for the table. */
  completed: string[];
}

async function completedNames(knex: import('knex').Knex, config: import('knex').Knex.MigratorConfig): Promise<string[]> {
  // Knex returns the log rows ({ name }) of the migration table; absent table = none yet.
  const [completed] = (await knex.migrate.list(config)) as [{ name: string }[], unknown[]];
  return completed.map((m) => m.name);
}

export async function migrate(options: RespqlOptions): Promise<MigrateResult> {
  const server = createServer({ ...options, migrate: false, cleanupIntervalMs: 0 });
  try {
    const { engine } = server;
    const config = migrationConfig(engine.table, engine.dialect);
    const before = await completedNames(engine.knex, config);
    await engine.migrate();
    const after = await completedNames(engine.knex, config);
    const done = new Set(before);
    return {
      backend: engine.dialect.name,
      table: engine.table,
      applied: after.filter((name) => !done.has(name)),
      completed: after,
    };
  } finally {
    await server.close();
  }
}
