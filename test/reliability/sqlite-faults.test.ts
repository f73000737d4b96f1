/**
 * SQLite file faults: a database file respql cannot write, or one another process holds
 * locked. respql reports them as one line at start-up (exit status 1), or per command as
 * `-ERR database unavailable: ...`, and never crashes or stalls its other clients.
 */
import { expect } from 'chai';
import Database from 'better-sqlite3';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeCommand, freePort, isErrorReply, RawClient } from '../support/resp-client';
import { CLI, spawnRespql } from '../support/respql-process';

/**
 * Permission bits do not stop root, so as root respql runs as the `postgres` account (which
 * the PostgreSQL tests need anyway); otherwise as ourselves.
 */
function unprivileged(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/** Runs `respql serve` (or the subcommand `args` names) until it exits (60 s at most); returns its exit status and output. */
async function runUntilExit(args: string[], user?: { uid: number; gid: number }): Promise<{ code: number | null; lines: string[] }> {
  const port = args[0] === 'migrate' ? [] : ['--port', String(await freePort())];
  const proc = spawn(process.execPath, [CLI, ...port, '--log-format', 'text', ...args], {
    ...user,
    cwd: '/tmp',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (out += d));
  const timer = setTimeout(() => proc.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((resolve) => proc.once('exit', resolve));
  clearTimeout(timer);
  return { code, lines: out.split('\n').filter((l) => l.trim()) };
}

describe('SQLite file faults', () => {
  let dir: string;
  beforeEach(() => {
    // Under /tmp: the postgres account must be able to reach it.
    dir = mkdtempSync('/tmp/respql-faults-');
    chmodSync(dir, 0o755);
  });
  afterEach(() => {
    chmodSync(dir, 0o755);
    rmSync(dir, { recursive: true, force: true });
  });

  it('an unwritable database file or directory: one line naming the file at start-up, exit status 1', async function () {
    this.timeout(60_000);
    const file = path.join(dir, 'respql.sqlite');
    expect((await runUntilExit(['migrate', '--database-url', file])).code).to.equal(0);
    chmodSync(file, 0o444);
    chmodSync(dir, 0o555);
    const user = unprivileged();
    for (const args of [
      ['--database-url', file],
      ['--database-url', file, '--migrate', 'no'],
      ['--database-url', path.join(dir, 'new.sqlite')],
    ]) {
      const { code, lines } = await runUntilExit(args, user);
      expect(code, lines.join('\n')).to.equal(1);
      expect(lines, 'one line').to.have.length(1);
      expect(lines[0]).to.match(
        /cannot start: database \/tmp\/respql-faults-\w+\/(respql|new)\.sqlite is unavailable: (attempt to write a readonly database|unable to open database file)/,
      );
    }
  });

  it('a file another process holds locked at start-up: one line, exit status 1', async function () {
    this.timeout(60_000);
    const file = path.join(dir, 'respql.sqlite');
    const holder = new Database(file);
    try {
      holder.pragma('journal_mode = WAL');
      holder.exec('BEGIN EXCLUSIVE');
      const { code, lines } = await runUntilExit(['--database-url', file, '--database-timeout', '500ms']);
      expect(code, lines.join('\n')).to.equal(1);
      expect(lines).to.have.length(1);
      expect(lines[0]).to.match(/cannot start: database .*respql\.sqlite is unavailable: database is locked/);
    } finally {
      holder.close();
    }
  });

  it('a file locked while serving: commands wait up to --database-timeout, then -ERR; other clients are not stalled; it serves again once the lock is gone', async function () {
    this.timeout(60_000);
    const file = path.join(dir, 'respql.sqlite');
    const respql = await spawnRespql(['--database-url', file, '--database-timeout', '1s', '--cleanup-interval', '0']);
    const writer = await RawClient.connect(respql.port);
    const other = await RawClient.connect(respql.port);
    const holder = new Database(file);
    try {
      expect(String(await writer.send('SET', 'k', '1'))).to.equal('OK');
      holder.exec('BEGIN EXCLUSIVE');

      // Locked past the timeout: an error, and meanwhile PING on another connection is answered at once.
      const order: string[] = [];
      const set = writer.send('SET', 'k', '2').then((r) => (order.push('SET'), r));
      await sleep(100);
      const ping = other.send('PING').then((r) => (order.push('PING'), r));
      expect(String(await ping)).to.equal('PONG');
      const failed = await set;
      expect(failed).to.deep.equal({ error: 'ERR database unavailable: database is locked' });
      expect(order).to.deep.equal(['PING', 'SET']);

      // Locked for less than the timeout: the command waits for the lock and succeeds.
      const waiting = writer.send('SET', 'k', '3');
      await sleep(300);
      holder.exec('COMMIT');
      expect(String(await waiting)).to.equal('OK');
      expect(String(await other.send('GET', 'k'))).to.equal('3');
      expect(isErrorReply(await other.send('SET', 'k', '4'))).to.equal(false);
      expect(await respql.stop()).to.equal(0);
    } finally {
      holder.close();
      await writer.destroy();
      await other.destroy();
      if (respql.proc.exitCode === null && respql.proc.signalCode === null) await respql.kill9();
    }
  });

  it('the WAL is copied back into the database file beside the server, long before SQLite would do it in a COMMIT', async function () {
    this.timeout(60_000);
    const file = path.join(dir, 'respql.sqlite');
    const respql = await spawnRespql(['--database-url', file, '--cleanup-interval', '0']);
    const client = await RawClient.connect(respql.port);
    const info = async (field: string) => Number(new RegExp(`${field}:(\\d+)`).exec(String(await client.send('INFO', 'respql')))![1]);
    const values = Array.from({ length: 3000 }, () => randomBytes(4096));
    try {
      // The migrations' writes at start-up may already have been checkpointed: count from here.
      const checkpointsBefore = await info('sql_wal_checkpoints');
      const before = statSync(file).size;
      // 12 MB of new rows: a third of the WAL size at which a COMMIT would checkpoint by itself.
      for (let i = 0; i < values.length; i += 100) {
        client.sendRaw(Buffer.concat(values.slice(i, i + 100).map((v, j) => encodeCommand(['SET', `k${i + j}`, v]))));
        for (let j = 0; j < 100; j++) expect(String(await client.readReply())).to.equal('OK');
      }
      const deadline = Date.now() + 10_000;
      while (statSync(file).size < before + 12_000_000 && Date.now() < deadline) await sleep(50);
      expect(statSync(file).size, 'database file').to.be.at.least(before + 12_000_000);
      expect(await info('sql_wal_checkpoints')).to.be.greaterThan(checkpointsBefore);
      expect(await respql.stop()).to.equal(0);
      const db = new Database(file, { readonly: true });
      try {
        expect(db.prepare('SELECT count(*) AS n FROM sessions').get()).to.deep.equal({ n: values.length });
        for (const i of [0, 1234, values.length - 1]) {
          expect(
            (db.prepare('SELECT data FROM sessions WHERE token = ?').get(`k${i}`) as { data: Buffer }).data.equals(values[i]),
          ).to.equal(true);
        }
      } finally {
        db.close();
      }
    } finally {
      await client.destroy();
      if (respql.proc.exitCode === null && respql.proc.signalCode === null) await respql.kill9();
    }
  });

  it('a write is answered only after its WAL flush: one fdatasync per sequential write, and a failed flush fails the reply and all later ones', async function () {
    this.timeout(60_000);
    const file = path.join(dir, 'respql.sqlite');
    const respql = await spawnRespql(['--database-url', file, '--cleanup-interval', '0']);
    const client = await RawClient.connect(respql.port);
    const flushes = async () => Number(/sql_wal_flushes:(\d+)/.exec(String(await client.send('INFO', 'respql')))![1]);
    try {
      const before = await flushes();
      // Each SET is sent after the previous reply, so its COMMIT came after the previous flush and needs one of its own.
      for (let i = 0; i < 20; i++) expect(String(await client.send('SET', `k${i}`, String(i)))).to.equal('OK');
      expect(await flushes()).to.be.at.least(before + 20);

      // The WAL file deleted under respql (every commit in it would vanish): the flush fails, so the write that needed
      // it is not acknowledged, and nothing is afterwards, reads included (they could see writes that never reached the disk).
      expect(existsSync(`${file}-wal`)).to.equal(true);
      rmSync(`${file}-wal`);
      const failed = await client.send('SET', 'after', 'x');
      expect(failed)
        .to.have.property('error')
        .that.matches(
          /^ERR database unavailable: could not flush the write-ahead log to disk: \/tmp\/respql-faults-\w+\/respql\.sqlite-wal was deleted$/,
        );
      expect(await client.send('GET', 'k1')).to.deep.equal(failed);
      expect(String(await client.send('PING'))).to.equal('PONG');
    } finally {
      await client.destroy();
      await respql.kill9();
    }
  });
});
