/**
 * A looping script against redis-server and respql with busy-reply-threshold 300 ms: other
 * clients get BUSY once the threshold has passed, SCRIPT KILL stops a script that has not
 * written and refuses one that has, FUNCTION KILL answers with EVAL's BUSY text, the killed
 * script's caller gets Redis's error, and the server answers again afterwards. Then respql
 * only: SHUTDOWN NOSAVE ends a script that has written, and its writes are not committed.
 */
import { expect } from 'chai';
import { RawClient, toStrings } from '../support/resp-client';
import { startRedisServer, type RedisServer } from '../support/redis-server';
import { BACKENDS, freshDatabaseUrl, startRespql, type RunningRespql } from '../support/respql';
import { createServer } from '../../src';

const THRESHOLD_MS = 300;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const errorText = (r: unknown): string => (r as { error?: string }).error ?? String(r);
const reply = async (c: RawClient, ...argv: string[]) => toStrings(await c.send(...argv));

/** The transcript of one run: what the script's caller and another client see. */
async function transcript(port: number): Promise<unknown[]> {
  const runner = await RawClient.connect(port);
  const other = await RawClient.connect(port);
  try {
    const out: unknown[] = [];
    await reply(other, 'SET', 'busy:k', 'before');
    const looping = reply(runner, 'EVAL', 'local i = 0 while true do i = i + 1 end', '0');
    await sleep(THRESHOLD_MS + 400);
    out.push(await reply(other, 'PING'));
    out.push(await reply(other, 'GET', 'busy:k'));
    out.push(await reply(other, 'SCRIPT', 'LOAD', 'return 1'));
    out.push(await reply(other, 'FUNCTION', 'KILL'));
    out.push(await reply(other, 'SCRIPT', 'KILL'));
    out.push(await looping);
    out.push(await reply(other, 'PING'));
    out.push(await reply(other, 'SCRIPT', 'KILL'));
    // respql's next script waits for a new worker to load (up to a second on a loaded machine):
    // done here, so that the script below has written when SCRIPT KILL comes.
    out.push(await reply(other, 'EVAL', 'return 1', '0'));
    // A script that wrote cannot be killed; it ends by itself here (a bounded loop).
    const writing = reply(
      runner,
      'EVAL',
      "redis.call('set', 'busy:k', 'during') local t = redis.call('time') while true do local n = redis.call('time') if (n[1] - t[1]) * 1000000 + (n[2] - t[2]) > 1500000 then break end end return 'done'",
      '0',
    );
    await sleep(THRESHOLD_MS + 400);
    out.push(await reply(other, 'SCRIPT', 'KILL'));
    out.push(await writing);
    out.push(await reply(other, 'GET', 'busy:k'));
    return out;
  } finally {
    await runner.close();
    await other.close();
  }
}

describe('scripting: BUSY and SCRIPT KILL against redis-server', function () {
  this.timeout(60000);
  let redis: RedisServer;
  before(async () => (redis = await startRedisServer({ args: ['--busy-reply-threshold', String(THRESHOLD_MS)] })));
  after(() => redis?.stop());

  for (const backend of BACKENDS) {
    it(`a looping script, BUSY, SCRIPT KILL, UNKILLABLE (${backend})`, async function () {
      const respql: RunningRespql = await startRespql(backend, { busyReplyThresholdMs: THRESHOLD_MS });
      try {
        const expected = await transcript(redis.port);
        expect(await transcript(respql.port)).to.deep.equal(expected);
        expect(errorText(expected[0])).to.match(/^BUSY/); // the reference did go busy
      } finally {
        await respql.stop();
      }
    });
  }

  it('a client keeps being answered (PING) while a script loops, before the threshold too (sqlite)', async function () {
    const respql = await startRespql('sqlite', { busyReplyThresholdMs: 5000 });
    const runner = await RawClient.connect(respql.port);
    const other = await RawClient.connect(respql.port);
    try {
      const looping = reply(runner, 'EVAL', 'while true do end', '0');
      await sleep(200);
      const started = performance.now();
      expect(await reply(other, 'PING')).to.equal('PONG');
      expect(performance.now() - started).to.be.lessThan(100);
      expect(await reply(other, 'SCRIPT', 'KILL')).to.equal('OK');
      expect(errorText(await looping)).to.match(/Script killed by user with SCRIPT KILL/);
    } finally {
      await runner.close();
      await other.close();
      await respql.stop();
    }
  });

  for (const backend of BACKENDS) {
    it(`a client keeps being answered while a script loops on redis.call (${backend})`, async function () {
      // On SQLite each redis.call completes without an event-loop turn: the runner must still yield to it.
      const respql = await startRespql(backend, { busyReplyThresholdMs: 5000 });
      const runner = await RawClient.connect(respql.port);
      const other = await RawClient.connect(respql.port);
      try {
        await reply(other, 'SET', 'busy:calls', 'v');
        const looping = reply(runner, 'EVAL', "while true do redis.call('get', KEYS[1]) end", '1', 'busy:calls');
        await sleep(200);
        for (let i = 0; i < 5; i++) {
          const started = performance.now();
          expect(await reply(other, 'PING')).to.equal('PONG');
          expect(performance.now() - started).to.be.lessThan(100);
        }
        expect(await reply(other, 'SCRIPT', 'KILL')).to.equal('OK');
        expect(errorText(await looping)).to.match(/Script killed by user with SCRIPT KILL/);
      } finally {
        await runner.close();
        await other.close();
        await respql.stop();
      }
    });
  }

  it('SHUTDOWN NOSAVE ends a script that has written, whose writes are not committed (sqlite)', async function () {
    const db = await freshDatabaseUrl('sqlite');
    try {
      let server = createServer({ databaseUrl: db.url, port: 0, cleanupIntervalMs: 0, busyReplyThresholdMs: THRESHOLD_MS });
      const { port } = await server.listen();
      const runner = await RawClient.connect(port);
      const other = await RawClient.connect(port);
      await reply(other, 'SET', 'busy:nosave', 'before');
      void runner.send('EVAL', "redis.call('set', KEYS[1], 'during') while true do end", '1', 'busy:nosave').catch(() => undefined);
      await sleep(THRESHOLD_MS + 300);
      expect(errorText(await reply(other, 'SHUTDOWN'))).to.match(/^BUSY/);
      other.sendRaw('*2\r\n$8\r\nSHUTDOWN\r\n$6\r\nNOSAVE\r\n');
      await other.readRawUntilClose(10000);
      await server.close();
      await runner.destroy();
      server = createServer({ databaseUrl: db.url, port: 0, cleanupIntervalMs: 0 });
      const again = await server.listen();
      const check = await RawClient.connect(again.port);
      expect(await reply(check, 'GET', 'busy:nosave')).to.equal('before');
      await check.close();
      await server.close();
    } finally {
      db.cleanup();
    }
  });
});
