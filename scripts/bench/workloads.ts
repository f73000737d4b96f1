/** The main run's measurements: redis-benchmark, session traffic and pgbench against every target. */
import fs from 'node:fs';
import path from 'node:path';
import { CLIENTS, KEYSPACE, type Options, PG_BIN, PIPELINES, VALUE_SIZE, fail } from './options';
import { progress, run } from './processes';
import {
  NAMES,
  type Postgres,
  type Target,
  command,
  keyName,
  mariadbSql,
  prefill,
  psql,
  startMariadbTarget,
  startPostgres,
  startRedis,
  startRespql,
} from './targets';
import { type Sample, type Test, fmtRate, quantile, rotate } from './results';
import { hashSessionTraffic, prefillHashSessions } from './hash-sessions';
import { lockTraffic } from './lock-traffic';
import { requestTraffic } from './traffic';

/**
 * redis-benchmark 7's --csv output: a header line
 * "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
 * then one line per test. Columns are looked up by name so a reordering cannot mislabel them.
 */
export function parseBenchmarkCsv(csv: string): { test: string; rps: number; p50: number; p99: number; max: number }[] {
  const rows = csv
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('"'))
    .map((l) => l.split(',').map((c) => c.replace(/^"|"$/g, '')));
  const header = rows.shift() ?? fail('redis-benchmark printed no CSV');
  const col = (name: string) =>
    header.indexOf(name) >= 0 ? header.indexOf(name) : fail(`redis-benchmark CSV has no "${name}" column: ${header.join(',')}`);
  const [test, rps, p50, p99, max] = ['test', 'rps', 'p50_latency_ms', 'p99_latency_ms', 'max_latency_ms'].map(col);
  return rows.map((r) => ({ test: r[test], rps: Number(r[rps]), p50: Number(r[p50]), p99: Number(r[p99]), max: Number(r[max]) }));
}

export async function redisBenchmark(
  target: Target,
  pipeline: number,
  requests: number,
  tests = 'set,get',
  keyspace = KEYSPACE,
): Promise<Sample[]> {
  const args = [
    '-h',
    '127.0.0.1',
    '-p',
    String(target.port),
    '-t',
    tests,
    '-c',
    String(CLIENTS),
    '-d',
    String(VALUE_SIZE),
    '-r',
    String(keyspace),
    '-n',
    String(requests),
    '-P',
    String(pipeline),
    '--csv',
  ];
  const { stdout, stderr } = await run('redis-benchmark', args);
  // redis-benchmark counts error replies as successes and only prints "Error from server: ..."
  // (at most once a second, on stdout); any error means the figure is void.
  const error = /^.*error.*$/im.exec(stdout + '\n' + stderr);
  if (error) fail(`redis-benchmark against ${target.name} reported: ${error[0]}`);
  return parseBenchmarkCsv(stdout).map((r) => ({ ...r, target: target.name, test: r.test as Test, pipeline }));
}

/**
 * The same two operations issued straight to PostgreSQL, one statement per transaction,
 * with prepared statements (pgbench's best case), into respql's own table: random keys in
 * the same key space as redis-benchmark's, a 1024-byte value.
 */
export const PGBENCH_SCRIPTS: Record<'SET' | 'GET', string> = {
  SET: [
    `\\set r random(0, ${KEYSPACE - 1})`,
    `INSERT INTO sessions (token, data, expiry) VALUES ('key:' || lpad(:r::text, 12, '0'), :data, now() + interval '1 hour') ` +
      `ON CONFLICT (token) DO UPDATE SET data = excluded.data, expiry = excluded.expiry;`,
  ].join('\n'),
  // respql's GET has the same live-row filter: expired rows are invisible.
  GET: [
    `\\set r random(0, ${KEYSPACE - 1})`,
    `SELECT data FROM sessions WHERE token = 'key:' || lpad(:r::text, 12, '0') AND (expiry IS NULL OR expiry > now());`,
  ].join('\n'),
};

