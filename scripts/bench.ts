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
 * --scale adds the measurements at scale (1,000,000 rows, sweeping 1,000,000 expired rows,
 * 10,000 idle connections); it takes longer than the main run, so it is not in the default.
 * BENCHMARKS.md is made of marked blocks (main, profile, scale): a run rewrites the blocks it
 * measured and keeps the others, each of which names its own date, commit, load and commands.
 * Each flag has an environment variable (BENCH_REQUESTS, ...); see OPTION_HELP below.
 * --respql DIR benchmarks another built checkout instead of this one, e.g. a clean clone of
 * a commit while the working tree is mid-edit, or two commits one after the other:
 *   git clone -q . /tmp/r && ln -s "$PWD/node_modules" /tmp/r/ && (cd /tmp/r && npx tsc -p tsconfig.json)
 */
import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RawClient, encodeCommand, isErrorReply, type Reply } from '../src/ops/resp-client';
import { freePort } from '../test/support/free-port';

const ROOT = path.resolve(__dirname, '..', '..');
const PG_BIN = '/usr/lib/postgresql/15/bin';
const KEYSPACE = 100_000; // redis-benchmark -r: keys key:000000000000 .. key:000000099999
const VALUE_SIZE = 1024; // redis-benchmark -d
const CLIENTS = 50; // redis-benchmark -c and pgbench -c
const PIPELINES = [1, 16] as const;

// ---------------------------------------------------------------------------------------
// Options

interface Options {
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
  /** Rows in the large table of the scale measurements (and expired rows to sweep). */
  scaleRows: number;
  /** Rows in the small table the large one is compared with. */
  scaleSmallRows: number;
  idleConnections: number;
  scaleParts: ScalePart[];
  /** More `-c name=value` settings for the throwaway PostgreSQL cluster, after the fixed ones. */
  postgresSettings: string[];
}

const SCALE_PARTS = ['rows', 'sweep', 'idle'] as const;
type ScalePart = (typeof SCALE_PARTS)[number];

const OPTION_HELP = `Options (flag / environment variable, default):
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
  --scale-rows N           BENCH_SCALE_ROWS          rows in the large table, and expired rows to sweep (1000000)
  --scale-small-rows N     BENCH_SCALE_SMALL_ROWS    rows in the small table it is compared with (10000)
  --idle-connections N     BENCH_IDLE_CONNECTIONS    idle connections held open (10000)
  --scale-parts LIST       BENCH_SCALE_PARTS         which scale measurements: rows,sweep,idle (all)
  --postgres-setting N=V   BENCH_POSTGRES_SETTINGS   a setting for the throwaway PostgreSQL cluster, e.g. shared_buffers=2GB
                                                     (the flag may repeat; the variable takes a space-separated list) (none)`;

function parseOptions(argv: string[], env: NodeJS.ProcessEnv): Options {
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
    scaleRows: positive('BENCH_SCALE_ROWS', env.BENCH_SCALE_ROWS ?? '1000000'),
    scaleSmallRows: positive('BENCH_SCALE_SMALL_ROWS', env.BENCH_SCALE_SMALL_ROWS ?? '10000'),
    idleConnections: positive('BENCH_IDLE_CONNECTIONS', env.BENCH_IDLE_CONNECTIONS ?? '10000'),
    scaleParts: scaleParts('BENCH_SCALE_PARTS', env.BENCH_SCALE_PARTS ?? SCALE_PARTS.join(',')),
    postgresSettings: (env.BENCH_POSTGRES_SETTINGS ?? '').split(/\s+/).filter(Boolean).map((v) => postgresSetting('BENCH_POSTGRES_SETTINGS', v)),
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
    else if (flag === '--scale-rows') o.scaleRows = positive(flag, value());
    else if (flag === '--scale-small-rows') o.scaleSmallRows = positive(flag, value());
    else if (flag === '--idle-connections') o.idleConnections = positive(flag, value());
    else if (flag === '--scale-parts') o.scaleParts = scaleParts(flag, value());
    else if (flag === '--postgres-setting') o.postgresSettings.push(postgresSetting(flag, value()));
    else if (flag === '--help' || flag === '-h') {
      process.stdout.write(OPTION_HELP + '\n');
      process.exit(0);
    } else fail(`unknown option '${argv[i]}'\n${OPTION_HELP}`);
  }
  return o;
}

function positive(name: string, value: string): number {
  if (!/^[1-9]\d*$/.test(value)) fail(`${name} must be a positive integer, got '${value}'`);
  return Number(value);
}

function scaleParts(name: string, value: string): ScalePart[] {
  const parts = value.split(',').map((p) => p.trim());
  for (const p of parts) if (!(SCALE_PARTS as readonly string[]).includes(p)) fail(`${name} must be a list of ${SCALE_PARTS.join(', ')}, got '${p}'`);
  return parts as ScalePart[];
}

function postgresSetting(name: string, value: string): string {
  if (!/^[a-z_.]+=[\w.]+$/.test(value)) fail(`${name} takes name=value settings (letters, digits, _ and .), got '${value}'`);
  return value;
}

/** A wrong option or setting: reported in one line, without a stack. */
class UsageError extends Error {}

function fail(message: string): never {
  throw new UsageError(message);
}

// ---------------------------------------------------------------------------------------
// Processes and clean-up: everything started is registered here, so a failure or Ctrl-C
// still stops every server and removes the temp dir.

const cleanups: (() => Promise<void> | void)[] = [];
let cleaningUp: Promise<void> | null = null;

function onCleanup(action: () => Promise<void> | void): void {
  cleanups.push(action);
}

