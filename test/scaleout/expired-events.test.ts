/**
 * `expired` events across instances: keys set with PX through one instance raise exactly one
 * `expired` event each, delivered to the subscribers of every instance, soon after their expiry
 * (the lag is printed: README's guarantee). On SQLite, one instance.
 */
import { expect } from 'chai';
import { createServer, type RespqlServer } from '../../src';
import { startRedisServer, type RedisServer } from '../support/redis-server';
import { RawClient, toStrings } from '../support/resp-client';
import { BACKENDS, freshDatabaseUrl } from '../support/respql';
import { sleep } from './helpers';

const KEYS = 20;
const TTL_MS = 200;

/** Subscribes to expired key events and records, per key, when each event arrived. */
async function expiredListener(port: number): Promise<{ client: RawClient; events: { key: string; at: number }[] }> {
  const client = await RawClient.connect(port);
  expect(toStrings(await client.send('CONFIG', 'SET', 'notify-keyspace-events', 'Ex'))).to.equal('OK');
  client.sendRaw(Buffer.from('SUBSCRIBE __keyevent@0__:expired\r\n'));
  await client.readReply();
  const events: { key: string; at: number }[] = [];
  const read = async (): Promise<void> => {
    for (;;) {
      const m = toStrings(await client.readReply()) as string[];
      events.push({ key: m[2], at: Date.now() });
    }
  };
  read().catch(() => undefined);
  return { client, events };
}

/** Sets KEYS keys with PX TTL_MS through `port`; returns when each expires (by this process's clock). */
async function setExpiring(port: number, prefix: string): Promise<Map<string, number>> {
  const client = await RawClient.connect(port);
  const due = new Map<string, number>();
  for (let i = 0; i < KEYS; i++) {
    const key = `${prefix}${i}`;
    const before = Date.now();
    await client.send('SET', key, 'v', 'PX', String(TTL_MS));
    due.set(key, before + TTL_MS);
    await sleep(5);
  }
  await client.close();
  return due;
}

function lags(events: { key: string; at: number }[], due: Map<string, number>): number[] {
  return events.map((e) => e.at - due.get(e.key)!).sort((a, b) => a - b);
}

for (const backend of BACKENDS) {
  const count = backend === 'postgres' ? 2 : 1;
  describe(`expired events: ${count} instance(s) on ${backend}`, function () {
    this.timeout(60_000);
    let servers: RespqlServer[] = [];
    let cleanup: () => void;
    before(async () => {
      const db = await freshDatabaseUrl(backend);
      cleanup = db.cleanup;
      servers = [];
      for (let i = 0; i < count; i++) {
        const server = createServer({ databaseUrl: db.url, port: 0, cleanupIntervalMs: 0 });
        await server.listen();
        servers.push(server);
      }
    });
    after(async () => {
      for (const s of servers) await s.close();
      cleanup?.();
    });

    it(`each key set with PX ${TTL_MS} raises exactly one expired event on every instance, soon after its expiry`, async () => {
      const listeners = await Promise.all(servers.map((s) => expiredListener(s.address()!.port)));
      const due = await setExpiring(servers[0].address()!.port, 'exp:');
      await sleep(TTL_MS + 1000);
      for (const [i, l] of listeners.entries()) {
        expect(l.events.map((e) => e.key).sort(), `instance ${i}`).to.deep.equal([...due.keys()].sort());
        const lag = lags(l.events, due);
        // Never before the expiry; within the scan interval (100 ms) and a commit, with room for a busy machine.
        expect(lag[0]).to.be.at.least(0);
        expect(lag[lag.length - 1]).to.be.below(600);
        console.log(
          `      ${backend} instance ${i}: expired event lag after expiry, ms: median ${lag[lag.length >> 1]}, max ${lag[lag.length - 1]}`,
        );
      }
      const raised = servers.reduce((n, s) => n + s.expiredEvents.stats.raised, 0);
      expect(raised).to.equal(KEYS);
      for (const l of listeners) await l.client.destroy();
    });
  });
}

describe('expired events: redis-server for comparison', function () {
  this.timeout(30_000);
  let redis: RedisServer;
  before(async () => (redis = await startRedisServer()));
  after(async () => redis?.stop());
  it("prints Redis 7.0's lag from expiry to expired event (active expiry, hz 10)", async () => {
    const l = await expiredListener(redis.port);
    const due = await setExpiring(redis.port, 'exp:');
    await sleep(TTL_MS + 1000);
    expect(l.events.length).to.equal(KEYS);
    const lag = lags(l.events, due);
    console.log(`      redis-server: expired event lag after expiry, ms: median ${lag[lag.length >> 1]}, max ${lag[lag.length - 1]}`);
    await l.client.destroy();
  });
});
