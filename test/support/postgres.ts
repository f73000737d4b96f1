/**
 * PostgreSQL for tests and the benchmark (scripts/bench): either the server named by
 * TEST_DATABASE_URL, or a throwaway cluster made with Debian's PostgreSQL 15 binaries in a
 * temp dir, on a free loopback port, removed again on stop. The one throwaway-PostgreSQL
 * starter: scripts/ import it from here (it is no part of respql itself).
 *
 * Test files normally call freshDatabase() to get a database of their own in
 * one cluster shared by the whole mocha process; the root hook in
 * test/setup/hooks.ts stops that cluster at the end.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, chownSync, constants as fsConstants, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { freePort } from './free-port';

export const PG_BIN_DIR = '/usr/lib/postgresql/15/bin';
const INITDB = join(PG_BIN_DIR, 'initdb');
// Always the full path: /usr/local/bin/pg_ctl on some machines is an unrelated program.
const PG_CTL = join(PG_BIN_DIR, 'pg_ctl');
const POSTGRES = join(PG_BIN_DIR, 'postgres');

const TEST_DATABASE = 'respql_test';
const START_ATTEMPTS = 3;
const READY_TIMEOUT_MS = 30_000;

/** The settings every throwaway cluster runs with: durability as respql asks for it (the bench's figures depend on it). */
export const POSTGRES_DURABILITY: readonly string[] = ['fsync=on', 'synchronous_commit=on'];

export interface ClusterOptions {
  /** Where the cluster's files go (a new dir, removed on stop); default a new /tmp/respql-pg-* dir. */
  dir?: string;
  /** More `name=value` settings, after the fixed ones. */
  settings?: readonly string[];
  /** initdb with the caller's locale (LANG/LC_*) instead of C: the bench keeps the machine's, as it always did. */
  inheritLocale?: boolean;
  /** Told each command line that sets the cluster up (the bench's report lists them). */
  onCommand?: (file: string, args: readonly string[]) => void;
}

export interface PostgresServer {
  /** e.g. postgres://postgres@127.0.0.1:PORT/respql_test */
  url: string;
  /** Stops the cluster and removes its files (a no-op for TEST_DATABASE_URL). Idempotent. */
  stop(): Promise<void>;
}

/** The OS account that runs the server: PostgreSQL refuses to run as root. */
interface RunAs {
  uid: number;
  gid: number;
}

/** A cluster of the test's own, which it may take down and bring back (outage tests). */
export interface PostgresCluster extends PostgresServer {
  port: number;
  /** `pg_ctl stop -m fast`, keeping the data: clients are cut off, new connections refused. */
  halt(): Promise<void>;
  /** `pg_ctl start` again, on the same port; resolves once it accepts connections. */
  resume(): Promise<void>;
  /** SIGSTOP (true) or SIGCONT (false) to every process of the cluster: a database that hangs instead of refusing. */
  freeze(frozen: boolean): void;
}

export async function startPostgres(): Promise<PostgresServer> {
  const external = process.env.TEST_DATABASE_URL;
  if (external) return { url: external, stop: async () => {} };
  return startCluster();
}

