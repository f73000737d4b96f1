/** At scale (--scale): a large table vs a small one, sweeping many expired rows under load,
 * many idle connections. Tables are filled straight in SQL (millions of rows over the
 * protocol would take longer than the measurements), in the shape respql's migration made. */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { RawClient } from '../../src/ops/resp-client';
import { CLIENTS, KEYSPACE, type Options, PIPELINES, type ScalePart, VALUE_SIZE, fail } from './options';
import { commandLogs, loadAverage, logCommand, onCleanup, progress, recordCommands, run, sleep, stopChild } from './processes';
import {
  type Postgres,
  type Target,
  highFdLimit,
  info,
  isPong,
  memoryOf,
  openFilesLimit,
  postgresSettingsText,
  psql,
  respqlCli,
  startPostgres,
  startRespql,
} from './targets';
import { type Sample, type Test, fmtMiB, fmtMs, fmtRate, median, rotate, summarize } from './results';
import { redisBenchmark } from './workloads';
import { type Block, respqlCommit } from './report';

export type Backend = 'SQLite' | 'PostgreSQL';
export const BACKENDS: Backend[] = ['SQLite', 'PostgreSQL'];

/** One data set: a SQLite file, or a table in the scale run's PostgreSQL cluster. */
export interface DataSet {
  backend: Backend;
  databaseUrl: string;
  table: string;
}

export function dataSet(backend: Backend, dir: string, pg: Postgres, name: string): DataSet {
  return backend === 'SQLite'
    ? { backend, databaseUrl: path.join(dir, `${name}.sqlite`), table: 'sessions' }
    : { backend, databaseUrl: pg.url, table: name.replace(/\W/g, '_') };
}

/** Runs SQL statements on a SQLite file with respql's own better-sqlite3 (each statement is one transaction). */
export const SQLITE_EXEC =
  "const db = new (require('better-sqlite3'))(process.argv[1]); for (const sql of process.argv.slice(2)) db.exec(sql); db.close()";

/** Creates the data set's table with respql's own migration, then runs `statements` on it. */
export async function fillDataSet(options: Options, ds: DataSet, pg: Postgres, statements: string[]): Promise<number> {
  const started = Date.now();
  await run(process.execPath, [
    respqlCli(options),
    'migrate',
    '--database-url',
    ds.databaseUrl,
    '--table',
    ds.table,
    '--loglevel',
    'warning',
  ]);
  if (ds.backend === 'SQLite') await run(process.execPath, ['-e', SQLITE_EXEC, ds.databaseUrl, ...statements], { cwd: options.respql });
  // Measure from a fresh checkpoint with current statistics, not mid-way through the load's.
  else await psql(pg, ...statements, `VACUUM ANALYZE ${ds.table}`, 'CHECKPOINT');
  return (Date.now() - started) / 1000;
}

/**
 * `count` rows as respql's SET writes them: key:000000000000 ... (redis-benchmark's key
 * names, so -r count hits every row), a 1024-byte value, no expiry. With `expired`, rows
 * that expired an hour ago instead, named key:<12 digits>:<n> so that they sit among the
 * live keys in the primary-key index, as expired sessions do among live ones.
 */
export function rowsSql(ds: DataSet, count: number, expired = false): string {
  const t = `"${ds.table}"`;
  if (ds.backend === 'SQLite') {
    const token = expired ? `printf('key:%012d:%d', i % ${KEYSPACE}, i / ${KEYSPACE})` : `printf('key:%012d', i)`;
    const expiry = expired ? `CAST(unixepoch('subsec') * 1000 AS INTEGER) - 3600000` : 'NULL';
    return (
      `WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < ${count - 1}) ` +
      `INSERT INTO ${t} (token, data, expiry) SELECT ${token}, zeroblob(${VALUE_SIZE}), ${expiry} FROM c`
    );
  }
  const token = expired
    ? `'key:' || lpad((i % ${KEYSPACE})::text, 12, '0') || ':' || (i / ${KEYSPACE})`
    : `'key:' || lpad(i::text, 12, '0')`;
  const expiry = expired ? `now() - interval '1 hour'` : 'NULL';
  return `INSERT INTO ${t} (token, data, expiry) SELECT ${token}, convert_to(repeat('x', ${VALUE_SIZE}), 'UTF8'), ${expiry} FROM generate_series(0, ${count - 1}) AS i`;
}

export interface Measured {
  title: string;
  body: string;
  commands: string[];
}

