/**
 * Key and string commands against each backend (SQLite file, real PostgreSQL), with an
 * injected clock so that expiry is exact: expired rows must be invisible to every command.
 */
import { expect } from 'chai';
import { MAX_EXPIRY_MS } from '../../src/commands/args';
import { MARIADB_LAST_EXPIRY_MS } from '../../src/store/dialects/mariadb';
import { isErrorReply, RawClient, toStrings } from '../support/resp-client';
import { BACKENDS, startRespql, type RunningRespql } from '../support/respql';
import { freshDatabase } from '../support/postgres';

const T0 = 1_700_000_000_000;

for (const backend of BACKENDS) {
  describe(`key and string commands on ${backend}`, function () {
    this.timeout(30_000);
    let now = T0;
    let respql: RunningRespql;
    let client: RawClient;
    const send = async (...argv: (string | Buffer)[]): Promise<unknown> => toStrings(await client.send(...argv));

    before(async function () {
      respql = await startRespql(backend, { clock: () => now });
      client = await RawClient.connect(respql.port);
    });
    after(async function () {
      await client?.close();
      await respql?.stop();
    });
    beforeEach(async function () {
      now = T0;
      expect(await send('FLUSHALL')).to.equal('OK');
    });

    it('times expiry exactly and hides expired keys from every command', async function () {
      await send('SET', 'k', 'v');
      expect(await send('PEXPIRE', 'k', '1000')).to.equal(1);
      expect(await send('PTTL', 'k')).to.equal(1000);
      expect(await send('PEXPIRETIME', 'k')).to.equal(T0 + 1000);
      expect(await send('EXPIRETIME', 'k')).to.equal(Math.floor((T0 + 1000 + 500) / 1000));
      now += 999;
      expect(await send('PTTL', 'k')).to.equal(1);
      expect(await send('EXISTS', 'k')).to.equal(1);
      now += 1;
      expect(await send('GET', 'k')).to.equal(null);
      expect(await send('EXISTS', 'k', 'k')).to.equal(0);
      expect(await send('TOUCH', 'k')).to.equal(0);
      expect(await send('TYPE', 'k')).to.equal('none');
      expect(await send('TTL', 'k')).to.equal(-2);
      expect(await send('EXPIRETIME', 'k')).to.equal(-2);
      expect(await send('STRLEN', 'k')).to.equal(0);
      expect(await send('GETRANGE', 'k', '0', '-1')).to.equal('');
      expect(await send('MGET', 'k')).to.deep.equal([null]);
      expect(await send('KEYS', '*')).to.deep.equal([]);
      expect(await send('SCAN', '0')).to.deep.equal(['0', []]);
      expect(await send('RANDOMKEY')).to.equal(null);
      expect(await send('DBSIZE')).to.equal(0);
      expect(await send('PERSIST', 'k')).to.equal(0);
      expect(await send('EXPIRE', 'k', '100')).to.equal(0);
      expect(await send('GETEX', 'k', 'PERSIST')).to.equal(null);
      expect(await send('GETDEL', 'k')).to.equal(null);
      expect(await send('RENAME', 'k', 'k2')).to.deep.equal({ error: 'ERR no such key' });
      expect(await send('COPY', 'k', 'k2')).to.equal(0);
      expect(await send('UNLINK', 'k')).to.equal(0);
    });

    it('writes over an expired key as if it were absent (no TTL inherited)', async function () {
      const expireAll = async () => {
        for (const k of ['i', 'f', 'a', 's', 'n', 'm', 'x']) await send('SET', k, 'old', 'PX', '10');
        now += 10;
      };
      await expireAll();
      expect(await send('INCR', 'i')).to.equal(1);
      expect(await send('INCRBYFLOAT', 'f', '1.5')).to.equal('1.5');
      expect(await send('APPEND', 'a', 'new')).to.equal(3);
      expect(await send('SETRANGE', 's', '2', 'x')).to.equal(3);
      expect(await send('GET', 's')).to.equal('\u0000\u0000x');
      expect(await send('SETNX', 'n', 'new')).to.equal(1);
      expect(await send('MSETNX', 'm', '1', 'x', '2')).to.equal(1);
      for (const k of ['i', 'f', 'a', 's', 'n', 'm', 'x']) expect(await send('TTL', k), k).to.equal(-1);
      await expireAll();
      expect(await send('GETSET', 'x', 'y')).to.equal(null);
      expect(await send('COPY', 'x', 'm')).to.equal(1);
      expect(await send('RENAMENX', 'x', 'n')).to.equal(1);
      expect(await send('MGET', 'x', 'm', 'n')).to.deep.equal([null, 'y', 'y']);
    });

    it('keeps the exact expiry through INCR, APPEND, SETRANGE, RENAME and COPY', async function () {
      await send('SET', 'k', '1', 'PX', '5000');
      await send('INCR', 'k');
      await send('INCRBYFLOAT', 'k', '0.5');
      await send('APPEND', 'k', '0');
      await send('SETRANGE', 'k', '0', '9');
      await send('RENAME', 'k', 'r');
      await send('COPY', 'r', 'c');
      expect(await send('GET', 'c')).to.equal('9.50');
      expect(await send('PEXPIRETIME', 'r')).to.equal(T0 + 5000);
      expect(await send('PEXPIRETIME', 'c')).to.equal(T0 + 5000);
    });

    it('applies GT/LT/NX/XX against the exact current expiry', async function () {
      await send('SET', 'k', 'v', 'PX', '5000');
      expect(await send('PEXPIRE', 'k', '5000', 'GT')).to.equal(0);
      expect(await send('PEXPIRE', 'k', '5000', 'LT')).to.equal(0);
      expect(await send('PEXPIRE', 'k', '5001', 'GT')).to.equal(1);
      expect(await send('PEXPIRE', 'k', '4999', 'LT')).to.equal(1);
      expect(await send('PEXPIREAT', 'k', String(T0), 'LT')).to.equal(1);
      expect(await send('EXISTS', 'k')).to.equal(0);
      await send('SET', 'k', 'v');
      expect(await send('PEXPIREAT', 'k', String(T0 + 1))).to.equal(1);
      expect(await send('PTTL', 'k')).to.equal(1);
      expect(await send('PEXPIREAT', 'k', String(T0))).to.equal(1);
      expect(await send('EXISTS', 'k')).to.equal(0);
    });

    it('GETEX EXAT/PXAT at or before now deletes the key; relative times move it', async function () {
      await send('SET', 'k', 'v');
      expect(await send('GETEX', 'k', 'PX', '250')).to.equal('v');
      expect(await send('PTTL', 'k')).to.equal(250);
      expect(await send('GETEX', 'k', 'PXAT', String(T0 + 1))).to.equal('v');
      expect(await send('PTTL', 'k')).to.equal(1);
      expect(await send('GETEX', 'k', 'PXAT', String(T0))).to.equal('v');
      expect(await send('EXISTS', 'k')).to.equal(0);
    });

    // MariaDB's DATETIME ends with year 9999.
    const last = backend === 'mariadb' ? MARIADB_LAST_EXPIRY_MS : MAX_EXPIRY_MS;
    it(`stores expiries beyond year ${new Date(last).getUTCFullYear()} as that date (documented difference)`, async function () {
      await send('SET', 'k', 'v');
      expect(await send('PEXPIREAT', 'k', '9223372036854775807')).to.equal(1);
      expect(await send('EXISTS', 'k')).to.equal(1);
      expect(await send('PEXPIRETIME', 'k')).to.equal(last);
      expect(await send('SET', 'j', 'v', 'PXAT', '9000000000000000000')).to.equal('OK');
      expect(await send('PEXPIRETIME', 'j')).to.equal(last);
    });

    it('SCAN visits every key that lives through the iteration, with writes in between', async function () {
      const keys = Array.from({ length: 60 }, (_, i) => `key:${i}`);
      await send('MSET', ...keys.flatMap((k) => [k, 'v']));
      const seen = new Set<string>();
      let cursor = '0';
      let round = 0;
      do {
        const [next, page] = (await send('SCAN', cursor, 'COUNT', '7')) as [string, string[]];
        expect(next).to.match(/^(0|[1-9][0-9]*)$/);
        expect(page.length).to.be.at.most(7);
        page.forEach((k) => seen.add(k));
        // Churn: delete some not-yet-seen keys and add new ones while iterating.
        await send('DEL', `key:${59 - round}`);
        await send('SET', `new:${round}`, 'v');
        cursor = next;
        round++;
      } while (cursor !== '0' && round < 100);
      expect(cursor).to.equal('0');
      const survivors = keys.filter((_, i) => i < 59 - round + 1);
      for (const k of survivors) expect(seen.has(k), k).to.equal(true);
    });

    it('SCAN and KEYS MATCH treat LIKE specials and case literally', async function () {
      await send('MSET', 'a_b:1', 'v', 'axb:1', 'v', 'A_B:2', 'v', '100%', 'v', '1000', 'v', 'x\\y', 'v');
      const scanAll = async (...opts: string[]) => {
        const out: string[] = [];
        let cursor = '0';
        do {
          const [next, page] = (await send('SCAN', cursor, ...opts, 'COUNT', '2')) as [string, string[]];
          out.push(...page);
          cursor = next;
        } while (cursor !== '0');
        return out.sort();
      };
      expect(await scanAll('MATCH', 'a_b*')).to.deep.equal(['a_b:1']);
      expect(await scanAll('MATCH', '100%')).to.deep.equal(['100%']);
      expect(await scanAll('MATCH', 'x\\\\y')).to.deep.equal(['x\\y']);
      expect(await scanAll('MATCH', '*', 'TYPE', 'string')).to.have.length(6);
      expect(await scanAll('TYPE', 'list')).to.deep.equal([]);
      expect(((await send('KEYS', 'a_b*')) as string[]).sort()).to.deep.equal(['a_b:1']);
      expect(((await send('KEYS', '[aA]_[bB]*')) as string[]).sort()).to.deep.equal(['A_B:2', 'a_b:1']);
      expect(await send('SCAN', '9007199254740992')).to.deep.equal(['0', []]);
    });

    it('keeps binary values byte for byte through APPEND, SETRANGE, GETRANGE, GETDEL, COPY', async function () {
      const bin = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x0d, 0x0a]);
      await client.send('APPEND', 'b', bin);
      await client.send('APPEND', 'b', bin);
      expect(await client.send('STRLEN', 'b')).to.equal(12);
      await client.send('SETRANGE', 'b', '14', bin);
      await client.send('COPY', 'b', 'c');
      const expected = Buffer.concat([bin, bin, Buffer.alloc(2), bin]);
      expect(await client.send('GET', 'c')).to.deep.equal(expected);
      expect(await client.send('GETRANGE', 'c', '-6', '-1')).to.deep.equal(bin);
      expect(await client.send('GETDEL', 'b')).to.deep.equal(expected);
    });
  });
}

