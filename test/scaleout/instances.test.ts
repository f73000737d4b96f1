/**
 * Three respql instances on one database behave as one server: every acknowledged write is
 * visible through the others at once, and expiries, WATCH/MULTI and SCAN cursors hold across
 * instances. (Run on SQLite too, where several processes may share one file.)
 */
import { expect } from 'chai';
import { createServer, type RespqlServer } from '../../src';
import { isErrorReply, RawClient } from '../support/resp-client';
import { PGBOUNCER_BACKENDS, freshDatabaseUrl } from '../support/respql';
import { waitFor } from './helpers';

for (const backend of PGBOUNCER_BACKENDS) {
  describe(`scale-out: three instances on one database (${backend})`, function () {
    this.timeout(60_000);
    let servers: RespqlServer[];
    let cleanup: () => void;
    /** One client per instance: A, B, C. */
    let c: RawClient[];

    before(async () => {
      const db = await freshDatabaseUrl(backend);
      cleanup = db.cleanup;
      servers = [];
      for (let i = 0; i < 3; i++) {
        const server = createServer({ databaseUrl: db.url, port: 0, cleanupIntervalMs: 0 });
        await server.listen();
        servers.push(server);
      }
      c = await Promise.all(servers.map((s) => RawClient.connect(s.address()!.port)));
    });
    after(async () => {
      await Promise.all(c.map((client) => client.close()));
      for (const s of servers) await s.close();
      cleanup();
    });
    beforeEach(async () => {
      await c[0].send('FLUSHDB');
    });

    it('a write acknowledged by one instance is read back by the others immediately after', async () => {
      for (let i = 0; i < 150; i++) {
        const [w, r1, r2] = [c[i % 3], c[(i + 1) % 3], c[(i + 2) % 3]];
        expect(await w.send('SET', `k${i % 10}`, `v${i}`)).to.deep.equal(Buffer.from('OK'));
        expect(String(await r1.send('GET', `k${i % 10}`))).to.equal(`v${i}`);
        expect(await r2.send('APPEND', `log`, `${i},`)).to.be.a('number');
      }
      const expected = Array.from({ length: 150 }, (_, i) => `${i},`).join('');
      for (const client of c) expect(String(await client.send('GET', 'log'))).to.equal(expected);
      expect(await c[1].send('DEL', 'k0', 'k1')).to.equal(2);
      expect(await c[2].send('EXISTS', 'k0', 'k1', 'k2')).to.equal(1);
      expect(await c[0].send('DBSIZE')).to.equal(9);
    });

    it('concurrent read-modify-writes through different instances lose no update', async () => {
      const replies = await Promise.all(
        c.flatMap((client) => Array.from({ length: 100 }, () => [client.send('INCR', 'n'), client.send('APPEND', 's', 'x')]).flat()),
      );
      // An error reply (a database timeout, say) would be a lost update with its cause named.
      expect(replies.filter(isErrorReply).slice(0, 3)).to.deep.equal([]);
      for (const client of c) {
        expect(String(await client.send('GET', 'n'))).to.equal('300');
        expect(await client.send('STRLEN', 's')).to.equal(300);
      }
    });

    it('expiries set, changed and removed through one instance hold on the others', async () => {
      await c[0].send('SET', 'sess', 'v', 'PX', '60000');
      const pttl = (await c[1].send('PTTL', 'sess')) as number;
      expect(pttl).to.be.within(1, 60_000);
      expect(await c[2].send('EXPIRE', 'sess', '100000')).to.equal(1);
      expect(await c[0].send('TTL', 'sess')).to.be.within(99_990, 100_000);
      expect(await c[1].send('PERSIST', 'sess')).to.equal(1);
      expect(await c[2].send('TTL', 'sess')).to.equal(-1);

      await c[0].send('SET', 'short', 'v', 'PX', '300');
      expect(String(await c[1].send('GET', 'short'))).to.equal('v');
      // Gone on every instance once its time has passed (no sweeper runs here).
      await waitFor('short to expire', async () => (await c[1].send('GET', 'short')) === null, 10_000);
      expect(await c[2].send('EXISTS', 'short')).to.equal(0);
      expect(await c[0].send('TTL', 'short')).to.equal(-2);
      // And an expired key may be created afresh through another instance.
      expect(await c[2].send('SET', 'short', 'again', 'NX')).to.deep.equal(Buffer.from('OK'));
      expect(String(await c[0].send('GET', 'short'))).to.equal('again');
    });

    it('WATCH on one instance sees a change made through another: EXEC returns null', async () => {
      await c[0].send('SET', 'w', '1');
      // Changed value.
      expect(await c[0].send('WATCH', 'w')).to.deep.equal(Buffer.from('OK'));
      await c[1].send('SET', 'w', '2');
      await c[0].send('MULTI');
      await c[0].send('SET', 'w', 'mine');
      expect(await c[0].send('EXEC')).to.equal(null);
      expect(String(await c[2].send('GET', 'w'))).to.equal('2');
      // Deleted key, and a key created while watched as absent.
      await c[0].send('WATCH', 'w', 'absent');
      await c[2].send('DEL', 'w');
      await c[0].send('MULTI');
      await c[0].send('SET', 'w', 'mine');
      expect(await c[0].send('EXEC')).to.equal(null);
      await c[0].send('WATCH', 'absent');
      await c[1].send('SET', 'absent', 'now');
      await c[0].send('MULTI');
      await c[0].send('DEL', 'absent');
      expect(await c[0].send('EXEC')).to.equal(null);
      // Changed expiry only.
      await c[0].send('SET', 'ttl', 'v');
      await c[0].send('WATCH', 'ttl');
      await c[2].send('EXPIRE', 'ttl', '1000');
      await c[0].send('MULTI');
      await c[0].send('SET', 'ttl', 'mine');
      expect(await c[0].send('EXEC')).to.equal(null);
      // Writes to other keys elsewhere do not abort it.
      await c[0].send('WATCH', 'w');
      await c[1].send('SET', 'unrelated', 'x');
      await c[0].send('MULTI');
      await c[0].send('SET', 'w', 'mine');
      expect(await c[0].send('EXEC')).to.deep.equal([Buffer.from('OK')]);
      expect(String(await c[2].send('GET', 'w'))).to.equal('mine');
    });

    it('optimistic increments (WATCH, GET, MULTI, SET, EXEC, retry) through three instances at once all count', async () => {
      await c[0].send('SET', 'counter', '0');
      const each = 12;
      let retries = 0;
      const clients = await Promise.all(servers.map((s) => RawClient.connect(s.address()!.port)));
      try {
        await Promise.all(
          clients.map(async (client) => {
            for (let done = 0; done < each;) {
              await client.send('WATCH', 'counter');
              const value = Number(String(await client.send('GET', 'counter')));
              await client.send('MULTI');
              await client.send('SET', 'counter', String(value + 1));
              if ((await client.send('EXEC')) === null) retries++;
              else done++;
            }
          }),
        );
      } finally {
        await Promise.all(clients.map((client) => client.close()));
      }
      expect(String(await c[0].send('GET', 'counter'))).to.equal(String(3 * each));
      console.log(`      (${backend}) ${3 * each} increments, ${retries} EXEC retries`);
    });

    it('a SCAN started on one instance continues on the others and sees every key', async () => {
      const all = Array.from({ length: 250 }, (_, i) => `scan:${i}`);
      for (const [i, key] of all.entries()) await c[i % 3].send('SET', key, 'v');
      await c[1].send('SET', 'other', 'v');
      for (const match of [null, 'scan:*']) {
        const seen = new Set<string>();
        let cursor = '0';
        let calls = 0;
        do {
          const args = ['SCAN', cursor, 'COUNT', '17', ...(match ? ['MATCH', match] : [])];
          const [next, keys] = (await c[calls++ % 3].send(...args)) as [Buffer, Buffer[]];
          cursor = String(next);
          for (const k of keys) seen.add(String(k));
        } while (cursor !== '0');
        expect(calls).to.be.greaterThan(3);
        expect([...seen].sort()).to.deep.equal((match ? all : [...all, 'other']).sort());
      }
    });
  });
}

