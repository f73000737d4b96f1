/** The respql command line: help, version, bad settings, migrate, ping, logging. */
import { expect } from 'chai';
import Database from 'better-sqlite3';
import path from 'node:path';
import { parseCommandLine, parseRedisUrl } from '../../src/config';
import { defaultText, envName, SETTINGS } from '../../src/settings';
import { cli, freePort, logLines, startProcess, tempDir, BUILT_CLI } from './helpers';

// Settings from the developer's shell must not leak into these runs.
const CLEAN_ENV: NodeJS.ProcessEnv = {
  RESPQL_PORT: '',
  RESPQL_BIND: '',
  DATABASE_URL: '',
  RESPQL_TABLE: '',
  RESPQL_REQUIREPASS: '',
  RESPQL_LOGLEVEL: '',
  RESPQL_LOG_FORMAT: '',
  RESPQL_MIGRATE: '',
  RESPQL_CLEANUP_INTERVAL: '',
  RESPQL_PROTECTED_MODE: '',
};

function expectOneLineNaming(result: { code: number | null; stdout: string; stderr: string }, setting: string) {
  expect(result.code, result.stderr).to.not.equal(0);
  expect(result.stdout).to.equal('');
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines, result.stderr).to.have.length(1);
  expect(lines[0]).to.match(/^respql: /);
  expect(lines[0]).to.include(setting);
}

