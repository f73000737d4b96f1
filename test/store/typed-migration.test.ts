/**
 * Migration 004 (typed keys) on a database written before it: a million string rows migrate in
 * a moment (ADD COLUMN without a default rewrites nothing), every string reads as before, and
 * the same database then holds hashes and sets. Down and up again leave strings alone.
 */
import { expect } from 'chai';
import { knex as createKnex, type Knex } from 'knex';
import { dialectFromConfig, knexConfigFor } from '../../src/store/knex-config';
import { migrationConfig } from '../../src/store/migrations';
import { RawClient, toStrings } from '../support/resp-client';
import { BACKENDS, freshDatabaseUrl, startRespql } from '../support/respql';

const ROWS = 1_000_000;

for (const backend of BACKENDS) {
  describe(`migration 004 (typed keys) on an existing ${backend} database`, function () {
    this.timeout(180_000);
    let db: Knex | undefined;
    let cleanup = () => undefined as void;
    let dropDatabase = (): Promise<void> => Promise.resolve();
    after(async () => {
      await db?.destroy();
      cleanup();
      // A million rows would otherwise wait, dirty, for the shared cluster's shutdown checkpoint at the end of the run.
      await dropDatabase();
    });

    it(`adds the type column and the field tables to ${ROWS.toLocaleString('en')} string rows in well under a second`, async function () {
      const fresh = await freshDatabaseUrl(backend);
      cleanup = fresh.cleanup;
      if (backend === 'mariadb') {
        dropDatabase = async () => {
          const admin = createKnex(knexConfigFor(fresh.url));
          try {
            await admin.raw(`DROP DATABASE IF EXISTS "${new URL(fresh.url).pathname.slice(1)}"`);
          } finally {
            await admin.destroy();
          }
        };
      }
      if (backend === 'postgres') {
        dropDatabase = async () => {
          const url = new URL(fresh.url);
          const name = url.pathname.slice(1);
          url.pathname = '/postgres';
          const admin = createKnex(knexConfigFor(url.toString()));
          try {
            await admin.raw(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
          } finally {
            await admin.destroy();
          }
        };
      }
      const config = knexConfigFor(fresh.url);
      db = createKnex(config);
      const migrations = migrationConfig('sessions', dialectFromConfig(config));
      // The database as the release before this one left it: migrations 001-003.
      for (let i = 0; i < 3; i++) await db.migrate.up(migrations);
      if (backend === 'sqlite') {
        await db.raw(
          `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${ROWS}) INSERT INTO sessions (token, data, expiry) SELECT 'sess:' || i, CAST('value ' || i AS BLOB), NULL FROM n`,
        );
      } else if (backend === 'mariadb') {
        // seq_1_to_N: MariaDB's Sequence engine.
        await db.raw(
          `INSERT INTO sessions (token, data, expiry) SELECT CONCAT('sess:', seq), CONCAT('value ', seq), NULL FROM seq_1_to_${ROWS}`,
        );
      } else {
        await db.raw(
          `INSERT INTO sessions (token, data, expiry) SELECT 'sess:' || i, convert_to('value ' || i, 'UTF8'), NULL FROM generate_series(1, ${ROWS}) AS i`,
        );
      }
      const started = performance.now();
      await db.migrate.latest(migrations);
      const migrateMs = performance.now() - started;
      expect(migrateMs, `migration took ${migrateMs.toFixed(0)} ms`).to.be.below(1000);
      await db.destroy();
      db = undefined;

      const respql = await startRespql(backend, { databaseUrl: fresh.url });
      const client = await RawClient.connect(respql.port);
      const send = async (...argv: string[]) => toStrings(await client.send(...argv));
      try {
        expect(await send('GET', 'sess:1')).to.equal('value 1');
        expect(await send('TYPE', `sess:${ROWS}`)).to.equal('string');
        expect(await send('DBSIZE')).to.equal(ROWS);
        expect(await send('HSET', 'sess:1', 'f', 'v')).to.deep.equal({
          error: 'WRONGTYPE Operation against a key holding the wrong kind of value',
        });
        expect(await send('HSET', 'h', 'f', 'v')).to.equal(1);
        expect(await send('SADD', 'st', 'm')).to.equal(1);
        const knex = respql.server.engine.knex;
        // An SQL user's query on strings works as before; the new rows say what they are.
        const [row] = await knex('sessions').where({ token: 'sess:2' }).select('token', 'data', 'expiry', 'type');
        expect(Buffer.from(row.data).toString()).to.equal('value 2');
        expect(row.type).to.equal(null);
        expect((await knex('sessions').where({ token: 'h' }).select('type'))[0].type).to.equal('hash');
        expect(await knex('sessions_hash_fields').select('token', 'field', 'value')).to.deep.equal([
          { token: 'h', field: Buffer.from('f'), value: Buffer.from('v') },
        ]);
      } finally {
        await client.close();
        await respql.stop();
      }
    });
  });
}
