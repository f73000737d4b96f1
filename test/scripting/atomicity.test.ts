/**
 * A script is one unit in one SQL transaction: another client never sees it half done, a
 * WATCH of a key it changed fails the EXEC, and across two respql instances on one database
 * (PostgreSQL) the script cache is shared.
 */
import { expect } from 'chai';
import { RawClient, toStrings } from '../support/resp-client';
import { BACKENDS, startRespql, type RunningRespql } from '../support/respql';

const reply = async (c: RawClient, ...argv: string[]) => toStrings(await c.send(...argv));
/** INFO respql's counters. */
async function respqlInfo(c: RawClient): Promise<Record<string, number>> {
  const text = String(await reply(c, 'INFO', 'respql'));
  return Object.fromEntries(
    text.split('\r\n').flatMap((l) => (/^(\w+):(\d+)$/.exec(l) ? [[l.split(':')[0], Number(l.split(':')[1])]] : [])),
  );
}
/** Writes a, then spins ~300 ms on redis.call('time'), then writes b. */
const SLOW_PAIR =
  "redis.call('set', KEYS[1], ARGV[1]) local t = redis.call('time') while true do local n = redis.call('time') if (n[1] - t[1]) * 1000000 + (n[2] - t[2]) > 300000 then break end end redis.call('set', KEYS[2], ARGV[1]) return 'ok'";