describe('respql command line', function () {
  this.timeout(30_000);
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => (tmp = tempDir('respql-cli-')));
  afterEach(() => tmp.remove());

  describe('--help and --version', () => {
    it('--help lists the commands and every server setting with its environment variable', async () => {
      const r = await cli(['--help'], { env: CLEAN_ENV });
      expect(r.code).to.equal(0);
      expect(r.stdout).to.match(/^Usage: respql \[command\] \[options\]/);
      for (const word of [
        'migrate',
        'ping',
        'import',
        '--port',
        'RESPQL_PORT',
        '--database-url',
        'DATABASE_URL',
        '--loglevel',
        'RESPQL_LOGLEVEL',
      ]) {
        expect(r.stdout).to.include(word);
      }
      // Every server setting of the table, with its default as the table gives it.
      for (const s of SETTINGS.filter((x) => x.commands.includes('serve'))) {
        expect(r.stdout).to.match(
          new RegExp(`--${s.name} <value> .*\\(env ${envName(s)}, default ${defaultText(s).replace(/[()]/g, '\\$&')}\\)`),
        );
      }
      expect(r.stdout).to.include('(env RESPQL_PROTO_MAX_BULK_LEN, default 512mb)');
    });

    it('<command> --help describes that command only', async () => {
      const r = await cli(['ping', '--help'], { env: CLEAN_ENV });
      expect(r.code).to.equal(0);
      expect(r.stdout).to.match(/^Usage: respql ping/);
      expect(r.stdout).to.include('--port');
      expect(r.stdout).to.not.include('--database-url');
      const imp = await cli(['import', '-h'], { env: CLEAN_ENV });
      expect(imp.stdout).to.include('--from').and.include('--match');
    });

    it('--version prints the package version', async () => {
      const r = await cli(['--version'], { env: CLEAN_ENV });
      const { version } = require(path.join(__dirname, '../../../package.json')) as { version: string };
      expect(r.code).to.equal(0);
      expect(r.stdout).to.equal(`respql ${version}\n`);
    });
  });

  describe('bad settings exit non-zero with one line naming the setting', () => {
    it('a bad port', async () => {
      expectOneLineNaming(await cli(['--port', '70000'], { env: CLEAN_ENV }), '--port');
      expectOneLineNaming(await cli(['--port=abc'], { env: CLEAN_ENV }), '--port');
      expectOneLineNaming(await cli([], { env: { ...CLEAN_ENV, RESPQL_PORT: 'x' } }), 'RESPQL_PORT');
    });

    it('a database URL with an unsupported scheme, without echoing its password', async () => {
      const r = await cli(['--database-url', 'mongodb://app:hunter2@db/app'], { env: CLEAN_ENV });
      expectOneLineNaming(r, '--database-url');
      expect(r.stderr).to.not.include('hunter2');
      expectOneLineNaming(await cli(['migrate'], { env: { ...CLEAN_ENV, DATABASE_URL: 'redis://x' } }), 'DATABASE_URL');
    });

    it('an unknown flag, an unknown command, a missing value', async () => {
      expectOneLineNaming(await cli(['--nope'], { env: CLEAN_ENV }), '--nope');
      expectOneLineNaming(await cli(['frobnicate'], { env: CLEAN_ENV }), 'frobnicate');
      expectOneLineNaming(await cli(['--table'], { env: CLEAN_ENV }), '--table');
    });

    it('a bad log level, and a flag the command does not take', async () => {
      expectOneLineNaming(await cli(['--loglevel', 'loud'], { env: CLEAN_ENV }), '--loglevel');
      expectOneLineNaming(await cli(['migrate', '--port', '1'], { env: CLEAN_ENV }), '--port');
      expectOneLineNaming(await cli(['import'], { env: CLEAN_ENV }), '--from');
      expectOneLineNaming(await cli(['import', '--from', 'http://x'], { env: CLEAN_ENV }), '--from');
    });

    it('--protected-mode takes yes or no', async () => {
      expect(parseCommandLine(['--protected-mode', 'no'], {}).options).to.include({ protectedMode: false });
      expect(parseCommandLine([], { RESPQL_PROTECTED_MODE: 'YES' }).options).to.include({ protectedMode: true });
      expectOneLineNaming(await cli(['--protected-mode', 'maybe'], { env: CLEAN_ENV }), '--protected-mode');
    });

    it('Redis limits by Redis names: --maxclients, --timeout, --proto-max-bulk-len, ... (flags and env)', async () => {
      expect(parseCommandLine(['--maxclients', '5', '--timeout', '30'], {}).options.limits).to.deep.equal({
        maxClients: 5,
        idleTimeoutSeconds: 30,
      });
      expect(
        parseCommandLine([], { RESPQL_CLIENT_OUTPUT_BUFFER_LIMIT: 'normal 1mb 512kb 10' }).options.limits?.outputBuffer?.normal,
      ).to.deep.equal({
        hard: 1048576,
        soft: 524288,
        seconds: 10,
      });
      expectOneLineNaming(await cli(['--maxclients', '0'], { env: CLEAN_ENV }), '--maxclients');
      expectOneLineNaming(await cli(['--proto-max-bulk-len', '1k'], { env: CLEAN_ENV }), '--proto-max-bulk-len');
    });

    it("memory limits take Redis's units and bounds, with CONFIG SET's reasons", async () => {
      const limits = (argv: string[]) => parseCommandLine(argv, {}).options.limits;
      expect(limits(['--proto-max-bulk-len', '2mb'])).to.deep.equal({ protoMaxBulkLen: 2 * 1024 * 1024 });
      expect(limits(['--proto-max-bulk-len=1100k', '--client-query-buffer-limit', '1GB'])).to.deep.equal({
        protoMaxBulkLen: 1_100_000,
        queryBufferLimit: 1024 ** 3,
      });
      expect(limits([])).to.equal(undefined);
      const r = await cli(['--proto-max-bulk-len', '1000'], { env: CLEAN_ENV });
      expectOneLineNaming(r, '--proto-max-bulk-len');
      expect(r.stderr).to.equal(
        "respql: invalid --proto-max-bulk-len '1000': argument must be between 1048576 and 9223372036854775807 inclusive\n",
      );
      expect(() => parseCommandLine(['--proto-max-bulk-len', '2 mb'], {})).to.throw('argument must be a memory value');
      expect(() => parseCommandLine([], { RESPQL_TIMEOUT: '05' })).to.throw(
        "invalid RESPQL_TIMEOUT '05': argument couldn't be parsed into an integer",
      );
      expect(() => parseCommandLine(['--protected-mode', 'on'], {})).to.throw("argument must be 'yes' or 'no'");
    });

    it('only the settings a command takes are read from the environment', () => {
      const env = { RESPQL_PORT: '7000', DATABASE_URL: 'mongodb://nope', RESPQL_LOGLEVEL: 'loud' };
      expect(parseCommandLine(['ping'], env).options.port).to.equal(7000);
      expect(() => parseCommandLine(['migrate'], env)).to.throw(/DATABASE_URL/);
    });

    it('parses redis:// URLs for import', () => {
      expect(parseRedisUrl('redis://h')).to.deep.equal({ host: 'h', port: 6379, username: null, password: null, db: 0 });
      expect(parseRedisUrl('redis://u:p%40ss@10.0.0.1:6380/3')).to.deep.equal({
        host: '10.0.0.1',
        port: 6380,
        username: 'u',
        password: 'p@ss',
        db: 3,
      });
      expect(parseRedisUrl('redis://[::1]:7000')?.host).to.equal('::1');
      expect(parseRedisUrl('rediss://h')).to.equal(null);
      expect(parseRedisUrl('redis://h/x')).to.equal(null);
    });
  });

  describe('migrate', () => {
    it('applies pending migrations to a new SQLite file, then reports none pending', async () => {
      const file = path.join(tmp.dir, 'm.sqlite');
      const first = await cli(['migrate', '--database-url', file, '--table', 'web_sessions'], { env: CLEAN_ENV });
      expect(first.code, first.stdout + first.stderr).to.equal(0);
      const [line] = logLines(first.stdout);
      expect(line.level).to.equal('notice');
      expect(line.applied).to.deep.equal([
        '001_create_sessions',
        '002_create_sweeper_lease',
        '003_partial_expiry_index',
        '004_typed_keys',
        '005_create_scripts',
        '006_create_databases',
      ]);
      expect(line.msg).to.include('001_create_sessions').and.include('web_sessions');

      const db = new Database(file, { readonly: true });
      try {
        const columns = db
          .prepare(`PRAGMA table_info(web_sessions)`)
          .all()
          .map((c) => (c as { name: string }).name);
        expect(columns).to.include.members(['token', 'data', 'expiry']);
      } finally {
        db.close();
      }

      const second = await cli(['migrate', '--database-url', file, '--table', 'web_sessions'], { env: CLEAN_ENV });
      expect(second.code).to.equal(0);
      expect(logLines(second.stdout)[0].applied).to.deep.equal([]);
      expect(logLines(second.stdout)[0].msg).to.match(/up to date/);
    });

    it('fails with one log line when the database cannot be opened', async () => {
      const r = await cli(['migrate', '--database-url', path.join(tmp.dir, 'no', 'such', 'dir', 'x.sqlite')], { env: CLEAN_ENV });
      expect(r.code).to.equal(1);
      const lines = logLines(r.stdout);
      expect(lines).to.have.length(1);
      expect(lines[0].level).to.equal('warning');
      expect(lines[0].msg).to.match(/^migrate failed: /);
    });
  });

  describe('serve and ping', () => {
    it('logs one JSON start-up line with the settings (no password), answers ping, and exits 0 on SIGTERM', async () => {
      const port = await freePort();
      const server = await startProcess(
        process.execPath,
        [BUILT_CLI, '--port', String(port), '--database-url', path.join(tmp.dir, 's.sqlite'), '--requirepass', 'topsecret'],
        /ready on/,
        { env: CLEAN_ENV },
      );
      try {
        const [ready] = logLines(server.output());
        expect(ready).to.include({ level: 'notice', backend: 'sqlite', table: 'sessions', address: '127.0.0.1', port, auth: 'required' });
        expect(ready.msg).to.match(new RegExp(`^respql \\S+ ready on 127\\.0\\.0\\.1:${port}$`));
        expect(ready.durability).to.match(/WAL, fdatasync before every reply/);
        expect(ready.database).to.equal(path.join(tmp.dir, 's.sqlite'));

        const noAuth = await cli(['ping', '--port', String(port)], { env: CLEAN_ENV });
        expect(noAuth.code).to.equal(1);
        expect(noAuth.stderr).to.match(/^respql: ping failed: .*NOAUTH/);

        const ok = await cli(['ping', '--port', String(port), '--bind', '0.0.0.0'], {
          env: { ...CLEAN_ENV, RESPQL_REQUIREPASS: 'topsecret' },
        });
        expect(ok.code, ok.stderr).to.equal(0);
        expect(ok.stdout).to.equal('PONG\n');
      } finally {
        expect(await server.stop()).to.equal(0);
      }
      expect(server.output()).to.not.include('topsecret');
      expect(server.output()).to.match(/SIGTERM received/);
    });

    it('protected mode: a non-loopback bind without a password is one warning line, unless turned off', async () => {
      const port = await freePort();
      const args = ['--port', String(port), '--bind', '0.0.0.0', '--database-url', path.join(tmp.dir, 'p.sqlite')];
      const refused = await cli(args, { env: CLEAN_ENV });
      expect(refused.code).to.equal(1);
      const lines = logLines(refused.stdout);
      expect(lines, refused.stdout + refused.stderr).to.have.length(1);
      expect(lines[0]).to.include({ level: 'warning' });
      expect(lines[0].msg).to.match(/^cannot start: .*protected mode/);

      const server = await startProcess(process.execPath, [BUILT_CLI, ...args, '--protected-mode', 'no'], /ready on/, { env: CLEAN_ENV });
      try {
        const ok = await cli(['ping', '--port', String(port), '--bind', '0.0.0.0'], { env: CLEAN_ENV });
        expect(ok.stdout).to.equal('PONG\n');
      } finally {
        expect(await server.stop()).to.equal(0);
      }
    });

    it('ping exits non-zero when nothing listens', async () => {
      const port = await freePort();
      const r = await cli(['ping', '--port', String(port)], { env: CLEAN_ENV });
      expect(r.code).to.equal(1);
      expect(r.stdout).to.equal('');
      expect(r.stderr).to.match(new RegExp(`^respql: ping failed: cannot connect to 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
    });

    it('ping exits non-zero when the server answers something else than PONG', async () => {
      const net = await import('node:net');
      const fake = net.createServer((s) => s.on('data', () => s.write('-ERR unknown command\r\n')));
      await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
      try {
        const r = await cli(['ping', '--port', String((fake.address() as import('node:net').AddressInfo).port)], { env: CLEAN_ENV });
        expect(r.code).to.equal(1);
        expect(r.stderr).to.include('ERR unknown command');
      } finally {
        fake.close();
      }
    });

    it('--loglevel debug adds debug lines; --log-format text writes redis-server-like lines', async () => {
      const port = await freePort();
      const server = await startProcess(
        process.execPath,
        [
          BUILT_CLI,
          '--port',
          String(port),
          '--database-url',
          path.join(tmp.dir, 't.sqlite'),
          '--loglevel',
          'debug',
          '--log-format',
          'text',
        ],
        /ready on/,
        { env: CLEAN_ENV },
      );
      await server.stop();
      const lines = server.output().trimEnd().split('\n');
      expect(lines[0]).to.match(/^\d+:M \d\d \w{3} \d{4} \d\d:\d\d:\d\d\.\d{3} \. starting /);
      expect(lines[1]).to.match(/^\d+:M .* \* respql \S+ ready on 127\.0\.0\.1:\d+ .*backend=sqlite/);
    });

    it('a start-up failure is one warning line that does not show the database password', async () => {
      const port = await freePort();
      const dead = await freePort();
      const r = await cli(['--port', String(port), '--database-url', `postgres://app:s3cr3tpw@127.0.0.1:${dead}/app`], { env: CLEAN_ENV });
      expect(r.code).to.equal(1);
      expect(r.stdout + r.stderr).to.not.include('s3cr3tpw');
      const warnings = logLines(r.stdout).filter((l) => l.level === 'warning');
      expect(warnings).to.have.length(1);
      expect(warnings[0].msg).to.match(/^cannot start: /);
    });
  });
});
