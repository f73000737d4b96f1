/**
 * Pub/sub figures (npm run bench:pubsub): PUBLISH to a channel with 50 subscribers, latency from
 * PUBLISH to delivery at the last of them and PUBLISH's own round trip, against redis-server,
 * respql on SQLite, and two respql instances on one PostgreSQL (publisher on one, subscribers on
 * the other). Everything runs in this process's event loop except redis-server and PostgreSQL.
 */
import Redis from 'ioredis';
import { createServer, type RespqlServer } from '../src';
import { startRedisServer } from '../test/support/redis-server';
import { freshDatabase, stopSharedPostgres } from '../test/support/postgres';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SUBSCRIBERS = 50;
const MESSAGES = Number(process.env.BENCH_PUBSUB_MESSAGES ?? 1000);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

async function measure(name: string, publishPort: number, subscribePort: number): Promise<void> {
  const subs = Array.from({ length: SUBSCRIBERS }, () => new Redis(subscribePort, { lazyConnect: true }));
  await Promise.all(subs.map((s) => s.connect()));
  const sentAt = new Map<number, number>();
  const received = new Map<number, number>();
  const deliveries: number[] = [];
  let done: () => void = () => undefined;
  const finished = new Promise<void>((r) => (done = r));
  for (const s of subs) {
    s.on('message', (_c: string, m: string) => {
      const id = Number(m.slice(0, m.indexOf(':')));
      const n = (received.get(id) ?? 0) + 1;
      received.set(id, n);
      if (n === SUBSCRIBERS) {
        deliveries.push(performance.now() - sentAt.get(id)!);
        if (deliveries.length === MESSAGES) done();
      }
    });
    await s.subscribe('bench');
  }
  const pub = new Redis(publishPort);
  const roundTrips: number[] = [];
  const payload = 'x'.repeat(100);
  const started = performance.now();
  for (let i = 0; i < MESSAGES; i++) {
    const t = performance.now();
    sentAt.set(i, t);
    const n = await pub.publish('bench', `${i}:${payload}`);
    roundTrips.push(performance.now() - t);
    // Across instances PUBLISH counts its own instance's receivers: 0 here.
    if (publishPort === subscribePort && n !== SUBSCRIBERS) throw new Error(`${name}: PUBLISH reached ${n}`);
  }
  await finished;
  const seconds = (performance.now() - started) / 1000;
  deliveries.sort((a, b) => a - b);
  roundTrips.sort((a, b) => a - b);
  const ms = (v: number) => v.toFixed(2);
  console.log(
    `| ${name} | ${MESSAGES} | ${Math.round(MESSAGES / seconds)} | ${ms(percentile(roundTrips, 0.5))} / ${ms(percentile(roundTrips, 0.99))} | ` +
      `${ms(percentile(deliveries, 0.5))} / ${ms(percentile(deliveries, 0.99))} |`,
  );
  pub.disconnect();
  for (const s of subs) s.disconnect();
}

async function main(): Promise<void> {
  console.log(`PUBLISH to ${SUBSCRIBERS} subscribers, one publisher waiting for each reply, 100-byte messages`);
  console.log('| target | messages | PUBLISH/s | PUBLISH round trip p50 / p99 ms | publish to last delivery p50 / p99 ms |');
  console.log('| --- | --- | --- | --- | --- |');
  const redis = await startRedisServer();
  try {
    await measure('redis-server 7.0', redis.port, redis.port);
  } finally {
    await redis.stop();
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'respql-bench-pubsub-'));
  const sqlite = createServer({ databaseUrl: path.join(dir, 'bench.sqlite'), port: 0, cleanupIntervalMs: 0 });
  try {
    const { port } = await sqlite.listen();
    await measure('respql, SQLite', port, port);
  } finally {
    await sqlite.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const url = await freshDatabase();
  const servers: RespqlServer[] = [];
  try {
    for (let i = 0; i < 2; i++) servers.push(createServer({ databaseUrl: url, port: 0, cleanupIntervalMs: 0 }));
    const [a, b] = [await servers[0].listen(), await servers[1].listen()];
    await measure('respql, PostgreSQL, same instance', a.port, a.port);
    await measure('respql, PostgreSQL, publisher on A, subscribers on B', a.port, b.port);
  } finally {
    for (const s of servers) await s.close();
    await stopSharedPostgres();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
