/**
 * Proves the test harness itself: the throwaway PostgreSQL cluster and MariaDB server, the
 * throwaway redis-server and the raw RESP client. If these fail, every other
 * test's failure is suspect.
 */
import { expect } from 'chai';
import { createConnection } from 'mysql2/promise';
import { Client } from 'pg';
import { freshMariadbDatabase } from './mariadb';
import { freshDatabase, sharedPostgres } from './postgres';
import { startRedisServer, type RedisServer } from './redis-server';
import { RawClient, encodeCommand, rawExchange, toStrings } from './resp-client';

describe('test harness', function () {
  describe('postgres', function () {
    it('starts the shared cluster and answers select 1', async function () {
      // The first caller pays for initdb + startup, which a busy CI machine can make slow.
      this.timeout(60_000);
      const { url } = await sharedPostgres();
      expect(url).to.match(/^postgres:\/\//);
      const client = new Client({ connectionString: url });
      await client.connect();
      try {
        const result = await client.query<{ one: number }>('select 1 as one');
        expect(result.rows).to.deep.equal([{ one: 1 }]);
      } finally {
        await client.end();
      }
    });

    it('hands out separate fresh databases', async function () {
      const [a, b] = await Promise.all([freshDatabase(), freshDatabase()]);
      expect(a).to.not.equal(b);
      const client = new Client({ connectionString: a });
      await client.connect();
      try {
        const result = await client.query<{ name: string }>('select current_database() as name');
        expect(`/${result.rows[0].name}`).to.equal(new URL(a).pathname);
      } finally {
        await client.end();
      }
    });
  });

  describe('mariadb', function () {
    it('hands out separate fresh utf8mb4 databases on one durable server', async function () {
      // The first caller pays for mariadb-install-db + startup.
      this.timeout(60_000);
      const [a, b] = await Promise.all([freshMariadbDatabase(), freshMariadbDatabase()]);
      expect(a).to.not.equal(b);
      const client = await createConnection({ uri: a });
      try {
        const [rows] = await client.query(
          'SELECT DATABASE() AS name, @@character_set_database AS charset, @@innodb_flush_log_at_trx_commit AS flush',
        );
        expect(rows).to.deep.equal([{ name: new URL(a).pathname.slice(1), charset: 'utf8mb4', flush: 1 }]);
      } finally {
        await client.end();
      }
    });
  });

  describe('redis-server and RawClient', function () {
    let server: RedisServer;
    let client: RawClient | undefined;

    before(async function () {
      server = await startRedisServer({ args: ['--maxmemory', '100mb'] });
    });
    after(async function () {
      await server?.stop();
    });
    afterEach(async function () {
      await client?.close();
      client = undefined;
    });

    it('answers PING, SET and GET', async function () {
      client = await RawClient.connect(server.port);
      expect(toStrings(await client.send('PING'))).to.equal('PONG');
      expect(toStrings(await client.send('SET', 'k', Buffer.from([0, 255, 13, 10])))).to.equal('OK');
      expect(await client.send('GET', 'k')).to.deep.equal(Buffer.from([0, 255, 13, 10]));
      expect(await client.send('GET', 'missing')).to.equal(null);
      expect(await client.send('INCR', 'n')).to.equal(1);
    });

    it('passes extra server arguments', async function () {
      client = await RawClient.connect(server.port);
      expect(toStrings(await client.send('CONFIG', 'GET', 'maxmemory'))).to.deep.equal(['maxmemory', '104857600']);
    });

    it('resolves error replies as values, nested ones too', async function () {
      client = await RawClient.connect(server.port);
      const reply = await client.send('NOSUCHCOMMAND');
      expect(reply)
        .to.have.property('error')
        .that.matches(/^ERR unknown command/);
      await client.send('SET', 's', 'x');
      await client.send('MULTI');
      await client.send('INCR', 's');
      const exec = await client.send('EXEC');
      expect(exec).to.deep.equal([{ error: 'ERR value is not an integer or out of range' }]);
    });

    it('reads pipelined replies and raw bytes from one inbox, in order', async function () {
      client = await RawClient.connect(server.port);
      client.sendRaw(Buffer.concat([encodeCommand(['PING']), encodeCommand(['ECHO', 'hi']), Buffer.from('PING\r\n')]));
      expect(toStrings(await client.readReply())).to.equal('PONG');
      expect((await client.readRaw({ until: 'PONG\r\n' })).toString()).to.equal('$2\r\nhi\r\n+PONG\r\n');
    });

    it('sees the exact bytes before the server closes', async function () {
      client = await RawClient.connect(server.port);
      client.sendRaw('*1\r\n$4\r\nQUIT\r\n');
      expect((await client.readRawUntilClose()).toString()).to.equal('+OK\r\n');
    });

    it('rawExchange returns exactly +PONG for an inline PING', async function () {
      expect(await rawExchange(server.port, 'PING\r\n')).to.deep.equal(Buffer.from('+PONG\r\n'));
      expect(await rawExchange(server.port, 'PING\r\n', { untilBytes: 7 })).to.deep.equal(Buffer.from('+PONG\r\n'));
    });

    it('rawExchange captures RESP3 replies byte for byte', async function () {
      const bytes = await rawExchange(server.port, 'HELLO 3\r\nGET missing\r\n', { untilBytes: '_\r\n' });
      expect(bytes.toString('latin1'))
        .to.match(/^%7\r\n/)
        .and.match(/_\r\n$/);
    });
  });
});
