/**
 * The typed key space on each backend: hashes and sets beside strings, their rows in SQL, and
 * every way a key goes (DEL, SET over it, expiry and the sweeper, FLUSHDB, emptied) taking its
 * fields and members with it. Replies are checked against Redis 7.0's (see the differential
 * scripts for the byte-for-byte comparison).
 */
import { expect } from 'chai';
import type { Knex } from 'knex';
import { encodeCommand, RawClient, rawExchange, toStrings } from '../support/resp-client';
import { BACKENDS, sqlWorkDuring, startRespql, type RunningRespql } from '../support/respql';

const T0 = 1_700_000_000_000;
const WRONGTYPE = { error: 'WRONGTYPE Operation against a key holding the wrong kind of value' };

for (const backend of BACKENDS) {
  describe(`typed keys: hashes and sets on ${backend}`, function () {
    this.timeout(60_000);
    let now = T0;
    let respql: RunningRespql;
    let client: RawClient;
    let knex: Knex;
    const send = async (...argv: (string | Buffer)[]): Promise<unknown> => toStrings(await client.send(...argv));
    const rows = async (table: string, token: string): Promise<number> =>
      Number((await knex(table).where({ token }).count({ n: '*' }))[0].n);

    before(async function () {
      respql = await startRespql(backend, { clock: () => now });
      client = await RawClient.connect(respql.port);
      knex = respql.server.engine.knex;
    });
    after(async function () {
      await client?.close();
      await respql?.stop();
    });
    beforeEach(async function () {
      now = T0;
      expect(await send('FLUSHALL')).to.equal('OK');
    });

    it('keeps a session hash as Spring Session and ASP.NET Core use it', async function () {
      expect(await send('HMSET', 'spring:session:1', 'creationTime', '1', 'maxInactiveInterval', '1800', 'sessionAttr:a', 'x')).to.equal(
        'OK',
      );
      expect(await send('PEXPIREAT', 'spring:session:1', String(T0 + 1_800_000))).to.equal(1);
      expect(await send('HGETALL', 'spring:session:1')).to.deep.equal([
        'creationTime',
        '1',
        'maxInactiveInterval',
        '1800',
        'sessionAttr:a',
        'x',
      ]);
      expect(await send('HMSET', 'spring:session:1', 'lastAccessedTime', '2', 'creationTime', '1')).to.equal('OK');
      // A field keeps its place when it is rewritten; a new one goes last (Redis's listpack order).
      expect(await send('HKEYS', 'spring:session:1')).to.deep.equal([
        'creationTime',
        'maxInactiveInterval',
        'sessionAttr:a',
        'lastAccessedTime',
      ]);
      expect(await send('RENAME', 'spring:session:1', 'spring:session:2')).to.equal('OK');
      expect(await send('EXISTS', 'spring:session:1', 'spring:session:2')).to.equal(1);
      expect(await send('PTTL', 'spring:session:2')).to.equal(1_800_000);
      expect(await send('HLEN', 'spring:session:2')).to.equal(4);
      expect(await rows('sessions_hash_fields', 'spring:session:1')).to.equal(0);

      expect(await send('HSET', 'aspnet', 'absexp', '-1', 'sldexp', '1200000000', 'data', 'payload')).to.equal(3);
      expect(await send('EXPIRE', 'aspnet', '120')).to.equal(1);
      expect(await send('HMGET', 'aspnet', 'absexp', 'sldexp', 'data')).to.deep.equal(['-1', '1200000000', 'payload']);
      expect(await send('HMGET', 'missing', 'absexp', 'data')).to.deep.equal([null, null]);
      expect(await send('TYPE', 'aspnet')).to.equal('hash');
      expect(await send('DEL', 'aspnet')).to.equal(1);
      expect(await rows('sessions_hash_fields', 'aspnet')).to.equal(0);
    });

    it('answers WRONGTYPE across types, and SET replaces a hash with its fields', async function () {
      await send('SET', 's', 'v');
      await send('HSET', 'h', 'f', 'v');
      await send('SADD', 'z', 'm');
      for (const argv of [
        ['HGET', 's', 'f'],
        ['HGETALL', 's'],
        ['HSET', 's', 'f', 'v'],
        ['SADD', 's', 'm'],
        ['SMEMBERS', 'h'],
        ['HLEN', 'z'],
      ]) {
        expect(await send(...argv), argv.join(' ')).to.deep.equal(WRONGTYPE);
      }
      for (const argv of [
        ['GET', 'h'],
        ['APPEND', 'h', 'x'],
        ['INCR', 'z'],
        ['STRLEN', 'h'],
        ['GETDEL', 'z'],
        ['GETRANGE', 'h', '0', '1'],
        ['SET', 'h', 'x', 'GET'],
        ['GETEX', 'h', 'PERSIST'],
      ]) {
        expect(await send(...argv), argv.join(' ')).to.deep.equal(WRONGTYPE);
      }
      // A pipeline of GETs is one merged statement: each key still gets its own answer.
      client.sendRaw(Buffer.from('GET s\r\nGET h\r\nGET nokey\r\nGET z\r\n'));
      const merged = [];
      for (let i = 0; i < 4; i++) merged.push(toStrings(await client.readReply()));
      expect(merged).to.deep.equal(['v', WRONGTYPE, null, WRONGTYPE]);
      expect(await send('MGET', 's', 'h', 'z')).to.deep.equal(['v', null, null]);
      expect(await send('TYPE', 'z')).to.equal('set');
      expect(await send('SET', 'h', 'now a string')).to.equal('OK');
      expect(await send('GET', 'h')).to.equal('now a string');
      expect(await rows('sessions_hash_fields', 'h')).to.equal(0);
      expect(await send('HSET', 'h', 'f', 'v')).to.deep.equal(WRONGTYPE);
      expect(await send('SETEX', 'z', '10', 'x')).to.equal('OK');
      expect(await rows('sessions_set_members', 'z')).to.equal(0);
      // The string rows are as before: NULL type, their value in data.
      const [row] = await knex('sessions').where({ token: 's' }).select('data', 'type');
      expect(row.type).to.equal(null);
      expect(Buffer.from(row.data).toString()).to.equal('v');
    });

    it('lets an emptied hash or set go, and expiry and the sweeper take fields and members with the key', async function () {
      await send('HSET', 'h', 'a', '1', 'b', '2');
      expect(await send('HDEL', 'h', 'a', 'a', 'zz')).to.equal(1);
      expect(await send('HDEL', 'h', 'b')).to.equal(1);
      expect(await send('EXISTS', 'h')).to.equal(0);
      await send('SADD', 's', 'a');
      expect(await send('SPOP', 's')).to.equal('a');
      expect(await send('TYPE', 's')).to.equal('none');

      await send('HSET', 'e', 'f', 'v');
      await send('SADD', 'e2', 'm1', 'm2');
      await send('PEXPIRE', 'e', '100');
      await send('PEXPIRE', 'e2', '100');
      now += 100;
      expect(await send('HGETALL', 'e')).to.deep.equal([]);
      expect(await send('SISMEMBER', 'e2', 'm1')).to.equal(0);
      // A new hash under an expired one's name starts empty.
      expect(await send('HSET', 'e', 'g', 'w')).to.equal(1);
      expect(await send('HGETALL', 'e')).to.deep.equal(['g', 'w']);
      expect(await send('PTTL', 'e')).to.equal(-1);
      expect(await rows('sessions_set_members', 'e2')).to.equal(2);
      expect(await respql.server.engine.sweepBatch(100)).to.deep.equal({ deleted: 1, full: false });
      expect(await rows('sessions_set_members', 'e2')).to.equal(0);
      expect(await send('FLUSHDB')).to.equal('OK');
      expect(await rows('sessions_hash_fields', 'e')).to.equal(0);
    });

    it('sweeps a big expired set a bounded batch at a time, its key row last', async function () {
      const members = Array.from({ length: 250 }, (_, i) => `m${i}`);
      expect(await send('SADD', 'big', ...members)).to.equal(250);
      await send('HSET', 'small', 'f', 'v');
      await send('PEXPIRE', 'big', '10');
      await send('PEXPIRE', 'small', '10');
      now += 10;
      const sweep = () => respql.server.engine.sweepBatch(100);
      // 100 rows of fields and members a batch: the hash's field and 99 members, then 100, then the last 50 and both keys.
      // A batch spent on members is full: the sweep goes on at once.
      expect(await sweep()).to.deep.equal({ deleted: 0, full: true });
      expect(await rows('sessions_set_members', 'big')).to.equal(151);
      expect(await sweep()).to.deep.equal({ deleted: 0, full: true });
      expect(await rows('sessions_set_members', 'big')).to.equal(51);
      expect(await sweep()).to.deep.equal({ deleted: 2, full: false });
      expect(await rows('sessions_set_members', 'big')).to.equal(0);
      expect(await rows('sessions', 'big')).to.equal(0);
    });

    it('counts, increments and picks as Redis does', async function () {
      expect(await send('HSETNX', 'h', 'f', '1')).to.equal(1);
      expect(await send('HSETNX', 'h', 'f', '2')).to.equal(0);
      expect(await send('HINCRBY', 'h', 'f', '41')).to.equal(42);
      await send('HINCRBY', 'h', 'big', '9223372036854775807');
      expect(await send('HGET', 'h', 'big')).to.equal('9223372036854775807');
      expect(await send('HINCRBY', 'h', 'big', '1')).to.deep.equal({ error: 'ERR increment or decrement would overflow' });
      expect(await send('HINCRBYFLOAT', 'h', 'fl', '10.5')).to.equal('10.5');
      expect(await send('HINCRBYFLOAT', 'h', 'fl', '0.1')).to.equal('10.6');
      await send('HSET', 'h', 's', 'abc');
      expect(await send('HINCRBY', 'h', 's', '1')).to.deep.equal({ error: 'ERR hash value is not an integer' });
      expect(await send('HINCRBYFLOAT', 'h', 's', '1')).to.deep.equal({ error: 'ERR hash value is not a float' });
      expect(await send('HSTRLEN', 'h', 's')).to.equal(3);
      expect(await send('HEXISTS', 'h', 's')).to.equal(1);
      expect(await send('HRANDFIELD', 'h', '-5')).to.have.length(5);
      expect(await send('HRANDFIELD', 'h', '10', 'WITHVALUES')).to.have.length(8);
      expect(await send('HRANDFIELD', 'h', '1', 'x')).to.deep.equal({ error: 'ERR syntax error' });
      expect(await send('HRANDFIELD', 'nokey')).to.equal(null);
      expect(await send('HSET', 'h', 'odd')).to.deep.equal({ error: "ERR wrong number of arguments for 'hset' command" });

      expect(await send('SADD', 'a', '3', '1', '2', '2')).to.equal(3);
      expect(await send('SMEMBERS', 'a')).to.deep.equal(['1', '2', '3']);
      expect(await send('SMISMEMBER', 'a', '1', '9')).to.deep.equal([1, 0]);
      expect(await send('SADD', 'b', '2', '3', '4')).to.equal(3);
      expect(await send('SINTERCARD', '2', 'a', 'b', 'LIMIT', '1')).to.equal(1);
      expect(await send('SINTERSTORE', 'c', 'a', 'b')).to.equal(2);
      expect(await send('SMEMBERS', 'c')).to.deep.equal(['2', '3']);
      expect(await send('SUNION', 'a', 'b', 'nokey')).to.deep.equal(['1', '2', '3', '4']);
      expect(await send('SDIFF', 'a', 'b')).to.deep.equal(['1']);
      expect(await send('SINTERSTORE', 'c', 'a', 'nokey')).to.equal(0);
      expect(await send('EXISTS', 'c')).to.equal(0);
      expect(await send('SMOVE', 'a', 'b', '1')).to.equal(1);
      expect(await send('SCARD', 'b')).to.equal(4);
      expect(await send('SRANDMEMBER', 'b', '-6')).to.have.length(6);
      expect(await send('SPOP', 'b', '10')).to.have.length(4);
      expect(await send('EXISTS', 'b')).to.equal(0);
      expect(await send('SPOP', 'a', '-1')).to.deep.equal({ error: 'ERR value is out of range, must be positive' });
      expect(await send('SINTERCARD', '0', 'a')).to.deep.equal({ error: 'ERR numkeys should be greater than 0' });
    });

    it('merges a pipeline of hash reads and writes into a statement per kind, each key answered apart', async function () {
      await send('SET', 'str', 'v');
      await send('HSET', 'old', 'stale', '1');
      await send('PEXPIRE', 'old', '10');
      now += 10;
      const pipeline: string[][] = [];
      for (let i = 0; i < 20; i++) pipeline.push(['HSET', `h${i}`, 'a', String(i), 'b', 'x', 'a', String(i + 1)]);
      pipeline.push(['HMSET', 'str', 'f', 'v'], ['HSET', 'old', 'fresh', '2'], ['HMSET', 'new', 'f', 'v']);
      for (let i = 0; i < 20; i++) pipeline.push(['HGETALL', `h${i}`], ['HMGET', `h${i}`, 'b', 'zz', 'a'], ['HGET', `h${i}`, 'a']);
      pipeline.push(
        ['HGETALL', 'str'],
        ['HGET', 'str', 'f'],
        ['HGETALL', 'missing'],
        ['HMGET', 'missing', 'f'],
        ['HGET', 'missing', 'f'],
        ['HGETALL', 'old'],
      );
      const { statements } = await sqlWorkDuring(client, async () => {
        client.sendRaw(Buffer.concat(pipeline.map((argv) => encodeCommand(argv))));
        const replies: unknown[] = [];
        for (const _ of pipeline) replies.push(toStrings(await client.readReply()));
        expect(replies.slice(0, 20)).to.deep.equal(Array(20).fill(2));
        expect(replies.slice(20, 23)).to.deep.equal([WRONGTYPE, 1, 'OK']);
        for (let i = 0; i < 20; i++) {
          expect(replies.slice(23 + 3 * i, 26 + 3 * i)).to.deep.equal([
            ['a', String(i + 1), 'b', 'x'],
            ['x', null, String(i + 1)],
            String(i + 1),
          ]);
        }
        expect(replies.slice(83)).to.deep.equal([WRONGTYPE, WRONGTYPE, [], [null], null, ['fresh', '2']]);
      });
      // The expired hash and the string are written one by one after the merged statements.
      expect(statements).to.be.below(backend === 'postgres' ? 25 : 200);
    });

    it('names the encoding Redis 7.0 would use for the same contents (OBJECT ENCODING)', async function () {
      await send('SET', 'i', '-123');
      await send('SET', 'e', 'x'.repeat(44));
      await send('SET', 'r', 'x'.repeat(45));
      await send('SADD', 'ints', '3', '-1');
      await send('SADD', 'words', '3', 'a');
      await send('HSET', 'small', 'f', 'x'.repeat(64));
      await send('HSET', 'wide', 'f', 'x'.repeat(65));
      const got = [];
      for (const k of ['i', 'e', 'r', 'ints', 'words', 'small', 'wide', 'none']) got.push(await send('OBJECT', 'ENCODING', k));
      expect(got).to.deep.equal(['int', 'embstr', 'raw', 'intset', 'hashtable', 'listpack', 'hashtable', null]);
    });

    it('answers RESP3 in native shapes', async function () {
      await send('HSET', 'h', 'f', 'v');
      await send('SADD', 's', 'm');
      const out = (
        await rawExchange(respql.port, 'HELLO 3\r\nHGETALL h\r\nSMEMBERS s\r\nHRANDFIELD h -1 WITHVALUES\r\nHGETALL nokey\r\n', {
          untilBytes: '%0\r\n',
        })
      ).toString();
      expect(out).to.contain('%1\r\n$1\r\nf\r\n$1\r\nv\r\n~1\r\n$1\r\nm\r\n*1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n%0\r\n');
    });

    it('makes WATCH see a change to the fields of a hash', async function () {
      await send('HSET', 'h', 'f', '1');
      const other = await RawClient.connect(respql.port);
      try {
        expect(await send('WATCH', 'h')).to.equal('OK');
        expect(toStrings(await other.send('HSET', 'h', 'f', '2'))).to.equal(0);
        await send('MULTI');
        await send('HGET', 'h', 'f');
        expect(await send('EXEC')).to.equal(null);
        // Unchanged: EXEC runs.
        await send('WATCH', 'h');
        await send('MULTI');
        await send('HGET', 'h', 'f');
        expect(await send('EXEC')).to.deep.equal(['2']);
      } finally {
        await other.close();
      }
    });

    it('copies, scans and types keys of every kind', async function () {
      await send('HSET', 'h', 'f', 'v');
      await send('SADD', 's', 'x', 'y');
      await send('SET', 'str', '1');
      expect(await send('COPY', 'h', 'h2')).to.equal(1);
      expect(await send('COPY', 's', 'h2')).to.equal(0);
      expect(await send('COPY', 's', 'h2', 'REPLACE')).to.equal(1);
      expect(await send('TYPE', 'h2')).to.equal('set');
      expect(await rows('sessions_hash_fields', 'h2')).to.equal(0);
      expect(await send('RENAMENX', 'h', 'h2')).to.equal(0);
      expect(await send('RENAME', 'str', 'h2')).to.equal('OK');
      expect(await send('GET', 'h2')).to.equal('1');
      expect(await rows('sessions_set_members', 'h2')).to.equal(0);
      const scanned = (await send('SCAN', '0', 'TYPE', 'set', 'COUNT', '100')) as [string, string[]];
      expect(scanned[1]).to.deep.equal(['s']);
      expect(((await send('SCAN', '0', 'TYPE', 'hash', 'COUNT', '100')) as [string, string[]])[1]).to.deep.equal(['h']);
      expect(await send('DBSIZE')).to.equal(3);
      expect(await send('SSCAN', 's', '0', 'MATCH', 'x')).to.deep.equal(['0', ['x']]);
      expect(await send('HSCAN', 'h', '0')).to.deep.equal(['0', ['f', 'v']]);
      expect(await send('HSCAN', 'h', '0', 'NOVALUES')).to.deep.equal(['0', ['f']]);
      expect(await send('HSCAN', 'str', 'x')).to.deep.equal({ error: 'ERR invalid cursor' });
    });

    it('keeps a 20,000-field hash workable: HSCAN pages, HDEL of one field touches one row', async function () {
      const n = 20_000;
      for (let start = 0; start < n; start += 1000) {
        const argv = ['HSET', 'big'];
        for (let i = start; i < start + 1000; i++) argv.push(`f${i}`, `v${i}`);
        await send(...argv);
      }
      expect(await send('HLEN', 'big')).to.equal(n);
      const seen = new Set<string>();
      let cursor = '0';
      let pages = 0;
      do {
        const [next, items] = (await send('HSCAN', 'big', cursor, 'COUNT', '1000')) as [string, string[]];
        for (let i = 0; i < items.length; i += 2) seen.add(items[i]);
        cursor = next;
        pages++;
      } while (cursor !== '0');
      expect(seen.size).to.equal(n);
      expect(pages).to.be.within(20, 21);
      const started = performance.now();
      expect(await send('HDEL', 'big', 'f7')).to.equal(1);
      expect(performance.now() - started).to.be.below(200);
      expect(await send('HGET', 'big', 'f7')).to.equal(null);
      expect(await send('HGET', 'big', 'f8')).to.equal('v8');
      expect(await send('DEL', 'big')).to.equal(1);
      expect(await rows('sessions_hash_fields', 'big')).to.equal(0);
    });
  });
}
