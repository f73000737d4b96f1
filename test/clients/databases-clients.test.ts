/**
 * Clients that select a database on connect (a refusal is fatal there): ioredis with `db: 2`,
 * node-redis with `database: 3`, redis-py from a `/2` URL. Each does session traffic, and a
 * raw client checks that the keys landed in that database and no other.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { createClient } from 'redis';
import { RawClient, toStrings } from '../support/resp-client';
import { BACKENDS, startRespql, type RunningRespql } from '../support/respql';

const run = promisify(execFile);

const PYTHON = `
import sys, redis
r = redis.Redis.from_url('redis://127.0.0.1:%s/2' % sys.argv[1])
out = [r.set('py:sess', b'data', ex=300), r.get('py:sess'), 299 <= r.ttl('py:sess') <= 300, r.exists('py:sess'), [f for f in r.execute_command('CLIENT', 'INFO').split() if f.startswith(b'db=')]]
print(repr(out))
`;

for (const backend of BACKENDS) {
  describe(`clients selecting a database on connect (${backend})`, () => {
    let respql: RunningRespql;
    let raw: RawClient;
    before(async () => {
      respql = await startRespql(backend);
      raw = await RawClient.connect(respql.port);
    });
    after(async () => {
      await raw.close();
      await respql.stop();
    });

    /** Which databases hold `key`, looked up through a raw connection in those INFO keyspace lists. */
    const holders = async (key: string): Promise<number[]> => {
      const found: number[] = [];
      const info = String(toStrings(await raw.send('INFO', 'keyspace')));
      for (const [, db] of info.matchAll(/^db(\d+):/gm)) {
        await raw.send('SELECT', db);
        if (toStrings(await raw.send('EXISTS', key)) === 1) found.push(Number(db));
      }
      return found;
    };

    it('ioredis with db: 2', async () => {
      const redis = new Redis({ port: respql.port, host: '127.0.0.1', db: 2, lazyConnect: true, maxRetriesPerRequest: 0 });
      await redis.connect();
      try {
        expect(await redis.set('io:sess', '{"user":1}', 'EX', 100)).to.equal('OK');
        expect(await redis.get('io:sess')).to.equal('{"user":1}');
        expect(await redis.ttl('io:sess')).to.be.within(99, 100);
        expect(await redis.multi().expire('io:sess', 200).get('io:sess').exec()).to.deep.equal([
          [null, 1],
          [null, '{"user":1}'],
        ]);
        expect(await holders('io:sess')).to.deep.equal([2]);
      } finally {
        redis.disconnect();
      }
    });

    it('node-redis with database: 3', async () => {
      const client = createClient({ url: respql.url, database: 3 });
      await client.connect();
      try {
        expect(await client.set('nr:sess', 'x', { expiration: { type: 'EX', value: 100 } })).to.equal('OK');
        expect(await client.get('nr:sess')).to.equal('x');
        expect(await client.del('nr:sess')).to.equal(1);
        await client.set('nr:sess', 'y');
        expect(await holders('nr:sess')).to.deep.equal([3]);
      } finally {
        client.destroy();
      }
    });

    it('redis-py from a redis://host:port/2 URL', async () => {
      const { stdout } = await run('/usr/bin/python3', ['-c', PYTHON, String(respql.port)], { timeout: 20_000 });
      expect(stdout.trim()).to.equal("[True, b'data', True, 1, [b'db=2']]");
      expect(await holders('py:sess')).to.deep.equal([2]);
    });
  });
}
