/**
 * Mocha root hooks, loaded through .mocharc.json "require". They run once per
 * mocha process (once per file in --parallel mode, where the shared cluster is
 * then simply started again on next use).
 */
import { stopSharedMariadb } from '../support/mariadb';
import { stopSharedPgbouncer } from '../support/pgbouncer';
import { stopSharedPostgres } from '../support/postgres';

export const mochaHooks: Mocha.RootHookObject = {
  async afterAll(this: Mocha.Context) {
    // initdb + startup dominate; stopping takes a second or two, but be generous.
    this.timeout(60_000);
    await stopSharedPgbouncer();
    await stopSharedPostgres();
    await stopSharedMariadb();
  },
};
