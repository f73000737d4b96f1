/**
 * Real clients over a keyspace of 1000+ sessions, on both backends: ioredis scanStream and
 * multi(), node-redis 6 scanIterator and multi(), redis-cli --scan --pattern, --bigkeys
 * (DBSIZE, TYPE, STRLEN, SCAN) and --stat (INFO, a few ticks).
 */
import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import Redis from 'ioredis';
import { createClient } from 'redis';
import { BACKENDS, startRespql, type RunningRespql } from '../support/respql';

const run = promisify(execFile);
const SESSIONS = 1200;
const sessionKeys = Array.from({ length: SESSIONS }, (_, i) => `sess:${i}`);
const expected = [...sessionKeys].sort();

/** The output lines of `redis-cli --stat` until `count` data lines have arrived; then it is stopped. */
function statLines(port: number, count: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    // stdbuf: redis-cli's output is a pipe here, line buffering lets us read tick by tick.
    const child = spawn('stdbuf', ['-oL', 'redis-cli', '-p', String(port), '--stat', '-i', '0.2']);
    let text = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-cli --stat gave only:\n${text}`));
    }, 20_000);
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const lines = text.split('\n').filter((l) => l.length);
      if (lines.length >= count + 2) {
        clearTimeout(timer);
        child.kill('SIGTERM');
        resolve(lines);
      }
    });
    child.on('error', reject);
  });
}

for (const backend of BACKENDS) {
  describe(`SCAN, MULTI and inspection with real clients over ${SESSIONS} sessions (${backend})`, function () {
    this.timeout(120_000);
    let respql: RunningRespql;
    let ioredis: Redis;

    before(async () => {
      respql = await startRespql(backend);
      ioredis = new Redis({ port: respql.port, host: '127.0.0.1', lazyConnect: true });
      await ioredis.connect();
      const pipeline = ioredis.pipeline();
      for (let i = 0; i < SESSIONS; i += 100) {
        pipeline.mset(...sessionKeys.slice(i, i + 100).flatMap((k, j) => [k, `{"user":${i + j}}`]));
      }
      for (let i = 0; i < 20; i++) pipeline.set(`other:${i}`, 'x'.repeat(i + 1), 'EX', 3600);
      await pipeline.exec();
    });
    after(async () => {
      ioredis?.disconnect();
      await respql?.stop();
    });

    it('ioredis scanStream with MATCH collects every session key exactly once', async () => {
      const found: string[] = [];
      const stream = ioredis.scanStream({ match: 'sess:*', count: 100 });
      for await (const batch of stream) found.push(...(batch as string[]));
      expect(found.sort()).to.deep.equal(expected);
    });

    it('ioredis multi() runs atomically and reports per-command errors', async () => {
      const replies = await ioredis.multi().set('m:1', '5').incrby('m:1', 10).get('m:1').expire('m:1', 100).ttl('m:1').exec();
      expect(replies).to.deep.equal([
        [null, 'OK'],
        [null, 15],
        [null, '15'],
        [null, 1],
        [null, 100],
      ]);
      const mixed = await ioredis.multi().set('m:2', 'text').incr('m:2').get('m:2').exec();
      expect(mixed![0]).to.deep.equal([null, 'OK']);
      expect((mixed![1][0] as Error).message).to.equal('ERR value is not an integer or out of range');
      expect(mixed![2]).to.deep.equal([null, 'text']);
      await ioredis.del('m:1', 'm:2');
    });

    it('node-redis 6 scanIterator with MATCH collects every session key exactly once; multi() works', async () => {
      const client = createClient({ url: respql.url });
      await client.connect();
      try {
        const found: string[] = [];
        for await (const batch of client.scanIterator({ MATCH: 'sess:*', COUNT: 100 })) found.push(...batch);
        expect(found.sort()).to.deep.equal(expected);
        const replies = await client.multi().set('n:1', 'a').append('n:1', 'bc').getDel('n:1').exists('n:1').exec();
        expect(replies).to.deep.equal(['OK', 3, 'abc', 0]);
      } finally {
        client.destroy();
      }
    });

    it('redis-cli --scan --pattern lists exactly the session keys', async () => {
      const { stdout } = await run('redis-cli', ['-p', String(respql.port), '--scan', '--pattern', 'sess:*'], { timeout: 60_000 });
      expect(
        stdout
          .split('\n')
          .filter((l) => l)
          .sort(),
      ).to.deep.equal(expected);
    });

    it('redis-cli --bigkeys finds the biggest string and sums every key', async () => {
      const { stdout } = await run('redis-cli', ['-p', String(respql.port), '--bigkeys'], { timeout: 60_000 });
      const total = SESSIONS + 20;
      const bytes = sessionKeys.reduce((n, _, i) => n + `{"user":${i}}`.length, 0) + (20 * 21) / 2;
      expect(stdout).to.include(`Sampled ${total} keys in the keyspace!`);
      expect(stdout).to.include(`Biggest string found '"other:19"' has 20 bytes`);
      expect(stdout).to.include(`${total} strings with ${bytes} bytes (100.00% of keys, avg size ${(bytes / total).toFixed(2)})`);
      expect(stdout).to.include('0 lists with 0 items (00.00% of keys, avg size 0.00)');
    });

    it('redis-cli --stat shows keys, clients and requests tick by tick', async () => {
      const lines = await statLines(respql.port, 3);
      expect(lines[0]).to.match(/^------- data ------ -+ load -+ - child -/);
      expect(lines[1].split(/\s+/).slice(0, 6)).to.deep.equal(['keys', 'mem', 'clients', 'blocked', 'requests', 'connections']);
      const ticks = lines.slice(2).map((l) => l.trim().split(/\s+/));
      for (const tick of ticks) {
        // keys, memory (e.g. 12.5M), clients (redis-cli and ioredis), blocked, requests (+delta), connections
        expect(tick[0]).to.equal(String(SESSIONS + 20));
        expect(tick[1]).to.match(/^[0-9.]+[KMG]?$/);
        expect(Number(tick[2])).to.be.at.least(2);
        expect(tick[3]).to.equal('0');
        expect(tick[5]).to.match(/^\(\+\d+\)$/);
      }
      // Each tick is one more INFO: the request count grows.
      expect(Number(ticks[2][4])).to.be.greaterThan(Number(ticks[0][4]));
    });
  });
}
