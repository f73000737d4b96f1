/**
 * INFO's counters against a real redis-server, where Redis's are deterministic: keyspace
 * hits and misses (Redis 7.0's lookupKeyRead callers count, write lookups do not), the
 * bytes read and written, and expired keys.
 */
import { expect } from 'chai';
import { runPipelined, runScript, usePeers } from '../support/differential';
import { RawClient, toStrings } from '../support/resp-client';
import { BACKENDS } from '../support/respql';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The INFO stats fields named, read on `client`. */
async function statsOf(client: RawClient, names: string[]): Promise<Record<string, number>> {
  const info = toStrings(await client.send('INFO', 'stats')) as string;
  return Object.fromEntries(names.map((n) => [n, Number(new RegExp(`\\r\\n${n}:(\\d+)`).exec(info)?.[1])]));
}

/** Runs `script` one command at a time on one connection after CONFIG RESETSTAT, then reads the counters there. */
async function countersAfter(
  port: number,
  script: string[][],
  names: string[],
): Promise<{ replies: unknown[]; stats: Record<string, number> }> {
  const client = await RawClient.connect(port);
  try {
    await client.send('CONFIG', 'RESETSTAT');
    const replies: unknown[] = [];
    for (const argv of script) replies.push(toStrings(await client.send(...argv)));
    return { replies, stats: await statsOf(client, names) };
  } finally {
    await client.close();
  }
}

const LOOKUPS = ['keyspace_hits', 'keyspace_misses'];

/** Every string and generic command respql has, with and without its key: which of them count is Redis's answer. */
const EVERY_LOOKUP: string[][] = [
  ['SET', 'k', 'v'],
  ['SET', 'e', ''],
  ['GET', 'k'],
  ['GET', 'nokey'],
  ['MGET', 'k', 'nokey', 'k'],
  ['EXISTS', 'k', 'nokey', 'k'],
  ['TOUCH', 'k', 'nokey'],
  ['TYPE', 'k'],
  ['TYPE', 'nokey'],
  ['TTL', 'nokey'],
  ['PTTL', 'k'],
  ['EXPIRETIME', 'k'],
  ['PEXPIRETIME', 'nokey'],
  ['STRLEN', 'e'],
  ['STRLEN', 'nokey'],
  ['GETRANGE', 'k', '0', '1'],
  ['SUBSTR', 'nokey', '0', '1'],
  ['GETEX', 'k'],
  ['GETEX', 'nokey', 'PX', '100'],
  ['GETEX', 'k', 'PERSIST'],
  ['GETDEL', 'nokey'],
  ['SET', 'k', 'v', 'GET'],
  ['SET', 'k2', 'v', 'NX', 'GET'],
  ['SET', 'k', 'v', 'XX'],
  ['GETSET', 'k', 'w'],
  ['SETNX', 'k', 'v'],
  ['APPEND', 'k', 'x'],
  ['SETRANGE', 'k', '0', 'v'],
  ['INCR', 'n'],
  ['INCRBYFLOAT', 'n', '1.5'],
  ['MSET', 'a', '1'],
  ['MSETNX', 'a', '1'],
  ['COPY', 'k', 'k3'],
  ['COPY', 'nokey', 'k4'],
  ['RENAME', 'k3', 'k5'],
  ['EXPIRE', 'k', '100'],
  ['PERSIST', 'k'],
  ['DEL', 'nokey', 'k5'],
  ['KEYS', '*'],
  ['SCAN', '0'],
  ['RANDOMKEY'],
  ['DBSIZE'],
  ['WATCH', 'k'],
  ['UNWATCH'],
  ['MULTI'],
  ['GET', 'k'],
  ['EXISTS', 'nokey', 'k'],
  ['SET', 'k', 'v', 'GET'],
  ['EXEC'],
];

