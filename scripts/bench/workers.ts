/**
 * `npm run bench -- --workers 1,2`: respql with each number of workers (`--workers N`), on
 * SQLite and on PostgreSQL, side by side with redis-server, under the same redis-benchmark
 * load as the main run; the targets take turns, their order rotating on every repetition, so
 * that other load on the machine falls on all of them alike. Also the CPU respql's processes
 * spent per request (primary and workers, from /proc), from which the README's figures for
 * more cores are worked out.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLIENTS, KEYSPACE, type Options, PIPELINES, VALUE_SIZE } from './options';
import { loadAverage, progress, readOr } from './processes';
import { machine, versions } from './report';
import { fmtMs, fmtRate, rotate, summarize, type Row, type Sample } from './results';
import { NAMES, type Target, command, prefill, psql, startPostgres, startRedis, startRespql } from './targets';
import { redisBenchmark } from './workloads';

interface WorkersTarget extends Target {
  backend: 'SQLite' | 'PostgreSQL' | 'redis';
  workers: number;
  /** The primary's (or the only) process id; null for redis-server. */
  pid: number | null;
}

const TICKS_PER_S = 100; // /proc/<pid>/stat's utime and stime are in clock ticks (USER_HZ)

/** CPU seconds used so far by a process and its children still running (a --workers primary's workers). */
function cpuSeconds(pid: number): number {
  let ticks = 0;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readOr(`/proc/${entry}/stat`);
    // Fields after the command name (which may hold spaces): state ppid ... utime(14) stime(15).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(entry) === pid || Number(fields[1]) === pid) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / TICKS_PER_S;
}

const label = (backend: string, workers: number) => `respql, ${backend}, ${workers} worker${workers === 1 ? '' : 's'}`;

export async function workersBench(options: Options, tmp: string): Promise<string> {
  const counts = options.workers ?? [1];
  const started = Date.now();
  const loadBefore = loadAverage();
  const pg = await startPostgres(tmp, options.postgresSettings);
  const sqliteFile = path.join(tmp, 'respql.sqlite');
  const targets: WorkersTarget[] = [];
  // Every respql target of a backend serves the same database (one at a time is measured).
  for (const workers of counts) {
    for (const [backend, url] of [
      ['SQLite', sqliteFile],
      ['PostgreSQL', pg.url],
    ] as const) {
      const t = await startRespql(options, tmp, label(backend, workers), url, { args: ['--workers', String(workers)] });
      targets.push({ name: t.name, port: t.port, backend, workers, pid: t.child.pid! });
    }
  }
  const redisNone = await startRedis(tmp, NAMES.redisNone, ['--appendonly', 'no', '--save', '']);
  const redisAof = await startRedis(tmp, NAMES.redisAof, ['--appendonly', 'yes', '--appendfsync', 'always', '--save', '']);
  targets.push({ ...redisNone, backend: 'redis', workers: 1, pid: null }, { ...redisAof, backend: 'redis', workers: 1, pid: null });

  progress(`pre-filling ${KEYSPACE} keys`);
  await prefill(targets.find((t) => t.backend === 'SQLite')!.port);
  await psql(
    pg,
    `INSERT INTO sessions (token, data, expiry) SELECT 'key:' || lpad(i::text, 12, '0'), convert_to(repeat('x', ${VALUE_SIZE}), 'UTF8'), NULL ` +
      `FROM generate_series(0, ${KEYSPACE - 1}) AS i ON CONFLICT (token) DO NOTHING`,
  );
  await psql(pg, 'VACUUM ANALYZE sessions', 'CHECKPOINT');
  await prefill(redisNone.port);
  await command(redisAof.port, ['CONFIG', 'SET', 'appendfsync', 'no']);
  await prefill(redisAof.port);
  await command(redisAof.port, ['CONFIG', 'SET', 'appendfsync', 'always']);

  const samples: Sample[] = [];
  /** CPU seconds and requests per target, test and pipeline. */
  const cpu = new Map<string, { seconds: number; requests: number }>();
  for (let rep = 0; rep < options.reps; rep++) {
    for (const pipeline of PIPELINES) {
      for (const target of rotate(targets, rep)) {
        for (const test of ['set', 'get']) {
          const n = pipeline === 1 ? options.requests : options.requestsPipelined;
          progress(`rep ${rep + 1}/${options.reps}: ${target.name}, ${test.toUpperCase()} -P ${pipeline}, -n ${n}`);
          const before = target.pid ? cpuSeconds(target.pid) : 0;
          const [s] = await redisBenchmark(target, pipeline, n, test);
          const key = `${target.name}|${s.test}|${pipeline}`;
          const c = cpu.get(key) ?? { seconds: 0, requests: 0 };
          if (target.pid) cpu.set(key, { seconds: c.seconds + cpuSeconds(target.pid) - before, requests: c.requests + n });
          progress(`  ${fmtRate(s.rps)} ops/s, p50 ${s.p50} ms, p99 ${s.p99} ms`);
          samples.push(s);
        }
      }
    }
  }
  const rows = summarize(samples);
  const elapsed = Math.round((Date.now() - started) / 1000);
  return render(options, counts, targets, rows, cpu, tmp, elapsed, `before ${loadBefore}, after ${loadAverage()}`);
}

