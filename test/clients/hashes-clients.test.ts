/**
 * PENDING (rename to hashes-clients.test.ts when merging with the hashes branch, issue 16):
 * real clients on hashes and sets, against respql on both backends; with
 * DIFF_REFERENCE_ONLY=1 (test/reference-only.sh) against redis-server 7.0, which checks the
 * expected results themselves.
 *
 * - ioredis 6: hset with an object, hgetall into an object, hincrbyfloat, smembers, a multi().
 * - node-redis 6 (RESP3 by default: HGETALL is a map reply, SMEMBERS a set reply): hGetAll,
 *   hSet with an object, sMembers, hRandField, sIsMember.
 * - redis-py 4 (Debian's python3-redis): hset(mapping=), hgetall, hincrbyfloat, sadd, smembers,
 *   a transaction pipeline, hscan_iter.
 * - redis-cli --bigkeys: TYPE, then HLEN / SCARD per key (MEMORY USAGE is not used by 7.0's
 *   --bigkeys), reports hashes by fields and sets by members.
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { createClient } from 'redis';
import { startTarget, TARGETS, type Target } from '../differential/shapes';

const run = promisify(execFile);

for (const label of TARGETS) {
  describe(`real clients on hashes and sets (${label})`, function () {
    this.timeout(60_000);
    let target: Target;
    before(async () => (target = await startTarget(label)));
    after(async () => target?.stop());

    it('ioredis 6: hset with an object, hgetall, hincrbyfloat, sets, multi', async () => {
      const redis = new Redis({ port: target.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
      await redis.connect();
      try {
        expect(await redis.hset('io:h', { name: 'alice', visits: '1', empty: '' })).to.equal(3);
        expect(await redis.hgetall('io:h')).to.deep.equal({ name: 'alice', visits: '1', empty: '' });
        expect(await redis.hgetall('io:none')).to.deep.equal({});
        expect(await redis.hincrby('io:h', 'visits', 2)).to.equal(3);
        expect(await redis.hincrbyfloat('io:h', 'score', '1.5')).to.equal('1.5');
        expect(await redis.hmget('io:h', 'name', 'nope', 'visits')).to.deep.equal(['alice', null, '3']);
        expect(await redis.hdel('io:h', 'empty', 'nope')).to.equal(1);
        expect((await redis.hkeys('io:h')).sort()).to.deep.equal(['name', 'score', 'visits']);
        expect(await redis.sadd('io:s', 'a', 'b', 'a')).to.equal(2);
        expect((await redis.smembers('io:s')).sort()).to.deep.equal(['a', 'b']);
        expect(await redis.smismember('io:s', 'a', 'z')).to.deep.equal([1, 0]);
        const results = await redis.multi().hset('io:m', 'f', 'v').hgetall('io:m').sadd('io:ms', 'x').scard('io:ms').type('io:m').exec();
        expect(results).to.deep.equal([
          [null, 1],
          [null, { f: 'v' }],
          [null, 1],
          [null, 1],
          [null, 'hash'],
        ]);
        let error: Error | undefined;
        await redis.get('io:h').catch((e: Error) => (error = e));
        expect(error?.message).to.equal('WRONGTYPE Operation against a key holding the wrong kind of value');
      } finally {
        redis.disconnect();
      }
    });

    it('node-redis 6 over RESP3: hGetAll of a map reply, sMembers of a set reply, hRandField', async () => {
      const client = createClient({ url: target.url, RESP: 3 });
      await client.connect();
      try {
        expect(await client.hSet('nr:h', { a: '1', b: '2' })).to.equal(2);
        expect({ ...(await client.hGetAll('nr:h')) }).to.deep.equal({ a: '1', b: '2' });
        expect({ ...(await client.hGetAll('nr:none')) }).to.deep.equal({});
        expect(await client.hGet('nr:h', 'nope')).to.equal(null);
        expect(await client.hExists('nr:h', 'a')).to.equal(1);
        expect(['a', 'b']).to.include(await client.hRandField('nr:h'));
        expect(await client.sAdd('nr:s', ['x', 'y', 'z'])).to.equal(3);
        const members = await client.sMembers('nr:s');
        expect([...members].sort()).to.deep.equal(['x', 'y', 'z']);
        expect(await client.sIsMember('nr:s', 'x')).to.equal(1);
        expect(await client.sCard('nr:s')).to.equal(3);
        expect(await client.type('nr:s')).to.equal('set');
        const replies = await client.multi().hSet('nr:m', 'f', 'v').hGetAll('nr:m').exec();
        expect(replies[0]).to.equal(1);
        expect({ ...(replies[1] as unknown as Record<string, string>) }).to.deep.equal({ f: 'v' });
      } finally {
        client.destroy();
      }
    });

    it('redis-py (python3-redis): hset mapping, hgetall, hincrbyfloat, sets, transaction, hscan_iter', async () => {
      const script = `
import sys, redis
r = redis.Redis(host='127.0.0.1', port=int(sys.argv[1]))
out = []
out.append(r.hset('py:h', mapping={'a': '1', 'b': b'\\x00\\xff'}))
out.append(sorted(r.hgetall('py:h').items()))
out.append(r.hgetall('py:none'))
out.append(r.hincrbyfloat('py:h', 'a', 0.25))
out.append(r.hincrby('py:h', 'n', 5))
out.append(r.hlen('py:h'))
out.append(r.sadd('py:s', 'x', 'y'))
out.append(sorted(r.smembers('py:s')))
out.append(r.sismember('py:s', 'x'))
p = r.pipeline(transaction=True)
p.hset('py:t', 'f', 'v').hget('py:t', 'f').srem('py:s', 'x', 'y').exists('py:s')
out.append(p.execute())
out.append(sorted(r.hscan_iter('py:h')))
out.append(r.type('py:h'))
try:
    r.sadd('py:h', 'm')
except redis.ResponseError as e:
    out.append(str(e))
print(repr(out))
`;
      const { stdout } = await run('/usr/bin/python3', ['-c', script, String(target.port)], { timeout: 20_000 });
      expect(stdout.trim()).to.equal(
        "[2, [(b'a', b'1'), (b'b', b'\\x00\\xff')], {}, 1.25, 5, 3, 2, [b'x', b'y'], True, [1, b'v', 2, 0], " +
          "[(b'a', b'1.25'), (b'b', b'\\x00\\xff'), (b'n', b'5')], b'hash', 'WRONGTYPE Operation against a key holding the wrong kind of value']",
      );
    });

    it('redis-cli --bigkeys reports hashes by fields and sets by members', async () => {
      const cli = (...args: string[]) => run('redis-cli', ['-p', String(target.port), ...args], { timeout: 20_000 });
      await cli('FLUSHALL');
      await cli('HSET', 'bk:h', 'a', '1', 'b', '2', 'c', '3');
      await cli('HSET', 'bk:h2', 'a', '1');
      await cli('SADD', 'bk:s', 'x', 'y');
      await cli('SET', 'bk:str', 'hello');
      const { stdout } = await cli('--bigkeys');
      expect(stdout).to.contain(`Biggest   hash found '"bk:h"' has 3 fields`);
      expect(stdout).to.contain(`Biggest    set found '"bk:s"' has 2 members`);
      expect(stdout).to.contain(`Biggest string found '"bk:str"' has 5 bytes`);
      expect(stdout).to.contain('2 hashs with 4 fields (50.00% of keys, avg size 2.00)');
      expect(stdout).to.contain('1 sets with 2 members (25.00% of keys, avg size 2.00)');
      expect(stdout).to.contain('Sampled 4 keys in the keyspace!');
    });
  });
}
