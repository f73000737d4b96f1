/**
 * What the Galera drill and its test prove, one function per claim, each returning its figures
 * (the test asserts on them, the drill prints them): causal reads across nodes, certification
 * conflicts retried with no increment lost, one sweeper at a time, and a node killed under a
 * session load with no acknowledged write lost.
 */
import { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GaleraCluster } from './cluster';

function client(port: number): Redis {
  const redis = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1, retryStrategy: () => 100 });
  redis.on('error', () => undefined); // each command reports its own failure
  return redis;
}

/** INFO respql of one instance, as numbers where they are. */
export async function respqlInfo(port: number): Promise<Record<string, string>> {
  const redis = client(port);
  try {
    const text = await redis.info('respql');
    return Object.fromEntries(
      text
        .split('\r\n')
        .filter((l) => l.includes(':'))
        .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1)]),
    );
  } finally {
    redis.disconnect();
  }
}

export interface CausalResult {
  rounds: number;
  reads: number;
  /** Reads through another node that returned an older round than the one acknowledged. */
  stale: number;
}

/**
 * Each round writes `keys` keys in one MSET through one instance and, as soon as it is
 * acknowledged, reads the last through the other two: each must see this round's value.
 */
export async function causalReads(cluster: GaleraCluster, rounds: number, keys = 500): Promise<CausalResult> {
  const clients = cluster.respqls.map((r) => client(r.port));
  const result: CausalResult = { rounds, reads: 0, stale: 0 };
  try {
    for (let round = 0; round < rounds; round++) {
      const writer = round % clients.length;
      const args: string[] = [];
      for (let k = 0; k < keys; k++) args.push(`causal:${k}`, `r${round}`);
      await clients[writer].mset(...args);
      const reads = await Promise.all(clients.filter((_, i) => i !== writer).map((c) => c.get(`causal:${keys - 1}`)));
      result.reads += reads.length;
      result.stale += reads.filter((v) => v !== `r${round}`).length;
    }
  } finally {
    for (const c of clients) c.disconnect();
  }
  return result;
}

export interface ConflictResult {
  sent: number;
  acknowledged: number;
  errors: string[];
  final: number;
  /** Batches respql ran again after a certification failure (INFO respql sql_retries, all instances). */
  retries: number;
}

/** `perInstance` clients on each instance, each sending `each` INCRs of one key, one at a time. */
export async function incrConflicts(cluster: GaleraCluster, perInstance: number, each: number): Promise<ConflictResult> {
  const retriesBefore = await sumInfo(cluster, 'sql_retries');
  const clients = cluster.respqls.flatMap((r) => Array.from({ length: perInstance }, () => client(r.port)));
  const result: ConflictResult = { sent: 0, acknowledged: 0, errors: [], final: 0, retries: 0 };
  try {
    await Promise.all(
      clients.map(async (c) => {
        for (let i = 0; i < each; i++) {
          result.sent++;
          try {
            await c.incr('conflict:counter');
            result.acknowledged++;
          } catch (err) {
            result.errors.push((err as Error).message);
          }
        }
      }),
    );
    result.final = Number(await clients[0].get('conflict:counter'));
  } finally {
    for (const c of clients) c.disconnect();
  }
  result.retries = (await sumInfo(cluster, 'sql_retries')) - retriesBefore;
  return result;
}

async function sumInfo(cluster: GaleraCluster, field: string): Promise<number> {
  const infos = await Promise.all(cluster.respqls.map((r) => respqlInfo(r.port)));
  return infos.reduce((sum, info) => sum + Number(info[field]), 0);
}

export interface SweeperResult {
  expired: number;
  /** Per instance at the end: whether it says it holds the lease, whom it names, its sweeps and deletions during the check. */
  instances: { held: boolean; holder: string; id: string; runs: number; deleted: number }[];
  /** Sampling periods (one tick each) in which more than one instance finished a sweep. */
  concurrent: number;
  /** Periods in which the sweeping instance was another than the one before. */
  handovers: number;
  samples: number;
}

/**
 * `expired` keys that expire at once, written through all three; then, every tick, which
 * instances swept (INFO respql sweeper_runs went up) until they are all deleted. A sweep starts
 * only after its instance claimed or renewed the lease, which lasts two ticks: two instances
 * sweeping in one tick would be two holders at once.
 */
