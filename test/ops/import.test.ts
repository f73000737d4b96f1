/**
 * `respql import` against a real redis-server holding 100,000 string keys (half with a
 * TTL) and a few keys of other types; the result is checked over TCP through respql.
 */
import { expect } from 'chai';
import Redis from 'ioredis';
import path from 'node:path';
import { BUILT_CLI, cli, freePort, logLines, startProcess, startRedis, tempDir } from './helpers';

const KEYS = 100_000;
const CLEAN_ENV: NodeJS.ProcessEnv = { DATABASE_URL: '', RESPQL_TABLE: '', RESPQL_LOGLEVEL: '', RESPQL_LOG_FORMAT: '', RESPQL_MIGRATE: '' };

function valueOf(i: number): string {
  return `{"cookie":{"maxAge":3600000},"user":${i},"pad":"${'x'.repeat(i % 50)}"}`;
}

describe('respql import', function () {
  this.timeout(120_000);
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let source: Redis;
  let tmp: ReturnType<typeof tempDir>;

  before(async () => {
    tmp = tempDir('respql-import-');
    redis = await startRedis();
    source = new Redis({ port: redis.port, host: '127.0.0.1', lazyConnect: false, maxRetriesPerRequest: 1 });
    // Load in pipelined chunks: even keys without TTL, odd keys with 1-2 hours left.
    for (let start = 0; start < KEYS; start += 10_000) {
      const p = source.pipeline();
      for (let i = start; i < Math.min(start + 10_000, KEYS); i++) {
        if (i % 2) p.set(`sess:${i}`, valueOf(i), 'PX', 3_600_000 + i);
        else p.set(`sess:${i}`, valueOf(i));
      }
      await p.exec();
    }
    await source.hset('h:1', 'f', 'v');
    await source.hset('h:2', 'f', 'v');
    await source.rpush('l:1', 'a');
    await source.sadd('s:1', 'a');
    await source.set(Buffer.from([0x6b, 0xff, 0xfe]), 'not-utf8-key');
    await source.set('bin:value', Buffer.from([0, 1, 2, 0xff]));
    expect(await source.dbsize()).to.equal(KEYS + 6);
  });

  after(async () => {
    source?.disconnect();
    await redis?.stop();
    tmp?.remove();
  });

  function summaryOf(stdout: string): Record<string, unknown> {
    const summary = logLines(stdout).find((l) => String(l.msg).startsWith('import finished'));
    expect(summary, stdout).to.not.equal(undefined);
    return summary!;
  }

  it('copies every string key with its TTL, skips other types, and is idempotent', async () => {
    const file = path.join(tmp.dir, 'import.sqlite');
    const started = Date.now();
    const first = await cli(['import', '--from', redis.url, '--database-url', file], { env: CLEAN_ENV, timeoutMs: 90_000 });
    const elapsed = Date.now() - started;
    expect(first.code, first.stdout + first.stderr).to.equal(0);
    const s1 = summaryOf(first.stdout);
    expect(s1).to.include({
      scanned: KEYS + 6,
      copied: KEYS + 1,
      withTtl: KEYS / 2,
      skippedNonString: 4,
      skippedNotText: 1,
      expiredInFlight: 0,
    });
    expect(s1.skippedTypes).to.deep.equal({ hash: 2, list: 1, set: 1 });
    expect(String(s1.msg)).to.match(
      /copied 100001 key\(s\) \(50000 with TTL\), skipped 4 non-string \((\d \w+(, )?){3}\), 1 not UTF-8 text, 0 expired in flight/,
    );
    // Informational: how long 100k keys took on this machine.
    console.log(`      (import of ${KEYS} keys: ${elapsed} ms including process start)`);

    // Twice: same rows, same counts.
    await source.set('sess:0', 'changed');
    const second = await cli(['import', '--from', redis.url, '--database-url', file], { env: CLEAN_ENV, timeoutMs: 90_000 });
    expect(second.code, second.stdout + second.stderr).to.equal(0);
    expect(summaryOf(second.stdout)).to.include({ copied: KEYS + 1, skippedNonString: 4 });

    const port = await freePort();
    const server = await startProcess(process.execPath, [BUILT_CLI, '--port', String(port), '--database-url', file], /ready on/, {
      env: CLEAN_ENV,
    });
    const target = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
    try {
      expect(await target.dbsize()).to.equal(KEYS + 1);
      expect(await target.get('sess:0')).to.equal('changed');
      expect(await target.getBuffer('bin:value')).to.deep.equal(Buffer.from([0, 1, 2, 0xff]));
      expect(await target.exists('h:1', 'l:1', 's:1')).to.equal(0);

      const sample = Array.from({ length: 300 }, (_, n) => 1 + ((n * 7919) % (KEYS - 1)));
      const p = target.pipeline();
      for (const i of sample) p.get(`sess:${i}`).pttl(`sess:${i}`);
      const q = source.pipeline();
      for (const i of sample) q.pttl(`sess:${i}`);
      const [got, original] = await Promise.all([p.exec(), q.exec()]);
      sample.forEach((i, n) => {
        expect(got![2 * n][1], `sess:${i}`).to.equal(valueOf(i));
        const ttl = got![2 * n + 1][1] as number;
        const redisTtl = original![n][1] as number;
        if (i % 2 === 0) {
          expect(ttl, `sess:${i}`).to.equal(-1);
        } else {
          // Never longer than Redis's own TTL, and not much shorter (the import's duration).
          expect(ttl, `sess:${i}`).to.be.at.most(redisTtl + 50);
          expect(ttl, `sess:${i}`).to.be.at.least(redisTtl - 60_000);
        }
      });
    } finally {
      target.disconnect();
      expect(await server.stop()).to.equal(0);
    }
  });

  it('--match copies only the matching keys, into the table given', async () => {
    const file = path.join(tmp.dir, 'match.sqlite');
    const r = await cli(['import', '--from', redis.url, '--match', 'sess:1234*', '--database-url', file, '--table', 'web'], {
      env: CLEAN_ENV,
      timeoutMs: 60_000,
    });
    expect(r.code, r.stdout + r.stderr).to.equal(0);
    // sess:1234, sess:12340-12349, sess:123400-... (none: < 100000) => 11 keys.
    expect(summaryOf(r.stdout)).to.include({ copied: 11, skippedNonString: 0 });
  });

  it('fails with one line when Redis cannot be reached, or refuses the password', async () => {
    const dead = await freePort();
    const r = await cli(['import', '--from', `redis://:pw@127.0.0.1:${dead}`, '--database-url', path.join(tmp.dir, 'x.sqlite')], {
      env: CLEAN_ENV,
    });
    expect(r.code).to.equal(1);
    const [line] = logLines(r.stdout);
    expect(line.msg).to.match(/^import failed: cannot connect to Redis at 127\.0\.0\.1:\d+/);
    expect(r.stdout).to.not.include(':pw@');

    const auth = await cli(
      ['import', '--from', `redis://:wrongpw@127.0.0.1:${redis.port}`, '--database-url', path.join(tmp.dir, 'x.sqlite')],
      { env: CLEAN_ENV },
    );
    expect(auth.code).to.equal(1);
    expect(logLines(auth.stdout)[0].msg).to.match(/^import failed: .*AUTH/);
    expect(auth.stdout).to.not.include('wrongpw');
  });
});
