/**
 * Server and introspection commands against redis-server: CONFIG SET's grammar, checks and
 * error texts (several pairs at once, all or nothing), CONFIG GET after SET, CLIENT KILL's
 * filters, COMMAND GETKEYS / LIST / INFO, INFO's section order. Scripts that change a
 * setting put it back, since the servers are shared by the scripts.
 */
import { expect } from 'chai';
import { describeDifferential, runScript, type Script } from '../support/differential';
import { RawClient, rawExchange } from '../support/resp-client';
import { spawnRespql } from '../support/respql-process';
import { startRedisServer } from '../support/redis-server';
import { BACKENDS, startRespql, type RunningRespql } from '../support/respql';

const scripts: Script[] = [
  {
    name: 'CONFIG SET grammar and error texts',
    commands: [
      ['CONFIG', 'SET', 'foo', 'bar'],
      ['CONFIG', 'SET', 'timeout'],
      ['CONFIG', 'SET', 'timeout', '10', 'maxclients'],
      ['CONFIG', 'SET', 'timeout', 'abc'],
      ['CONFIG', 'SET', 'timeout', '-1'],
      ['CONFIG', 'SET', 'timeout', '1.5'],
      ['CONFIG', 'SET', 'timeout', '05'],
      ['CONFIG', 'SET', 'timeout', '+5'],
      ['CONFIG', 'SET', 'timeout', '2147483648'],
      ['CONFIG', 'SET', 'databases', '3'],
      ['CONFIG', 'SET', 'timeout', '10', 'timeout', '20'],
      ['CONFIG', 'SET', 'TIMEOUT', '5', 'timeout', '6'],
      ['CONFIG', 'SET', 'timeout', '5', 'foo', '6'],
      ['CONFIG', 'SET', 'timeout', 'x', 'foo', '5'],
      ['CONFIG', 'SET', 'foo', '5', 'databases', '2'],
      ['CONFIG', 'SET', 'maxclients', '0'],
      ['CONFIG', 'SET', 'maxclients', '4294967296'],
      ['CONFIG', 'SET', 'maxclients', '-1'],
      ['CONFIG', 'SET', 'loglevel', 'foo'],
      ['CONFIG', 'SET', 'loglevel', ''],
      ['CONFIG', 'SET', 'proto-max-bulk-len', '1kb'],
      ['CONFIG', 'SET', 'proto-max-bulk-len', 'abc'],
      ['CONFIG', 'SET', 'proto-max-bulk-len', '-5'],
      ['CONFIG', 'SET', 'client-query-buffer-limit', '1'],
      ['CONFIG', 'SET', 'client-output-buffer-limit', 'foo 0 0 0'],
      ['CONFIG', 'SET', 'client-output-buffer-limit', 'normal 0 0'],
      ['CONFIG', 'SET', 'client-output-buffer-limit', 'normal x 0 0'],
      ['CONFIG', 'SET', 'client-output-buffer-limit', 'normal 0 0 -1'],
      // All or nothing: a bad second value leaves the first unchanged.
      ['CONFIG', 'SET', 'timeout', '30', 'maxclients', '0'],
      ['CONFIG', 'GET', 'timeout'],
    ],
  },
  {
    name: 'CONFIG SET changes what CONFIG GET shows, several pairs at once',
    commands: [
      ['CONFIG', 'SET', 'timeout', '300', 'MAXCLIENTS', '500', 'loglevel', 'WARNING'],
      ['CONFIG', 'GET', 'timeout'],
      ['CONFIG', 'GET', 'maxclients'],
      ['CONFIG', 'GET', 'loglevel'],
      ['CONFIG', 'SET', 'proto-max-bulk-len', '2mb', 'client-query-buffer-limit', '1gb'],
      ['CONFIG', 'GET', 'proto-max-bulk-len'],
      ['CONFIG', 'GET', 'client-query-buffer-limit'],
      ['CONFIG', 'SET', 'timeout', '0', 'maxclients', '10000', 'loglevel', 'notice', 'proto-max-bulk-len', '512mb'],
      ['CONFIG', 'GET', 'timeout'],
      ['CONFIG', 'GET', 'maxclients'],
      ['CONFIG', 'GET', 'loglevel'],
      ['CONFIG', 'GET', 'proto-max-bulk-len'],
      ['CONFIG', 'SET', 'client-output-buffer-limit', 'pubsub 1mb 2k 3'],
      ['CONFIG', 'SET', 'client-output-buffer-limit', 'pubsub 33554432 8388608 60'],
      ['CONFIG', 'SET', 'save', ''],
      ['CONFIG', 'SET', 'appendfsync', 'always'],
      ['CONFIG', 'GET', 'nosuch*'],
      ['CONFIG', 'GET', 'databases', 'DATABASES', 'data*'],
    ],
  },
  {
    name: "CONFIG SET by Redis's units, bounds and error texts (memory values, integers, yes/no, enums)",
    commands: [
      ['CONFIG', 'SET', 'proto-max-bulk-len', '1000'],
      ['CONFIG', 'SET', 'proto-max-bulk-len', '99999999999999999999'],
      ['CONFIG', 'SET', 'proto-max-bulk-len', ''],
      ['CONFIG', 'SET', 'proto-max-bulk-len', '2x'],
      ['CONFIG', 'SET', 'proto-max-bulk-len', '1 mb'],
      ['CONFIG', 'SET', 'proto-max-bulk-len', '1MB'],
      ['CONFIG', 'GET', 'proto-max-bulk-len'],
      ['CONFIG', 'SET', 'proto-max-bulk-len', '1100k'],
      ['CONFIG', 'GET', 'proto-max-bulk-len'],
      ['CONFIG', 'SET', 'proto-max-bulk-len', '1g'],
      ['CONFIG', 'GET', 'proto-max-bulk-len'],
      ['CONFIG', 'SET', 'client-query-buffer-limit', '1000000000000000000000'],
      ['CONFIG', 'SET', 'client-query-buffer-limit', '2GB'],
      ['CONFIG', 'GET', 'client-query-buffer-limit'],
      ['CONFIG', 'SET', 'client-query-buffer-limit', '1gb'],
      ['CONFIG', 'SET', 'maxclients', '2k'],
      ['CONFIG', 'SET', 'timeout', '5s'],
      ['CONFIG', 'SET', 'protected-mode', 'maybe'],
      ['CONFIG', 'SET', 'protected-mode', 'YES'],
      ['CONFIG', 'GET', 'protected-mode'],
      ['CONFIG', 'SET', 'tls-auth-clients', 'maybe'],
      ['CONFIG', 'SET', 'appendfsync', 'sometimes'],
      ['CONFIG', 'SET', 'maxmemory-policy', 'lru'],
      ['CONFIG', 'SET', 'maxmemory', '1 gb'],
      // The first unknown, immutable or repeated name is the error, whatever follows.
      ['CONFIG', 'SET', 'databases', '2', 'foo', '5'],
      ['CONFIG', 'SET', 'timeout', '1', 'databases', '2', 'foo', '5'],
      ['CONFIG', 'SET', 'databases', '1'],
      ['CONFIG', 'SET', 'client-output-buffer-limit', 'normal 1mb 512kb 10'],
      ['CONFIG', 'SET', 'client-output-buffer-limit', 'replica 1mb 512kb 10'],
      ['CONFIG', 'GET', 'client-output-buffer-limit'],
      ['CONFIG', 'SET', 'client-output-buffer-limit', 'normal 0 0 0 slave 268435456 67108864 60'],
      ['CONFIG', 'GET', 'client-output-buffer-limit'],
      ['CONFIG', 'SET', 'proto-max-bulk-len', '512mb'],
    ],
  },
  {
    name: 'APPEND and SETRANGE refuse to build a string over proto-max-bulk-len; SET is bounded by the bulk length',
    commands: [
      ['CONFIG', 'SET', 'proto-max-bulk-len', '1mb'],
      ['SET', 'big', 'x'.repeat(600_000)],
      ['APPEND', 'big', 'y'.repeat(600_000)],
      ['STRLEN', 'big'],
      ['APPEND', 'big', 'y'.repeat(448_576)],
      ['APPEND', 'big', 'z'],
      ['STRLEN', 'big'],
      ['SETRANGE', 'range', '1048576', 'x'],
      ['SETRANGE', 'range', '1048575', 'x'],
      ['SETRANGE', 'range', '1048576', ''],
      ['SETRANGE', 'range', '1048570', 'abcdefg'],
      ['STRLEN', 'range'],
      ['EXISTS', 'nosuch'],
      ['CONFIG', 'SET', 'proto-max-bulk-len', '512mb'],
      ['APPEND', 'big', 'z'],
      ['DEL', 'big', 'range'],
    ],
  },
  {
    name: 'CLIENT KILL filters and errors',
    commands: [
      ['CLIENT', 'KILL', '1.2.3.4:5'],
      ['CLIENT', 'KILL', 'ADDR', '1.2.3.4:5'],
      ['CLIENT', 'KILL', 'SKIPME', 'maybe'],
      ['CLIENT', 'KILL', 'SKIPME', 'yes'],
      ['CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes'],
      ['CLIENT', 'KILL', 'TYPE', 'foo'],
      ['CLIENT', 'KILL', 'TYPE', 'pubsub'],
      ['CLIENT', 'KILL', 'USER', 'nobody'],
      ['CLIENT', 'KILL', 'ID', '0'],
      ['CLIENT', 'KILL', 'ID', '-5'],
      ['CLIENT', 'KILL', 'ID', 'x'],
      ['CLIENT', 'KILL', 'ID', '999999'],
      ['CLIENT', 'KILL', 'ID'],
      ['CLIENT', 'KILL', 'foo', 'bar'],
      ['CLIENT', 'KILL', 'LADDR', '1.1.1.1:1'],
      ['CLIENT', 'KILL', 'USER', 'default', 'ID', '999999'],
      ['CLIENT', 'NO-EVICT', 'on'],
      ['CLIENT', 'NO-EVICT', 'maybe'],
      ['CLIENT', 'REPLY', 'maybe'],
      ['CLIENT', 'REPLY', 'ON'],
      ['PING'],
    ],
  },
  {
    name: 'COMMAND GETKEYS, LIST FILTERBY, COUNT and INFO of unknown commands',
    commands: [
      ['COMMAND', 'GETKEYS', 'get', 'a'],
      ['COMMAND', 'GETKEYS', 'set', 'a', 'b'],
      ['COMMAND', 'GETKEYS', 'mset', 'a', '1', 'b', '2'],
      ['COMMAND', 'GETKEYS', 'get'],
      ['COMMAND', 'GETKEYS', 'ping', 'x'],
      ['COMMAND', 'GETKEYS', 'nosuch', 'a'],
      ['COMMAND', 'GETKEYS', 'get', 'a', 'b'],
      ['COMMAND', 'GETKEYS', 'set', 'a'],
      ['COMMAND', 'LIST', 'FILTERBY', 'aclcat', 'nosuch'],
      ['COMMAND', 'LIST', 'FILTERBY', 'module', 'x'],
      ['COMMAND', 'LIST', 'FILTERBY', 'foo', 'x'],
      ['COMMAND', 'LIST', 'x'],
      ['COMMAND', 'INFO', 'nosuch'],
      ['COMMAND', 'DOCS', 'nosuch'],
    ],
  },
  {
    name: 'TIME and LASTSAVE reply shapes',
    commands: [
      ['TIME', 'x'],
      ['LASTSAVE', 'x'],
    ],
  },
];