export async function sweeperLease(cluster: GaleraCluster, expired: number, tickMs: number): Promise<SweeperResult> {
  const clients = cluster.respqls.map((r) => client(r.port));
  const infos = () => Promise.all(cluster.respqls.map((r) => respqlInfo(r.port)));
  const before = await infos();
  let last = before;
  const result: SweeperResult = { expired, instances: [], concurrent: 0, handovers: 0, samples: 0 };
  let sweeper = -1;
  try {
    await Promise.all(
      clients.map((c, i) =>
        Promise.all(Array.from({ length: expired / clients.length }, (_, k) => c.set(`sweep:${i}:${k}`, 'x', 'PX', 1))),
      ),
    );
    const deadline = performance.now() + 20 * tickMs + 10_000;
    for (;;) {
      await sleep(tickMs);
      const now = await infos();
      result.samples++;
      const swept = now.flatMap((info, i) => (Number(info.sweeper_runs) > Number(last[i].sweeper_runs) ? [i] : []));
      if (swept.length > 1) result.concurrent++;
      if (swept.length === 1 && sweeper !== -1 && swept[0] !== sweeper) result.handovers++;
      if (swept.length === 1) sweeper = swept[0];
      last = now;
      const deleted = now.reduce((sum, info, i) => sum + Number(info.sweeper_deleted_keys) - Number(before[i].sweeper_deleted_keys), 0);
      if ((deleted >= expired && result.samples >= 5) || performance.now() > deadline) break;
    }
  } finally {
    for (const c of clients) c.disconnect();
  }
  result.instances = last.map((info, i) => ({
    held: info.sweeper_lease_held === '1',
    holder: info.sweeper_lease_holder,
    id: info.sweeper_instance,
    runs: Number(info.sweeper_runs) - Number(before[i].sweeper_runs),
    deleted: Number(info.sweeper_deleted_keys) - Number(before[i].sweeper_deleted_keys),
  }));
  return result;
}

export interface KillResult {
  clients: number;
  /** SET +OK replies, per instance; and those after the kill. */
  acknowledged: number[];
  acknowledgedAfterKill: number[];
  /** Error replies per instance, and how long the dead node's instance took to give them (ms). */
  errors: number[];
  deadErrorMs: { median: number; max: number };
  /** The slowest acknowledged SET on a surviving instance after the kill, ms (the cluster evicting the dead node). */
  survivorMaxMs: number;
  /** Keys with an acknowledged write: holding it (or a later one) through each surviving instance, or not. */
  keysChecked: number;
  present: number;
  lost: string[];
  /** Reads of a client's own key, through its instance, right after its acknowledged SET, that did not see it. */
  staleOwnReads: number;
}

const SESSIONS_PER_CLIENT = 4;

/**
 * `clients` ioredis clients spread over the three instances, each rewriting a few sessions of its
 * own (SET ... EX, then GET of it); after `beforeMs` the mariadbd of node `victim` is killed
 * with SIGKILL, and the load goes on for `afterMs`. Then every key is read through each surviving
 * instance.
 */
export async function killUnderLoad(
  cluster: GaleraCluster,
  victim: number,
  clients: number,
  beforeMs: number,
  afterMs: number,
): Promise<KillResult> {
  const n = cluster.respqls.length;
  const result: KillResult = {
    clients,
    acknowledged: Array<number>(n).fill(0),
    acknowledgedAfterKill: Array<number>(n).fill(0),
    errors: Array<number>(n).fill(0),
    deadErrorMs: { median: 0, max: 0 },
    survivorMaxMs: 0,
    keysChecked: 0,
    present: 0,
    lost: [],
    staleOwnReads: 0,
  };
  const acked = new Map<string, number>();
  const deadErrors: number[] = [];
  let killed = false;
  let stopping = false;
  const conns = Array.from({ length: clients }, (_, c) => client(cluster.respqls[c % n].port));
  const run = async (c: number) => {
    const instance = c % n;
    for (let version = 0; !stopping; version++) {
      const key = `sess:c${c}:${version % SESSIONS_PER_CLIENT}`;
      const value = JSON.stringify({ client: c, version, cookie: { path: '/', httpOnly: true } });
      const started = performance.now();
      try {
        await conns[c].set(key, value, 'EX', 3600);
        result.acknowledged[instance]++;
        if (killed) result.acknowledgedAfterKill[instance]++;
        if (killed && instance !== victim) result.survivorMaxMs = Math.max(result.survivorMaxMs, Math.round(performance.now() - started));
        acked.set(key, version);
        if ((await conns[c].get(key)) !== value) result.staleOwnReads++;
      } catch {
        result.errors[instance]++;
        if (killed && instance === victim) deadErrors.push(performance.now() - started);
        await sleep(50); // as a web app's next request would come
      }
    }
  };
  const running = conns.map((_, c) => run(c));
  try {
    await sleep(beforeMs);
    cluster.nodes[victim].kill9();
    killed = true;
    await sleep(afterMs);
    stopping = true;
    await Promise.all(running);
  } finally {
    stopping = true;
    for (const c of conns) c.disconnect();
  }
  deadErrors.sort((a, b) => a - b);
  result.deadErrorMs = { median: Math.round(deadErrors[deadErrors.length >> 1] ?? 0), max: Math.round(deadErrors.at(-1) ?? 0) };

  const keys = [...acked.keys()];
  for (const [i, r] of cluster.respqls.entries()) {
    if (i === victim) continue;
    const reader = client(r.port);
    try {
      const values = await reader.mget(...keys);
      keys.forEach((key, j) => {
        result.keysChecked++;
        const value = values[j];
        const stored = value === null ? -1 : (JSON.parse(value) as { version: number }).version;
        if (stored >= acked.get(key)!) result.present++;
        else result.lost.push(`${key} through ${r.port}: holds v${stored}, v${acked.get(key)} was acknowledged`);
      });
    } finally {
      reader.disconnect();
    }
  }
  return result;
}