/** Runs the clean-up actions newest first (servers before the dir they live in). */
function cleanUp(): Promise<void> {
  cleaningUp ??= (async () => {
    for (const action of cleanups.splice(0).reverse()) {
      try {
        await action();
      } catch (err) {
        process.stderr.write(`bench: clean-up: ${(err as Error).message}\n`);
      }
    }
  })();
  return cleaningUp;
}

/**
 * Every command line run, for the report (so anyone can repeat a figure by hand): each
 * report block collects the commands run while it was measured (see recordCommands).
 */
const commandLogs = new Set<string[]>();

/** Starts collecting the commands run from now on; returns the list they go into. */
function recordCommands(): string[] {
  const log: string[] = [];
  commandLogs.add(log);
  return log;
}
/** The run's temp dir, written as $TMP in the logged commands. */
let tmpRoot = '';

function shellQuote(raw: string): string {
  if (raw.startsWith('data=') && raw.length > VALUE_SIZE) return `data="$(head -c ${VALUE_SIZE} /dev/zero | tr '\\0' x)"`;
  const arg = tmpRoot ? raw.split(tmpRoot).join('$TMP') : raw;
  if (/^[\w@%+=:,./-]+$/.test(arg.replace(/\$TMP/g, ''))) return arg;
  // Double quotes keep $TMP expandable; anything else shell-special gets single quotes.
  if (!/["\\`]/.test(arg) && !/\$(?!TMP)/.test(arg)) return `"${arg}"`;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

function logCommand(cmd: string, args: readonly string[]): void {
  const line = [cmd, ...args].map(shellQuote).join(' ');
  for (const log of commandLogs) if (!log.includes(line)) log.push(line);
}

/** Starts a long-running server; it is stopped (TERM, then KILL) at clean-up. */
function startDaemon(cmd: string, args: string[], logFile: string, options: SpawnOptions = {}): ChildProcess {
  logCommand(cmd, args);
  const out = fs.openSync(logFile, 'a');
  const child = spawn(cmd, args, { ...options, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  onCleanup(() => stopChild(child));
  return child;
}

async function stopChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; rejects on a non-zero exit or after `timeoutMs`. */
function run(cmd: string, args: string[], options: SpawnOptions & { timeoutMs?: number; quiet?: boolean } = {}): Promise<RunResult> {
  if (!options.quiet) logCommand(cmd, args);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => stdout.push(b));
    child.stderr!.on('data', (b: Buffer) => stderr.push(b));
    // A wedged server must not hang the whole benchmark.
    const timer = setTimeout(() => void child.kill('SIGKILL'), options.timeoutMs ?? 600_000);
    const forget = () => void child.kill('SIGKILL');
    onCleanup(forget);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const i = cleanups.indexOf(forget);
      if (i >= 0) cleanups.splice(i, 1);
      const result = { stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() };
      if (code === 0) resolve(result);
      else reject(new Error(`${cmd} ${args.slice(0, 6).join(' ')} ... exited with ${signal ?? code}: ${result.stderr.trim() || result.stdout.trim()}`));
    });
  });
}

function runSync(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : '(unknown)';
}

async function waitForPing(port: number, child: ChildProcess, what: string, log: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) fail(`${what} exited with code ${child.exitCode} before it answered PING; its log:\n${readOr(log).slice(-2000)}`);
    try {
      const client = await RawClient.connect(port);
      try {
        if (isPong(await client.send('PING'))) return;
      } finally {
        await client.destroy();
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) fail(`${what} did not answer PING on port ${port} within ${timeoutMs} ms`);
    await sleep(100);
  }
}

const isPong = (reply: Reply) => Buffer.isBuffer(reply) && reply.toString() === 'PONG';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const keyName = (i: number) => `key:${String(i).padStart(12, '0')}`; // redis-benchmark's __rand_int__ format

/**
 * Writes every key of the key space once, so that every GET in the benchmark finds its
 * key (a session store's reads are hits) and every SET replaces a row, on every target.
 */
async function prefill(port: number): Promise<void> {
  const value = Buffer.alloc(VALUE_SIZE, 'x');
  const client = await RawClient.connect(port);
  try {
    const batch = 1000;
    for (let start = 0; start < KEYSPACE; start += batch) {
      const n = Math.min(batch, KEYSPACE - start);
      const replies = await client.pipeline(Array.from({ length: n }, (_, i) => ['SET', keyName(start + i), value]));
      const bad = replies.find(isErrorReply);
      if (bad) throw new Error(`server replied -${bad.error}`);
    }
  } finally {
    await client.destroy();
  }
}

// ---------------------------------------------------------------------------------------
// The servers under test

interface Target {
  /** Row label in the report. */
  name: string;
  port: number;
}

const respqlCli = (options: Options) => path.join(options.respql, 'dist', 'src', 'cli.js');

interface RespqlOptions {
  nodeFlags?: string[];
  /** More respql flags (e.g. --table, --cleanup-interval). */
  args?: string[];
  /** Run under a raised open-files limit, for many connections (see highFdLimit). */
  manyFiles?: boolean;
}

async function startRespql(options: Options, tmp: string, name: string, databaseUrl: string, o: RespqlOptions = {}): Promise<Target & { child: ChildProcess }> {
  const port = await freePort();
  const log = path.join(tmp, `${slug(name)}.log`);
  const argv = [process.execPath, ...(o.nodeFlags ?? []), respqlCli(options), '--port', String(port), '--database-url', databaseUrl, ...(o.args ?? [])];
  const [cmd, ...args] = o.manyFiles ? highFdLimit(argv) : argv;
  const child = startDaemon(cmd, args, log, { cwd: tmp });
  await waitForPing(port, child, name, log);
  return { name, port, child };
}

/**
 * The command line `argv` under `ulimit -n 65536`, or the hard limit where raising it is
 * not allowed (a container without CAP_SYS_RESOURCE). `exec` keeps the pid, so /proc/<pid>
 * of the child is the process itself.
 */