export async function pgbench(pg: Postgres, tmp: string, test: 'SET' | 'GET', seconds: number): Promise<Sample> {
  const dir = path.join(tmp, 'pgbench');
  fs.mkdirSync(dir, { recursive: true });
  const script = path.join(dir, `${test === 'SET' ? 'upsert' : 'select'}.sql`);
  fs.writeFileSync(script, PGBENCH_SCRIPTS[test] + '\n');
  const logPrefix = path.join(dir, 'log');
  for (const f of fs.readdirSync(dir)) if (f.startsWith('log.')) fs.rmSync(path.join(dir, f));
  const args = [
    '-h',
    '127.0.0.1',
    '-p',
    String(pg.port),
    '-U',
    'postgres',
    '-n',
    '-M',
    'prepared',
    '-c',
    String(CLIENTS),
    '-j',
    '2',
    '-T',
    String(seconds),
    '-f',
    script,
    '-D',
    `data=${'x'.repeat(VALUE_SIZE)}`,
    '-l',
    `--log-prefix=${logPrefix}`,
    'postgres',
  ];
  const { stdout } = await run(`${PG_BIN}/pgbench`, args, { timeoutMs: (seconds + 60) * 1000 });
  const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(stdout) ?? fail(`no tps in pgbench output:\n${stdout}`);
  const latencies = readPgbenchLatencies(dir);
  return { target: NAMES.pgbench, test, pipeline: 1, rps: Number(tps[1]), p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) };
}

/** pgbench -l writes one line per transaction: client_id transaction_no time_us script_no epoch_s epoch_us. */
export function readPgbenchLatencies(dir: string): number[] {
  const ms: number[] = [];
  for (const f of fs.readdirSync(dir).filter((f) => f.startsWith('log.'))) {
    for (const line of fs.readFileSync(path.join(dir, f), 'utf8').split('\n')) {
      const fields = line.split(' ');
      if (fields.length >= 3) ms.push(Number(fields[2]) / 1000);
    }
  }
  return ms.sort((a, b) => a - b);
}

/** The same upsert and select sent straight to MariaDB (scripts/bench/mariadb-client.ts, a process of its own). */
export async function mariadbClient(url: string, test: 'SET' | 'GET', seconds: number): Promise<Sample> {
  const script = path.join(__dirname, 'mariadb-client.js');
  const { stdout } = await run(process.execPath, [script, url, test, String(seconds)], { timeoutMs: (seconds + 60) * 1000 });
  const r = JSON.parse(stdout) as { rps: number; p50: number; p99: number };
  return { target: NAMES.mariadbClient, test, pipeline: 1, ...r };
}

export async function benchmark(options: Options, tmp: string): Promise<Sample[]> {
  const pg = await startPostgres(tmp, options.postgresSettings);
  const maria = await startMariadbTarget(tmp);
  const targets: Target[] = [
    await startRespql(options, tmp, NAMES.sqlite, path.join(tmp, 'respql.sqlite')),
    await startRespql(options, tmp, NAMES.postgres, pg.url),
    await startRespql(options, tmp, NAMES.mariadb, maria.url),
    await startRedis(tmp, NAMES.redisAof, ['--appendonly', 'yes', '--appendfsync', 'always', '--save', '']),
    await startRedis(tmp, NAMES.redisNone, ['--appendonly', 'no', '--save', '']),
  ];
  await prefillAll(targets, pg, maria.url);

  const samples: Sample[] = [];
  for (let rep = 0; rep < options.reps; rep++) {
    for (const pipeline of PIPELINES) {
      for (const target of rotate(targets, rep)) {
        const n = pipeline === 1 ? options.requests : options.requestsPipelined;
        progress(`rep ${rep + 1}/${options.reps}: ${target.name}, -P ${pipeline}, -n ${n}`);
        const got = await redisBenchmark(target, pipeline, n);
        for (const s of got) progress(`  ${s.test}: ${fmtRate(s.rps)} ops/s, p50 ${s.p50} ms, p99 ${s.p99} ms`);
        samples.push(...got);
      }
    }
    for (const target of rotate(targets, rep)) {
      progress(`rep ${rep + 1}/${options.reps}: ${target.name}, session traffic for ${options.sessionSeconds} s`);
      const s = await sessionTraffic(target, options.sessionSeconds);
      progress(`  ${fmtRate(s.rps)} ops/s, p50 ${s.p50.toFixed(3)} ms, p99 ${s.p99.toFixed(3)} ms`);
      samples.push(s);
      progress(`rep ${rep + 1}/${options.reps}: ${target.name}, hash session traffic for ${options.sessionSeconds} s`);
      const hs = await hashSessionTraffic(target, options.sessionSeconds);
      progress(`  ${fmtRate(hs.rps)} ops/s, p50 ${hs.p50.toFixed(3)} ms, p99 ${hs.p99.toFixed(3)} ms`);
      samples.push(hs);
      progress(`rep ${rep + 1}/${options.reps}: ${target.name}, lock traffic for ${options.sessionSeconds} s`);
      const lt = await lockTraffic(target, options.sessionSeconds);
      progress(`  ${fmtRate(lt.rps)} ops/s, p50 ${lt.p50.toFixed(3)} ms, p99 ${lt.p99.toFixed(3)} ms`);
      samples.push(lt);
    }
    for (const test of rep % 2 ? (['GET', 'SET'] as const) : (['SET', 'GET'] as const)) {
      progress(`rep ${rep + 1}/${options.reps}: pgbench ${test === 'SET' ? 'upsert' : 'select'}, -T ${options.pgbenchSeconds}`);
      const s = await pgbench(pg, tmp, test, options.pgbenchSeconds);
      progress(`  ${fmtRate(s.rps)} tps, p50 ${s.p50.toFixed(3)} ms, p99 ${s.p99.toFixed(3)} ms`);
      samples.push(s);
      progress(
        `rep ${rep + 1}/${options.reps}: one-statement MariaDB client ${test === 'SET' ? 'upsert' : 'select'}, ${options.pgbenchSeconds} s`,
      );
      const m = await mariadbClient(maria.url, test, options.pgbenchSeconds);
      progress(`  ${fmtRate(m.rps)} tps, p50 ${m.p50.toFixed(3)} ms, p99 ${m.p99.toFixed(3)} ms`);
      samples.push(m);
    }
  }
  return samples;
}

