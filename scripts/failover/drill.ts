/**
 * The failover drill: respql on a Patroni cluster (see cluster.ts) under session traffic, its
 * primary killed again and again, then a planned switchover. For each kill it measures how long
 * the cluster took to promote a new primary, how long respql then took to serve writes again,
 * and how fast its error replies came in between; at the end it reads every session back and
 * counts the acknowledged writes that are missing.
 *
 *   npm run failover -- [--kills 6] [--clients 50] [--ttl 6] [--strict]
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
  /** synchronous_mode_strict (see ClusterOptions). */
  strict?: boolean;
  databaseTimeoutMs: number;
  log: (line: string) => void;
}

export interface KillFigures {
  kind: KillKind | 'switchover';
  from: string;
  to: string;
  /** From the kill to Patroni reporting the new primary running. */
  promotedMs: number;
  /** From that promotion until a commit straight to it (through HAProxy, not respql) succeeded. */
  writableMs: number;
  /** From that promotion until a write through each respql instance succeeded. */
  recoveredMs: number;
  /** Attempts that got an error between the kill and the recovery. */
  errors: number;
  /** From the recovery until the old primary is back as a replica and a synchronous standby is in place. */
  rejoinMs: number;
  /** Attempts that got an error meanwhile (the new primary waiting for its new synchronous standby). */
  rejoinErrors: number;
}

export interface DrillResult {
  kills: KillFigures[];
  switchover: KillFigures;
  /** Writes that failed past their retry budget during the switchover (a client-visible error). */
  switchoverGivenUp: number;
  acknowledged: number;
  present: number;
  lost: string[];
  /** Every attempt's latency, p99: from each kill to recovery, from recovery until the cluster was whole again, and otherwise. */
  p99OutageMs: number;
  p99RejoinMs: number;
  p99SteadyMs: number;
  /** The slowest attempt of the whole run, error or not. */
  slowestMs: number;
  /** Distinct error texts the clients saw (first 70 characters). */
  errorTexts: string[];
  attempts: number;
  /** Whether both respql instances were still running at the end. */
  respqlAlive: boolean;
}

/** performance.now() from, to. */
type Window = [number, number];

const PROMOTION_TIMEOUT_MS = 60_000;
const RECOVERY_TIMEOUT_MS = 30_000;
const HEAL_TIMEOUT_MS = 90_000;

