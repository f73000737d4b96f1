/**
 * PostgreSQL: respql's connections carry a statement_timeout of --database-timeout, set when
 * a connection is first used (the start-up check comes before migrations). A migration may run
 * far longer (migration 003 rebuilds the expiry index): its transaction lifts the timeout.
 */
import { expect } from 'chai';
import { knex as createKnex, type Knex } from 'knex';
import { postgres } from '../../src/store/dialects/postgres';
import { knexConfigFor } from '../../src/store/knex-config';
import { migrationConfig } from '../../src/store/migrations';
import { freshDatabase } from '../support/postgres';
import { startRespql } from '../support/respql';

describe('migrations on postgres under a short --database-timeout', function () {
  this.timeout(120_000);
  let db: Knex | undefined;
  after(async () => db?.destroy());

  it('runs a migration that takes longer than the timeout, on a connection the server already set up', async function () {
    const url = await freshDatabase();
    const first = await startRespql('postgres', { databaseUrl: url });
    await first.stop();
    db = createKnex(knexConfigFor(url));
    await db.raw(
      `INSERT INTO sessions (token, data, expiry) SELECT 'k' || i, '\\x00'::bytea, now() + interval '1 hour' FROM generate_series(1, 2000000) AS i`,
    );
    // Undo migration 005 (the scripts table: quick) first.
    await db.migrate.down(migrationConfig('sessions', postgres));
    // Undo migration 003 (it rebuilds the expiry index): the server must do it again at start-up.
    // 2,000,000 rows: ~0.4 s on a quiet machine, where 1,000,000 took under 0.2 s.
    const started = performance.now();
    await db.migrate.down(migrationConfig('sessions', postgres));
    const rebuildMs = performance.now() - started;
    const timeoutMs = 100;
    expect(rebuildMs, 'the index rebuild must outlast the timeout for this test to mean anything').to.be.greaterThan(2 * timeoutMs);

    const respql = await startRespql('postgres', { databaseUrl: url, databaseTimeoutMs: timeoutMs });
    try {
      const { rows } = await db.raw(`SELECT indexdef FROM pg_indexes WHERE indexname = 'sessions_expiry_idx'`);
      expect(rows[0].indexdef).to.match(/WHERE \(expiry IS NOT NULL\)$/);
      // And the served connections are bound by it.
      const { rows: timeouts } = await respql.server.engine.knex.raw('SHOW statement_timeout');
      expect(timeouts[0].statement_timeout).to.equal(`${timeoutMs}ms`);
    } finally {
      await respql.stop();
    }
  });
});
