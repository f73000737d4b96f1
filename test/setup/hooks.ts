/**
 * Mocha hooks, loaded through .mocharc.json "require".
 *
 * Global fixtures (once per `mocha` run, in the main process): one throwaway PostgreSQL
 * cluster for the whole run, handed to every test process as TEST_DATABASE_URL. In
 * --parallel mode each worker process then shares it instead of starting a cluster per
 * file; test files still get databases of their own (freshDatabase).
 *
 * Root hooks (once per mocha process, or per file in --parallel mode): drop what that
 * process created on the shared cluster, stop its PgBouncer.
 */
import { startCluster, type PostgresCluster } from '../support/postgres';
import { stopSharedPgbouncer } from '../support/pgbouncer';
import { stopSharedPostgres } from '../support/postgres';

let cluster: PostgresCluster | undefined;

export async function mochaGlobalSetup(): Promise<void> {
  if (process.env.TEST_DATABASE_URL) return;
  // Parallel test processes each keep pools open on it.
  cluster = await startCluster({ settings: ['max_connections=400'] });
  process.env.TEST_DATABASE_URL = cluster.url;
}

export async function mochaGlobalTeardown(): Promise<void> {
  await cluster?.stop();
}

export const mochaHooks: Mocha.RootHookObject = {
  async afterAll(this: Mocha.Context) {
    // Dropping a test process's databases takes a second or two, but be generous.
    this.timeout(60_000);
    await stopSharedPgbouncer();
    await stopSharedPostgres();
  },
};
