/**
 * The failover drill: respql on a Patroni cluster (see cluster.ts) under session traffic, its
 * primary killed again and again, then a planned switchover. For each kill it measures how long
 * the cluster took to promote a new primary, how long respql then took to serve writes again,
 * and how fast its error replies came in between; at the end it reads every session back and
 * counts the acknowledged writes that are missing.
 *
 *   npm run build && node dist/scripts/failover/drill.js [--kills 6] [--clients 50] [--ttl 6]
 *
 * Kills, in turn: `kill -9` of the primary's postmaster (Patroni fails over rather than restart
 * it), `kill -9` of its Patroni (PostgreSQL keeps running until the new primary is promoted,
 * then Patroni is started again and turns it into a replica), and SIGSTOP of the whole node
 * (woken once the new primary serves). test/reliability/failover.test.ts runs it in CI.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { isErrorReply, RawClient } from '../../test/support/resp-client';
import { FailoverCluster, waitFor, type PatroniNode } from './cluster';
import { percentile, SessionLoad, type Attempt } from './load';

export type KillKind = 'postgres' | 'patroni' | 'freeze';
export const KILL_ORDER: readonly KillKind[] = ['postgres', 'patroni', 'freeze'];

export interface DrillOptions {
  kills: number;
  clients: number;
  /** Patroni's leader lease, s. */
  ttl: number;
  databaseTimeoutMs: number;
  log: (line: string) => void;
}

export interface KillFigures {
  kind: KillKind | 'switchover';
  from: string;
  to: string;
  /** From the kill to Patroni reporting the new primary running. */
  promotedMs: number;
  /** From that promotion until a commit straight to it (through HAProxy) succeeded: it has a synchronous standby. */
  writableMs: number;
  /** From that promotion until a write through each respql instance succeeded. */
  recoveredMs: number;
  /** Attempts that got an error between the kill and the recovery. */
  errors: number;
}

export interface DrillResult {
  kills: KillFigures[];
  switchover: KillFigures;
  /** Writes that failed past their retry budget during the switchover (a client-visible error). */
  switchoverGivenUp: number;
  acknowledged: number;
  present: number;
  lost: string[];
  /** Every attempt's latency: p99 while a failover was under way (kill to recovery) and outside. */
  p99DuringMs: number;
  p99OutsideMs: number;
  /** The slowest attempt of the whole run, error or not. */
  slowestMs: number;
  /** Distinct error texts the clients saw (first 70 characters). */
  errorTexts: string[];
  attempts: number;
  /** Whether both respql instances were still running at the end. */
  respqlAlive: boolean;
}

/** Wall time of the drill's steps, s. */
const PROMOTION_TIMEOUT_MS = 60_000;
const RECOVERY_TIMEOUT_MS = 30_000;
const HEAL_TIMEOUT_MS = 90_000;

export async function runDrill(options: DrillOptions): Promise<DrillResult> {
  const { log } = options;
  const cluster = await FailoverCluster.start({ ttl: options.ttl, databaseTimeoutMs: options.databaseTimeoutMs, log });
  const load = new SessionLoad(options.clients);
  const windows: [number, number][] = [];
  try {
    await load.start(cluster.respqlPort);
    await waitFor('the first acknowledged writes', 30_000, () => Promise.resolve(load.acknowledged >= 100));
    log(`${options.clients} clients writing sessions through HAProxy`);

    const kills: KillFigures[] = [];
    for (let i = 0; i < options.kills; i++) {
      const kind = KILL_ORDER[i % KILL_ORDER.length];
      const figures = await failover(cluster, load, kind, windows);
      kills.push(figures);
      log(describe(figures));
      heal(cluster, figures.from, kind);
    }

    const switchover = await failover(cluster, load, 'switchover', windows);
    log(describe(switchover));
    // Every write retried through the switchover has finished (or given up) once its budget is spent.
    await sleep(9000);
    const switchoverGivenUp = load.givenUp.filter((g) => g.at >= windows.at(-1)![0]).length;
    await load.stop();

    const check = await load.check(cluster.respqlPort);
    const during = (a: Attempt) => windows.some(([from, to]) => a.at >= from && a.at <= to);
    const result: DrillResult = {
      kills,
      switchover,
      switchoverGivenUp,
      acknowledged: check.acknowledged,
      present: check.present,
      lost: check.lost,
      p99DuringMs: percentile(
        load.attempts.filter(during).map((a) => a.ms),
        99,
      ),
      p99OutsideMs: percentile(
        load.attempts.filter((a) => !during(a)).map((a) => a.ms),
        99,
      ),
      slowestMs: Math.max(...load.attempts.map((a) => a.ms)),
      errorTexts: [...new Set(load.attempts.flatMap((a) => (a.error ? [a.error.slice(0, 70)] : [])))],
      attempts: load.attempts.length,
      respqlAlive: cluster.respqls.every((r) => r.proc.exitCode === null && r.proc.signalCode === null),
    };
    log(
      `${result.acknowledged} writes acknowledged, ${result.present} present, ${result.lost.length} lost; ` +
        `p99 ${Math.round(result.p99DuringMs)} ms during failovers, ${Math.round(result.p99OutsideMs)} ms outside; ` +
        `slowest reply ${Math.round(result.slowestMs)} ms`,
    );
    return result;
  } finally {
    await load.stop().catch(() => undefined);
    await cluster.stop();
  }
}