function render(
  options: Options,
  counts: number[],
  targets: WorkersTarget[],
  rows: Row[],
  cpu: Map<string, { seconds: number; requests: number }>,
  tmp: string,
  elapsedS: number,
  load: string,
): string {
  const order = targets.map((t) => t.name);
  const sorted = [...rows].sort(
    (a, b) => a.pipeline - b.pipeline || b.test.localeCompare(a.test) || order.indexOf(a.target) - order.indexOf(b.target),
  );
  const usPerRequest = (r: Row) => {
    const c = cpu.get(`${r.target}|${r.test}|${r.pipeline}`);
    return c ? ((c.seconds / c.requests) * 1e6).toFixed(1) : '–';
  };
  const results = [
    '| target | test | pipeline | ops/s (median) | ops/s (min–max) | p50 ms | p99 ms | respql CPU µs/request |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
    ...sorted.map(
      (r) =>
        `| ${r.target} | ${r.test} | -P ${r.pipeline} | ${fmtRate(r.rps)} | ${fmtRate(r.min)}–${fmtRate(r.max)} | ${fmtMs(r.p50)} | ${fmtMs(r.p99)} | ${usPerRequest(r)} |`,
    ),
  ];
  const find = (target: string, test: string, pipeline: number) =>
    rows.find((r) => r.target === target && r.test === test && r.pipeline === pipeline);
  const ratios = [
    '| ratio (medians; min–max: worst and best turn) | ops/s | reference ops/s | ratio | range |',
    '|---|---:|---:|---:|---:|',
  ];
  for (const backend of ['SQLite', 'PostgreSQL'])
    for (const workers of counts.filter((w) => w !== 1))
      for (const pipeline of PIPELINES)
        for (const test of ['SET', 'GET']) {
          const a = find(label(backend, workers), test, pipeline);
          const b = find(label(backend, 1), test, pipeline);
          if (!a || !b) continue;
          ratios.push(
            `| ${backend} ${test} -P ${pipeline}: ${workers} workers / 1 worker | ${fmtRate(a.rps)} | ${fmtRate(b.rps)} | ${(a.rps / b.rps).toFixed(2)}× | ${(a.min / b.max).toFixed(2)}–${(a.max / b.min).toFixed(2)}× |`,
          );
        }
  for (const backend of ['SQLite', 'PostgreSQL'])
    for (const workers of counts)
      for (const test of ['SET', 'GET']) {
        const ref = test === 'SET' ? NAMES.redisAof : NAMES.redisNone;
        const a = find(label(backend, workers), test, 16);
        const b = find(ref, test, 16);
        if (a && b)
          ratios.push(
            `| ${label(backend, workers)} ${test} -P 16 / ${ref} | ${fmtRate(a.rps)} | ${fmtRate(b.rps)} | ${(a.rps / b.rps).toFixed(2)}× | |`,
          );
      }
  return `## Several cores: \`--workers\`

Produced by \`npm run bench -- --workers ${counts.join(',')}\` (scripts/bench/workers.ts) on ${new Date().toISOString().slice(0, 10)}; the run took ${elapsedS} s.

Each respql target is \`respql --workers N\` on the same database as the other targets of its backend (a SQLite file with
the default durable settings; a throwaway PostgreSQL cluster with \`fsync=on\`, \`synchronous_commit=on\`), filled with
${KEYSPACE.toLocaleString('en-US')} keys of ${VALUE_SIZE} bytes; redis-server without persistence and with \`appendfsync always\` beside them.
\`redis-benchmark -t <set|get> -c ${CLIENTS} -d ${VALUE_SIZE} -r ${KEYSPACE}\` with \`-P 1\` (\`-n ${options.requests}\`) and \`-P 16\`
(\`-n ${options.requestsPipelined}\`), ${options.reps} repetitions; each target takes its turn, the order rotating on every
repetition. The ratios' range divides the worst turn by the other's best and the best by the worst: other work on the
machine moves single turns. *respql CPU µs/request*: user and system time of the primary and its workers during the
turns, over the requests (the benchmark client's own CPU is not in it). All processes share the machine's ${os.cpus().length} cores.

${results.join('\n')}

${ratios.join('\n')}

### Machine

${machine(tmp, load)}

### Versions

${versions(options.respql)}`;
}
