/**
 * `--workers 2`: two processes serve one port as one server. Real clients (ioredis,
 * connect-redis) see one server: unique client ids, one CLIENT LIST and INFO clients, CONFIG
 * SET everywhere, pub/sub across workers; a worker killed under a write load loses no
 * acknowledged write and is replaced; SHUTDOWN stops them all.
 */
import { expect } from 'chai';
import { RedisStore } from 'connect-redis';
import Redis from 'ioredis';
import { createClient } from 'redis';
import { setTimeout as sleep } from 'node:timers/promises';
import { WriteLoad } from '../reliability/load';
import { spawnRespql, type RespqlProcess } from '../support/respql-process';
import { BACKENDS, freshDatabaseUrl } from '../support/respql';

/** A worker's process id, as INFO server shows it to a connection it serves. */
async function workerPid(redis: Redis): Promise<number> {
  return Number(/process_id:(\d+)/.exec(await redis.info('server'))![1]);
}

const connectAll = (port: number, n: number) =>
  Promise.all(
    Array.from(
      { length: n },
      () => new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null }),
    ).map(async (r) => (await r.connect(), r)),
  );

for (const backend of BACKENDS) {
  describe(`--workers 2: one server to its clients (${backend})`, () => {
    let proc: RespqlProcess;
    let cleanup: () => void;
    let clients: Redis[] = [];

    before(async () => {
      const db = await freshDatabaseUrl(backend);
      cleanup = db.cleanup;
      proc = await spawnRespql(['--database-url', db.url, '--workers', '2', '--cleanup-interval', '0', '--metrics-port', '0']);
      clients = await connectAll(proc.port, 6);
    });
    after(async () => {
      for (const c of clients) c.disconnect();
      if (proc.proc.exitCode === null && proc.proc.signalCode === null) await proc.kill9();
      cleanup();
    });

    it('spreads connections over both workers, with client ids unique and interleaved by worker', async () => {
      const ids = await Promise.all(clients.map((c) => c.client('ID')));
      expect(new Set(ids).size).to.equal(ids.length);
      const pids = await Promise.all(clients.map(workerPid));
      expect(new Set(pids).size).to.equal(2);
      // Ids are interleaved by worker index: one worker's are odd, the other's even.
      const parity = new Map(pids.map((pid, i) => [pid, ids[i] % 2]));
      pids.forEach((pid, i) => expect(ids[i] % 2).to.equal(parity.get(pid)));
      expect(new Set(parity.values()).size).to.equal(2);
    });

    it('lists, counts and kills clients of every worker', async () => {
      const ids = await Promise.all(clients.map((c) => c.client('ID')));
      const listed = ((await clients[0].client('LIST')) as string).trim().split('\n');
      expect(listed.map((l) => Number(/^id=(\d+)/.exec(l)![1]))).to.deep.equal([...ids].sort((a, b) => a - b));
      expect(await clients[1].info('clients')).to.match(new RegExp(`connected_clients:${clients.length}\\r\\n`));
      const victim = (await connectAll(proc.port, 1))[0];
      const victimId = await victim.client('ID');
      // Killed from a connection on the other worker.
      const victimPid = await workerPid(victim);
      const killer = clients[(await Promise.all(clients.map(workerPid))).findIndex((pid) => pid !== victimPid)];
      const closed = new Promise((resolve) => victim.once('end', resolve));
      expect(await killer.client('KILL', 'ID', String(victimId))).to.equal(1);
      await closed;
      expect(await killer.client('KILL', 'ID', String(victimId))).to.equal(0);
    });

    it("serves one Prometheus endpoint with every worker's figures added up", async () => {
      const url = /Prometheus metrics on (http:\/\/[^\s"]+\/metrics)/.exec(proc.output())![1];
      const body = await (await fetch(url)).text();
      expect(body).to.match(new RegExp(`^respql_connected_clients ${clients.length}$`, 'm'));
    });

    it('applies CONFIG SET on every worker', async () => {
      expect(await clients[0].config('SET', 'timeout', '3600')).to.equal('OK');
      for (const c of clients) expect(await c.config('GET', 'timeout')).to.deep.equal(['timeout', '3600']);
      expect(await clients[0].config('SET', 'timeout', '0')).to.equal('OK');
    });

    it('delivers PUBLISH to subscribers on every worker, and counts them all', async () => {
      const subscribers = await connectAll(proc.port, 4);
      try {
        expect(new Set(await Promise.all(subscribers.map(workerPid))).size).to.equal(2);
        const got = subscribers.map(() => [] as string[]);
        await Promise.all(subscribers.map((s) => s.subscribe('news')));
        subscribers.forEach((s, i) => s.on('message', (_channel: string, message: string) => got[i].push(message)));
        // PUBLISH counts the receivers on every worker.
        for (const m of ['a', 'b', 'c']) expect(await clients[0].publish('news', m)).to.equal(subscribers.length);
        expect(await clients[1].pubsub('NUMSUB', 'news')).to.deep.equal(['news', subscribers.length]);
        await sleep(200);
        for (const g of got) expect(g).to.deep.equal(['a', 'b', 'c']);
      } finally {
        for (const s of subscribers) s.disconnect();
      }
    });

    it('serves connect-redis (node-redis, RESP3) sessions written through one worker and read through the other', async () => {
      const writers = await Promise.all([0, 1, 2, 3].map(() => createClient({ url: `redis://127.0.0.1:${proc.port}`, RESP: 3 }).connect()));
      try {
        const stores = writers.map((client) => new RedisStore({ client, prefix: 'sess:' }));
        const cookie = { originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000) };
        await stores[0].set('w', { cookie, user: 'alice' } as never);
        for (const store of stores) {
          const got: unknown = await store.get('w');
          expect(got).to.have.property('user', 'alice');
        }
      } finally {
        for (const w of writers) await w.quit();
      }
    });

    it('replaces a worker killed under a write load, losing no acknowledged write', async function () {
      this.timeout(30_000);
      const load = new WriteLoad(20);
      await load.start(proc.port);
      await sleep(300);
      const pids = new Set(await Promise.all(clients.map(workerPid)));
      const [victim] = pids;
      process.kill(victim, 'SIGKILL');
      await sleep(300);
      await load.stop();
      // The clients on the killed worker were cut off; the others went on.
      expect(load.cutOff).to.be.greaterThan(0);
      expect(load.acknowledged).to.be.greaterThan(20);
      // A new worker serves: fresh connections reach a process that is neither of the first two.
      let replacement: number | undefined;
      for (let i = 0; i < 50 && replacement === undefined; i++) {
        const [r] = await connectAll(proc.port, 1).catch(() => [null]);
        if (r) {
          const pid = await workerPid(r).catch(() => 0);
          r.disconnect();
          if (pid && !pids.has(pid)) replacement = pid;
        }
        if (replacement === undefined) await sleep(100);
      }
      expect(replacement, 'a replacement worker').to.be.a('number');
      const result = await load.check(proc.port);
      expect(result.violations).to.deep.equal([]);
      expect(result.acknowledgedKeys).to.be.greaterThan(0);
      for (const c of clients) c.disconnect();
      clients = await connectAll(proc.port, 6);
    });

    it('stops every worker on SHUTDOWN from a client of one of them', async () => {
      const pids = [...new Set(await Promise.all(clients.map(workerPid)))];
      await clients[0].shutdown().catch(() => undefined);
      const exitCode = await new Promise<number | null>((resolve) =>
        proc.proc.exitCode !== null ? resolve(proc.proc.exitCode) : proc.proc.once('exit', (code) => resolve(code)),
      );
      expect(exitCode, proc.output()).to.equal(0);
      const alive = pids.filter((pid) => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      });
      expect(alive).to.deep.equal([]);
    });
  });
}
