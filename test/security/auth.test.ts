/**
 * Access control: --requirepass (the `default` user) and named users (--user), with
 * Redis's ACL semantics for the users respql has. The replies are checked against a real
 * redis-server configured the same way (`user alice on >pass ~* +@all`), then with the
 * clients people use, and no password may ever come back out (replies, INFO, CONFIG GET,
 * CLIENT LIST, logs, configuration errors).
 */
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { createClient as createClient6 } from 'redis';
import { createClient as createClient4 } from 'redis4';
import { passwordMatches } from '../../src/commands/connection';
import { cli } from '../ops/helpers';
import { startRedisServer, type RedisServer } from '../support/redis-server';
import { RawClient, toStrings } from '../support/resp-client';
import { BACKENDS, startRespql, type RunningRespql } from '../support/respql';
import { CLI, spawnRespql } from '../support/respql-process';

const execFileP = promisify(execFile);

const REQUIREPASS = 'default-Pa55';
const USERS = { alice: 'wonder land:1', 'svc.session': 'sEss!on$-p@ss' };
const SECRETS = [REQUIREPASS, ...Object.values(USERS)];

/** redis-server's equivalent of respql --user name:pass. */
const redisUserArgs = (users: Record<string, string>) =>
  Object.entries(users).flatMap(([name, pass]) => ['--user', name, 'on', `>${pass}`, '~*', '+@all']);

/** Runs argv lines on one connection; HELLO's reply and CLIENT INFO are reduced to what both servers share. */
async function transcript(port: number, script: string[][]): Promise<string[]> {
  const client = await RawClient.connect(port);
  try {
    const out: string[] = [];
    for (const argv of script) {
      let reply = toStrings(await client.send(...argv));
      if (argv[0] === 'HELLO' && Array.isArray(reply)) reply = 'hello ok';
      if (argv[0] === 'CLIENT' && typeof reply === 'string') reply = /user=\S+/.exec(reply)?.[0];
      out.push(`${argv.join(' ')} -> ${JSON.stringify(reply)}`);
    }
    return out;
  } finally {
    await client.close();
  }
}

const WITH_REQUIREPASS: string[][] = [
  ['PING'],
  ['GET', 'k'],
  ['HELLO', '2'],
  ['AUTH', 'alice', 'nope'],
  ['AUTH', 'nobody', USERS.alice],
  ['AUTH', 'wrong-default'],
  ['AUTH', 'default', 'wrong-default'],
  ['HELLO', '2', 'AUTH', 'alice', 'nope'],
  ['HELLO', '2', 'AUTH', 'default', USERS.alice],
  ['PING'],
  ['AUTH', 'alice', USERS.alice],
  ['CLIENT', 'INFO'],
  ['SET', 'k', 'v'],
  // A failed AUTH leaves the connection as it was.
  ['AUTH', 'alice', 'wrong-again'],
  ['GET', 'k'],
  ['AUTH', 'a', 'b', 'c'],
  ['RESET'],
  ['PING'],
  ['HELLO', '2', 'AUTH', 'svc.session', USERS['svc.session']],
  ['CLIENT', 'INFO'],
  ['AUTH', REQUIREPASS],
  ['CLIENT', 'INFO'],
  ['AUTH', 'ALICE', USERS.alice],
  ['DEL', 'k'],
];

const USERS_ONLY: string[][] = [
  // The default user has no password (nopass): every connection starts logged in as it.
  ['PING'],
  ['CLIENT', 'INFO'],
  ['AUTH', 'anything'],
  ['AUTH', 'default', 'anything'],
  ['AUTH', 'alice', 'nope'],
  ['HELLO', '2', 'AUTH', 'alice', 'nope'],
  ['AUTH', 'alice', USERS.alice],
  ['CLIENT', 'INFO'],
  ['RESET'],
  ['CLIENT', 'INFO'],
  ['HELLO', '2', 'AUTH', 'default', 'whatever'],
];

describe('access: passwordMatches', () => {
  it('accepts exactly the password, whatever the lengths', () => {
    expect(passwordMatches(Buffer.from('s3cret'), 's3cret')).to.equal(true);
    expect(passwordMatches(Buffer.from('s3cre'), 's3cret')).to.equal(false);
    expect(passwordMatches(Buffer.from('s3cret!'), 's3cret')).to.equal(false);
    expect(passwordMatches(Buffer.from(''), 's3cret')).to.equal(false);
    expect(passwordMatches(Buffer.from('pässwörd', 'utf8'), 'pässwörd')).to.equal(true);
    expect(passwordMatches(Buffer.from('pässwörd', 'latin1'), 'pässwörd')).to.equal(false);
  });
});