for (const backend of PGBOUNCER_BACKENDS) {
  describe(`scale-out: instances started at once on a fresh database (${backend})`, function () {
    this.timeout(60_000);

    it('all migrate and listen: the losers of the migration race wait for the winner', async () => {
      for (let round = 0; round < 3; round++) {
        const db = await freshDatabaseUrl(backend);
        const servers = [0, 1, 2].map(() => createServer({ databaseUrl: db.url, port: 0, cleanupIntervalMs: 0 }));
        try {
          const started = await Promise.allSettled(servers.map((s) => s.listen()));
          expect(started.map((r) => (r.status === 'fulfilled' ? 'ok' : String(r.reason)))).to.deep.equal(['ok', 'ok', 'ok']);
          const knex = servers[0].engine.knex;
          expect(await knex('sessions_migrations_lock').select('index', 'is_locked')).to.deep.equal([{ index: 1, is_locked: 0 }]);
          expect((await knex('sessions_migrations').select('name')).map((r) => r.name)).to.deep.equal([
            '001_create_sessions',
            '002_create_sweeper_lease',
            '003_partial_expiry_index',
            '004_typed_keys',
            '005_create_scripts',
            '006_create_databases',
          ]);
        } finally {
          for (const s of servers) await s.close();
          db.cleanup();
        }
      }
    });
  });
}