/** A throwaway cluster even when TEST_DATABASE_URL is set: for tests that stop or freeze the database. */
export async function startCluster(options: ClusterOptions = {}): Promise<PostgresCluster> {
  for (const bin of [INITDB, PG_CTL, POSTGRES]) {
    try {
      accessSync(bin, fsConstants.X_OK);
    } catch {
      throw new Error(
        `PostgreSQL 15 server binaries not found in ${PG_BIN_DIR}: install Debian's postgresql-15 (apt-get install postgresql)`,
      );
    }
  }
  const runAs = postgresAccount();

  // Under /tmp rather than os.tmpdir(): TMPDIR may point somewhere (e.g. under
  // /root) that the postgres account cannot enter.
  const dir = options.dir ?? mkdtempSync('/tmp/respql-pg-');
  if (options.dir) mkdirSync(dir);
  const dataDir = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');
  // Synchronous so that it can also run from a process 'exit' handler.
  const cleanupSync = (): void => {
    if (existsSync(join(dataDir, 'postmaster.pid')))
      spawnSync(PG_CTL, ['stop', '-D', dataDir, '-m', 'immediate', '-w'], { ...spawnOptions(runAs, dir), stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    if (runAs) chownSync(dir, runAs.uid, runAs.gid);
    // --no-sync only skips initdb's own fsyncs of the template files; the
    // server itself runs with fsync=on. Locale C: a minimal machine may have
    // no other locale, and tests must not depend on one.
    const locale = options.inheritLocale ? [] : ['--locale=C'];
    await run(
      runAs,
      dir,
      INITDB,
      ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', ...locale, '--no-sync', '--no-instructions'],
      options,
    );

    let port = 0;
    let serverOptions = '';
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      // pg_ctl hands -o to a shell; the only path in it comes from mkdtemp and has no spaces.
      serverOptions = [
        '-c listen_addresses=127.0.0.1',
        `-c port=${port}`,
        `-c unix_socket_directories=${dir}`,
        ...[...POSTGRES_DURABILITY, ...(options.settings ?? [])].map((setting) => `-c ${setting}`),
      ].join(' ');
      try {
        await run(runAs, dir, PG_CTL, ['start', '-D', dataDir, '-l', logFile, '-w', '-t', '60', '-o', serverOptions], options);
        break;
      } catch (err) {
        const log = readLog(logFile);
        // Another process took the port between freePort() and bind: try another.
        if (attempt < START_ATTEMPTS && /could not bind|address already in use/i.test(log)) continue;
        throw new Error(`${(err as Error).message}\n--- postgres log ---\n${log}`, { cause: err });
      }
    }

    const base = `postgres://postgres@127.0.0.1:${port}`;
    await withClient(`${base}/postgres`, (client) => client.query(`CREATE DATABASE ${TEST_DATABASE}`), READY_TIMEOUT_MS);

    // If the test process ends without calling stop() (a crash, process.exit),
    // don't leave a postmaster running: pg_ctl detaches it from our process.
    const onExit = (): void => cleanupSync();
    process.on('exit', onExit);

    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> =>
      (stopping ??= (async () => {
        process.off('exit', onExit);
        try {
          // (A cluster halted by its test has no postmaster.pid.)
          if (existsSync(join(dataDir, 'postmaster.pid'))) await run(runAs, dir, PG_CTL, ['stop', '-D', dataDir, '-m', 'fast', '-w']);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      })());

    const pgCtl = (args: string[]) => run(runAs, dir, PG_CTL, [...args, '-D', dataDir]);
    return {
      url: `${base}/${TEST_DATABASE}`,
      port,
      stop,
      halt: () => pgCtl(['stop', '-m', 'fast', '-w']),
      resume: () => pgCtl(['start', '-l', logFile, '-w', '-t', '60', '-o', serverOptions]),
      freeze(frozen) {
        const postmaster = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
        const children = spawnSync('ps', ['-o', 'pid=', '--ppid', String(postmaster)], { encoding: 'utf8' }).stdout ?? '';
        const pids = [
          postmaster,
          ...children
            .split('\n')
            .filter((l) => l.trim())
            .map(Number),
        ];
        for (const pid of pids) process.kill(pid, frozen ? 'SIGSTOP' : 'SIGCONT');
      },
    };
  } catch (err) {
    cleanupSync();
    throw err;
  }
}

/** When we are root, the postgres OS account to run as; otherwise run as ourselves. */
function postgresAccount(): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const id = (flag: string): number => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    throw new Error(
      "OS user 'postgres' not found; PostgreSQL refuses to run as root. Install Debian's postgresql-15 (apt-get install postgresql), which creates it",
    );
  }
}

function spawnOptions(
  runAs: RunAs | undefined,
  cwd: string,
  inheritLocale = false,
): { uid?: number; gid?: number; cwd: string; env: NodeJS.ProcessEnv } {
  // cwd: the postgres account may not be able to enter our own working directory.
  // LC_ALL=C: keep messages in English and independent of the caller's locale.
  return { ...runAs, cwd, env: inheritLocale ? process.env : { ...process.env, LC_ALL: 'C' } };
}

