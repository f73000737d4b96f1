/** BENCHMARKS.md: the main block's tables and text, the machine and versions, and the marked blocks a run rewrites. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLIENTS, KEYSPACE, type Options, PG_BIN, ROOT, VALUE_SIZE } from './options';
import { readOr, runSync } from './processes';
import { NAMES, mariadbSettingsText, postgresSettingsText } from './targets';
import { type Row, type Test, fmtMs, fmtRate } from './results';
import { PGBENCH_SCRIPTS, SESSION_LABEL, SESSION_SAVES, SESSION_TTL } from './workloads';
import { HASH_SESSION_LABEL, HASH_SESSIONS } from './hash-sessions';
import { LOCK_LABEL } from './lock-traffic';

export function resultsTable(rows: Row[]): string {
  const order = Object.values(NAMES) as string[];
  const last = (r: Row) => (r.test === 'SESSION' ? 1 : r.test === 'HASH_SESSION' ? 2 : r.test === 'LOCK' ? 3 : 0);
  const sorted = [...rows].sort(
    (a, b) =>
      last(a) - last(b) ||
      a.pipeline - b.pipeline ||
      a.test.localeCompare(b.test) * -1 ||
      order.indexOf(a.target) - order.indexOf(b.target),
  );
  const lines = [
    '| target | test | pipeline | ops/s (median) | ops/s (min–max) | p50 ms | p99 ms |',
    '|---|---|---:|---:|---:|---:|---:|',
    ...sorted.map((r) => {
      const reference = r.target === NAMES.pgbench || r.target === NAMES.mariadbClient;
      const test = reference
        ? r.test === 'SET'
          ? 'upsert'
          : 'select'
        : r.test === 'SESSION'
          ? SESSION_LABEL
          : r.test === 'HASH_SESSION'
            ? HASH_SESSION_LABEL
            : r.test === 'LOCK'
              ? LOCK_LABEL
              : r.test;
      return `| ${r.target} | ${test} | ${reference ? '–' : `-P ${r.pipeline}`} | ${fmtRate(r.rps)} | ${fmtRate(r.min)}–${fmtRate(r.max)} | ${fmtMs(r.p50)} | ${fmtMs(r.p99)} |`;
    }),
  ];
  return lines.join('\n');
}

export function ratiosTable(rows: Row[]): string {
  const find = (target: string, test: Test, pipeline: number) =>
    rows.find((r) => r.target === target && r.test === test && r.pipeline === pipeline);
  const ratio = (label: string, a: Row | undefined, b: Row | undefined) => {
    const value = a && b ? `${((a.rps / b.rps) * 100).toFixed(1)} %` : 'n/a';
    return `| ${label} | ${a ? fmtRate(a.rps) : 'n/a'} | ${b ? fmtRate(b.rps) : 'n/a'} | ${value} |`;
  };
  const { sqlite, postgres, redisAof, redisNone, pgbench, mariadb, mariadbClient } = NAMES;
  return [
    '| ratio (medians) | respql ops/s | reference ops/s | respql / reference |',
    '|---|---:|---:|---:|',
    ratio('SQLite SET -P 1 / Redis appendfsync always SET -P 1', find(sqlite, 'SET', 1), find(redisAof, 'SET', 1)),
    ratio('SQLite GET -P 1 / Redis no persistence GET -P 1', find(sqlite, 'GET', 1), find(redisNone, 'GET', 1)),
    ratio('SQLite SET -P 16 / Redis appendfsync always SET -P 16', find(sqlite, 'SET', 16), find(redisAof, 'SET', 16)),
    ratio('SQLite GET -P 16 / Redis no persistence GET -P 16', find(sqlite, 'GET', 16), find(redisNone, 'GET', 16)),
    ratio('PostgreSQL SET -P 1 / pgbench upsert', find(postgres, 'SET', 1), find(pgbench, 'SET', 1)),
    ratio('PostgreSQL GET -P 1 / pgbench select', find(postgres, 'GET', 1), find(pgbench, 'GET', 1)),
    ratio('PostgreSQL SET -P 16 / pgbench upsert', find(postgres, 'SET', 16), find(pgbench, 'SET', 1)),
    ratio('PostgreSQL GET -P 16 / pgbench select', find(postgres, 'GET', 16), find(pgbench, 'GET', 1)),
    ratio('MariaDB SET -P 1 / one-statement upsert', find(mariadb, 'SET', 1), find(mariadbClient, 'SET', 1)),
    ratio('MariaDB GET -P 1 / one-statement select', find(mariadb, 'GET', 1), find(mariadbClient, 'GET', 1)),
    ratio('MariaDB SET -P 16 / one-statement upsert', find(mariadb, 'SET', 16), find(mariadbClient, 'SET', 1)),
    ratio('MariaDB GET -P 16 / one-statement select', find(mariadb, 'GET', 16), find(mariadbClient, 'GET', 1)),
    ratio(`SQLite ${SESSION_LABEL} / Redis appendfsync always`, find(sqlite, 'SESSION', 1), find(redisAof, 'SESSION', 1)),
    ratio(`PostgreSQL ${SESSION_LABEL} / Redis appendfsync always`, find(postgres, 'SESSION', 1), find(redisAof, 'SESSION', 1)),
    ratio(`MariaDB ${SESSION_LABEL} / Redis appendfsync always`, find(mariadb, 'SESSION', 1), find(redisAof, 'SESSION', 1)),
    ratio(`SQLite ${HASH_SESSION_LABEL} / Redis appendfsync always`, find(sqlite, 'HASH_SESSION', 1), find(redisAof, 'HASH_SESSION', 1)),
    ratio(
      `PostgreSQL ${HASH_SESSION_LABEL} / Redis appendfsync always`,
      find(postgres, 'HASH_SESSION', 1),
      find(redisAof, 'HASH_SESSION', 1),
    ),
    ratio(`SQLite ${LOCK_LABEL} / Redis appendfsync always`, find(sqlite, 'LOCK', 1), find(redisAof, 'LOCK', 1)),
    ratio(`PostgreSQL ${LOCK_LABEL} / Redis appendfsync always`, find(postgres, 'LOCK', 1), find(redisAof, 'LOCK', 1)),
  ].join('\n');
}

export function machine(tmp: string, load: string): string {
  const cpu = /model name\s*:\s*(.*)/.exec(readOr('/proc/cpuinfo'))?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  const memKb = Number(/MemTotal:\s*(\d+)/.exec(readOr('/proc/meminfo'))?.[1] ?? 0);
  const fsType = filesystemOf(tmp);
  return [
    `- CPU: ${cpu}, ${os.cpus().length} cores (\`/proc/cpuinfo\`)`,
    `- Memory: ${(memKb / 1024 / 1024).toFixed(1)} GiB (\`/proc/meminfo\` MemTotal)`,
    `- OS: ${os.type()} ${os.release()}; all data files in ${path.dirname(tmp)} on ${fsType}`,
    `- Load average (1, 5, 15 min) ${load}: other work on the machine during the run shows up as noise in the min–max column`,
  ].join('\n');
}

/**
 * The benchmarked code's commit. A copy of a working tree (not a git checkout) can say what
 * it is in a BENCH_SNAPSHOT file, e.g. "working tree of 45ce124 with uncommitted src/ changes".
 */