/** Runs one measurement with its own command log and load averages. */
export async function measured(title: string, measure: () => Promise<string>): Promise<Measured> {
  const commands = recordCommands();
  const before = loadAverage();
  const started = Date.now();
  try {
    const body = await measure();
    const load = `Load average (1, 5, 15 min) before ${before}, after ${loadAverage()}; took ${Math.round((Date.now() - started) / 1000)} s.`;
    return { title, body: `${body}\n\n${load}`, commands };
  } finally {
    commandLogs.delete(commands);
  }
}

/** The scale blocks: an introduction, and one block per measurement (each can be re-run alone with --scale-parts). */
export async function scale(options: Options, tmp: string): Promise<Partial<Record<Block, string>>> {
  const dir = path.join(tmp, 'scale');
  fs.mkdirSync(dir, { mode: 0o755 });
  const setup = recordCommands();
  const pg = await startPostgres(dir, options.postgresSettings);
  commandLogs.delete(setup);
  const blocks: Partial<Record<Block, string>> = {
    scale: `## At scale

Measured by \`npm run bench -- --scale-only\` (or \`--scale\` with the main run; \`--scale-parts rows,sweep,idle\` picks measurements).
Each measurement below names its own date, commit and load. Tables are filled straight in SQL, in the table respql's own
\`respql migrate\` created; PostgreSQL is a throwaway cluster with ${postgresSettingsText(options)}. redis-benchmark runs with
\`-c ${CLIENTS} -d ${VALUE_SIZE}\` as in the main table; figures are medians over the runs. The machine (2 cores) is shared with other
engineers' test runs: the load average next to each figure says how busy it was.`,
  };
  const parts: Record<ScalePart, [Block, string, () => Promise<string>]> = {
    rows: [
      'scale-rows',
      `${fmtRate(options.scaleRows)} rows vs ${fmtRate(options.scaleSmallRows)} rows`,
      () => measureRows(options, dir, pg),
    ],
    sweep: ['scale-sweep', `Sweeping ${fmtRate(options.scaleRows)} expired rows under load`, () => measureSweep(options, dir, pg)],
    idle: ['scale-idle', `${fmtRate(options.idleConnections)} idle connections`, () => measureIdle(options, dir)],
  };
  for (const part of options.scaleParts) {
    const [block, title, measure] = parts[part];
    const started = new Date();
    const m = await measured(title, measure);
    blocks[block] = `### ${m.title}

Measured on ${started.toISOString().slice(0, 10)} by \`npm run bench -- --scale-only --scale-parts ${part}\`, respql git ${respqlCommit(options.respql)}.

${m.body}

\`\`\`sh
TMP=$(mktemp -d)
${[...(part === 'idle' ? [] : setup), ...m.commands].join('\n')}
\`\`\``;
  }
  return blocks;
}