describeDifferential('server and introspection commands', scripts);

describe('differential vs redis-server: proto-max-bulk-len from the command line and CONFIG SET', function () {
  this.timeout(60_000);
  const bulkHeader = (bytes: number) => `*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${bytes}\r\n`;

  it('--proto-max-bulk-len 2mb: CONFIG GET answers 2097152 and a 3 MB bulk gets the protocol error', async () => {
    const args = ['--proto-max-bulk-len', '2mb'];
    const [redis, respql] = await Promise.all([startRedisServer({ args }), spawnRespql(['--database-url', ':memory:', ...args])]);
    try {
      for (const port of [redis.port, respql.port]) {
        expect(await runScript(port, [['CONFIG', 'GET', 'proto-max-bulk-len']])).to.deep.equal([['proto-max-bulk-len', '2097152']]);
        expect((await rawExchange(port, bulkHeader(3 * 1024 * 1024), { waitMs: 5000 })).toString()).to.equal(
          '-ERR Protocol error: invalid bulk length\r\n',
        );
        expect(
          (await rawExchange(port, bulkHeader(2 * 1024 * 1024) + 'x'.repeat(2 * 1024 * 1024) + '\r\n', { untilBytes: '\r\n' })).toString(),
        ).to.equal('+OK\r\n');
      }
    } finally {
      await Promise.all([redis.stop(), respql.stop()]);
    }
  });

  it('CONFIG SET proto-max-bulk-len applies to the connection that sent it at once', async () => {
    const [redis, respql] = await Promise.all([startRedisServer(), startRespql('sqlite')]);
    try {
      const replies = [];
      for (const port of [redis.port, respql.port]) {
        const set = '*4\r\n$6\r\nCONFIG\r\n$3\r\nSET\r\n$18\r\nproto-max-bulk-len\r\n$3\r\n1mb\r\n';
        replies.push((await rawExchange(port, set + bulkHeader(1024 * 1024 + 1), { waitMs: 5000 })).toString());
      }
      expect(replies).to.deep.equal([
        '+OK\r\n-ERR Protocol error: invalid bulk length\r\n',
        '+OK\r\n-ERR Protocol error: invalid bulk length\r\n',
      ]);
    } finally {
      await Promise.all([redis.stop(), respql.stop()]);
    }
  });
});