function highFdLimit(argv: string[]): string[] {
  return ['bash', '-c', 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$@"', 'bash', ...argv];
}

/** A process's soft open-files limit (/proc/<pid>/limits). */
function openFilesLimit(pid: number): string {
  return /Max open files\s+(\S+)/.exec(readOr(`/proc/${pid}/limits`))?.[1] ?? 'unknown';
}

async function startRedis(tmp: string, name: string, persistence: string[]): Promise<Target> {
  const port = await freePort();
  const dir = path.join(tmp, slug(name));
  fs.mkdirSync(dir);
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, ...persistence];
  const log = path.join(dir, 'redis.log');
  const child = startDaemon('redis-server', args, log);
  await waitForPing(port, child, name, log);
  return { name, port };
}

const slug = (s: string) => s.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').toLowerCase();

interface Postgres {
  port: number;
  url: string;
  dir: string;
}

/** PostgreSQL refuses to run as root: the cluster lives in a dir owned by `postgres`. */
function asPostgres(cmd: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
}

/** The throwaway cluster's settings that the figures depend on (durability as respql asks for it). */
const POSTGRES_DURABILITY = ['fsync=on', 'synchronous_commit=on'];

/** Those settings and the run's own (--postgres-setting), as the reports describe them. */
function postgresSettingsText(options: Options): string {
  return [...POSTGRES_DURABILITY, ...options.postgresSettings].map((s) => `\`${s}\``).join(', ');
}