/** GET and SET rates on a large table vs a small one, each key space the whole table. */
export async function measureRows(options: Options, dir: string, pg: Postgres): Promise<string> {
  const sizes = [options.scaleSmallRows, options.scaleRows];
  const targets: (Target & { child: ChildProcess; rows: number })[] = [];
  const fills: string[] = [];
  for (const backend of BACKENDS) {
    for (const rows of sizes) {
      const ds = dataSet(backend, dir, pg, `rows_${rows}`);
      progress(`filling ${fmtRate(rows)} rows into ${backend}`);
      const seconds = await fillDataSet(options, ds, pg, [rowsSql(ds, rows)]);
      fills.push(`${backend} ${fmtRate(rows)} rows in ${seconds.toFixed(0)} s`);
      targets.push({
        ...(await startRespql(options, dir, `respql, ${backend}, ${fmtRate(rows)} rows`, ds.databaseUrl, { args: ['--table', ds.table] })),
        rows,
      });
    }
  }
  const samples: Sample[] = [];
  for (let rep = 0; rep < options.reps; rep++) {
    for (const pipeline of PIPELINES) {
      for (const target of rotate(targets, rep)) {
        const n = pipeline === 1 ? options.requests : options.requestsPipelined;
        progress(`rows, rep ${rep + 1}/${options.reps}: ${target.name}, -P ${pipeline}, -n ${n}, -r ${target.rows}`);
        const got = await redisBenchmark(target, pipeline, n, 'set,get', target.rows);
        for (const s of got) progress(`  ${s.test}: ${fmtRate(s.rps)} ops/s, p99 ${s.p99} ms`);
        samples.push(...got);
      }
    }
  }
  for (const t of targets) await stopChild(t.child);
  const rows = summarize(samples);
  const find = (backend: Backend, size: number, test: Test, pipeline: number) =>
    rows.find((r) => r.target === `respql, ${backend}, ${fmtRate(size)} rows` && r.test === test && r.pipeline === pipeline)!;
  const [small, large] = sizes;
  const lines: string[] = [];
  for (const backend of BACKENDS) {
    for (const pipeline of PIPELINES) {
      for (const test of ['SET', 'GET'] as const) {
        const a = find(backend, small, test, pipeline);
        const b = find(backend, large, test, pipeline);
        lines.push(
          `| ${backend} | ${test} | -P ${pipeline} | ${fmtRate(a.rps)} (${fmtRate(a.min)}–${fmtRate(a.max)}) | ${fmtRate(b.rps)} (${fmtRate(b.min)}–${fmtRate(b.max)}) | ` +
            `**${((b.rps / a.rps) * 100).toFixed(1)} %** | ${fmtMs(a.p99)} | ${fmtMs(b.p99)} |`,
        );
      }
    }
  }
  return `Target: GET and SET at ${fmtRate(large)} rows within 10 % of their rates at ${fmtRate(small)} rows.
Each table holds \`key:000000000000\`… with a ${VALUE_SIZE}-byte value and no expiry, and redis-benchmark's key space is the whole table
(\`-r ${small}\` and \`-r ${large}\`), so every GET hits and every SET replaces a row spread over the whole table.
All ${targets.length} servers run at once; ${options.reps} repetitions of \`-P 1\` (\`-n ${options.requests}\`) and \`-P 16\` (\`-n ${options.requestsPipelined}\`),
the order of the servers rotating on each. Filling took: ${fills.join(', ')}.

| backend | test | pipeline | ops/s at ${fmtRate(small)} rows (min–max) | ops/s at ${fmtRate(large)} rows (min–max) | large / small | p99 ms, small | p99 ms, large |
|---|---|---:|---:|---:|---:|---:|---:|
${lines.join('\n')}`;
}

export interface Phase {
  name: string;
  samples: Sample[];
}

/**
 * Follows the first sweep through INFO respql, polled every 200 ms: when it was seen
 * finished (sweeper_runs counts finished sweeps) and the longest INFO round trip meanwhile
 * (a server busy sweeping answers late).
 */
export function watchSweep(port: number): { endedAt: number; deleted: number; longestInfoMs: number; finished: Promise<void> } {
  const w = { endedAt: 0, deleted: 0, longestInfoMs: 0, finished: Promise.resolve() };
  w.finished = (async () => {
    const deadline = Date.now() + 60 * 60_000;
    while (Date.now() < deadline) {
      const asked = Date.now();
      const f = await info(port, 'respql');
      w.longestInfoMs = Math.max(w.longestInfoMs, Date.now() - asked);
      if (Number(f.sweeper_runs) > 0) {
        w.endedAt = Date.now();
        w.deleted = Number(f.sweeper_deleted_keys);
        return;
      }
      await sleep(200);
    }
    fail('the sweep did not finish within an hour');
  })();
  return w;
}

/**
 * p99 latency while the sweeper deletes many expired rows, against the same table with
 * the sweeper off. The sweeper (src/store/sweeper.ts) deletes in batches of 1000, each its
 * own transaction through the same group-commit queue as the clients' commands. Runs are
 * short (a fifth of --requests) so that several fit inside the sweep.
 */