describe('differential vs redis-server: COMMAND INFO and INFO layout', function () {
  this.timeout(60_000);
  // Elements 8-10 (tips, key specs, subcommands) come from Redis's JSON files; respql does not reproduce them (README).
  const names = [
    'get',
    'set',
    'del',
    'expire',
    'flushdb',
    'keys',
    'dbsize',
    'scan',
    'multi',
    'exec',
    'watch',
    'ping',
    'hello',
    'lastsave',
    'time',
    'mset',
    'getex',
  ];
  it(names.join(' '), async () => {
    const [redis, respql] = await Promise.all([startRedisServer(), startRespql('sqlite')]);
    try {
      const script = names.map((name) => ['COMMAND', 'INFO', name]);
      const firstSeven = (replies: unknown[]) => replies.map((r) => (r as unknown[][])[0].slice(0, 7));
      expect(firstSeven(await runScript(respql.port, script))).to.deep.equal(firstSeven(await runScript(redis.port, script)));
    } finally {
      await Promise.all([redis.stop(), respql.stop()]);
    }
  });

  it('INFO answers the sections asked for once each, in its own order, with the same field names (clients)', async () => {
    const [redis, respql] = await Promise.all([startRedisServer(), startRespql('sqlite')]);
    try {
      const script = [
        ['SET', 'k', 'v', 'EX', '1000'],
        ['INFO', 'keyspace', 'CLIENTS', 'keyspace'],
      ];
      // Values vary (buffer sizes, TTLs): compare the names and the layout.
      const layout = (replies: unknown[]) => String(replies[1]).replace(/:[^\r]*\r\n/g, ':\r\n');
      expect(layout(await runScript(respql.port, script))).to.equal(layout(await runScript(redis.port, script)));
      expect(layout(await runScript(respql.port, script))).to.equal(
        '# Clients\r\nconnected_clients:\r\ncluster_connections:\r\nmaxclients:\r\nclient_recent_max_input_buffer:\r\n' +
          'client_recent_max_output_buffer:\r\nblocked_clients:\r\ntracking_clients:\r\nclients_in_timeout_table:\r\n\r\n# Keyspace\r\ndb0:\r\n',
      );
    } finally {
      await Promise.all([redis.stop(), respql.stop()]);
    }
  });
});

