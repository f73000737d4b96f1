/**
 * `npm run bench`: the reproducible performance benchmark behind BENCHMARKS.md.
 *
 * One run starts four servers on this machine, all in one fresh temp dir:
 *   - respql on SQLite (its default durable settings: WAL, one fdatasync of the WAL before the replies it covers)
 *   - respql on PostgreSQL (a throwaway cluster started here: fsync=on, synchronous_commit=on)
 *   - redis-server with appendonly yes + appendfsync always (the same promise: a reply
 *     means the write is on disk)
 *   - redis-server with no persistence (the ceiling for reads)
 * and drives each with the same redis-benchmark commands, rotating the order of the
 * targets on every repetition so no server always runs first (or on a warmer machine).
 * pgbench then measures what the same PostgreSQL does with the same two statements
 * issued directly, which is the ceiling respql-on-PostgreSQL can approach.
 *
 * Usage: node dist/scripts/bench.js [--requests N] [--requests-pipelined N] [--reps N]
 *          [--pgbench-seconds S] [--out FILE] [--profile | --profile-only] [--scale | --scale-only]
 * --workers 1,2 runs only the comparison of respql's worker counts (scripts/bench/workers.ts).
 * --scale adds the measurements at scale (1,000,000 rows, sweeping 1,000,000 expired rows,
 * 10,000 idle connections); it takes longer than the main run, so it is not in the default.
 * BENCHMARKS.md is made of marked blocks (main, profile, scale): a run rewrites the blocks it
 * measured and keeps the others, each of which names its own date, commit, load and commands.
 * Each flag has an environment variable (BENCH_REQUESTS, ...); see OPTION_HELP below.
 * --respql DIR benchmarks another built checkout instead of this one, e.g. a clean clone of
 * a commit while the working tree is mid-edit, or two commits one after the other:
 *   git clone -q . /tmp/r && ln -s "$PWD/node_modules" /tmp/r/ && (cd /tmp/r && npx tsc -p tsconfig.json)
 *
 * This file is the entry; the work is in scripts/bench/, a module per job: options (the
 * command line), processes (spawning, clean-up, the command log), targets (respql, redis and
 * PostgreSQL started and stopped), workloads (redis-benchmark, session traffic, pgbench),
 * results (medians and number formats), profile (--profile), scale (--scale) and report
 * (BENCHMARKS.md). The RESP client, the free port and the throwaway PostgreSQL cluster are the
 * ones the tests use (src/ops/resp-client.ts, test/support/).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { UsageError, fail, parseOptions } from './bench/options';
import { cleanUp, commandLogs, loadAverage, onCleanup, progress, recordCommands, setTmpRoot } from './bench/processes';
import { respqlCli } from './bench/targets';
import { summarize } from './bench/results';
import { benchmark } from './bench/workloads';
import { profile } from './bench/profile';
import { lockOnly } from './bench/lock-only';
import { holdConnections, scale } from './bench/scale';
import { workersBench } from './bench/workers';
import { type Block, ratiosTable, renderMain, resultsTable, writeReport } from './bench/report';

async function main(): Promise<void> {
  if (process.argv[2] === '--hold-connections') return holdConnections(Number(process.argv[3]), Number(process.argv[4]));
  const options = parseOptions(process.argv.slice(2), process.env);
  if (!fs.existsSync(respqlCli(options))) fail(`${respqlCli(options)} not found: build first (npm run build)`);
  const started = Date.now();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'respql-bench-'));
  setTmpRoot(tmp);
  const loadBefore = loadAverage();
  fs.chmodSync(tmp, 0o755); // the postgres user must reach its cluster dir inside
  onCleanup(() => fs.rmSync(tmp, { recursive: true, force: true }));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      progress(`${signal}: stopping servers and removing ${tmp}`);
      void cleanUp().then(() => process.exit(130));
    });
  }
  try {
    if (options.lockOnly) {
      process.stdout.write(`\n${await lockOnly(options, tmp)}\n`);
      return;
    }
    const produced: Partial<Record<Block, string>> = {};
    if (options.workers) {
      produced.workers = await workersBench(options, tmp);
      process.stdout.write(`\n${produced.workers}\n`);
    } else if (!options.profileOnly && !options.scaleOnly) {
      const commands = recordCommands();
      const rows = summarize(await benchmark(options, tmp));
      commandLogs.delete(commands);
      process.stdout.write(`\n${resultsTable(rows)}\n\n${ratiosTable(rows)}\n`);
      const load = `before ${loadBefore}, after ${loadAverage()}`;
      produced.main = renderMain(options, rows, tmp, commands, (Date.now() - started) / 1000, load);
    }
    if (options.profile) {
      produced.profile = await profile(options, tmp);
      process.stdout.write(`\n${produced.profile}\n`);
    }
    if (options.scale) {
      for (const [name, text] of Object.entries(await scale(options, tmp))) {
        produced[name as Block] = text;
        process.stdout.write(`\n${text}\n`);
      }
    }
    writeReport(options.out, produced);
    progress(`wrote ${Object.keys(produced).join(', ')} into ${options.out}`);
  } finally {
    await cleanUp();
  }
}

main().catch((err) => {
  process.stderr.write(`bench: ${err instanceof UsageError ? err.message : ((err as Error).stack ?? err)}\n`);
  void cleanUp().then(() => process.exit(1));
});
