/**
 * Neighbouring plain GETs (and MGET) read many keys in one statement; on SQLite the values come
 * back packed into one buffer and are cut apart in respql (Dialect.packedGetMany). Every value
 * must come back byte for byte, in the keys' order, with null for a missing or expired key.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { expect } from 'chai';
import { encodeCommand, RawClient, toStrings } from '../support/resp-client';
import { BACKENDS, startRespql, type RunningRespql } from '../support/respql';
import { prng } from '../support/prng';
import { createServer } from '../../src';

const T0 = 1_700_000_000_000;

for (const backend of BACKENDS) {
  describe(`merged plain GETs on ${backend}`, function () {
    this.timeout(60_000);
    let now = T0;
    let respql: RunningRespql;
    let client: RawClient;

    before(async function () {
      respql = await startRespql(backend, { clock: () => now });
      client = await RawClient.connect(respql.port);
    });
    after(async function () {
      await client?.close();
      await respql?.stop();
    });

    it('returns every value of a merged run byte for byte, in order, null for missing and expired keys', async function () {
      const random = prng(7);
      const values = new Map<string, Buffer>();
      const set = async (key: string, value: Buffer): Promise<void> => {
        values.set(key, value);
        expect(toStrings(await client.send('SET', key, value))).to.equal('OK');
      };
      await set('empty', Buffer.alloc(0));
      await set('all-bytes', Buffer.from(Array.from({ length: 256 }, (_, i) => i)));
      await set('not-utf8', Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28, 0x00]));
      const randomBytes = (length: number): Buffer => {
        const value = Buffer.alloc(length);
        for (let j = 0; j < value.length; j++) value[j] = Math.floor(random() * 256);
        return value;
      };
      for (let i = 0; i < 40; i++) await set(`k${i}`, randomBytes(Math.floor(random() * 5000)));
      // Around the size past which SQLite leaves a value out of the pack and reads it alone.
      for (const length of [65_535, 65_536, 65_537, 300_000]) await set(`big${length}`, randomBytes(length));
      await client.send('SET', 'expired', 'gone', 'PX', '10');
      now += 10;

      // Each key twice, and keys that are not there, in a scrambled order.
      const asked = [...values.keys(), 'missing', 'expired', ...[...values.keys()].reverse(), 'missing'];
      const expected = asked.map((key) => values.get(key) ?? null);
      // One write: the whole pipeline arrives in one I/O turn, so the GETs share a batch.
      client.sendRaw(Buffer.concat(asked.map((key) => encodeCommand(['GET', key]))));
      for (const [i, key] of asked.entries()) expect(await client.readReply(), `GET ${key} (#${i})`).to.deep.equal(expected[i]);
      const info = toStrings(await client.send('INFO', 'respql')) as string;
      expect(Number(/sql_max_batch:(\d+)/.exec(info)?.[1]), info).to.be.greaterThan(1);

      expect(await client.send('MGET', ...asked)).to.deep.equal(expected);
      expect(await client.send('MGET', 'missing', 'expired')).to.deep.equal([null, null]);
    });

    it('answers an MGET of more keys than one packed read holds', async function () {
      for (let i = 0; i < 1500; i++) await client.send('SET', `m${i}`, `value ${i}`);
      const asked = Array.from({ length: 2600 }, (_, i) => `m${(i * 7) % 1700}`);
      const expected = asked.map((key) => (Number(key.slice(1)) < 1500 ? Buffer.from(`value ${key.slice(1)}`) : null));
      expect(await client.send('MGET', ...asked)).to.deep.equal(expected);
    });
  });
}

describe('merged plain GETs on sqlite: a value written by SQL as text', function () {
  this.timeout(30_000);
  let respql: RunningRespql;

  before(async function () {
    respql = await startRespql('sqlite');
  });
  after(async function () {
    await respql?.stop();
  });

  it('returns a value an SQL user stored as text as its UTF-8 bytes', async function () {
    const client = await RawClient.connect(respql.port);
    try {
      await client.send('SET', 'a', 'x');
      await client.send('SET', 'b', 'y');
      await client.send('SET', 'c', 'z');
      await respql.server.engine.knex.raw(`UPDATE sessions SET data = 'h\u00e9llo \u2603' WHERE token = 'a'`);
      // 70,000 bytes of text: past the packed size, so read on its own.
      await respql.server.engine.knex.raw(`UPDATE sessions SET data = replace(hex(zeroblob(35000)), '00', '\u00e9') WHERE token = 'c'`);
      const expected = [Buffer.from('h\u00e9llo \u2603'), Buffer.from('y'), Buffer.from('\u00e9'.repeat(35_000))];
      expect(await client.send('MGET', 'a', 'b', 'c')).to.deep.equal(expected);
      client.sendRaw(Buffer.concat(['a', 'b', 'c'].map((key) => encodeCommand(['GET', key]))));
      expect([await client.readReply(), await client.readReply(), await client.readReply()]).to.deep.equal(expected);
    } finally {
      await client.close();
    }
  });
});

describe('a SQLite database in another text encoding', function () {
  it('is refused at start with a message naming the encoding', async function () {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'respql-utf16-'));
    try {
      const file = path.join(dir, 'utf16.sqlite');
      const db = new Database(file);
      db.pragma("encoding = 'UTF-16le'");
      db.exec('CREATE TABLE t (x)');
      db.close();
      const server = createServer({ databaseUrl: file, port: 0, cleanupIntervalMs: 0 });
      let error: unknown;
      await server.listen().catch((err: unknown) => (error = err));
      await server.close();
      expect(String(error)).to.match(/needs a UTF-8 SQLite database; .*utf16\.sqlite is UTF-16le/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