export function respqlCommit(respqlRoot: string): string {
  const snapshot = readOr(path.join(respqlRoot, 'BENCH_SNAPSHOT')).trim();
  if (snapshot) return snapshot;
  const commit = runSync('git', ['-C', respqlRoot, 'describe', '--always']);
  // BENCHMARKS.md itself is rewritten by every run: a change there alone does not make the code dirty.
  const changed = runSync('git', ['-C', respqlRoot, 'status', '--porcelain', '--untracked-files=no', '--', '.', ':!BENCHMARKS.md']);
  return changed ? `${commit}-dirty` : commit;
}

export function versions(respqlRoot: string): string {
  const commit = respqlCommit(respqlRoot);
  const pkg = JSON.parse(fs.readFileSync(path.join(respqlRoot, 'package.json'), 'utf8')) as { version: string };
  return [
    `- respql ${pkg.version} (git ${commit})${respqlRoot === ROOT ? '' : `, run from the checkout at ${respqlRoot} (--respql)`}`,
    `- Node.js ${process.version}`,
    `- ${runSync('redis-server', ['--version'])}`,
    `- ${runSync(`${PG_BIN}/postgres`, ['--version'])}`,
    `- ${runSync('redis-benchmark', ['--version'])}, ${runSync(`${PG_BIN}/pgbench`, ['--version'])}`,
  ].join('\n');
}

/** The mount holding `dir` (fsync cost depends on it; a tmpfs would make "durable" free). */
export function filesystemOf(dir: string): string {
  let best = { mount: '', text: 'unknown filesystem' };
  for (const line of readOr('/proc/mounts').split('\n')) {
    const [dev, mount, type] = line.split(' ');
    if (mount && (dir === mount || dir.startsWith(mount.endsWith('/') ? mount : mount + '/')) && mount.length >= best.mount.length) {
      best = { mount, text: `${type} (${dev} mounted on ${mount})` };
    }
  }
  return best.text;
}