/**
 * Pre-filling is set-up, not measurement, so it takes the fast way where one exists:
 * Redis with appendfsync always would fsync every few commands (it reads 16 KB per turn),
 * and respql on PostgreSQL would take ~20 s over the protocol, so that table is filled with
 * one INSERT ... SELECT of the rows respql's SET would write (expiry NULL).
 */
export async function prefillAll(targets: Target[], pg: Postgres, mariadbUrl: string): Promise<void> {
  for (const t of targets) {
    progress(`pre-filling ${KEYSPACE} keys into ${t.name}`);
    if (t.name === NAMES.mariadb) {
      await mariadbSql(
        mariadbUrl,
        `INSERT INTO sessions (token, data, expiry) SELECT CONCAT('key:', LPAD(seq, 12, '0')), REPEAT('x', ${VALUE_SIZE}), NULL ` +
          `FROM seq_0_to_${KEYSPACE - 1} ON DUPLICATE KEY UPDATE token = token`,
        'ANALYZE TABLE sessions',
      );
    } else if (t.name === NAMES.postgres) {
      await psql(
        pg,
        `INSERT INTO sessions (token, data, expiry) SELECT 'key:' || lpad(i::text, 12, '0'), convert_to(repeat('x', ${VALUE_SIZE}), 'UTF8'), NULL ` +
          `FROM generate_series(0, ${KEYSPACE - 1}) AS i ON CONFLICT (token) DO NOTHING`,
      );
    } else if (t.name === NAMES.redisAof) {
      await command(t.port, ['CONFIG', 'SET', 'appendfsync', 'no']);
      await prefill(t.port);
      await prefillHashSessions(t.port);
      await command(t.port, ['CONFIG', 'SET', 'appendfsync', 'always']);
      continue;
    } else {
      await prefill(t.port);
    }
    await prefillHashSessions(t.port);
  }
  // Measure from a fresh PostgreSQL checkpoint with current statistics, not mid-way through the load's.
  await psql(pg, 'VACUUM ANALYZE sessions', 'CHECKPOINT');
}

export const SESSION_LABEL = 'session traffic (GET, then EXPIRE or SET EX)';

/** Of the session-traffic test's requests, the share that saves the session (SET ... EX); the others only touch it (EXPIRE). */
export const SESSION_SAVES = 0.2;
export const SESSION_TTL = '3600';

/**
 * Session traffic, as express-session with connect-redis (or phpredis) sends it: on each of
 * CLIENTS connections, one request after another, read a random session (GET), then either
 * save it (SET key value EX ttl, SESSION_SAVES of the time) or touch it (EXPIRE key ttl).
 * redis-benchmark runs one command kind at a time, so this client is the script's own (one
 * Node thread, which bounds the fastest targets): ops/s counts commands, latency is per command.
 */
export function sessionTraffic(target: Target, seconds: number): Promise<Sample> {
  const value = Buffer.alloc(VALUE_SIZE, 's');
  return requestTraffic(target, seconds, 'SESSION', () => {
    const key = keyName(Math.floor(Math.random() * KEYSPACE));
    return [['GET', key], Math.random() < SESSION_SAVES ? ['SET', key, value, 'EX', SESSION_TTL] : ['EXPIRE', key, SESSION_TTL]];
  });
}
