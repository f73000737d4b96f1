/**
 * The Galera drill: respql on a three-node Galera cluster (see cluster.ts), one instance per
 * node, with the checks of checks.ts at a larger scale than the CI test's, then the killed node
 * started again: it catches up (IST) and its respql serves the same data as the other two.
 *
 *   npm run galera -- [--clients 50] [--after 15]
 *
 * test/reliability/galera.test.ts runs the same checks in CI, smaller.
 */
import { Redis } from 'ioredis';
import { parseArgs } from 'node:util';
import { causalReads, incrConflicts, killUnderLoad, sweeperLease } from './checks';
import { DATABASE_TIMEOUT_MS, GaleraCluster } from './cluster';

/** The sweeper's tick: its lease lasts two. */
const TICK_MS = 1000;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { clients: { type: 'string', default: '50' }, after: { type: 'string', default: '15' } } });
  const clients = Number(values.clients);
  const afterMs = Number(values.after) * 1000;
  const log = (line: string) => console.log(line);
  const cluster = await GaleraCluster.start({ databaseTimeoutMs: DATABASE_TIMEOUT_MS, cleanupIntervalMs: TICK_MS, log });
  let failed = false;
  const check = (ok: boolean, what: string) => {
    if (!ok) failed = true;
    log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  };
  try {
    const causal = await causalReads(cluster, 60);
    check(causal.stale === 0, `causal reads: ${causal.reads} reads through another node right after a 500-key MSET, ${causal.stale} stale`);

    const conflict = await incrConflicts(cluster, 10, 50);
    check(
      conflict.errors.length === 0 && conflict.final === conflict.sent && conflict.retries > 0,
      `certification conflicts: ${conflict.sent} INCRs of one key by 30 clients through 3 nodes, ${conflict.acknowledged} acknowledged, ` +
        `final value ${conflict.final}, ${conflict.retries} batches retried after a conflict, ${conflict.errors.length} errors`,
    );

    const sweep = await sweeperLease(cluster, 3000, TICK_MS);
    const deleted = sweep.instances.reduce((sum, i) => sum + i.deleted, 0);
    check(
      sweep.concurrent === 0 && deleted === sweep.expired && sweep.instances.filter((i) => i.held).length === 1,
      `sweeper: ${deleted} of ${sweep.expired} expired keys deleted, ${sweep.concurrent} ticks of ${sweep.samples} with two sweepers, ` +
        `${sweep.handovers} handovers of the lease (sweeps per instance: ${sweep.instances.map((i) => i.runs).join(', ')})`,
    );

    const victim = 2;
    const kill = await killUnderLoad(cluster, victim, clients, 5000, afterMs);
    const total = kill.acknowledged.reduce((a, b) => a + b);
    check(
      kill.lost.length === 0 && kill.staleOwnReads === 0 && kill.acknowledgedAfterKill.every((n, i) => i === victim || n > 0),
      `kill -9 of node${victim + 1} under ${clients} clients: ${total} SETs acknowledged (per instance ${kill.acknowledged.join(' / ')}; ` +
        `after the kill ${kill.acknowledgedAfterKill.join(' / ')}), errors per instance ${kill.errors.join(' / ')} ` +
        `(the dead node's: median ${kill.deadErrorMs.median} ms, max ${kill.deadErrorMs.max} ms), slowest SET on the others ${kill.survivorMaxMs} ms; ` +
        `${kill.keysChecked} key checks through the two others, ${kill.present} present, ${kill.lost.length} lost`,
    );
    for (const line of kill.lost.slice(0, 10)) log(`     ${line}`);

    const restarted = performance.now();
    await cluster.restartNode(victim);
    const rejoinMs = Math.round(performance.now() - restarted);
    const sizes = await Promise.all(
      cluster.respqls.map(async (r) => {
        const redis = new Redis({ port: r.port, host: '127.0.0.1' });
        try {
          return [await redis.dbsize(), await redis.get('conflict:counter')].join(':');
        } finally {
          redis.disconnect();
        }
      }),
    );
    check(
      new Set(sizes).size === 1,
      `node${victim + 1} restarted and synced in ${rejoinMs} ms; DBSIZE:counter through the three instances ${sizes.join(', ')}`,
    );
  } finally {
    await cluster.stop();
  }
  if (failed) process.exitCode = 1;
}

// Ctrl-C or a kill: exit through the cluster's 'exit' hook, which takes its processes down.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));
main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