/** The main block: the comparison table, with its machine, versions and commands. */
export function renderMain(options: Options, rows: Row[], tmp: string, commands: string[], elapsedS: number, load: string): string {
  return `Produced by \`npm run bench\` (scripts/bench.ts) on ${new Date().toISOString().slice(0, 10)}; the whole run took ${Math.round(elapsedS)} s.
Re-run it after changing the hot path; the figures below are only as current as the commit named under *Versions*.

## What is measured

- **respql, SQLite**: respql on a fresh SQLite file with its default durable settings (WAL with \`synchronous=NORMAL\`, and one \`fdatasync\` of the WAL file, shared by a group of commits, before any of their replies).
- **respql, PostgreSQL**: respql on a throwaway PostgreSQL cluster started by the script (${postgresSettingsText(options)}).
- **redis, appendfsync always**: \`redis-server --appendonly yes --appendfsync always\` — the same promise as respql: a reply means the write is on disk.
- **redis, no persistence**: \`redis-server --save '' --appendonly no\` — the in-memory ceiling, the reference for reads.
- **pgbench, same PostgreSQL**: the same upsert and select sent straight to the same PostgreSQL and respql's own \`sessions\` table,
  one statement per transaction, prepared, ${CLIENTS} clients — what respql-on-PostgreSQL could at best approach without batching.
- **respql, MariaDB**: respql on a throwaway MariaDB (mariadbd ${mariadbSettingsText()}, InnoDB).
- **one-statement client, same MariaDB**: the same upsert and select sent straight to that MariaDB as pgbench does to PostgreSQL
  (scripts/bench/mariadb-client.ts: Node.js and mysql2, prepared statements, autocommit, ${CLIENTS} connections).

Every target is first filled with all ${KEYSPACE.toLocaleString('en-US')} keys (\`key:000000000000\`…), so every GET is a hit and every SET replaces a row.
Then \`redis-benchmark -t set,get -c ${CLIENTS} -d ${VALUE_SIZE} -r ${KEYSPACE}\` runs against each target with \`-P 1\` (\`-n ${options.requests}\`)
and \`-P 16\` (\`-n ${options.requestsPipelined}\`), ${options.reps} repetitions, the order of the targets rotating on each repetition;
pgbench runs each script for ${options.pgbenchSeconds} s per repetition. **Session traffic** is what express-session with
connect-redis sends: on each of ${CLIENTS} connections, one request after another, a GET of a random session, then an
EXPIRE of it (a touch) or, ${SESSION_SAVES * 100} % of the time, a \`SET ... EX ${SESSION_TTL}\` of ${VALUE_SIZE} bytes (a save), for
${options.sessionSeconds} s per target and repetition; redis-benchmark runs one command kind at a time, so the client is the
script's own (one Node.js thread, which bounds the fastest targets), and its ops/s and latencies count commands. **Hash session
traffic** is what Spring Session sends: on each of ${CLIENTS} connections, an HGETALL of a random one of ${HASH_SESSIONS.toLocaleString('en-US')} session hashes
(4 fields, one of ${VALUE_SIZE} bytes), then an HSET of two small fields and an EXPIRE, for as long. **Lock traffic** is phpredis's session locking and Redlock:
on each of ${CLIENTS} connections, \`SET lock:<random> token NX PX 30000\`, then \`EVALSHA\` of the lock-release script (GET,
compare, DEL; loaded once with SCRIPT LOAD), for as long. Figures are medians over the repetitions
(p50/p99: the median of each run's percentile; pgbench's from its per-transaction log). All servers and the
benchmark clients share the same ${os.cpus().length} cores, so client CPU is part of every figure.

## Results

${resultsTable(rows)}

## Ratios

${ratiosTable(rows)}

## Machine

${machine(tmp, load)}

## Versions

${versions(options.respql)}

## Commands run

\`$TMP\` is the run's temp dir (removed afterwards). pgbench scripts:

\`\`\`
-- upsert.sql
${PGBENCH_SCRIPTS.SET}
-- select.sql
${PGBENCH_SCRIPTS.GET}
\`\`\`

\`\`\`sh
TMP=$(mktemp -d)
${commands.join('\n')}
\`\`\``;
}

/**
 * BENCHMARKS.md's blocks, in order. A run rewrites the blocks it measured and keeps the
 * others as they were (each names its own date and commit); the *-notes blocks are written
 * by hand (what the figures and profiles showed, and why) and only ever kept.
 */
export const BLOCKS = [
  'main',
  'mariadb-notes',
  'workers',
  'workers-notes',
  'profile',
  'profile-notes',
  'scale',
  'scale-rows',
  'scale-sweep',
  'scale-idle',
  'scale-notes',
  // Written from `npm run bench:pubsub`'s output (scripts/bench-pubsub.ts), kept by `npm run bench`.
  'pubsub-notes',
] as const;
export type Block = (typeof BLOCKS)[number];

export function blockOf(text: string, name: Block): string | undefined {
  const m = new RegExp(`<!-- block:${name} -->\\n([\\s\\S]*?)\\n<!-- /block:${name} -->`).exec(text);
  return m?.[1];
}

export function writeReport(file: string, produced: Partial<Record<Block, string>>): void {
  const old = readOr(file);
  const blocks = BLOCKS.map((name) => [name, produced[name] ?? blockOf(old, name)] as const).filter(([, body]) => body);
  const text = blocks.map(([name, body]) => `<!-- block:${name} -->\n${body!.trim()}\n<!-- /block:${name} -->`).join('\n\n');
  fs.writeFileSync(file, `# Benchmarks\n\n${text}\n`);
}
