/**
 * A script is one unit in one SQL transaction: another client never sees it half done, a
 * WATCH of a key it changed fails the EXEC, and across two respql instances on one database
 * (PostgreSQL) the script cache is shared.
 */
import { expect } from 'chai';
import { RawClient, toStrings } from '../support/resp-client';
import { BACKENDS, startRespql, type RunningRespql } from '../support/respql';

const reply = async (c: RawClient, ...argv: string[]) => toStrings(await c.send(...argv));
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