export async function runDrill(options: DrillOptions): Promise<DrillResult> {
  const { log } = options;
  const cluster = await FailoverCluster.start({
    ttl: options.ttl,
    strict: options.strict ?? false,
    databaseTimeoutMs: options.databaseTimeoutMs,
    log,
  });
  const load = new SessionLoad(options.clients);
  const outages: Window[] = [];
  const rejoins: Window[] = [];
  try {
    await load.start(cluster.respqlPort);
    await waitFor('the first acknowledged writes', 30_000, () => Promise.resolve(load.acknowledged >= 100));
    log(`${options.clients} clients writing sessions through HAProxy`);

    const kills: KillFigures[] = [];
    for (let i = 0; i <= options.kills; i++) {
      const kind = i < options.kills ? KILL_ORDER[i % KILL_ORDER.length] : 'switchover';
      const { figures, killedAt, recoveredAt } = await failover(cluster, load, kind);
      outages.push([killedAt, recoveredAt]);
      if (kind !== 'switchover') heal(cluster, figures.from, kind);
      await cluster.waitHealthy(`${figures.from} back as a replica`, HEAL_TIMEOUT_MS);
      const healthyAt = performance.now();
      rejoins.push([recoveredAt, healthyAt]);
      figures.rejoinMs = healthyAt - recoveredAt;
      figures.rejoinErrors = load.attempts.filter((a) => a.at >= recoveredAt && a.at <= healthyAt && a.error).length;
      kills.push(figures);
      log(describe(figures));
    }
    const switchover = kills.pop()!;
    // Every write retried through the switchover ends, acknowledged or given up after its budget.
    await load.stop();
    const switchoverGivenUp = load.givenUp.filter((g) => g.at >= outages.at(-1)![0]).length;

    const check = await load.check(cluster.respqlPort);
    // An attempt in flight when the primary was killed belongs to that outage.
    const within = (windows: Window[]) => (a: Attempt) => windows.some(([from, to]) => a.at <= to && a.at + a.ms >= from);
    const p99 = (filter: (a: Attempt) => boolean) =>
      percentile(
        load.attempts.filter(filter).map((a) => a.ms),
        99,
      );
    const result: DrillResult = {
      kills,
      switchover,
      switchoverGivenUp,
      acknowledged: check.acknowledged,
      present: check.present,
      lost: check.lost,
      p99OutageMs: p99(within(outages)),
      p99RejoinMs: p99(within(rejoins)),
      p99SteadyMs: p99((a) => !within(outages)(a) && !within(rejoins)(a)),
      slowestMs: Math.max(...load.attempts.map((a) => a.ms)),
      errorTexts: [...new Set(load.attempts.flatMap((a) => (a.error ? [a.error.slice(0, 70)] : [])))],
      attempts: load.attempts.length,
      respqlAlive: cluster.respqls.every((r) => r.proc.exitCode === null && r.proc.signalCode === null),
    };
    const ms = (n: number) => `${Math.round(n)} ms`;
    log(
      `${result.acknowledged} writes acknowledged, ${result.present} present, ${result.lost.length} lost; p99 ` +
        `${ms(result.p99OutageMs)} from kill to recovery, ${ms(result.p99RejoinMs)} while the old primary rejoined, ` +
        `${ms(result.p99SteadyMs)} otherwise; slowest reply ${ms(result.slowestMs)}`,
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
    `${f.errors} error replies meanwhile; whole again ${(f.rejoinMs / 1000).toFixed(1)} s later (${f.rejoinErrors} error replies)`
  );
}

/** Takes the primary down (or switches over), and measures the promotion and respql's recovery. */
async function failover(cluster: FailoverCluster, load: SessionLoad, kind: KillKind | 'switchover') {
  const old = await cluster.waitHealthy('a healthy cluster before the kill', HEAL_TIMEOUT_MS);
  const killedAt = performance.now();
  let to = '';
  if (kind === 'postgres') {
    const postmaster = old.postmaster();
    if (postmaster === null) throw new Error(`${old.name} has no postmaster to kill`);
    process.kill(postmaster, 'SIGKILL');
  } else if (kind === 'patroni') {
    const group = old.patroniGroup();
    // (Never kill(-0): that is our own process group.)
    if (group === null) throw new Error(`${old.name} has no Patroni to kill`);
    process.kill(-group, 'SIGKILL');
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
  const figures: KillFigures = {
    kind,
    from: old.name,
    to: to || promoted!.name,
    promotedMs: promotedAt - killedAt,
    writableMs: writableAt - promotedAt,
    recoveredMs: recoveredAt - promotedAt,
    errors: load.attempts.filter((a) => a.at >= killedAt && a.error).length,
    rejoinMs: 0,
    rejoinErrors: 0,
  };
  return { figures, killedAt, recoveredAt };
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
  // Ctrl-C still takes the cluster down (the 'exit' hook in cluster.ts).
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(130));
  const options = { kills: flag('kills', 6), clients: flag('clients', 50), ttl: flag('ttl', 6), strict: process.argv.includes('--strict') };
  runDrill({ ...options, databaseTimeoutMs: 2000, log: console.log })
    .then((result) => {
      console.log(JSON.stringify({ ...result, lost: result.lost.length }, null, 2));
      process.exit(result.lost.length === 0 && result.respqlAlive ? 0 : 1);
    })
    .catch((err: Error) => {
      console.error(err);
      process.exit(1);
    });
}
