/** The bench's command line: options, their environment variables and defaults, and the fixed load (key space, value size, clients). */
import path from 'node:path';
import { PG_BIN_DIR } from '../../test/support/postgres';

/** The repository root (dist/scripts/bench -> ../../..). */
export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const PG_BIN = PG_BIN_DIR;
export const KEYSPACE = 100_000; // redis-benchmark -r: keys key:000000000000 .. key:000000099999
export const VALUE_SIZE = 1024; // redis-benchmark -d
export const CLIENTS = 50; // redis-benchmark -c and pgbench -c
export const PIPELINES = [1, 16] as const;

// Options

export interface Options {
  /** redis-benchmark -n for -P 1 runs (per test: SET and GET each get N requests). */
  requests: number;
  /** redis-benchmark -n for -P 16 runs; pipelining is ~5x faster, so it needs more requests to last as long. */
  requestsPipelined: number;
  reps: number;
  pgbenchSeconds: number;
  /** How long the session-traffic test runs against each target, per repetition. */
  sessionSeconds: number;
  out: string;
  /** The respql checkout to run (built, with dist/src/cli.js): this one, or e.g. a clone at another commit. */
  respql: string;
  profile: boolean;
  profileOnly: boolean;
  scale: boolean;
  scaleOnly: boolean;
  /** Only the lock-traffic test (Lua scripts) against every target; prints its table, writes nothing. */
  lockOnly: boolean;
  /** Rows in the large table of the scale measurements (and expired rows to sweep). */
  scaleRows: number;
  /** Rows in the small table the large one is compared with. */
  scaleSmallRows: number;
  idleConnections: number;
  scaleParts: ScalePart[];
  /** More `-c name=value` settings for the throwaway PostgreSQL cluster, after the fixed ones. */
  postgresSettings: string[];
  /** --workers 1,2: only the comparison of respql's worker counts (scripts/bench/workers.ts). */
  workers: number[] | null;
}

export const SCALE_PARTS = ['rows', 'sweep', 'idle'] as const;
export type ScalePart = (typeof SCALE_PARTS)[number];

export const OPTION_HELP = `Options (flag / environment variable, default):
  --requests N             BENCH_REQUESTS            requests per redis-benchmark test with -P 1 (30000)
  --requests-pipelined N   BENCH_REQUESTS_PIPELINED  requests per test with -P 16 (100000)
  --reps N                 BENCH_REPS                repetitions; the table shows medians (3)
  --pgbench-seconds S      BENCH_PGBENCH_SECONDS     pgbench -T for each script (10)
  --session-seconds S      BENCH_SESSION_SECONDS     the session-traffic test's length on each target (5)
  --out FILE               BENCH_OUT                 where to write the report (BENCHMARKS.md)
  --respql DIR             BENCH_RESPQL              respql checkout to benchmark, already built (this one)
  --profile                                          also profile respql (SQLite, SET -P 1) and report the top functions
  --profile-only                                     only the profile runs; rewrites only the report's profile block
  --scale                                            also the scale measurements (3–6 min more): 1M rows vs 10k rows,
                                                     sweeping 1M expired rows under load, 10k idle connections
  --scale-only                                       only the scale measurements; rewrites only the report's scale blocks
  --lock-only                                        only the lock-traffic test (Lua scripts), --reps times for
                                                     --session-seconds each, on every target; prints, writes nothing
  --scale-rows N           BENCH_SCALE_ROWS          rows in the large table, and expired rows to sweep (1000000)
  --scale-small-rows N     BENCH_SCALE_SMALL_ROWS    rows in the small table it is compared with (10000)
  --idle-connections N     BENCH_IDLE_CONNECTIONS    idle connections held open (10000)
  --scale-parts LIST       BENCH_SCALE_PARTS         which scale measurements: rows,sweep,idle (all)
  --postgres-setting N=V   BENCH_POSTGRES_SETTINGS   a setting for the throwaway PostgreSQL cluster, e.g. shared_buffers=2GB
                                                     (the flag may repeat; the variable takes a space-separated list) (none)
  --workers LIST                                     only compare respql --workers counts, e.g. 1,2, with redis-server;
                                                     rewrites only the report's workers block`;