for (const backend of BACKENDS) {
  describe(`access: AUTH and HELLO AUTH vs redis-server (${backend})`, function () {
    this.timeout(60_000);
    let redis: RedisServer;
    let respql: RunningRespql;
    let redisUsersOnly: RedisServer;
    let respqlUsersOnly: RunningRespql;
    before(async () => {
      [redis, respql, redisUsersOnly, respqlUsersOnly] = await Promise.all([
        startRedisServer({ args: ['--requirepass', REQUIREPASS, ...redisUserArgs(USERS)] }),
        startRespql(backend, { requirepass: REQUIREPASS, users: USERS }),
        startRedisServer({ args: redisUserArgs(USERS) }),
        startRespql(backend, { users: USERS }),
      ]);
    });
    after(async () => {
      await Promise.all([redis?.stop(), respql?.stop(), redisUsersOnly?.stop(), respqlUsersOnly?.stop()]);
    });

    it('with --requirepass and users: NOAUTH first, WRONGPASS on failure, each user by name', async () => {
      const expected = await transcript(redis.port, WITH_REQUIREPASS);
      expect(await transcript(respql.port, WITH_REQUIREPASS)).to.deep.equal(expected);
      expect(expected).to.include('PING -> {"error":"NOAUTH Authentication required."}');
      expect(expected).to.include(`AUTH alice nope -> {"error":"WRONGPASS invalid username-password pair or user is disabled."}`);
      expect(expected).to.include('CLIENT INFO -> "user=alice"');
    });

    it('with users and no --requirepass: the default user needs no password, as in Redis', async () => {
      const expected = await transcript(redisUsersOnly.port, USERS_ONLY);
      expect(await transcript(respqlUsersOnly.port, USERS_ONLY)).to.deep.equal(expected);
    });

    it('no password comes back in replies, INFO, CONFIG GET or CLIENT LIST', async () => {
      const client = await RawClient.connect(respql.port);
      try {
        const seen: unknown[] = [];
        for (const argv of [
          ['AUTH', 'alice', USERS.alice + 'x'],
          ['HELLO', '3', 'AUTH', 'alice', USERS.alice, 'EXTRA'],
          ['AUTH', 'alice', USERS.alice],
          ['CLIENT', 'SETNAME', 'x'],
          ['INFO', 'everything'],
          ['CONFIG', 'GET', '*'],
          ['CLIENT', 'LIST'],
          ['CLIENT', 'INFO'],
        ]) {
          seen.push(toStrings(await client.send(...argv)));
        }
        const text = JSON.stringify(seen);
        for (const secret of SECRETS) expect(text).to.not.include(secret);
        expect(text).to.include('requirepass');
      } finally {
        await client.close();
      }
    });
  });

  describe(`access: real clients log in as named users (${backend})`, function () {
    this.timeout(60_000);
    let respql: RunningRespql;
    before(async () => (respql = await startRespql(backend, { requirepass: REQUIREPASS, users: USERS })));
    after(async () => respql.stop());

    it('ioredis (HELLO 3 AUTH user pass): works with the password, fails with WRONGPASS without it', async () => {
      const ok = new Redis({ port: respql.port, host: '127.0.0.1', username: 'alice', password: USERS.alice, lazyConnect: true });
      try {
        await ok.connect();
        expect(await ok.set('sess:io', 'a')).to.equal('OK');
        expect(await ok.get('sess:io')).to.equal('a');
        expect(await ok.call('CLIENT', 'INFO')).to.match(/ user=alice /);
      } finally {
        ok.disconnect();
      }
      const bad = new Redis({
        port: respql.port,
        host: '127.0.0.1',
        username: 'alice',
        password: 'wrong',
        lazyConnect: true,
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
      });
      // ioredis reports the failed HELLO AUTH as an 'error' event, then closes the connection.
      const errors: string[] = [];
      bad.on('error', (err: Error) => errors.push(String(err)));
      try {
        await bad
          .connect()
          .then(() => bad.get('sess:io'))
          .catch(() => undefined);
        expect(errors.join('\n')).to.match(/WRONGPASS invalid username-password pair/);
      } finally {
        bad.disconnect();
      }
    });

    it('node-redis 6 (RESP3, HELLO 3 AUTH) and node-redis 4 (RESP2, AUTH user pass)', async () => {
      const n6 = createClient6({ url: respql.url, username: 'svc.session', password: USERS['svc.session'], RESP: 3 });
      await n6.connect();
      try {
        expect(await n6.set('sess:n6', 'b')).to.equal('OK');
        expect(await n6.sendCommand(['CLIENT', 'INFO'])).to.match(/ user=svc\.session /);
      } finally {
        n6.destroy();
      }
      const n4 = createClient4({ url: respql.url, username: 'alice', password: USERS.alice });
      await n4.connect();
      try {
        expect(await n4.get('sess:n6')).to.equal('b');
        expect(await n4.sendCommand(['CLIENT', 'INFO'])).to.match(/ user=alice /);
      } finally {
        await n4.quit();
      }
      const wrong6 = createClient6({ url: respql.url, username: 'alice', password: 'nope', RESP: 3, socket: { reconnectStrategy: false } });
      wrong6.on('error', () => undefined);
      expect(
        String(
          await wrong6.connect().then(
            () => null,
            (err: Error) => err,
          ),
        ),
      ).to.match(/WRONGPASS/);
      const wrong4 = createClient4({ url: respql.url, username: 'alice', password: 'nope', socket: { reconnectStrategy: false } });
      wrong4.on('error', () => undefined);
      expect(
        String(
          await wrong4.connect().then(
            () => null,
            (err: Error) => err,
          ),
        ),
      ).to.match(/WRONGPASS/);
    });

    it('redis-cli --user --pass', async () => {
      const base = ['-p', String(respql.port), '--no-auth-warning'];
      const ok = await execFileP('redis-cli', [...base, '--user', 'alice', '--pass', USERS.alice, 'SET', 'sess:cli', 'c']);
      expect(ok.stdout).to.equal('OK\n');
      const who = await execFileP('redis-cli', [...base, '--user', 'alice', '--pass', USERS.alice, 'CLIENT', 'INFO']);
      expect(who.stdout).to.match(/ user=alice /);
      const bad = await execFileP('redis-cli', [...base, '--user', 'alice', '--pass', 'nope', 'GET', 'sess:cli']);
      expect(bad.stdout + bad.stderr).to.match(/WRONGPASS/);
      expect(bad.stdout + bad.stderr).to.match(/NOAUTH/);
    });
  });
}