/** Every hash and set command, on a present key and a missing one, after a setup; each is counted on its own. */
const TYPED_SETUP: string[][] = [
  ['HSET', 'h', 'f', 'v', 'g', 'w'],
  ['SADD', 's', 'a', 'b'],
  ['SADD', 's2', 'b', 'c'],
  ['SET', 'str', 'v'],
];
const TYPED_LOOKUPS: string[][] = [
  ['HGET', 'h', 'f'],
  ['HGET', 'noh', 'f'],
  ['HMGET', 'h', 'f', 'x'],
  ['HMGET', 'noh', 'f'],
  ['HGETALL', 'h'],
  ['HGETALL', 'noh'],
  ['HEXISTS', 'h', 'f'],
  ['HEXISTS', 'noh', 'f'],
  ['HLEN', 'h'],
  ['HLEN', 'noh'],
  ['HSTRLEN', 'h', 'f'],
  ['HSTRLEN', 'noh', 'f'],
  ['HKEYS', 'h'],
  ['HKEYS', 'noh'],
  ['HVALS', 'h'],
  ['HVALS', 'noh'],
  ['HRANDFIELD', 'h'],
  ['HRANDFIELD', 'noh', '2'],
  ['HSCAN', 'h', '0'],
  ['HSCAN', 'noh', '0'],
  ['HSET', 'h', 'f', 'v2'],
  ['HSETNX', 'h', 'f', 'v'],
  ['HMSET', 'noh2', 'f', 'v'],
  ['HINCRBY', 'h', 'n', '1'],
  ['HINCRBYFLOAT', 'h', 'n', '1.5'],
  ['HDEL', 'h', 'n'],
  ['HDEL', 'noh', 'f'],
  ['SISMEMBER', 's', 'a'],
  ['SISMEMBER', 'nos', 'a'],
  ['SMISMEMBER', 's', 'a', 'x'],
  ['SMISMEMBER', 'nos', 'a'],
  ['SMEMBERS', 's'],
  ['SMEMBERS', 'nos'],
  ['SCARD', 's'],
  ['SCARD', 'nos'],
  ['SRANDMEMBER', 's'],
  ['SRANDMEMBER', 'nos', '2'],
  ['SSCAN', 's', '0'],
  ['SSCAN', 'nos', '0'],
  ['SINTER', 's', 's2', 'nos'],
  ['SINTER', 'nos', 's'],
  ['SUNION', 's', 'nos'],
  ['SDIFF', 's', 's2', 'nos'],
  ['SINTERCARD', '2', 's', 's2'],
  ['SINTERCARD', '2', 'nos', 's'],
  ['SINTERSTORE', 'd', 's', 's2'],
  ['SUNIONSTORE', 'd', 's', 'nos'],
  ['SDIFFSTORE', 'd', 's', 's2'],
  ['SADD', 's3', 'x'],
  ['SREM', 's3', 'y'],
  ['SMOVE', 's', 's3', 'a'],
  ['SMOVE', 'nos', 's3', 'a'],
  ['SPOP', 's3', '0'],
  ['SPOP', 'nos'],
  ['TYPE', 'h'],
  ['TYPE', 's'],
  ['EXISTS', 'h', 's', 'nos'],
  ['COPY', 'h', 'h2'],
  ['RENAME', 'h2', 'h3'],
  ['GET', 'h'],
  ['MGET', 'h', 's'],
  // A key of another type is found (a hit), then WRONGTYPE; the set operations stop at it.
  ['HGET', 'str', 'f'],
  ['HMGET', 's', 'f'],
  ['HGETALL', 'str'],
  ['HLEN', 's'],
  ['HSCAN', 'str', '0'],
  ['SMEMBERS', 'h'],
  ['SCARD', 'str'],
  ['SINTER', 's', 'h', 'nos'],
  ['SUNIONSTORE', 'd', 'nos', 'str', 's'],
  ['SINTERCARD', '2', 'h', 's'],
  ['MULTI'],
  ['HGET', 'h', 'f'],
  ['SMEMBERS', 'nos'],
  ['HGETALL', 'str'],
  ['EXEC'],
];

/** Each command's keyspace hits and misses, as `ARGV... +hits -misses`, after TYPED_SETUP and CONFIG RESETSTAT. */
async function lookupsPerCommand(port: number): Promise<string[]> {
  const client = await RawClient.connect(port);
  try {
    for (const argv of TYPED_SETUP) await client.send(...argv);
    await client.send('CONFIG', 'RESETSTAT');
    const out: string[] = [];
    let before = await statsOf(client, LOOKUPS);
    let queued = false;
    for (const argv of TYPED_LOOKUPS) {
      await client.send(...argv);
      // Inside MULTI, INFO would be queued: the transaction's lookups are read after EXEC, on its line.
      if (argv[0] === 'MULTI') queued = true;
      if (argv[0] === 'EXEC') queued = false;
      if (queued) {
        out.push(argv.join(' '));
        continue;
      }
      const after = await statsOf(client, LOOKUPS);
      out.push(`${argv.join(' ')} +${after.keyspace_hits - before.keyspace_hits} -${after.keyspace_misses - before.keyspace_misses}`);
      before = after;
    }
    return out;
  } finally {
    await client.close();
  }
}