function run(runAs: RunAs | undefined, cwd: string, file: string, args: string[], options: ClusterOptions = {}): Promise<void> {
  options.onCommand?.(file, args);
  return new Promise((resolve, reject) => {
    execFile(file, args, spawnOptions(runAs, cwd, options.inheritLocale), (err, stdout, stderr) => {
      if (!err) return resolve();
      reject(new Error(`${file} ${args.join(' ')} failed: ${err.message}\n${stdout}${stderr}`.trim()));
    });
  });
}

function readLog(file: string): string {
  try {
    return readFileSync(file, 'utf8').slice(-8000);
  } catch {
    return '(no log)';
  }
}

/**
 * Connects to `url` (retrying until the server accepts connections or
 * `retryMs` passes), runs `fn`, and always disconnects.
 */
async function withClient<T>(url: string, fn: (client: Client) => Promise<T>, retryMs = 0): Promise<T> {
  const deadline = Date.now() + retryMs;
  for (;;) {
    const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
    // An 'error' event without a listener would crash the test process.
    client.on('error', () => {});
    try {
      await client.connect();
    } catch (err) {
      await client.end().catch(() => {});
      if (Date.now() >= deadline) throw new Error(`could not connect to ${url}: ${(err as Error).message}`, { cause: err });
      await sleep(100);
      continue;
    }
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  }
}

// ---------------------------------------------------------------------------
// One cluster per mocha process, with a fresh database per test file.

let shared: Promise<PostgresServer> | undefined;
/** Databases created on an external TEST_DATABASE_URL server, dropped at the end. */
const externalDatabases: string[] = [];

/**
 * The cluster shared by every test in this mocha process, started on first
 * use. Tests must not stop it: the root after-all hook does (stopSharedPostgres).
 * A failed start is remembered, so every later caller gets the same error fast.
 */
export async function sharedPostgres(): Promise<{ url: string }> {
  shared ??= startPostgres();
  const { url } = await shared;
  return { url };
}

/** Creates a new, uniquely named database in the shared cluster and returns its URL. */
export async function freshDatabase(): Promise<string> {
  const { url } = await sharedPostgres();
  // pid + random: unique across concurrent mocha processes sharing one TEST_DATABASE_URL server.
  const name = `respql_t${process.pid}_${randomBytes(4).toString('hex')}`;
  await withClient(url, (client) => client.query(`CREATE DATABASE "${name}"`));
  // RESPQL_TEST_PG_ISOLATION=serializable: the suite as on a distributed SQL database, where
  // every transaction is serializable (CockroachDB's default) and may fail with 40001.
  const isolation = process.env.RESPQL_TEST_PG_ISOLATION;
  if (isolation)
    await withClient(url, (client) =>
      client.query(`ALTER DATABASE "${name}" SET default_transaction_isolation = '${isolation.replace(/'/g, '')}'`),
    );
  if (process.env.TEST_DATABASE_URL) externalDatabases.push(name);
  const fresh = new URL(url);
  fresh.pathname = `/${name}`;
  return fresh.toString();
}

/** Stops the shared cluster (or drops our databases on an external server). Safe to call when none was started. */
export async function stopSharedPostgres(): Promise<void> {
  const pending = shared;
  shared = undefined;
  if (!pending) return;
  let server: PostgresServer;
  try {
    server = await pending;
  } catch {
    return; // it never started; the error was reported to the tests that needed it
  }
  if (externalDatabases.length > 0) {
    const names = externalDatabases.splice(0);
    await withClient(server.url, async (client) => {
      for (const name of names) {
        // FORCE (PostgreSQL 13+): a test that leaked a pool must not keep its database around.
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch((err: Error) => {
          console.warn(`could not drop test database ${name}: ${err.message}`);
        });
      }
    });
  }
  await server.stop();
}