describe('access: the respql command line keeps passwords to itself', function () {
  this.timeout(60_000);
  const CLEAN_ENV = { RESPQL_USERS: '', RESPQL_REQUIREPASS: '', RESPQL_LOG_FORMAT: '', RESPQL_LOGLEVEL: '' };

  it('--user and RESPQL_USERS: users log in; no password in the log, even at debug level', async () => {
    const respql = await spawnRespql(['--database-url', ':memory:', '--loglevel', 'debug', '--user', `alice:${USERS.alice}`], {
      ...CLEAN_ENV,
      RESPQL_USERS: `svc.session:${USERS['svc.session']},bob:b0b-pw`,
      RESPQL_REQUIREPASS: REQUIREPASS,
    });
    try {
      const lines = await transcript(respql.port, [
        ['PING'],
        ['AUTH', 'alice', USERS.alice],
        ['AUTH', 'bob', 'b0b-pw'],
        ['AUTH', 'svc.session', USERS['svc.session']],
        ['AUTH', 'svc.session', 'wrong'],
        ['AUTH', REQUIREPASS],
      ]);
      expect(lines).to.deep.equal([
        'PING -> {"error":"NOAUTH Authentication required."}',
        `AUTH alice ${USERS.alice} -> "OK"`,
        'AUTH bob b0b-pw -> "OK"',
        `AUTH svc.session ${USERS['svc.session']} -> "OK"`,
        'AUTH svc.session wrong -> {"error":"WRONGPASS invalid username-password pair or user is disabled."}',
        `AUTH ${REQUIREPASS} -> "OK"`,
      ]);
    } finally {
      expect(await respql.stop()).to.equal(0);
    }
    const log = respql.output();
    expect(log).to.match(/"users":\["svc.session","bob","alice"\]/);
    for (const secret of [...SECRETS, 'b0b-pw']) expect(log).to.not.include(secret);
  });

  it('a bad --user is one line naming the setting, without the password', async () => {
    for (const [args, env, setting] of [
      [['--user', 'hunter2'], {}, '--user'],
      [['--user', 'alice:'], {}, '--user'],
      [['--user', 'al ice:hunter2'], {}, '--user'],
      [['--user', 'default:hunter2'], {}, '--requirepass'],
      [[], { RESPQL_USERS: 'alice:hunter2,hunter2' }, 'RESPQL_USERS'],
    ] as const) {
      const r = await cli([...args], { env: { ...CLEAN_ENV, ...env }, cliPath: CLI });
      expect(r.code, r.stderr).to.equal(1);
      expect(r.stdout).to.equal('');
      expect(r.stderr.trimEnd().split('\n')).to.have.length(1);
      expect(r.stderr).to.include(setting);
      expect(r.stderr).to.not.include('hunter2');
    }
  });
});