for (const backend of BACKENDS) {
  describe(`INFO counters vs redis-server (${backend})`, () => {
    const peers = usePeers(backend);

    it('SET k v, GET k, GET nokey: keyspace_hits:1, keyspace_misses:1', async () => {
      const script = [
        ['SET', 'acc', 'v'],
        ['GET', 'acc'],
        ['GET', 'acc-nokey'],
      ];
      const redis = await countersAfter(peers.redis.port, script, LOOKUPS);
      const respql = await countersAfter(peers.respql.port, script, LOOKUPS);
      expect(redis.stats).to.deep.equal({ keyspace_hits: 1, keyspace_misses: 1 });
      expect(respql.stats).to.deep.equal(redis.stats);
    });

    it('keyspace hits and misses: the read lookups of every command, MULTI/EXEC included', async () => {
      const redis = await countersAfter(peers.redis.port, EVERY_LOOKUP, LOOKUPS);
      const respql = await countersAfter(peers.respql.port, EVERY_LOOKUP, LOOKUPS);
      // The same replies (SCAN's and RANDOMKEY's aside, whose order and choice differ), then the same counts.
      const comparable = (r: unknown[]) => r.map((x, i) => (['SCAN', 'RANDOMKEY', 'KEYS'].includes(EVERY_LOOKUP[i][0]) ? null : x));
      expect(comparable(respql.replies)).to.deep.equal(comparable(redis.replies));
      expect(redis.stats.keyspace_hits).to.be.greaterThan(10);
      expect(respql.stats).to.deep.equal(redis.stats);
    });

    it('keyspace hits and misses of every hash and set command, one command at a time', async () => {
      const redis = await lookupsPerCommand(peers.redis.port);
      expect(redis).to.include('HGET h f +1 -0').and.include('HGET noh f +0 -1');
      expect(await lookupsPerCommand(peers.respql.port)).to.deep.equal(redis);
    });

    it('hash reads pipelined in one write (merged into one statement by respql) count per key', async () => {
      const counters = async (port: number) => {
        await runScript(port, [
          ['CONFIG', 'RESETSTAT'],
          ['HSET', 'ph', 'f', 'v'],
          ['SET', 'pstr', 'v'],
        ]);
        const script = [
          ['HGET', 'ph', 'f'],
          ['HGET', 'ph', 'nofield'],
          ['HGET', 'ph-none', 'f'],
          ['HMGET', 'ph', 'x', 'f'],
          ['HMGET', 'ph-none', 'f'],
          ['HGETALL', 'ph'],
          ['HGETALL', 'ph-none'],
          ['HGET', 'pstr', 'f'],
        ];
        await runPipelined(port, script);
        const client = await RawClient.connect(port);
        try {
          return await statsOf(client, LOOKUPS);
        } finally {
          await client.close();
        }
      };
      const redis = await counters(peers.redis.port);
      expect(redis).to.deep.equal({ keyspace_hits: 5, keyspace_misses: 3 });
      expect(await counters(peers.respql.port)).to.deep.equal(redis);
    });

    it('GETs and EXISTS pipelined in one write (merged into one statement by respql) count per key', async () => {
      const counters = async (port: number) => {
        await runScript(port, [
          ['CONFIG', 'RESETSTAT'],
          ['MSET', 'p1', 'a', 'p2', 'b'],
        ]);
        const script = [
          ['GET', 'p1'],
          ['GET', 'p-none'],
          ['GET', 'p2'],
          ['EXISTS', 'p1', 'p-none'],
          ['GET', 'p1'],
          ['EXISTS', 'p2'],
        ];
        await runPipelined(port, script);
        const client = await RawClient.connect(port);
        try {
          return await statsOf(client, LOOKUPS);
        } finally {
          await client.close();
        }
      };
      const redis = await counters(peers.redis.port);
      expect(redis).to.deep.equal({ keyspace_hits: 5, keyspace_misses: 2 });
      expect(await counters(peers.respql.port)).to.deep.equal(redis);
    });

    it('total_net_input_bytes and total_net_output_bytes count the bytes of the requests and replies', async () => {
      const script = [
        ['SET', 'net', 'value'],
        ['GET', 'net'],
        ['GET', 'net-none'],
        ['MGET', 'net', 'net-none'],
        ['PING'],
        ['ECHO', 'hello'],
        ['GETX'],
      ];
      const names = ['total_net_input_bytes', 'total_net_output_bytes'];
      const redis = await countersAfter(peers.redis.port, script, names);
      const respql = await countersAfter(peers.respql.port, script, names);
      // Counted before INFO ran: its request is in, its reply is not.
      expect(redis.stats.total_net_input_bytes).to.be.greaterThan(100);
      expect(respql.stats).to.deep.equal(redis.stats);
    });

    it('expired_keys counts a key found expired on access at once, and the sweep that deletes it does not count it again', async () => {
      const run = async (port: number, sweep: () => Promise<void>) => {
        const client = await RawClient.connect(port);
        const stats = () => statsOf(client, ['keyspace_misses', 'expired_keys']);
        try {
          await client.send('CONFIG', 'RESETSTAT');
          await client.send('SET', 'exp', 'v', 'PX', '50');
          await sleep(100);
          await client.send('GET', 'exp');
          const afterGet = await stats();
          await client.send('GET', 'exp');
          const afterSecondGet = await stats();
          await sweep();
          return { afterGet, afterSecondGet, afterSweep: await stats() };
        } finally {
          await client.close();
        }
      };
      const redis = await run(peers.redis.port, () => Promise.resolve());
      expect(redis.afterGet).to.deep.equal({ keyspace_misses: 1, expired_keys: 1 });
      expect(redis.afterSweep).to.deep.equal({ keyspace_misses: 2, expired_keys: 1 });
      // respql's read skips the expired row (it may run in a read-only transaction) and counts
      // it; the sweeper deletes it later without counting it again.
      expect(await run(peers.respql.port, () => peers.respql.server.sweep())).to.deep.equal(redis);
    });

    it('expired_keys: MGET (pipelined GETs too) and DEL count the expired keys they find, a key never read counts when swept, each once', async () => {
      const run = async (port: number, sweep: () => Promise<void>) => {
        const client = await RawClient.connect(port);
        try {
          await client.send('CONFIG', 'RESETSTAT');
          for (const key of ['m1', 'm2', 'p1', 'p2', 'd1', 'never']) await client.send('SET', key, 'v', 'PX', '50');
          await client.send('SET', 'live', 'v');
          await sleep(100);
          await client.send('MGET', 'm1', 'live', 'm2', 'm-none');
          await runPipelined(port, [
            ['GET', 'p1'],
            ['GET', 'p2'],
            ['GET', 'live'],
            ['GET', 'p1'],
          ]);
          const deleted = toStrings(await client.send('DEL', 'd1', 'live'));
          const beforeSweep = (await statsOf(client, ['expired_keys'])).expired_keys;
          // Redis's active expiry finds 'never' within a few of its cycles (10 a second).
          let afterSweep = 0;
          for (let i = 0; i < 50 && afterSweep !== beforeSweep + 1; i++) {
            await sweep();
            afterSweep = (await statsOf(client, ['expired_keys'])).expired_keys;
            if (afterSweep !== beforeSweep + 1) await sleep(20);
          }
          await sweep();
          return { deleted, beforeSweep, afterSweep: (await statsOf(client, ['expired_keys'])).expired_keys };
        } finally {
          await client.close();
        }
      };
      const redis = await run(peers.redis.port, () => Promise.resolve());
      // Redis's active expiry may have taken some of the read keys before the reads: the same count.
      expect(redis.deleted).to.equal(1);
      expect(redis.afterSweep).to.equal(6);
      const respql = await run(peers.respql.port, () => peers.respql.server.sweep());
      expect(respql).to.deep.equal({ deleted: 1, beforeSweep: 5, afterSweep: 6 });
    });
  });
}