export async function measureSweep(options: Options, dir: string, pg: Postgres): Promise<string> {
  const requests = Math.max(2000, Math.round(options.requests / 5));
  const runs = 5;
  const sections: string[] = [];
  for (const backend of BACKENDS) {
    const ds = dataSet(backend, dir, pg, 'sweep');
    progress(`filling ${fmtRate(KEYSPACE)} live and ${fmtRate(options.scaleRows)} expired rows into ${backend}`);
    const fillS = await fillDataSet(options, ds, pg, [rowsSql(ds, KEYSPACE), rowsSql(ds, options.scaleRows, true)]);
    const bench = async (server: Target, phase: Phase) => {
      const got = await redisBenchmark(server, 1, requests);
      for (const s of got) progress(`  ${phase.name}: ${s.test}: ${fmtRate(s.rps)} ops/s, p99 ${s.p99} ms`);
      phase.samples.push(...got);
    };

    // The same rows with the sweeper off: the reference.
    const off: Phase = { name: 'sweeper off, expired rows in place', samples: [] };
    const quiet = await startRespql(options, dir, `respql, ${backend}, sweeper off`, ds.databaseUrl, {
      args: ['--table', ds.table, '--cleanup-interval', '0'],
    });
    for (let i = 0; i < runs; i++) await bench(quiet, off);
    await stopChild(quiet.child);

    // Sweeper on: its first tick is 1 s after start-up, so the first run starts before the sweep;
    // runs go back to back until INFO shows the sweep finished.
    const during: Phase = { name: 'while sweeping', samples: [] };
    const after: Phase = { name: 'after the sweep', samples: [] };
    const server = await startRespql(options, dir, `respql, ${backend}, sweeper on`, ds.databaseUrl, {
      args: ['--table', ds.table, '--cleanup-interval', '1s'],
    });
    const started = Date.now();
    const sweep = watchSweep(server.port);
    while (!sweep.endedAt) await bench(server, during);
    await sweep.finished;
    const sweepS = (sweep.endedAt - started) / 1000 - 1;
    for (let i = 0; i < runs; i++) await bench(server, after);
    await stopChild(server.child);

    const phases = [off, during, after];
    const table = phases.flatMap((p) =>
      summarize(p.samples).map((r) => {
        const max = Math.max(...p.samples.filter((s) => s.test === r.test).map((s) => s.max ?? NaN));
        return `| ${p.name} | ${r.test} | ${r.runs} | ${fmtRate(r.rps)} | ${fmtMs(r.p50)} | ${fmtMs(r.p99)} | ${fmtMs(max)} |`;
      }),
    );
    const ratio = (test: Test) => {
      const a = summarize(during.samples).find((r) => r.test === test)!;
      const b = summarize(off.samples).find((r) => r.test === test)!;
      return `${test} ${fmtMs(a.p99)} / ${fmtMs(b.p99)} ms = **${(a.p99 / b.p99).toFixed(2)}×**`;
    };
    sections.push(`#### ${backend}

${fmtRate(KEYSPACE)} live rows and ${fmtRate(options.scaleRows)} rows that expired an hour ago (filled in ${fillS.toFixed(0)} s).
The first sweep deleted ${fmtRate(sweep.deleted)} rows and was seen finished **${sweepS.toFixed(1)} s** after its first tick (${fmtRate(sweep.deleted / sweepS)} rows/s),
while redis-benchmark ran back to back. The longest INFO round trip meanwhile: **${(sweep.longestInfoMs / 1000).toFixed(1)} s**.
Median p99 while sweeping / with the sweeper off: ${ratio('SET')}, ${ratio('GET')}.

| phase | test | runs | ops/s | p50 ms | p99 ms | max ms |
|---|---|---:|---:|---:|---:|---:|
${table.join('\n')}`);
  }
  return `Target: sweeping ${fmtRate(options.scaleRows)} expired rows while the benchmark runs raises p99 latency by at most 2×.
respql starts on the filled table twice: first with \`--cleanup-interval 0\` (no sweeper; the expired rows stay, invisible to reads) for the reference,
then with \`--cleanup-interval 1s\`. \`redis-benchmark -t set,get -P 1 -n ${requests} -r ${KEYSPACE}\` runs ${runs} times with the sweeper off; then, with it on,
back to back from start-up (the first tick comes 1 s later) until \`redis-cli INFO respql\`, polled every 200 ms, shows \`sweeper_runs:1\`
(every run in \`while sweeping\` overlapped the sweep); then ${runs} times after the sweep. \`max\` is the longest single request of any run.

${sections.join('\n\n')}`;
}