function describe(f: KillFigures): string {
  const what = f.kind === 'switchover' ? 'switchover' : `kill (${f.kind})`;
  return (
    `${what} ${f.from} -> ${f.to}: promoted after ${(f.promotedMs / 1000).toFixed(1)} s, ` +
    `commits ${(f.writableMs / 1000).toFixed(1)} s later, respql serving ${(f.recoveredMs / 1000).toFixed(1)} s later; ` +
    `${f.errors} error replies meanwhile`
  );
}

/** Takes the primary down (or switches over), and measures the promotion and respql's recovery. */
async function failover(cluster: FailoverCluster, load: SessionLoad, kind: KillKind | 'switchover', windows: [number, number][]) {
  const old = await cluster.waitHealthy('a healthy cluster before the kill', HEAL_TIMEOUT_MS);
  const killedAt = performance.now();
  let to = '';
  if (kind === 'postgres') {
    const postmaster = old.postmaster();
    if (postmaster === null) throw new Error(`${old.name} has no postmaster to kill`);
    process.kill(postmaster, 'SIGKILL');
  } else if (kind === 'patroni') {
    process.kill(-old.patroniGroup()!, 'SIGKILL');
  } else if (kind === 'freeze') {
    old.signal('SIGSTOP');
  } else {
    to = (await cluster.switchover()).to;
  }

  let promoted: PatroniNode | null = null;
  await waitFor(`a new primary after the ${kind} of ${old.name}`, PROMOTION_TIMEOUT_MS, async () => {
    promoted = await cluster.primary();
    return promoted !== null && promoted !== old;
  }).catch((err: Error) => {
    throw new Error(`${err.message}\n${cluster.logTail()}`);
  });
  const promotedAt = performance.now();
  const writable = commitsAgain(cluster.pgPort).then(() => performance.now());
  await Promise.all(cluster.respqls.map((r) => writesAgain(r.port)));
  const recoveredAt = performance.now();
  const writableAt = await writable;
  windows.push([killedAt, recoveredAt]);
  return {
    kind,
    from: old.name,
    to: to || promoted!.name,
    promotedMs: promotedAt - killedAt,
    writableMs: writableAt - promotedAt,
    recoveredMs: recoveredAt - promotedAt,
    errors: load.attempts.filter((a) => a.at >= killedAt && a.error).length,
  } satisfies KillFigures;
}

/** Resolves once a SET on a respql instance of its own succeeds. */
async function writesAgain(port: number): Promise<void> {
  const started = performance.now();
  for (let i = 0; ; i++) {
    const client = await RawClient.connect(port);
    try {
      const reply = await client.send('SET', 'failover:probe', String(i));
      if (!isErrorReply(reply)) return;
      if (performance.now() - started > RECOVERY_TIMEOUT_MS) throw new Error(`respql still failing: ${reply.error}`);
    } finally {
      await client.destroy();
    }
    await sleep(50);
  }
}

/** Resolves once a commit on the PostgreSQL behind HAProxy `port` succeeds (each attempt bounded). */
async function commitsAgain(port: number): Promise<void> {
  const started = performance.now();
  for (;;) {
    const client = new Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres`, connectionTimeoutMillis: 1000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query(
        'SET statement_timeout = 1000; CREATE TABLE IF NOT EXISTS failover_probe (n int); INSERT INTO failover_probe VALUES (1)',
      );
      return;
    } catch (err) {
      if (performance.now() - started > RECOVERY_TIMEOUT_MS)
        throw new Error(`the new primary still refuses commits: ${(err as Error).message}`, { cause: err });
    } finally {
      await client.end().catch(() => undefined);
    }
    await sleep(50);
  }
}

/** Brings the old primary back as a replica (Patroni does it itself after a postmaster kill). */
function heal(cluster: FailoverCluster, name: string, kind: KillKind): void {
  const node = cluster.nodes.find((n) => n.name === name)!;
  if (kind === 'patroni') cluster.startPatroni(node);
  if (kind === 'freeze') node.signal('SIGCONT');
}

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

if (require.main === module) {
  runDrill({ kills: flag('kills', 6), clients: flag('clients', 50), ttl: flag('ttl', 6), databaseTimeoutMs: 2000, log: console.log })
    .then((result) => {
      console.log(JSON.stringify({ ...result, lost: result.lost.length }, null, 2));
      process.exit(result.lost.length === 0 && result.respqlAlive ? 0 : 1);
    })
    .catch((err: Error) => {
      console.error(err);
      process.exit(1);
    });
}
