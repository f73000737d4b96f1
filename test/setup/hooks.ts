/**
 * Mocha hooks, loaded through .mocharc.json "require".
 *
 * Global fixtures (once per `mocha` run, in the main process): one throwaway PostgreSQL
 * cluster and one MariaDB server for the whole run, handed to every test process as
 * TEST_DATABASE_URL and TEST_MARIADB_URL. In --parallel mode each worker process then
 * shares them instead of starting servers per file; test files still get databases of
 * their own (freshDatabase, freshMariadbDatabase).
 *
 * Root hooks (once per mocha process, or per file in --parallel mode): drop what that
 * process created on the shared servers, stop its PgBouncer.
 */
import { startCluster, type PostgresCluster } from '../support/postgres';
import { startMariadb, stopSharedMariadb, type MariadbServer } from '../support/mariadb';
import { stopSharedPgbouncer } from '../support/pgbouncer';
import { stopSharedPostgres } from '../support/postgres';

let cluster: PostgresCluster | undefined;
let mariadb: MariadbServer | undefined;

export async function mochaGlobalSetup(): Promise<void> {
  // Parallel test processes each keep pools open on them.
  const [pg, maria] = await Promise.all([
    process.env.TEST_DATABASE_URL ? undefined : startCluster({ settings: ['max_connections=400'] }),
    process.env.TEST_MARIADB_URL ? undefined : startMariadb(),
  ]);
  cluster = pg;
  mariadb = maria;
  if (cluster) process.env.TEST_DATABASE_URL = cluster.url;
  if (mariadb) process.env.TEST_MARIADB_URL = mariadb.url;
}

export async function mochaGlobalTeardown(): Promise<void> {
  await Promise.all([cluster?.stop(), mariadb?.stop()]);
}

export const mochaHooks: Mocha.RootHookObject = {
  async afterAll(this: Mocha.Context) {
    // Dropping a test process's databases takes a second or two, but be generous.
    this.timeout(60_000);
    await stopSharedPgbouncer();
    await stopSharedPostgres();
    await stopSharedMariadb();
  },
};
