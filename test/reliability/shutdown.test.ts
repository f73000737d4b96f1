/**
 * Graceful shutdown: on SIGTERM, SIGINT or SHUTDOWN, respql stops accepting, lets in-flight
 * commands reply and commit, closes its clients' connections and exits 0; every write it
 * acknowledged, during the shutdown too, is there after a restart.
 */
import { expect } from 'chai';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { startRedisServer, type RedisServer } from '../support/redis-server';
import { encodeCommand, RawClient, rawExchange } from '../support/resp-client';
import { spawnRespql, type RespqlProcess } from '../support/respql-process';
import { BACKENDS, freshDatabaseUrl } from '../support/respql';
import { WriteLoad } from './load';

/** Resolves with `promise`'s value, or fails the test if it takes longer than `ms` (a hang). */
async function within<T>(what: string, promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no result in ${ms} ms`)), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

const exited = (p: RespqlProcess) =>
  new Promise<number | null>((resolve) => (p.proc.exitCode !== null ? resolve(p.proc.exitCode) : p.proc.once('exit', resolve)));

for (const backend of BACKENDS) {
  describe(`graceful shutdown (${backend})`, () => {
    let db: { url: string; cleanup(): void };
    let respql: RespqlProcess | undefined;
    beforeEach(async () => {
      db = await freshDatabaseUrl(backend);
    });
    afterEach(async () => {
      if (respql && respql.proc.exitCode === null && respql.proc.signalCode === null) await respql.kill9();
      respql = undefined;
      db.cleanup();
    });

    /** Starts respql and a 50-client load, stops it with `how`, and checks exit status, connections and data. */
    async function shutDownUnderLoad(how: (p: RespqlProcess) => Promise<void> | void, args: string[] = []): Promise<void> {
      respql = await spawnRespql(['--database-url', db.url, '--cleanup-interval', '0', ...args]);
      const load = new WriteLoad(50);
      await load.start(respql.port);
      await sleep(300 + Math.random() * 500);
      const ackedBefore = load.acknowledged;
      await how(respql);
      expect(await within('exit', exited(respql), 30_000), respql.output()).to.equal(0);
      // Every client saw its connection closed: none hangs.
      await within('the clients to see their connections closed', load.stop(), 10_000);
      expect(load.cutOff).to.equal(50);
      expect(load.acknowledged).to.be.greaterThan(ackedBefore);
      expect(load.errors).to.deep.equal([]);
      expect(respql.output()).to.match(/ready to exit/);

      respql = await spawnRespql(['--database-url', db.url, '--cleanup-interval', '0']);
      const check = await load.check(respql.port);
      expect(check.violations).to.deep.equal([]);
      expect(await respql.stop()).to.equal(0);
    }

    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      it(`${signal} under a 50-client write load: exit 0, connections closed, every acknowledged write kept`, async function () {
        this.timeout(90_000);
        await shutDownUnderLoad((p) => void p.proc.kill(signal));
      });
    }

    it('SHUTDOWN under load: no reply, the connection closes, exit 0, every acknowledged write kept', async function () {
      this.timeout(90_000);
      await shutDownUnderLoad(async (p) => {
        const reply = await rawExchange(p.port, encodeCommand(['SHUTDOWN', 'NOSAVE']), { waitMs: 10_000, untilBytes: '\r\n' });
        expect(reply.toString()).to.equal('');
      });
    });

    it('SHUTDOWN needs AUTH when a password is set', async function () {
      this.timeout(60_000);
      respql = await spawnRespql(['--database-url', db.url, '--requirepass', 'sekret']);
      const client = await RawClient.connect(respql.port);
      try {
        expect(await client.send('SHUTDOWN')).to.deep.equal({ error: 'NOAUTH Authentication required.' });
        expect(String(await client.send('AUTH', 'sekret'))).to.equal('OK');
        expect(String(await client.send('PING'))).to.equal('PONG');
        client.sendRaw(encodeCommand(['SHUTDOWN']));
        await client.readRawUntilClose(10_000);
      } finally {
        await client.destroy();
      }
      expect(await within('exit', exited(respql), 30_000)).to.equal(0);
    });

    it('a client that does not read its replies is dropped at --shutdown-timeout, and the exit is still 0', async function () {
      this.timeout(60_000);
      respql = await spawnRespql(['--database-url', db.url, '--shutdown-timeout', '1s', '--client-output-buffer-limit', 'normal 0 0 0']);
      const setup = await RawClient.connect(respql.port);
      expect(String(await setup.send('SET', 'big', 'x'.repeat(1 << 20)))).to.equal('OK');
      await setup.destroy();
      // 64 MB of replies that are never read: the server cannot finish writing them.
      const stuck = net.createConnection({ port: respql.port, host: '127.0.0.1' });
      await new Promise((resolve) => stuck.once('connect', resolve));
      stuck.pause();
      const closed = new Promise((resolve) => stuck.once('close', resolve));
      stuck.on('error', () => undefined);
      stuck.write(Buffer.concat(Array.from({ length: 64 }, () => encodeCommand(['GET', 'big']))));
      await sleep(500);
      const started = performance.now();
      respql.proc.kill('SIGTERM');
      expect(await within('exit', exited(respql), 20_000), respql.output()).to.equal(0);
      expect(performance.now() - started, 'ms to exit').to.be.above(900);
      // Reading again, it finds its connection closed rather than waiting forever.
      stuck.resume();
      await within('the stuck client to be closed', closed, 10_000);
    });
  });
}

describe('SHUTDOWN errors, as redis-server answers them', () => {
  let redis: RedisServer;
  let respql: RespqlProcess;
  let dbCleanup: () => void;
  before(async function () {
    this.timeout(60_000);
    redis = await startRedisServer();
    const db = await freshDatabaseUrl('sqlite');
    dbCleanup = db.cleanup;
    respql = await spawnRespql(['--database-url', db.url]);
  });
  after(async () => {
    await redis?.stop();
    if (respql) expect(await respql.stop()).to.equal(0);
    dbCleanup?.();
  });

  for (const script of [
    ['SHUTDOWN ABORT'],
    ['SHUTDOWN FOO'],
    ['SHUTDOWN NOSAVE SAVE'],
    ['SHUTDOWN ABORT NOW'],
    ['SHUTDOWN abort abort'],
    ['MULTI', 'SHUTDOWN', 'EXEC'],
  ]) {
    it(script.join('; '), async () => {
      const bytes = Buffer.concat(script.map((line) => encodeCommand(line.split(' '))));
      const expected = await rawExchange(redis.port, bytes, { waitMs: 500 });
      expect(expected.length).to.be.greaterThan(0);
      const actual = await rawExchange(respql.port, bytes, { untilBytes: expected.length });
      expect(actual.toString()).to.equal(expected.toString());
    });
  }
});