for (const backend of BACKENDS) {
  describe(`scripting: atomicity (${backend})`, function () {
    this.timeout(30000);
    let respql: RunningRespql;
    before(async () => (respql = await startRespql(backend)));
    after(() => respql?.stop());

    it('another client sees all of a script or none of it', async function () {
      const a = await RawClient.connect(respql.port);
      const b = await RawClient.connect(respql.port);
      try {
        const running = reply(a, 'EVAL', SLOW_PAIR, '2', 'atom:x', 'atom:y', 'v1');
        const seen: unknown[] = [];
        for (let i = 0; i < 8; i++) {
          await new Promise((r) => setTimeout(r, 40));
          seen.push(await reply(b, 'MGET', 'atom:x', 'atom:y'));
        }
        expect(await running).to.equal('ok');
        for (const pair of seen)
          expect(pair === null ? pair : (pair as unknown[])[0] === (pair as unknown[])[1]).to.equal(true, JSON.stringify(seen));
        expect(await reply(b, 'MGET', 'atom:x', 'atom:y')).to.deep.equal(['v1', 'v1']);
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('a WATCH of a key a script changed fails the EXEC; one the script did not change does not', async function () {
      const w = await RawClient.connect(respql.port);
      const s = await RawClient.connect(respql.port);
      try {
        await reply(w, 'WATCH', 'watch:k');
        await reply(s, 'EVAL', "return redis.call('set', KEYS[1], 'by-script')", '1', 'watch:k');
        await reply(w, 'MULTI');
        await reply(w, 'SET', 'watch:k', 'by-exec');
        expect(await reply(w, 'EXEC')).to.equal(null);
        await reply(w, 'WATCH', 'watch:k');
        await reply(s, 'EVAL', "return redis.call('get', KEYS[1])", '1', 'watch:k');
        await reply(w, 'MULTI');
        await reply(w, 'SET', 'watch:k', 'by-exec');
        expect(await reply(w, 'EXEC')).to.deep.equal(['OK']);
      } finally {
        await w.close();
        await s.close();
      }
    });

    it('scripts from many clients share group commits, and none is seen half done or run twice', async function () {
      const clients = await Promise.all(Array.from({ length: 10 }, () => RawClient.connect(respql.port)));
      const readers = await Promise.all(Array.from({ length: 2 }, () => RawClient.connect(respql.port)));
      try {
        // Writes a then b, with a write between them; readers must never see a and b differ.
        const sha = String(
          await reply(
            clients[0],
            'SCRIPT',
            'LOAD',
            "redis.call('set', KEYS[1], ARGV[1]) redis.call('incr', KEYS[3]) redis.call('set', KEYS[2], ARGV[1]) return 1",
          ),
        );
        const before = await respqlInfo(clients[0]);
        const perClient = 10;
        let writing = true;
        const seen: unknown[] = [];
        const reading = Promise.all(
          readers.map(async (r) => {
            while (writing) seen.push(await reply(r, 'MGET', 'share:a', 'share:b'));
          }),
        );
        await Promise.all(
          clients.map(async (c, i) => {
            for (let n = 0; n < perClient; n++)
              expect(await reply(c, 'EVALSHA', sha, '3', 'share:a', 'share:b', 'share:n', `${i}.${n}`)).to.equal(1);
          }),
        );
        writing = false;
        await reading;
        const after = await respqlInfo(clients[0]);
        const scripts = clients.length * perClient;
        expect(await reply(clients[0], 'GET', 'share:n')).to.equal(String(scripts));
        // Readers' commands share those transactions too: fewer transactions than scripts alone shows the sharing.
        expect(after.sql_transactions - before.sql_transactions).to.be.lessThan(scripts / 2);
        if (backend === 'sqlite') expect(after.sql_wal_flushes - before.sql_wal_flushes).to.be.lessThan(scripts / 2);
        expect(seen.length).to.be.greaterThan(0);
        for (const pair of seen) expect((pair as unknown[])[0]).to.equal((pair as unknown[])[1], JSON.stringify(pair));
      } finally {
        await Promise.all([...clients, ...readers].map((c) => c.close()));
      }
    });

    it("EVAL inside MULTI runs in EXEC's transaction", async function () {
      const c = await RawClient.connect(respql.port);
      try {
        await reply(c, 'MULTI');
        await reply(c, 'SET', 'multi:k', '1');
        await reply(c, 'EVAL', "return redis.call('incr', KEYS[1])", '1', 'multi:k');
        expect(await reply(c, 'EXEC')).to.deep.equal(['OK', 2]);
      } finally {
        await c.close();
      }
    });
  });
}

describe('scripting: two respql instances on one PostgreSQL database', function () {
  this.timeout(30000);
  it('SCRIPT LOAD on one, EVALSHA on the other; FUNCTION LOAD on one, FCALL on the other; SCRIPT FLUSH on one, NOSCRIPT on a fresh instance', async function () {
    const one = await startRespql('postgres');
    const two = await startRespql('postgres', { databaseUrl: one.databaseUrl });
    const a = await RawClient.connect(one.port);
    const b = await RawClient.connect(two.port);
    try {
      const sha = await reply(a, 'SCRIPT', 'LOAD', "return 'loaded on one: ' .. ARGV[1]");
      expect(await reply(b, 'SCRIPT', 'EXISTS', String(sha))).to.deep.equal([1]);
      expect(await reply(b, 'EVALSHA', String(sha), '0', 'x')).to.equal('loaded on one: x');
      expect(
        await reply(a, 'FUNCTION', 'LOAD', "#!lua name=shared\nredis.register_function('hi', function(k, a) return 'hi ' .. a[1] end)"),
      ).to.equal('shared');
      expect(await reply(b, 'FCALL', 'hi', '0', 'two')).to.equal('hi two');
      expect(((await reply(b, 'FUNCTION', 'LIST')) as unknown[]).length).to.equal(1);
      await reply(a, 'SCRIPT', 'FLUSH');
      const three = await startRespql('postgres', { databaseUrl: one.databaseUrl });
      const c = await RawClient.connect(three.port);
      expect(await reply(c, 'EVALSHA', String(sha), '0', 'x')).to.deep.equal({ error: 'NOSCRIPT No matching script. Please use EVAL.' });
      await c.close();
      await three.stop();
    } finally {
      await a.close();
      await b.close();
      await two.stop();
      await one.stop();
    }
  });
});
