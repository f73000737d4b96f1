/**
 * What the MariaDB dialect must get right beyond the shared suite: keys compared byte for byte
 * (MariaDB's usual collations ignore trailing spaces and case), big hashes and sets written in
 * one statement each, expiries to the millisecond, and the durability check at start-up.
 */
import { expect } from 'chai';
import { createConnection } from 'mysql2/promise';
import { createServer } from '../../src';
import { freshMariadbDatabase } from '../support/mariadb';
import { RawClient, toStrings } from '../support/resp-client';
import { startRespql, type RunningRespql } from '../support/respql';

describe('MariaDB dialect', function () {
  this.timeout(30_000);
  let respql: RunningRespql;
  let client: RawClient;
  before(async function () {
    respql = await startRespql('mariadb');
    client = await RawClient.connect(respql.port);
  });
  after(async function () {
    await client?.close();
    await respql?.stop();
  });

  it('keeps keys apart that MariaDB collations would take for one (trailing space, case, accents, 4-byte characters)', async function () {
    const keys = ['k', 'k ', 'k  ', 'K', 'é', 'e', 'e\u0301', '😀', '😁', 'k😀'];
    for (const [i, key] of keys.entries()) await client.send('SET', key, `v${i}`);
    expect(toStrings(await client.send('MGET', ...keys))).to.deep.equal(keys.map((_, i) => `v${i}`));
    expect(toStrings(await client.send('DBSIZE'))).to.equal(keys.length);
    expect(toStrings(await client.send('DEL', 'k '))).to.equal(1);
    expect(toStrings(await client.send('EXISTS', 'k', 'k  '))).to.equal(2);
    // 'k😀' too: MariaDB's index range for LIKE 'k%' under this collation would miss it.
    const found = (toStrings(await client.send('KEYS', 'k*')) as string[]).sort();
    expect(found).to.deep.equal(['k', 'k  ', 'k😀']);
    const [cursor, page] = toStrings(await client.send('SCAN', '0', 'MATCH', 'k*', 'COUNT', '100')) as [string, string[]];
    expect([cursor, [...page].sort()]).to.deep.equal(['0', ['k', 'k  ', 'k😀']]);
    await client.send('HSET', 'h ', 'f', '1');
    await client.send('HSET', 'h', 'f', '2', 'f ', '3');
    expect(toStrings(await client.send('HGETALL', 'h'))).to.deep.equal(['f', '2', 'f ', '3']);
    expect(toStrings(await client.send('HGET', 'h ', 'f'))).to.equal('1');
  });

  it('keeps binary values, fields and members byte for byte', async function () {
    const bytes = Buffer.from([0, 255, 128, 10, 13, 32, 0]);
    await client.send('SET', 'bin', bytes);
    expect(Buffer.compare((await client.send('GET', 'bin')) as Buffer, bytes)).to.equal(0);
    await client.send('HSET', 'binh', bytes, bytes, Buffer.from([0]), Buffer.from([]));
    expect(await client.send('HGET', 'binh', Buffer.from([0]))).to.deep.equal(Buffer.from([]));
    expect(await client.send('HGET', 'binh', bytes)).to.deep.equal(bytes);
    expect(toStrings(await client.send('SADD', 'bins', bytes, Buffer.from([0, 255]), bytes))).to.equal(2);
    expect(toStrings(await client.send('SISMEMBER', 'bins', Buffer.from([0, 255, 128])))).to.equal(0);
  });

  it('writes a 20,000-field HSET and SADD whole, and counts new fields right', async function () {
    const pairs: string[] = [];
    for (let i = 0; i < 20_000; i++) pairs.push(`f${i}`, `v${i}`);
    expect(toStrings(await client.send('HSET', 'big', ...pairs))).to.equal(20_000);
    expect(toStrings(await client.send('HSET', 'big', 'f0', 'x', 'f19999', 'y', 'new', 'z'))).to.equal(1);
    expect(toStrings(await client.send('HLEN', 'big'))).to.equal(20_001);
    expect(toStrings(await client.send('HMGET', 'big', 'f0', 'f19998', 'f19999', 'new'))).to.deep.equal(['x', 'v19998', 'y', 'z']);
    const members = Array.from({ length: 20_000 }, (_, i) => `m${i}`);
    expect(toStrings(await client.send('SADD', 'bigs', ...members, 'm0'))).to.equal(20_000);
    expect(toStrings(await client.send('SCARD', 'bigs'))).to.equal(20_000);
    expect(toStrings(await client.send('SADD', 'bigs', 'm1', 'm20000'))).to.equal(1);
  });

  it('keeps expiries to the millisecond', async function () {
    const at = Date.now() + 86_400_123;
    await client.send('SET', 'ms', 'v', 'PXAT', String(at));
    expect(toStrings(await client.send('PEXPIRETIME', 'ms'))).to.equal(at);
  });

  it('refuses a server whose COMMIT is not durable (innodb_flush_log_at_trx_commit), unless --allow-lazy-commit', async function () {
    const url = await freshMariadbDatabase();
    const admin = await createConnection({ uri: url });
    await admin.query('SET GLOBAL innodb_flush_log_at_trx_commit = 2');
    try {
      const server = createServer({ databaseUrl: url, port: 0, cleanupIntervalMs: 0 });
      try {
        await server.listen();
        expect.fail('respql started on a server with innodb_flush_log_at_trx_commit = 2');
      } catch (err) {
        expect(String(err)).to.match(/innodb_flush_log_at_trx_commit is 2: .* --allow-lazy-commit yes/);
      } finally {
        await server.close().catch(() => undefined);
      }
      const allowed = createServer({ databaseUrl: url, port: 0, cleanupIntervalMs: 0, allowLazyCommit: true });
      try {
        const { port } = await allowed.listen();
        const c = await RawClient.connect(port);
        expect(toStrings(await c.send('SET', 'lazy', 'v'))).to.equal('OK');
        await c.close();
      } finally {
        await allowed.close();
      }
    } finally {
      await admin.query('SET GLOBAL innodb_flush_log_at_trx_commit = 1');
      await admin.end();
    }
  });
});