for (const backend of BACKENDS) {
  describe(`CONFIG SET at run time (${backend})`, function () {
    this.timeout(60_000);
    let respql: RunningRespql;
    let changes: string[];
    beforeEach(async () => {
      changes = [];
      respql = await startRespql(backend, { onConfigChange: (c) => changes.push(c.loglevel) });
    });
    afterEach(async () => respql.stop());

    it('timeout closes clients already connected once they are idle; 0 turns it off again', async () => {
      const idle = await RawClient.connect(respql.port);
      const admin = await RawClient.connect(respql.port);
      expect(String(await admin.send('CONFIG', 'SET', 'timeout', '1'))).to.equal('OK');
      expect(String(await idle.send('PING'))).to.equal('PONG');
      // The idle client is closed after about a second; the closed socket gives an empty read.
      const rest = await idle.readRawUntilClose(10_000);
      expect(rest.length).to.equal(0);
      // The admin connection was idle meanwhile too: a new one turns the timeout off.
      const admin2 = await RawClient.connect(respql.port);
      expect(String(await admin2.send('CONFIG', 'SET', 'timeout', '0'))).to.equal('OK');
      const late = await RawClient.connect(respql.port);
      await new Promise((r) => setTimeout(r, 1500));
      expect(String(await late.send('PING'))).to.equal('PONG');
      await Promise.all([admin.destroy(), admin2.close(), late.close()]);
    });

    it('maxclients refuses connections beyond the new limit', async () => {
      const admin = await RawClient.connect(respql.port);
      expect(String(await admin.send('CONFIG', 'SET', 'maxclients', '1'))).to.equal('OK');
      const refused = await RawClient.connect(respql.port);
      expect((await refused.readRawUntilClose(10_000)).toString()).to.equal('-ERR max number of clients reached\r\n');
      expect(String(await admin.send('CONFIG', 'SET', 'maxclients', '10'))).to.equal('OK');
      const accepted = await RawClient.connect(respql.port);
      expect(String(await accepted.send('PING'))).to.equal('PONG');
      await Promise.all([admin.close(), accepted.close()]);
    });

    it('requirepass: new connections must AUTH, the current one stays in; CONFIG GET never shows it; "" removes it', async () => {
      const admin = await RawClient.connect(respql.port);
      expect(String(await admin.send('CONFIG', 'SET', 'requirepass', 's3cret'))).to.equal('OK');
      expect(await admin.send('CONFIG', 'GET', 'requirepass')).to.deep.equal([Buffer.from('requirepass'), Buffer.from('')]);
      expect(String(await admin.send('PING'))).to.equal('PONG');
      const other = await RawClient.connect(respql.port);
      expect(await other.send('GET', 'k')).to.deep.equal({ error: 'NOAUTH Authentication required.' });
      expect(await other.send('AUTH', 'wrong')).to.deep.equal({ error: 'WRONGPASS invalid username-password pair or user is disabled.' });
      expect(String(await other.send('AUTH', 's3cret'))).to.equal('OK');
      expect(String(await admin.send('CONFIG', 'SET', 'requirepass', ''))).to.equal('OK');
      const open = await RawClient.connect(respql.port);
      expect(String(await open.send('PING'))).to.equal('PONG');
      expect(await open.send('AUTH', 'x')).to.deep.equal({
        error:
          'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?',
      });
      await Promise.all([admin.close(), other.close(), open.close()]);
    });

    it('loglevel reaches the embedding application (the CLI sets its logger from it)', async () => {
      const admin = await RawClient.connect(respql.port);
      expect(String(await admin.send('CONFIG', 'SET', 'loglevel', 'Debug'))).to.equal('OK');
      expect(changes).to.deep.equal(['debug']);
      expect(await admin.send('CONFIG', 'GET', 'loglevel')).to.deep.equal([Buffer.from('loglevel'), Buffer.from('debug')]);
      await admin.close();
    });

    it('deliberate difference (README): settings respql fixes accept only their current value', async () => {
      expect(
        await runScript(respql.port, [
          ['CONFIG', 'SET', 'appendonly', 'yes'],
          ['CONFIG', 'SET', 'appendonly', 'no'],
          ['CONFIG', 'SET', 'save', '3600 1'],
          ['CONFIG', 'SET', 'respql-cleanup-interval', '1000'],
        ]),
      ).to.deep.equal([
        'OK',
        { error: "ERR CONFIG SET failed (possibly related to argument 'appendonly') - can't set immutable config" },
        { error: "ERR CONFIG SET failed (possibly related to argument 'save') - can't set immutable config" },
        { error: "ERR CONFIG SET failed (possibly related to argument 'respql-cleanup-interval') - can't set immutable config" },
      ]);
    });

    it('LASTSAVE is now: every acknowledged write is already committed', async () => {
      const [lastsave] = await runScript(respql.port, [['LASTSAVE']]);
      expect(lastsave).to.be.within(Math.floor(Date.now() / 1000) - 5, Math.floor(Date.now() / 1000) + 1);
    });

    it('COMMAND LIST names subcommands too, and FILTERBY ACLCAT selects by category', async () => {
      const [all, strings] = (await runScript(respql.port, [
        ['COMMAND', 'LIST'],
        ['COMMAND', 'LIST', 'FILTERBY', 'ACLCAT', 'string'],
      ])) as string[][];
      expect(all).to.include.members(['get', 'config', 'config|set', 'config|get', 'client|kill', 'lastsave']);
      expect(strings).to.include.members(['get', 'set', 'incrbyfloat']);
      expect(strings).to.not.include('del');
      const [configs] = (await runScript(respql.port, [['COMMAND', 'LIST', 'FILTERBY', 'PATTERN', 'config|*']])) as string[][];
      expect(configs.sort()).to.deep.equal(['config|get', 'config|resetstat', 'config|set']);
    });
  });
}