export function parseOptions(argv: string[], env: NodeJS.ProcessEnv): Options {
  const o: Options = {
    requests: positive('BENCH_REQUESTS', env.BENCH_REQUESTS ?? '30000'),
    requestsPipelined: positive('BENCH_REQUESTS_PIPELINED', env.BENCH_REQUESTS_PIPELINED ?? '100000'),
    reps: positive('BENCH_REPS', env.BENCH_REPS ?? '3'),
    pgbenchSeconds: positive('BENCH_PGBENCH_SECONDS', env.BENCH_PGBENCH_SECONDS ?? '10'),
    sessionSeconds: positive('BENCH_SESSION_SECONDS', env.BENCH_SESSION_SECONDS ?? '5'),
    out: env.BENCH_OUT ?? path.join(ROOT, 'BENCHMARKS.md'),
    respql: path.resolve(env.BENCH_RESPQL ?? ROOT),
    profile: false,
    profileOnly: false,
    scale: false,
    scaleOnly: false,
    lockOnly: false,
    scaleRows: positive('BENCH_SCALE_ROWS', env.BENCH_SCALE_ROWS ?? '1000000'),
    scaleSmallRows: positive('BENCH_SCALE_SMALL_ROWS', env.BENCH_SCALE_SMALL_ROWS ?? '10000'),
    idleConnections: positive('BENCH_IDLE_CONNECTIONS', env.BENCH_IDLE_CONNECTIONS ?? '10000'),
    scaleParts: scaleParts('BENCH_SCALE_PARTS', env.BENCH_SCALE_PARTS ?? SCALE_PARTS.join(',')),
    postgresSettings: (env.BENCH_POSTGRES_SETTINGS ?? '')
      .split(/\s+/)
      .filter(Boolean)
      .map((v) => postgresSetting('BENCH_POSTGRES_SETTINGS', v)),
    workers: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const value = (): string => inline ?? argv[++i] ?? fail(`missing value for ${flag}`);
    if (flag === '--requests') o.requests = positive(flag, value());
    else if (flag === '--requests-pipelined') o.requestsPipelined = positive(flag, value());
    else if (flag === '--reps') o.reps = positive(flag, value());
    else if (flag === '--pgbench-seconds') o.pgbenchSeconds = positive(flag, value());
    else if (flag === '--session-seconds') o.sessionSeconds = positive(flag, value());
    else if (flag === '--out') o.out = path.resolve(value());
    else if (flag === '--respql') o.respql = path.resolve(value());
    else if (flag === '--profile') o.profile = true;
    else if (flag === '--profile-only') o.profile = o.profileOnly = true;
    else if (flag === '--scale') o.scale = true;
    else if (flag === '--scale-only') o.scale = o.scaleOnly = true;
    else if (flag === '--lock-only') o.lockOnly = true;
    else if (flag === '--scale-rows') o.scaleRows = positive(flag, value());
    else if (flag === '--scale-small-rows') o.scaleSmallRows = positive(flag, value());
    else if (flag === '--idle-connections') o.idleConnections = positive(flag, value());
    else if (flag === '--scale-parts') o.scaleParts = scaleParts(flag, value());
    else if (flag === '--postgres-setting') o.postgresSettings.push(postgresSetting(flag, value()));
    else if (flag === '--workers')
      o.workers = value()
        .split(',')
        .map((w) => positive(flag, w.trim()));
    else if (flag === '--help' || flag === '-h') {
      process.stdout.write(OPTION_HELP + '\n');
      process.exit(0);
    } else fail(`unknown option '${argv[i]}'\n${OPTION_HELP}`);
  }
  return o;
}

export function positive(name: string, value: string): number {
  if (!/^[1-9]\d*$/.test(value)) fail(`${name} must be a positive integer, got '${value}'`);
  return Number(value);
}

export function scaleParts(name: string, value: string): ScalePart[] {
  const parts = value.split(',').map((p) => p.trim());
  for (const p of parts)
    if (!(SCALE_PARTS as readonly string[]).includes(p)) fail(`${name} must be a list of ${SCALE_PARTS.join(', ')}, got '${p}'`);
  return parts as ScalePart[];
}

export function postgresSetting(name: string, value: string): string {
  if (!/^[a-z_.]+=[\w.]+$/.test(value)) fail(`${name} takes name=value settings (letters, digits, _ and .), got '${value}'`);
  return value;
}

/** A wrong option or setting: reported in one line, without a stack. */
export class UsageError extends Error {}

export function fail(message: string): never {
  throw new UsageError(message);
}

// Processes and clean-up: everything started is registered here, so a failure or Ctrl-C
// still stops every server and removes the temp dir.