/** Memory and responsiveness with many idle connections open (SQLite: connections cost the same on either backend). */
export async function measureIdle(options: Options, dir: string): Promise<string> {
  const n = options.idleConnections;
  const server = await startRespql(options, dir, 'respql, SQLite, idle connections', path.join(dir, 'idle.sqlite'), {
    manyFiles: true,
    args: ['--maxclients', String(n + 100)],
  });
  const pid = server.child.pid!;
  const limit = openFilesLimit(pid);
  const look = async (label: string) => {
    const pongs = await pingTimes(server.port, 20);
    const [set, get] = await redisBenchmark(server, 1, options.requests);
    const clients = (await info(server.port, 'clients')).connected_clients;
    // Read memory last: after the benchmark's 50 connections, at its high water.
    const mem = memoryOf(pid);
    progress(`  ${label}: RSS ${fmtMiB(mem.rss)}, PING ${fmtMs(median(pongs))} ms`);
    return `| ${label} | ${clients} | ${fmtMiB(mem.rss)} | ${fmtMiB(mem.hwm)} | ${fmtMs(median(pongs))} / ${fmtMs(Math.max(...pongs))} | ${fmtRate(set.rps)} / ${fmtMs(set.p99)} | ${fmtRate(get.rps)} / ${fmtMs(get.p99)} |`;
  };
  const rows = [await look('before')];
  progress(`opening ${fmtRate(n)} idle connections`);
  const holder = await holdConnectionsIn(server.port, n);
  await sleep(2000); // let the server settle (and collect what it allocated while accepting)
  rows.push(await look(`${fmtRate(n)} idle connections held`));
  holder.release();
  await holder.exited;
  await stopChild(server.child);
  return `Target: ${fmtRate(n)} idle connections held with RSS under 500 MB.
respql (SQLite) runs with \`--maxclients ${n + 100}\` and ${limit} open files at most (\`ulimit -n 65536\`, or the hard limit if lower);
a separate process with the same limit (\`node dist/scripts/bench.js --hold-connections PORT N\`) opened ${fmtRate(n)} connections, ${HOLD_BATCH} at a time, sent one PING on each
and waited for its PONG (all ${fmtRate(n)} in ${(holder.ms / 1000).toFixed(1)} s), then held them open and silent.
RSS and its peak are respql's \`/proc/<pid>/status\` VmRSS and VmHWM, read after a new client's 20 PINGs (each a new connection:
connect, PING, PONG, close) and a \`redis-benchmark -t set,get -P 1 -n ${options.requests}\` run (50 more connections).

| state | connected_clients (INFO, after) | VmRSS | VmHWM | new client PING ms, median / max | SET ops/s / p99 ms | GET ops/s / p99 ms |
|---|---:|---:|---:|---:|---:|---:|
${rows.join('\n')}`;
}

/** Times a fresh connection's PING round trip (connect included), `count` times one after another. */
export async function pingTimes(port: number, count: number): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = process.hrtime.bigint();
    const client = await RawClient.connect(port);
    try {
      const reply = await client.send('PING');
      if (!isPong(reply)) fail(`PING got ${JSON.stringify(reply)}`);
    } finally {
      await client.destroy();
    }
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return ms;
}

export const HOLD_BATCH = 500;
/** The bench's entry (dist/scripts/bench.js), which runs holdConnections when given --hold-connections. */
const BENCH_ENTRY = path.join(__dirname, '..', 'bench.js');

/**
 * Opens `count` connections in a child process under a raised open-files limit (this
 * process keeps its own limit), and resolves once each has answered one PING.
 */
export async function holdConnectionsIn(
  port: number,
  count: number,
): Promise<{ ms: number; limit: string; release: () => void; exited: Promise<void> }> {
  const [cmd, ...args] = highFdLimit([process.execPath, BENCH_ENTRY, '--hold-connections', String(port), String(count)]);
  logCommand(cmd, args);
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  onCleanup(() => stopChild(child));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]);
    });
    child.once('exit', (code) => reject(new Error(`--hold-connections exited with ${code} before holding its connections`)));
  });
  const { held, ms } = JSON.parse(line) as { held: number; ms: number };
  if (held !== count) fail(`--hold-connections held ${held} of ${count} connections`);
  return { ms, limit: openFilesLimit(child.pid!), release: () => child.stdin.end(), exited };
}

/** The child side of holdConnectionsIn: opens the connections, reports, holds them until stdin closes. */
export async function holdConnections(port: number, count: number): Promise<void> {
  const started = Date.now();
  const clients: RawClient[] = [];
  for (let i = 0; i < count; i += HOLD_BATCH) {
    const batch = Array.from({ length: Math.min(HOLD_BATCH, count - i) }, async () => {
      // A connection the server drops must not crash the holder: it is counted out below.
      const client = await RawClient.connect(port);
      const reply = await client.send('PING');
      if (!isPong(reply)) fail(`PING got ${JSON.stringify(reply)}`);
      return client;
    });
    clients.push(...(await Promise.all(batch)));
  }
  process.stdout.write(`${JSON.stringify({ held: clients.filter((c) => !c.isClosed).length, ms: Date.now() - started })}\n`);
  process.stdin.resume();
  await new Promise((resolve) => process.stdin.once('end', resolve));
  await Promise.all(clients.map((c) => c.destroy()));
}

// .cpuprofile parsing (Chrome DevTools format, as written by node --cpu-prof)