describe('key and string commands: several respql instances on one PostgreSQL database', function () {
  this.timeout(60_000);
  let a: RunningRespql;
  let b: RunningRespql;
  const clients: RawClient[] = [];

  before(async function () {
    const url = await freshDatabase();
    a = await startRespql('postgres', { databaseUrl: url });
    b = await startRespql('postgres', { databaseUrl: url, migrate: false });
    for (let i = 0; i < 8; i++) clients.push(await RawClient.connect(i % 2 ? a.port : b.port));
  });
  after(async function () {
    await Promise.all(clients.map((c) => c.close()));
    await b?.stop();
    await a?.stop();
  });

  it('read-modify-write commands lose no update', async function () {
    const rounds = 40;
    await Promise.all(
      clients.map(async (c) => {
        const pending: Promise<unknown>[] = [];
        for (let i = 0; i < rounds; i++) {
          pending.push(c.send('INCR', 'counter'), c.send('INCRBYFLOAT', 'float', '0.5'), c.send('APPEND', 'log', 'x'));
          pending.push(c.send('SETRANGE', 'range', String(i), 'y'));
        }
        // An error reply (a database timeout, say) would be a lost update with its cause named.
        expect((await Promise.all(pending)).filter(isErrorReply)).to.deep.equal([]);
      }),
    );
    const c = clients[0];
    expect(toStrings(await c.send('GET', 'counter'))).to.equal(String(clients.length * rounds));
    expect(toStrings(await c.send('GET', 'float'))).to.equal(String(clients.length * rounds * 0.5));
    expect(await c.send('STRLEN', 'log')).to.equal(clients.length * rounds);
    expect(await c.send('STRLEN', 'range')).to.equal(rounds);
  });

  it('SPOP, SMOVE and SUNIONSTORE take each member once across instances', async function () {
    const members = Array.from({ length: 160 }, (_, i) => `m${i}`);
    await clients[0].send('SADD', 'pool', ...members);
    await clients[0].send('SADD', 'moving', ...members);
    const popped = await Promise.all(
      clients.map(async (c, i) => {
        const pending: Promise<unknown>[] = [];
        for (let n = 0; n < members.length / clients.length; n++) {
          pending.push(c.send('SPOP', 'pool'), c.send('SMOVE', 'moving', `moved:${i}`, members[n * clients.length + i]));
          pending.push(c.send('SUNIONSTORE', 'union', 'union', `moved:${i}`));
        }
        const replies = await Promise.all(pending);
        expect(replies.filter(isErrorReply)).to.deep.equal([]);
        return replies.filter((_, k) => k % 3 === 0).map((r) => String(toStrings(r as never)));
      }),
    );
    const all = popped.flat();
    // Every member popped once: a pop that two instances both made would repeat one.
    expect(new Set(all).size).to.equal(members.length);
    expect(await clients[0].send('EXISTS', 'pool', 'moving')).to.equal(0);
    expect(await clients[0].send('SCARD', 'union')).to.equal(members.length);
  });

  it('MSETNX and RENAMENX let exactly one contender win', async function () {
    const replies = await Promise.all(clients.map((c, i) => c.send('MSETNX', 'lock:a', String(i), 'lock:b', String(i))));
    expect(replies.filter((r) => r === 1)).to.have.length(1);
    const [va, vb] = toStrings(await clients[0].send('MGET', 'lock:a', 'lock:b')) as string[];
    expect(va).to.equal(vb);
    await clients[0].send('SET', 'src', 'v');
    const moved = await Promise.all(clients.map((c, i) => c.send('RENAMENX', 'src', `dst:${i}`)));
    expect(moved.filter((r) => r === 1)).to.have.length(1);
    expect(moved.filter((r) => r !== 1).every((r) => JSON.stringify(r) === JSON.stringify({ error: 'ERR no such key' }))).to.equal(true);
  });
});
