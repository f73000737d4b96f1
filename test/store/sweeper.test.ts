import { expect } from 'chai';
import { dialectOf } from '../../src/store/dialect';
import { RawClient } from '../support/resp-client';
import { PGBOUNCER_BACKENDS, startRespql } from '../support/respql';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const backend of PGBOUNCER_BACKENDS) {
  describe(`expiry sweeper (${backend})`, () => {
    it('deletes expired rows in bounded batches on its timer, and never touches live ones', async function () {
      this.timeout(30_000);
      const respql = await startRespql(backend, { cleanupIntervalMs: 200 });
      const client = await RawClient.connect(respql.port);
      try {
        const past = String(Date.now() - 1000);
        const writes: Promise<unknown>[] = [];
        for (let i = 0; i < 2500; i++) writes.push(client.send('SET', `old:${i}`, 'x', 'PXAT', past));
        for (let i = 0; i < 10; i++) writes.push(client.send('SET', `live:${i}`, 'y', 'EX', '100'));
        await Promise.all(writes);
        // Expired rows are invisible at once, whether or not the sweeper has run.
        expect(await client.send('DBSIZE')).to.equal(10);
        const rows = async () => Number((await respql.server.engine.knex('sessions').count({ n: '*' }))[0].n);
        for (let i = 0; i < 50 && (await rows()) > 10; i++) await sleep(100);
        expect(await rows()).to.equal(10);
        expect(await client.send('DBSIZE')).to.equal(10);
        const info = (await client.send('INFO', 'respql')) as Buffer;
        expect(info.toString()).to.match(/sweeper_deleted_keys:2500/);
      } finally {
        await client.close();
        await respql.stop();
      }
    });

    it('finds expired rows through the expiry index, which leaves out rows without an expiry', async function () {
      const respql = await startRespql(backend, { cleanupIntervalMs: 0 });
      const knex = respql.server.engine.knex;
      try {
        // The sweep's own condition (src/store/statements.ts, `sweep`), with scans made a last resort.
        const expiry = dialectOf(knex).expiryParam();
        const sweep = `SELECT token FROM "sessions" WHERE expiry <= ${expiry} LIMIT 100`;
        let plan: string;
        let definition: string | null;
        if (backend === 'sqlite') {
          const rows = await knex.raw<{ detail: string }[]>(`EXPLAIN QUERY PLAN ${sweep}`, [Date.now()]);
          plan = rows.map((r) => r.detail).join('\n');
          definition = (await knex.raw<{ sql: string }[]>(`SELECT sql FROM sqlite_master WHERE name = 'sessions_expiry_idx'`))[0].sql;
        } else if (backend === 'mariadb') {
          // MariaDB has no partial index: the whole one serves, its NULLs (no expiry) sorted first and never read.
          const [rows] = await knex.raw<[{ key: string | null }[]]>(`EXPLAIN ${sweep}`, [Date.now()]);
          plan = rows.map((r) => r.key).join('\n');
          definition = null;
        } else {
          const explained = await knex.transaction(async (trx) => {
            await trx.raw('SET LOCAL enable_seqscan = off');
            return await trx.raw<{ rows: Record<string, string>[] }>(`EXPLAIN ${sweep}`, [Date.now()]);
          });
          plan = explained.rows.map((r) => r['QUERY PLAN']).join('\n');
          definition = (
            await knex.raw<{ rows: { indexdef: string }[] }>(`SELECT indexdef FROM pg_indexes WHERE indexname = 'sessions_expiry_idx'`)
          ).rows[0].indexdef;
        }
        if (definition !== null) expect(definition).to.match(/WHERE \(?expiry IS NOT NULL\)?$/);
        expect(plan).to.match(/sessions_expiry_idx/);
      } finally {
        await respql.stop();
      }
    });
  });
}

describe('expiry sweeper (postgres): a row revived by another writer while the sweep waits for it', () => {
  it('is kept: the DELETE re-checks expiry on the row it finally locks, not only the subquery that chose it', async function () {
    this.timeout(30_000);
    const respql = await startRespql('postgres', { cleanupIntervalMs: 0 });
    const client = await RawClient.connect(respql.port);
    const knex = respql.server.engine.knex;
    try {
      expect(String(await client.send('SET', 'revived', 'old', 'PX', '1'))).to.equal('OK');
      await sleep(20);
      // Another writer (a second instance, or SQL) revives the expired row and holds its lock...
      await knex.transaction(async (trx) => {
        await trx.raw(`UPDATE sessions SET data = 'new', expiry = now() + interval '1 hour' WHERE token = 'revived'`);
        // ...while the sweep picks the row as expired and waits for the lock.
        const sweep = respql.server.sweep();
        await sleep(500);
        const locks = await knex.raw(`SELECT count(*)::int AS n FROM pg_locks WHERE NOT granted`);
        expect(locks.rows[0].n, 'the sweep waits for the row lock').to.be.at.least(1);
        await trx.commit();
        await sweep;
      });
      expect(String(await client.send('GET', 'revived'))).to.equal('new');
    } finally {
      await client.close();
      await respql.stop();
    }
  });
});