async function startPostgres(tmp: string, extraSettings: readonly string[]): Promise<Postgres> {
  const dir = path.join(tmp, 'postgres');
  fs.mkdirSync(dir);
  if (process.getuid?.() === 0) {
    const uid = Number(runSync('id', ['-u', 'postgres']));
    const gid = Number(runSync('id', ['-g', 'postgres']));
    fs.chownSync(dir, uid, gid);
  }
  const data = path.join(dir, 'data');
  const port = await freePort();
  // --no-sync only skips initdb's own final fsync of the template files; the server below
  // runs with fsync=on and synchronous_commit=on, which is what the figures depend on.
  await run(...asPostgres(`${PG_BIN}/initdb`, ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']), { cwd: dir });
  const settings = [
    `-c port=${port}`,
    '-c listen_addresses=127.0.0.1',
    `-c unix_socket_directories=${dir}`,
    ...POSTGRES_DURABILITY.map((setting) => `-c ${setting}`),
    '-c max_connections=200',
    ...extraSettings.map((setting) => `-c ${setting}`),
  ].join(' ');
  onCleanup(() => run(...asPostgres(`${PG_BIN}/pg_ctl`, ['-D', data, '-m', 'fast', '-w', 'stop']), { cwd: dir, quiet: true }).then(() => undefined));
  await run(...asPostgres(`${PG_BIN}/pg_ctl`, ['-D', data, '-l', path.join(dir, 'server.log'), '-w', '-o', settings, 'start']), { cwd: dir });
  return { port, dir, url: `postgres://postgres@127.0.0.1:${port}/postgres` };
}

/** Each statement goes in its own -c, so each runs in its own transaction (VACUUM needs that). */
function psql(pg: Postgres, ...statements: string[]): Promise<RunResult> {
  const args = ['-X', '-q', '-h', '127.0.0.1', '-p', String(pg.port), '-U', 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1'];
  return run(`${PG_BIN}/psql`, [...args, ...statements.flatMap((sql) => ['-c', sql])]);
}

// ---------------------------------------------------------------------------------------
// Measurements

/** SESSION: the session-traffic test (see sessionTraffic); the others are redis-benchmark's and pgbench's. */
type Test = 'SET' | 'GET' | 'SESSION';

interface Sample {
  target: string;
  test: Test;
  pipeline: number;
  rps: number;
  p50: number;
  p99: number;
  /** Longest single request (redis-benchmark only). */
  max?: number;
}

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
  const col = (name: string) => (header.indexOf(name) >= 0 ? header.indexOf(name) : fail(`redis-benchmark CSV has no "${name}" column: ${header.join(',')}`));
  const [test, rps, p50, p99, max] = ['test', 'rps', 'p50_latency_ms', 'p99_latency_ms', 'max_latency_ms'].map(col);
  return rows.map((r) => ({ test: r[test], rps: Number(r[rps]), p50: Number(r[p50]), p99: Number(r[p99]), max: Number(r[max]) }));
}

async function redisBenchmark(target: Target, pipeline: number, requests: number, tests = 'set,get', keyspace = KEYSPACE): Promise<Sample[]> {
  const args = ['-h', '127.0.0.1', '-p', String(target.port), '-t', tests, '-c', String(CLIENTS), '-d', String(VALUE_SIZE), '-r', String(keyspace), '-n', String(requests), '-P', String(pipeline), '--csv'];
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
const PGBENCH_SCRIPTS: Record<'SET' | 'GET', string> = {
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

async function pgbench(pg: Postgres, tmp: string, test: 'SET' | 'GET', seconds: number): Promise<Sample> {
  const dir = path.join(tmp, 'pgbench');
  fs.mkdirSync(dir, { recursive: true });
  const script = path.join(dir, `${test === 'SET' ? 'upsert' : 'select'}.sql`);
  fs.writeFileSync(script, PGBENCH_SCRIPTS[test] + '\n');
  const logPrefix = path.join(dir, 'log');
  for (const f of fs.readdirSync(dir)) if (f.startsWith('log.')) fs.rmSync(path.join(dir, f));
  const args = ['-h', '127.0.0.1', '-p', String(pg.port), '-U', 'postgres', '-n', '-M', 'prepared', '-c', String(CLIENTS), '-j', '2', '-T', String(seconds),
    '-f', script, '-D', `data=${'x'.repeat(VALUE_SIZE)}`, '-l', `--log-prefix=${logPrefix}`, 'postgres'];
  const { stdout } = await run(`${PG_BIN}/pgbench`, args, { timeoutMs: (seconds + 60) * 1000 });
  const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(stdout) ?? fail(`no tps in pgbench output:\n${stdout}`);
  const latencies = readPgbenchLatencies(dir);
  return { target: NAMES.pgbench, test, pipeline: 1, rps: Number(tps[1]), p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) };
}

/** pgbench -l writes one line per transaction: client_id transaction_no time_us script_no epoch_s epoch_us. */
function readPgbenchLatencies(dir: string): number[] {
  const ms: number[] = [];
  for (const f of fs.readdirSync(dir).filter((f) => f.startsWith('log.'))) {
    for (const line of fs.readFileSync(path.join(dir, f), 'utf8').split('\n')) {
      const fields = line.split(' ');
      if (fields.length >= 3) ms.push(Number(fields[2]) / 1000);
    }
  }
  return ms.sort((a, b) => a - b);
}

function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** The i-th rotation of `items`: repetition i starts with a different target. */
const rotate = <T>(items: T[], i: number): T[] => items.map((_, k) => items[(k + i) % items.length]);

// ---------------------------------------------------------------------------------------
// The run

const NAMES = {
  sqlite: 'respql, SQLite',
  postgres: 'respql, PostgreSQL',
  redisAof: 'redis, appendfsync always',
  redisNone: 'redis, no persistence',
  pgbench: 'pgbench, same PostgreSQL',
} as const;

async function benchmark(options: Options, tmp: string): Promise<Sample[]> {
  const pg = await startPostgres(tmp, options.postgresSettings);
  const targets: Target[] = [
    await startRespql(options, tmp, NAMES.sqlite, path.join(tmp, 'respql.sqlite')),
    await startRespql(options, tmp, NAMES.postgres, pg.url),
    await startRedis(tmp, NAMES.redisAof, ['--appendonly', 'yes', '--appendfsync', 'always', '--save', '']),
    await startRedis(tmp, NAMES.redisNone, ['--appendonly', 'no', '--save', '']),
  ];
  await prefillAll(targets, pg);

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
    }
    for (const test of rep % 2 ? (['GET', 'SET'] as const) : (['SET', 'GET'] as const)) {
      progress(`rep ${rep + 1}/${options.reps}: pgbench ${test === 'SET' ? 'upsert' : 'select'}, -T ${options.pgbenchSeconds}`);
      const s = await pgbench(pg, tmp, test, options.pgbenchSeconds);
      progress(`  ${fmtRate(s.rps)} tps, p50 ${s.p50.toFixed(3)} ms, p99 ${s.p99.toFixed(3)} ms`);
      samples.push(s);
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
async function prefillAll(targets: Target[], pg: Postgres): Promise<void> {
  for (const t of targets) {
    progress(`pre-filling ${KEYSPACE} keys into ${t.name}`);
    if (t.name === NAMES.postgres) {
      await psql(
        pg,
        `INSERT INTO sessions (token, data, expiry) SELECT 'key:' || lpad(i::text, 12, '0'), convert_to(repeat('x', ${VALUE_SIZE}), 'UTF8'), NULL ` +
          `FROM generate_series(0, ${KEYSPACE - 1}) AS i ON CONFLICT (token) DO NOTHING`,
      );
    } else if (t.name === NAMES.redisAof) {
      await command(t.port, ['CONFIG', 'SET', 'appendfsync', 'no']);
      await prefill(t.port);
      await command(t.port, ['CONFIG', 'SET', 'appendfsync', 'always']);
    } else {
      await prefill(t.port);
    }
  }
  // Measure from a fresh PostgreSQL checkpoint with current statistics, not mid-way through the load's.
  await psql(pg, 'VACUUM ANALYZE sessions', 'CHECKPOINT');
}

const SESSION_LABEL = 'session traffic (GET, then EXPIRE or SET EX)';

/** Of the session-traffic test's requests, the share that saves the session (SET ... EX); the others only touch it (EXPIRE). */
const SESSION_SAVES = 0.2;
const SESSION_TTL = '3600';

/**
 * Session traffic, as express-session with connect-redis (or phpredis) sends it: on each of
 * CLIENTS connections, one request after another, read a random session (GET), then either
 * save it (SET key value EX ttl, SESSION_SAVES of the time) or touch it (EXPIRE key ttl).
 * redis-benchmark runs one command kind at a time, so this client is the script's own (one
 * Node thread, which bounds the fastest targets): ops/s counts commands, latency is per command.
 */
async function sessionTraffic(target: Target, seconds: number): Promise<Sample> {
  const value = Buffer.alloc(VALUE_SIZE, 's');
  const latencies: number[] = [];
  const clients = await Promise.all(Array.from({ length: CLIENTS }, () => RawClient.connect(target.port)));
  const started = performance.now();
  const end = started + seconds * 1000;
  try {
    await Promise.all(
      clients.map(async (client) => {
        // The reply's bytes are enough (readFrame, no decoding): this client is the bottleneck for the fastest targets.
        const timed = async (args: (string | Buffer)[]) => {
          const t = performance.now();
          client.sendRaw(encodeCommand(args));
          const reply = await client.readFrame();
          if (reply[0] === 0x2d /* - */) throw new Error(`${target.name} answered ${reply.toString().trimEnd()}`);
          latencies.push(performance.now() - t);
        };
        while (performance.now() < end) {
          const key = keyName(Math.floor(Math.random() * KEYSPACE));
          await timed(['GET', key]);
          await timed(Math.random() < SESSION_SAVES ? ['SET', key, value, 'EX', SESSION_TTL] : ['EXPIRE', key, SESSION_TTL]);
        }
      }),
    );
  } finally {
    await Promise.all(clients.map((client) => client.destroy()));
  }
  const elapsedS = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { target: target.name, test: 'SESSION', pipeline: 1, rps: latencies.length / elapsedS, p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) };
}

/** One command on a connection of its own. */
async function command(port: number, args: string[]): Promise<Reply> {
  const client = await RawClient.connect(port);
  try {
    return await client.command(...args);
  } finally {
    await client.destroy();
  }
}

/** The profile block: respql (SQLite) under the V8 profiler, once for SET -P 1 and once for GET -P 1. */
async function profile(options: Options, tmp: string): Promise<string> {
  const commands = recordCommands();
  const started = new Date();
  const loadBefore = loadAverage();
  const sections: string[] = [];
  for (const test of ['SET', 'GET'] as const) sections.push(await profileOne(options, tmp, test));
  commandLogs.delete(commands);
  return `## Profile: respql on SQLite

Produced by \`npm run bench -- --profile\` on ${started.toISOString().slice(0, 10)}, respql git ${respqlCommit(options.respql)}; load average (1, 5, 15 min) before ${loadBefore}, after ${loadAverage()}.
Each profile is of one run of \`node --cpu-prof\` while one redis-benchmark test ran against a file pre-filled like the benchmark's;
start-up and pre-filling are left out. Self time of a native call (better-sqlite3's \`run\`/\`all\`, a socket's \`writeBuffer\`)
includes the C++ work and any wait inside it, such as SQLite's fsync at COMMIT, which blocks the event loop.
Percentages are of busy time; the profiles are kept under \`.tmp/\` (open them in Chrome DevTools).

${sections.join('\n\n')}

\`\`\`sh
TMP=$(mktemp -d)
${commands.join('\n')}
\`\`\``;
}

async function profileOne(options: Options, tmp: string, test: Test): Promise<string> {
  const profDir = path.join(tmp, `cpuprofile-${test.toLowerCase()}`);
  const spawnedAt = Date.now();
  const server = await startRespql(options, tmp, `respql, SQLite (profiled, ${test})`, path.join(tmp, `profile-${test.toLowerCase()}.sqlite`), {
    nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${profDir}`],
  });
  // Same state as in the benchmark: every key present, every SET replaces a row, every GET hits.
  progress(`pre-filling ${KEYSPACE} keys into ${server.name}`);
  await prefill(server.port);
  progress(`profiling respql (SQLite) under ${test} -P 1, -n ${options.requests}`);
  // Start-up and pre-filling are not what we want to see: skip that much of the profile.
  const startupMs = Date.now() - spawnedAt;
  const [sample] = await redisBenchmark(server, 1, options.requests, test.toLowerCase());
  // The profile is written when the process exits, so stop it gracefully (SIGTERM -> close -> exit).
  await stopChild(server.child);
  const file = fs.readdirSync(profDir).find((f) => f.endsWith('.cpuprofile')) ?? fail(`no .cpuprofile in ${profDir}`);
  const keep = path.join(ROOT, '.tmp', `bench-respql-sqlite-${test.toLowerCase()}.cpuprofile`);
  fs.mkdirSync(path.dirname(keep), { recursive: true });
  fs.copyFileSync(path.join(profDir, file), keep);
  const top = selfTimes(JSON.parse(fs.readFileSync(path.join(profDir, file), 'utf8')) as CpuProfile, options.respql, startupMs);
  return renderProfile(top, test, sample, options.requests, path.relative(ROOT, keep));
}

// ---------------------------------------------------------------------------------------
// At scale (--scale): a large table vs a small one, sweeping many expired rows under load,
// many idle connections. Tables are filled straight in SQL (millions of rows over the
// protocol would take longer than the measurements), in the shape respql's migration made.

type Backend = 'SQLite' | 'PostgreSQL';
const BACKENDS: Backend[] = ['SQLite', 'PostgreSQL'];

/** One data set: a SQLite file, or a table in the scale run's PostgreSQL cluster. */
interface DataSet {
  backend: Backend;
  databaseUrl: string;
  table: string;
}

function dataSet(backend: Backend, dir: string, pg: Postgres, name: string): DataSet {
  return backend === 'SQLite'
    ? { backend, databaseUrl: path.join(dir, `${name}.sqlite`), table: 'sessions' }
    : { backend, databaseUrl: pg.url, table: name.replace(/\W/g, '_') };
}

/** Runs SQL statements on a SQLite file with respql's own better-sqlite3 (each statement is one transaction). */
const SQLITE_EXEC = "const db = new (require('better-sqlite3'))(process.argv[1]); for (const sql of process.argv.slice(2)) db.exec(sql); db.close()";

/** Creates the data set's table with respql's own migration, then runs `statements` on it. */
async function fillDataSet(options: Options, ds: DataSet, pg: Postgres, statements: string[]): Promise<number> {
  const started = Date.now();
  await run(process.execPath, [respqlCli(options), 'migrate', '--database-url', ds.databaseUrl, '--table', ds.table, '--loglevel', 'warning']);
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
function rowsSql(ds: DataSet, count: number, expired = false): string {
  const t = `"${ds.table}"`;
  if (ds.backend === 'SQLite') {
    const token = expired ? `printf('key:%012d:%d', i % ${KEYSPACE}, i / ${KEYSPACE})` : `printf('key:%012d', i)`;
    const expiry = expired ? `CAST(unixepoch('subsec') * 1000 AS INTEGER) - 3600000` : 'NULL';
    return (
      `WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i < ${count - 1}) ` +
      `INSERT INTO ${t} (token, data, expiry) SELECT ${token}, zeroblob(${VALUE_SIZE}), ${expiry} FROM c`
    );
  }
  const token = expired ? `'key:' || lpad((i % ${KEYSPACE})::text, 12, '0') || ':' || (i / ${KEYSPACE})` : `'key:' || lpad(i::text, 12, '0')`;
  const expiry = expired ? `now() - interval '1 hour'` : 'NULL';
  return `INSERT INTO ${t} (token, data, expiry) SELECT ${token}, convert_to(repeat('x', ${VALUE_SIZE}), 'UTF8'), ${expiry} FROM generate_series(0, ${count - 1}) AS i`;
}

/** INFO <section> as a map (through redis-cli, as a user would look). */
async function info(port: number, section: string): Promise<Record<string, string>> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'INFO', section]);
  const fields: Record<string, string> = {};
  for (const line of stdout.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) fields[line.slice(0, i)] = line.slice(i + 1);
  }
  return fields;
}

/** A process's resident set and its peak, in MiB (/proc/<pid>/status VmRSS, VmHWM). */
function memoryOf(pid: number): { rss: number; hwm: number } {
  const status = readOr(`/proc/${pid}/status`);
  const kb = (field: string) => Number(new RegExp(`${field}:\\s*(\\d+)`).exec(status)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
}

const fmtMiB = (n: number) => `${n.toFixed(0)} MiB`;

interface Measured {
  title: string;
  body: string;
  commands: string[];
}

/** Runs one measurement with its own command log and load averages. */
async function measured(title: string, measure: () => Promise<string>): Promise<Measured> {
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
async function scale(options: Options, tmp: string): Promise<Partial<Record<Block, string>>> {
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
    rows: ['scale-rows', `${fmtRate(options.scaleRows)} rows vs ${fmtRate(options.scaleSmallRows)} rows`, () => measureRows(options, dir, pg)],
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
async function measureRows(options: Options, dir: string, pg: Postgres): Promise<string> {
  const sizes = [options.scaleSmallRows, options.scaleRows];
  const targets: (Target & { child: ChildProcess; rows: number })[] = [];
  const fills: string[] = [];
  for (const backend of BACKENDS) {
    for (const rows of sizes) {
      const ds = dataSet(backend, dir, pg, `rows_${rows}`);
      progress(`filling ${fmtRate(rows)} rows into ${backend}`);
      const seconds = await fillDataSet(options, ds, pg, [rowsSql(ds, rows)]);
      fills.push(`${backend} ${fmtRate(rows)} rows in ${seconds.toFixed(0)} s`);
      targets.push({ ...(await startRespql(options, dir, `respql, ${backend}, ${fmtRate(rows)} rows`, ds.databaseUrl, { args: ['--table', ds.table] })), rows });
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

interface Phase {
  name: string;
  samples: Sample[];
}

/**
 * Follows the first sweep through INFO respql, polled every 200 ms: when it was seen
 * finished (sweeper_runs counts finished sweeps) and the longest INFO round trip meanwhile
 * (a server busy sweeping answers late).
 */
function watchSweep(port: number): { endedAt: number; deleted: number; longestInfoMs: number; finished: Promise<void> } {
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
async function measureSweep(options: Options, dir: string, pg: Postgres): Promise<string> {
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
    const quiet = await startRespql(options, dir, `respql, ${backend}, sweeper off`, ds.databaseUrl, { args: ['--table', ds.table, '--cleanup-interval', '0'] });
    for (let i = 0; i < runs; i++) await bench(quiet, off);
    await stopChild(quiet.child);

    // Sweeper on: its first tick is 1 s after start-up, so the first run starts before the sweep;
    // runs go back to back until INFO shows the sweep finished.
    const during: Phase = { name: 'while sweeping', samples: [] };
    const after: Phase = { name: 'after the sweep', samples: [] };
    const server = await startRespql(options, dir, `respql, ${backend}, sweeper on`, ds.databaseUrl, { args: ['--table', ds.table, '--cleanup-interval', '1s'] });
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
async function measureIdle(options: Options, dir: string): Promise<string> {
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
async function pingTimes(port: number, count: number): Promise<number[]> {
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

const HOLD_BATCH = 500;

/**
 * Opens `count` connections in a child process under a raised open-files limit (this
 * process keeps its own limit), and resolves once each has answered one PING.
 */
async function holdConnectionsIn(port: number, count: number): Promise<{ ms: number; limit: string; release: () => void; exited: Promise<void> }> {
  const [cmd, ...args] = highFdLimit([process.execPath, __filename, '--hold-connections', String(port), String(count)]);
  logCommand(cmd, args);
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  onCleanup(() => stopChild(child));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('\n')) resolve(out.split('\n')[0]);
    });
    child.once('exit', (code) => reject(new Error(`--hold-connections exited with ${code} before holding its connections`)));
  });
  const { held, ms } = JSON.parse(line) as { held: number; ms: number };
  if (held !== count) fail(`--hold-connections held ${held} of ${count} connections`);
  return { ms, limit: openFilesLimit(child.pid!), release: () => child.stdin!.end(), exited };
}

/** The child side of holdConnectionsIn: opens the connections, reports, holds them until stdin closes. */
async function holdConnections(port: number, count: number): Promise<void> {
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

// ---------------------------------------------------------------------------------------
// .cpuprofile parsing (Chrome DevTools format, as written by node --cpu-prof)

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

interface SelfTime {
  name: string;
  where: string;
  ms: number;
}

/**
 * Self time per function: each sample owns the interval until the next sample (as DevTools
 * counts it). Samples in the first `skipMs` (the server's start-up) are left out.
 */
export function selfTimes(p: CpuProfile, respqlRoot: string, skipMs = 0): { functions: SelfTime[]; byPackage: SelfTime[]; totalMs: number; idleMs: number } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const fn = new Map<string, SelfTime>();
  const pkg = new Map<string, SelfTime>();
  let totalMs = 0;
  let idleMs = 0;
  let elapsedMs = 0;
  for (let i = 0; i < p.samples.length; i++) {
    elapsedMs += p.timeDeltas[i] / 1000;
    if (elapsedMs < skipMs) continue;
    const ms = (p.timeDeltas[i + 1] ?? 0) / 1000;
    const frame = byId.get(p.samples[i])!.callFrame;
    const name = frame.functionName || '(anonymous)';
    totalMs += ms;
    if (name === '(idle)') {
      idleMs += ms;
      continue;
    }
    const where = frame.url ? `${shortUrl(frame.url, respqlRoot)}:${frame.lineNumber + 1}` : '';
    add(fn, `${name} ${where}`, name, where, ms);
    const group = packageOf(frame.url, name, respqlRoot);
    add(pkg, group, group, '', ms);
  }
  const sorted = (m: Map<string, SelfTime>) => [...m.values()].sort((a, b) => b.ms - a.ms);
  return { functions: sorted(fn), byPackage: sorted(pkg), totalMs, idleMs };
}

function add(m: Map<string, SelfTime>, key: string, name: string, where: string, ms: number): void {
  const e = m.get(key) ?? { name, where, ms: 0 };
  e.ms += ms;
  m.set(key, e);
}

function shortUrl(url: string, respqlRoot: string): string {
  return url.replace(/^file:\/\//, '').replace(respqlRoot + '/', '');
}

/** Groups a frame by where its code lives: respql itself, a dependency, Node's internals, or V8. */
function packageOf(url: string, name: string, respqlRoot: string): string {
  if (!url) return name.startsWith('(') ? `V8 ${name}` : 'native (C++ bindings, e.g. better-sqlite3, sockets)';
  const u = shortUrl(url, respqlRoot);
  const dep = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u);
  if (dep) return `dependency: ${dep[1]}`;
  if (u.startsWith('node:')) return 'Node.js internals';
  if (u.startsWith('dist/src/')) return `respql: ${u.slice('dist/src/'.length).split('/')[0]}/`;
  return u;
}

// ---------------------------------------------------------------------------------------
// Report

const fmtRate = (n: number) => Math.round(n).toLocaleString('en-US');
const fmtMs = (n: number) => (Number.isFinite(n) ? n.toFixed(3) : 'n/a');

interface Row {
  target: string;
  test: Test;
  pipeline: number;
  rps: number;
  min: number;
  max: number;
  p50: number;
  p99: number;
  runs: number;
}

function summarize(samples: Sample[]): Row[] {
  const groups = new Map<string, Sample[]>();
  for (const s of samples) {
    const key = `${s.target}|${s.test}|${s.pipeline}`;
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  return [...groups.values()].map((g) => ({
    target: g[0].target,
    test: g[0].test,
    pipeline: g[0].pipeline,
    rps: median(g.map((s) => s.rps)),
    min: Math.min(...g.map((s) => s.rps)),
    max: Math.max(...g.map((s) => s.rps)),
    p50: median(g.map((s) => s.p50)),
    p99: median(g.map((s) => s.p99)),
    runs: g.length,
  }));
}

function resultsTable(rows: Row[]): string {
  const order = Object.values(NAMES) as string[];
  const last = (r: Row) => (r.test === 'SESSION' ? 1 : 0);
  const sorted = [...rows].sort(
    (a, b) => last(a) - last(b) || a.pipeline - b.pipeline || a.test.localeCompare(b.test) * -1 || order.indexOf(a.target) - order.indexOf(b.target),
  );
  const lines = [
    '| target | test | pipeline | ops/s (median) | ops/s (min–max) | p50 ms | p99 ms |',
    '|---|---|---:|---:|---:|---:|---:|',
    ...sorted.map((r) => {
      const test = r.target === NAMES.pgbench ? (r.test === 'SET' ? 'upsert' : 'select') : r.test === 'SESSION' ? SESSION_LABEL : r.test;
      return `| ${r.target} | ${test} | ${r.target === NAMES.pgbench ? '–' : `-P ${r.pipeline}`} | ${fmtRate(r.rps)} | ${fmtRate(r.min)}–${fmtRate(r.max)} | ${fmtMs(r.p50)} | ${fmtMs(r.p99)} |`;
    }),
  ];
  return lines.join('\n');
}

function ratiosTable(rows: Row[]): string {
  const find = (target: string, test: Test, pipeline: number) => rows.find((r) => r.target === target && r.test === test && r.pipeline === pipeline);
  const ratio = (label: string, a: Row | undefined, b: Row | undefined) => {
    const value = a && b ? `${((a.rps / b.rps) * 100).toFixed(1)} %` : 'n/a';
    return `| ${label} | ${a ? fmtRate(a.rps) : 'n/a'} | ${b ? fmtRate(b.rps) : 'n/a'} | ${value} |`;
  };
  const { sqlite, postgres, redisAof, redisNone, pgbench } = NAMES;
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
    ratio(`SQLite ${SESSION_LABEL} / Redis appendfsync always`, find(sqlite, 'SESSION', 1), find(redisAof, 'SESSION', 1)),
    ratio(`PostgreSQL ${SESSION_LABEL} / Redis appendfsync always`, find(postgres, 'SESSION', 1), find(redisAof, 'SESSION', 1)),
  ].join('\n');
}

function loadAverage(): string {
  return readOr('/proc/loadavg').split(' ').slice(0, 3).join(' ') || 'unknown';
}

function machine(tmp: string, load: string): string {
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
function respqlCommit(respqlRoot: string): string {
  const snapshot = readOr(path.join(respqlRoot, 'BENCH_SNAPSHOT')).trim();
  if (snapshot) return snapshot;
  const commit = runSync('git', ['-C', respqlRoot, 'describe', '--always']);
  // BENCHMARKS.md itself is rewritten by every run: a change there alone does not make the code dirty.
  const changed = runSync('git', ['-C', respqlRoot, 'status', '--porcelain', '--untracked-files=no', '--', '.', ':!BENCHMARKS.md']);
  return changed ? `${commit}-dirty` : commit;
}

function versions(respqlRoot: string): string {
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

function readOr(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** The mount holding `dir` (fsync cost depends on it; a tmpfs would make "durable" free). */
function filesystemOf(dir: string): string {
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
function renderMain(options: Options, rows: Row[], tmp: string, commands: string[], elapsedS: number, load: string): string {
  return `Produced by \`npm run bench\` (scripts/bench.ts) on ${new Date().toISOString().slice(0, 10)}; the whole run took ${Math.round(elapsedS)} s.
Re-run it after changing the hot path; the figures below are only as current as the commit named under *Versions*.

## What is measured

- **respql, SQLite**: respql on a fresh SQLite file with its default durable settings (WAL with \`synchronous=NORMAL\`, and one \`fdatasync\` of the WAL file, shared by a group of commits, before any of their replies).
- **respql, PostgreSQL**: respql on a throwaway PostgreSQL cluster started by the script (${postgresSettingsText(options)}).
- **redis, appendfsync always**: \`redis-server --appendonly yes --appendfsync always\` — the same promise as respql: a reply means the write is on disk.
- **redis, no persistence**: \`redis-server --save '' --appendonly no\` — the in-memory ceiling, the reference for reads.
- **pgbench, same PostgreSQL**: the same upsert and select sent straight to the same PostgreSQL and respql's own \`sessions\` table,
  one statement per transaction, prepared, ${CLIENTS} clients — what respql-on-PostgreSQL could at best approach without batching.

Every target is first filled with all ${KEYSPACE.toLocaleString('en-US')} keys (\`key:000000000000\`…), so every GET is a hit and every SET replaces a row.
Then \`redis-benchmark -t set,get -c ${CLIENTS} -d ${VALUE_SIZE} -r ${KEYSPACE}\` runs against each target with \`-P 1\` (\`-n ${options.requests}\`)
and \`-P 16\` (\`-n ${options.requestsPipelined}\`), ${options.reps} repetitions, the order of the targets rotating on each repetition;
pgbench runs each script for ${options.pgbenchSeconds} s per repetition. **Session traffic** is what express-session with
connect-redis sends: on each of ${CLIENTS} connections, one request after another, a GET of a random session, then an
EXPIRE of it (a touch) or, ${SESSION_SAVES * 100} % of the time, a \`SET ... EX ${SESSION_TTL}\` of ${VALUE_SIZE} bytes (a save), for
${options.sessionSeconds} s per target and repetition; redis-benchmark runs one command kind at a time, so the client is the
script's own (one Node.js thread, which bounds the fastest targets), and its ops/s and latencies count commands. Figures are medians over the repetitions
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
const BLOCKS = ['main', 'profile', 'profile-notes', 'scale', 'scale-rows', 'scale-sweep', 'scale-idle', 'scale-notes'] as const;
type Block = (typeof BLOCKS)[number];

function blockOf(text: string, name: Block): string | undefined {
  const m = new RegExp(`<!-- block:${name} -->\\n([\\s\\S]*?)\\n<!-- /block:${name} -->`).exec(text);
  return m?.[1];
}

function writeReport(file: string, produced: Partial<Record<Block, string>>): void {
  const old = readOr(file);
  const blocks = BLOCKS.map((name) => [name, produced[name] ?? blockOf(old, name)] as const).filter(([, body]) => body);
  const text = blocks.map(([name, body]) => `<!-- block:${name} -->\n${body!.trim()}\n<!-- /block:${name} -->`).join('\n\n');
  fs.writeFileSync(file, `# Benchmarks\n\n${text}\n`);
}

function renderProfile(p: ReturnType<typeof selfTimes>, test: Test, sample: Sample, requests: number, kept: string): string {
  const busy = p.totalMs - p.idleMs;
  const pct = (ms: number) => `${((ms / busy) * 100).toFixed(1)} %`;
  const top = p.functions.slice(0, 15).map((f) => `| ${f.name.replace(/\|/g, '\\|')} | ${f.where || '–'} | ${f.ms.toFixed(0)} | ${pct(f.ms)} |`);
  const pkgs = p.byPackage.slice(0, 8).map((f) => `| ${f.name} | ${f.ms.toFixed(0)} | ${pct(f.ms)} |`);
  return `### ${test} -P 1

\`redis-benchmark -t ${test.toLowerCase()} -P 1 -n ${requests}\`: ${fmtRate(sample.rps)} ops/s under the profiler. The process was busy ${(busy / 1000).toFixed(1)} s of ${(p.totalMs / 1000).toFixed(1)} s profiled (${((p.idleMs / p.totalMs) * 100).toFixed(0)} % idle). Kept at \`${kept}\`.

| function (self time) | where | ms | share |
|---|---|---:|---:|
${top.join('\n')}

| code (self time by package) | ms | share |
|---|---:|---:|
${pkgs.join('\n')}`;
}

function progress(message: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

// ---------------------------------------------------------------------------------------

async function main(): Promise<void> {
  if (process.argv[2] === '--hold-connections') return holdConnections(Number(process.argv[3]), Number(process.argv[4]));
  const options = parseOptions(process.argv.slice(2), process.env);
  if (!fs.existsSync(respqlCli(options))) fail(`${respqlCli(options)} not found: build first (npm run build)`);
  const started = Date.now();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'respql-bench-'));
  tmpRoot = tmp;
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
    const produced: Partial<Record<Block, string>> = {};
    if (!options.profileOnly && !options.scaleOnly) {
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
