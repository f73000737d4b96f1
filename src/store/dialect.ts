/**
 * Every difference between SQLite and PostgreSQL lives in this file: connection set-up,
 * the driver calls, the schema's column types, and the SQL for the store's operations.
 *
 * Expiry: SQLite keeps epoch milliseconds in an INTEGER; PostgreSQL keeps a real
 * `timestamptz(3)` so that SQL users can write `WHERE expiry > now()`. Both are
 * millisecond-exact. Statements use `?` placeholders; the PostgreSQL driver numbers them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Knex } from 'knex';
import type BetterSqlite3 from 'better-sqlite3';
import type { Client as PgClient } from 'pg';
import type { CheckpointReport, CheckpointWorkerData } from './wal-checkpoint-worker';

export type DialectName = 'sqlite' | 'postgres';
type Row = Record<string, unknown>;

/** One acquired database connection, driven directly (no query builder on the hot path). */
export interface SqlConnection {
  all(sql: string, params: readonly unknown[]): Promise<Row[]>;
  run(sql: string, params: readonly unknown[]): Promise<number>;
}

export interface Dialect {
  readonly name: DialectName;
  /** Wraps a connection from Knex's pool. */
  wrap(raw: unknown): SqlConnection;
  readonly begin: string;
  /**
   * BEGIN for a batch of only reads: it takes no write lock (SQLite), and the database refuses
   * a write in it (PostgreSQL), should a command flagged read-only ever write.
   */
  readonly beginRead: string;
  /**
   * Whether a batch that is one write statement (a run of merged SETs) runs without BEGIN and
   * COMMIT, committing on its own: two round trips fewer per batch on PostgreSQL. Not on SQLite,
   * where BEGIN IMMEDIATE is where the engine waits out another process's write lock.
   */
  readonly autocommitOneStatement: boolean;
  /**
   * Run once on every connection before the engine's first use: durability, no waiting for
   * locks in the driver, and the database itself giving up on a statement after the engine's
   * deadline (`timeoutMs`: a lock wait, say), not only respql. Returns how to make a COMMIT
   * durable when COMMIT itself does not (see FlushCommits), or null when a returned COMMIT is
   * already on disk.
   */
  setUpConnection(raw: unknown, conn: SqlConnection, timeoutMs: number): Promise<FlushCommits | null>;
  /**
   * Run first in each migration's transaction: lifts the statement timeout a served connection
   * carries (a migration may rebuild an index on a big table); null if there is none.
   */
  readonly unboundMigration: string | null;
  /** Run before migrations, which may wait for another process's lock (the engine set-up runs again after them). */
  migrationSetup(timeoutMs: number): readonly string[];
  /**
   * Whether background work (the sweeper) may run on a connection of its own, beside the
   * group commit: PostgreSQL's pool has several; SQLite has one connection and one writer.
   */
  readonly sideConnections: boolean;
  /** Expired rows the sweeper deletes per transaction: how long one sweep batch may hold up the clients. */
  readonly sweepBatchRows: number;
  /** Whether `err` says another process holds the write lock: the engine retries BEGIN until its deadline. */
  isBusy(err: unknown): boolean;
  /**
   * Cuts a connection whose transaction missed its deadline, so that it is destroyed rather
   * than reused; its unfinished statements fail and the transaction is rolled back.
   */
  abort(raw: unknown): void;
  /** SQL expression turning a bound epoch-ms parameter into the column's type. */
  expiryParam(): string;
  /** SQL expression reading the expiry column as epoch ms (integer). */
  expiryMs(column: string): string;
  /** Row-lock suffix for read-modify-write; empty where the writer lock already serializes. */
  readonly forUpdate: string;
  /**
   * For read-modify-write: a statement taking a transaction-scoped lock on a key name,
   * bound to (table, key), so that instances sharing the database serialize on keys that
   * do not exist yet (FOR UPDATE cannot lock a missing row). null where the database
   * writer lock already serializes.
   */
  readonly lockKey: string | null;
  /** Column that orders rows for SCAN cursors. */
  readonly rowId: string;
  /** LIKE with a backslash escape character. */
  readonly likeEscape: string;
  /** Random row. */
  readonly random: string;
  /** `token IN <list>` with the whole list bound as one parameter (one statement text for any length). */
  readonly tokenInList: string;
  keyListParam(keys: readonly string[]): unknown;
  /** Reading many values as one packed row (see PackedRead); absent where it does not pay. */
  readonly packedRead?: PackedRead;
  /**
   * One upsert statement for many rows, bound as (keys, all values concatenated, each value's
   * 1-based offset in them, each one's length, expiries): the values travel as one binary
   * parameter, since a bytea[] would go as text, hex-encoded on both sides (a quarter of a
   * plain SET's CPU). Absent where one statement per row is as cheap (SQLite runs in-process).
   */
  bulkUpsert?(table: string): string;
  /**
   * One statement setting many live keys' expiries, bound as (keys, expiries in epoch ms, now),
   * returning the token of each row it changed; `live` is the store's test that a row has not
   * expired (bound to now). Absent where one statement per key is as cheap.
   */
  bulkSetExpiry?(quotedTable: string, live: string): string;
  /** Creates the table in the first migration. */
  createTable(knex: Knex, table: string): Promise<void>;
  /**
   * The sweeper lease (see Sweeper) keeps time by the database's clock, so instances on
   * different hosts agree on when a lease has run out: `leaseNow` is that clock in the
   * lease table's time type, `leaseUntil` the same plus a bound number of milliseconds.
   */
  readonly leaseNow: string;
  readonly leaseUntil: string;
  /** Creates the lease table: name (primary key), holder, expires_at. */
  createLeaseTable(knex: Knex, table: string): Promise<void>;
}

/**
 * Many keys' values read as one row, from `<key list> JOIN table` (`live` filters the rows):
 * `positions`, each found key's index in the list (JSON); `lengths`, each one's value length in
 * bytes (JSON); `packed`, the values of at most `maxValueBytes` concatenated in that order (larger
 * ones are read on their own: packing copies each byte twice more). Where the driver allocates a
 * buffer per value read (better-sqlite3: ~2.5 µs each, half of a merged GET's SQL cost), one per
 * statement is cheaper.
 */
export interface PackedRead {
  sql(table: string, live: string): string;
  /** Keys per statement: bounds one result to maxKeys × maxValueBytes. */
  readonly maxKeys: number;
  readonly maxValueBytes: number;
}

/**
 * Makes every COMMIT that returned before `flush` was called durable. SQLite in WAL mode with
 * synchronous=NORMAL writes a transaction's WAL frames at COMMIT without fsync, and still
 * syncs the WAL before every checkpoint and at every WAL restart; an fdatasync of the WAL file
 * after COMMIT is exactly what synchronous=FULL would add. Done on libuv's thread pool, it
 * keeps the event loop serving while the disk works, and one flush covers every commit made
 * before it started (group commit for the fsync itself).
 */
export interface FlushCommits {
  flush(): Promise<void>;
  /** WAL checkpoints done beside the server so far (INFO); 0 where there is no WAL. */
  readonly checkpoints: number;
  /** Releases the file it holds open and stops its checkpoints (server shutdown). */
  close(): void;
}

/** How much of a SQLite file is read through mmap (1 GiB: a million 1 KB sessions). */
const SQLITE_MMAP_BYTES = 1 << 30;

/** How often the checkpoint thread copies the WAL back (wal-checkpoint-worker.ts). */
const CHECKPOINT_INTERVAL_MS = 100;

/**
 * WAL size (pages) at which a COMMIT checkpoints by itself, on the event loop: 10x SQLite's
 * default, reached only if the checkpoint thread falls behind (or fails), and then it bounds the WAL.
 */
const BACKSTOP_CHECKPOINT_PAGES = 10_000;

/**
 * FlushCommits for a SQLite WAL file, kept open between flushes (one thread-pool hop per flush,
 * not three), with the thread that checkpoints it.
 */
function walFlusher(database: string): FlushCommits {
  const wal = `${database}-wal`;
  let fd: number | null = null;
  let checkpointer: Worker | null = null;
  let checkpoints = 0;
  return {
    async flush() {
      // Opened at the first flush: by then a COMMIT has created the file.
      if (fd === null) {
        const opened = await new Promise<number>((resolve, reject) => fs.open(wal, 'r', (err, d) => (err ? reject(err) : resolve(d))));
        // A WAL created since the database opened is only durable once its directory entry is.
        const dir = await fs.promises.open(path.dirname(wal), 'r');
        try {
          await dir.sync();
        } finally {
          await dir.close();
        }
        fd = opened;
        const workerData: CheckpointWorkerData = { file: database, intervalMs: CHECKPOINT_INTERVAL_MS };
        checkpointer = new Worker(path.join(__dirname, 'wal-checkpoint-worker.js'), { workerData });
        // Never what keeps the process alive; a checkpoint cut short by exit is undone by SQLite.
        checkpointer.unref();
        // A failed checkpoint leaves the WAL to the backstop; the next tick tries again.
        checkpointer.on('message', (report: CheckpointReport) => {
          if ('copied' in report) checkpoints++;
        });
        checkpointer.on('error', () => undefined);
      }
      // Deleted under us (say, by a clean-up script), the WAL and every commit in it would vanish at close.
      if (fs.fstatSync(fd).nlink === 0) throw new Error(`${wal} was deleted`);
      const open = fd;
      await new Promise<void>((resolve, reject) => fs.fdatasync(open, (err) => (err ? reject(err) : resolve())));
    },
    get checkpoints() {
      return checkpoints;
    },
    close() {
      checkpointer?.postMessage('stop');
      checkpointer = null;
      if (fd !== null) fs.closeSync(fd);
      fd = null;
    },
  };
}

const sqliteStatements = new WeakMap<BetterSqlite3.Database, Map<string, BetterSqlite3.Statement>>();

function sqliteConnection(db: BetterSqlite3.Database): SqlConnection {
  let cache = sqliteStatements.get(db);
  if (!cache) {
    cache = new Map();
    sqliteStatements.set(db, cache);
  }
  const statements = cache;
  const prepare = (sql: string): BetterSqlite3.Statement => {
    let stmt = statements.get(sql);
    if (!stmt) {
      stmt = db.prepare(sql);
      statements.set(sql, stmt);
    }
    return stmt;
  };
  return {
    // better-sqlite3 is synchronous; the promise only keeps one interface for both dialects.
    async all(sql, params) {
      const stmt = prepare(sql);
      return stmt.reader ? (stmt.all(...params) as Row[]) : (stmt.run(...params), []);
    },
    async run(sql, params) {
      const stmt = prepare(sql);
      return stmt.run(...params).changes;
    },
  };
}

/**
 * A statement with parameters goes as a named prepared statement: PostgreSQL parses and plans
 * it once per connection, not on every call (GET -P 1 +10-20 %, BENCHMARKS.md). One name per
 * text, `?` placeholders turned into `$1..$n`, worked out once. Parameterless statements (BEGIN,
 * COMMIT, SET lists) go as simple queries.
 */
const preparedStatements = new Map<string, { name: string; text: string }>();
function pgQuery(sql: string, params: readonly unknown[]): { name?: string; text: string; values: unknown[] } {
  if (!params.length) return { text: sql, values: [] };
  let statement = preparedStatements.get(sql);
  if (statement === undefined) {
    let n = 0;
    statement = { name: `respql_${preparedStatements.size + 1}`, text: sql.replace(/\?/g, () => `$${++n}`) };
    preparedStatements.set(sql, statement);
  }
  return { ...statement, values: params as unknown[] };
}

function postgresConnection(client: PgClient): SqlConnection {
  return {
    async all(sql, params) {
      const result = await client.query(pgQuery(sql, params));
      return result.rows as Row[];
    },
    async run(sql, params) {
      const result = await client.query(pgQuery(sql, params));
      return result.rowCount ?? 0;
    },
  };
}

export const sqlite: Dialect = {
  name: 'sqlite',
  wrap: (raw) => sqliteConnection(raw as BetterSqlite3.Database),
  // IMMEDIATE takes the write lock up front, so a batch never fails half-way on a busy upgrade.
  begin: 'BEGIN IMMEDIATE',
  beginRead: 'BEGIN',
  autocommitOneStatement: false,
  sideConnections: false,
  // A batch runs on the event loop among the clients' commands: 1,000 rows took ~24 ms, a
  // p99 of 5-9x during a sweep (BENCHMARKS.md); 100 rows keep each pause to a few ms.
  sweepBatchRows: 100,
  async setUpConnection(raw, conn) {
    const db = raw as BetterSqlite3.Database;
    // No busy_timeout: better-sqlite3 would wait for a lock synchronously, stalling every client;
    // the engine retries BEGIN IMMEDIATE on a timer instead (isBusy).
    await conn.all('PRAGMA busy_timeout = 0', []);
    const [{ encoding }] = await conn.all('PRAGMA encoding', []);
    if (encoding !== 'UTF-8') throw new Error(`respql needs a UTF-8 SQLite database; ${db.name} is ${String(encoding)}`);
    const [mode] = await conn.all('PRAGMA journal_mode = WAL', []);
    if (mode?.journal_mode !== 'wal' || db.memory) {
      // No WAL file to flush (an in-memory database, or a file system without WAL support):
      // every COMMIT syncs itself.
      await conn.all('PRAGMA synchronous = FULL', []);
      return null;
    }
    // The WAL's fsync at COMMIT moves off the event loop (FlushCommits); the engine replies only after it.
    await conn.all('PRAGMA synchronous = NORMAL', []);
    // Reads from the OS page cache in place of a read() per page missing from SQLite's own small
    // cache: GET -P 16 ~1.5x (BENCHMARKS.md). Writes still go through write() and the WAL.
    await conn.all(`PRAGMA mmap_size = ${SQLITE_MMAP_BYTES}`, []);
    await conn.all(`PRAGMA wal_autocheckpoint = ${BACKSTOP_CHECKPOINT_PAGES}`, []);
    return walFlusher(path.resolve(db.name));
  },
  // A statement runs in-process, synchronously: nothing to bound but the lock wait (isBusy).
  unboundMigration: null,
  migrationSetup: (timeoutMs) => [`PRAGMA busy_timeout = ${Math.round(timeoutMs)}`],
  isBusy: (err) => /^SQLITE_BUSY/.test(String((err as { code?: unknown })?.code)),
  // Statements run synchronously in-process: none can be left hanging.
  abort: () => undefined,
  expiryParam: () => '?',
  expiryMs: (column) => column,
  forUpdate: '',
  lockKey: null,
  rowId: 'rowid',
  likeEscape: "ESCAPE '\\'",
  random: 'random()',
  tokenInList: 'token IN (SELECT value FROM json_each(?))',
  keyListParam: (keys) => JSON.stringify(keys),
  packedRead: {
    // 64 MB per statement at most: far under SQLite's limit on one value (1,000,000,000 bytes).
    maxKeys: 1000,
    maxValueBytes: 64 * 1024,
    // group_concat reads a BLOB as text in the database's encoding: byte for byte in a UTF-8
    // database (setUpConnection refuses any other). It skips the NULLs of values left out.
    sql(table, live) {
      return (
        `SELECT json_group_array(wanted.key) AS positions, json_group_array(octet_length(data)) AS lengths, ` +
        `CAST(group_concat(CASE WHEN octet_length(data) <= ${this.maxValueBytes} THEN data END, '') AS BLOB) AS packed ` +
        `FROM json_each(?) AS wanted JOIN ${table} ON token = wanted.value WHERE ${live}`
      );
    },
  },
  async createTable(knex, table) {
    await knex.schema.createTable(table, (t) => {
      t.text('token').primary().notNullable();
      t.binary('data').notNullable();
      t.bigInteger('expiry').nullable();
      t.index(['expiry'], `${table}_expiry_idx`);
    });
  },
  // Epoch ms, like the expiry column; 'subsec' needs SQLite 3.42 (better-sqlite3 bundles its own).
  leaseNow: `CAST(unixepoch('subsec') * 1000 AS INTEGER)`,
  leaseUntil: `(CAST(unixepoch('subsec') * 1000 AS INTEGER) + ?)`,
  async createLeaseTable(knex, table) {
    await knex.schema.createTable(table, (t) => {
      t.text('name').primary().notNullable();
      t.text('holder').notNullable();
      t.bigInteger('expires_at').notNullable();
    });
  },
};

export const postgres: Dialect = {
  name: 'postgres',
  wrap: (raw) => postgresConnection(raw as PgClient),
  begin: 'BEGIN',
  beginRead: 'BEGIN READ ONLY',
  autocommitOneStatement: true,
  sideConnections: true,
  // On its own connection, beside the clients' batches: bigger batches, fewer round trips.
  sweepBatchRows: 1000,
  async setUpConnection(_raw, conn, timeoutMs) {
    // Per session, not per transaction: a batch that is one statement runs without BEGIN.
    await conn.run(`SET synchronous_commit = on; SET statement_timeout = ${Math.max(1, Math.round(timeoutMs))}`, []);
    return null;
  },
  unboundMigration: 'SET LOCAL statement_timeout = 0',
  migrationSetup: () => [],
  isBusy: () => false,
  abort(raw) {
    // pg has no public way to cut a connection: destroying its socket fails the pending
    // queries at once ("Connection terminated") and Knex's pool then discards it.
    (raw as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  },
  expiryParam: () => `(timestamptz 'epoch' + ?::bigint * interval '1 millisecond')`,
  expiryMs: (column) => `(extract(epoch from ${column}) * 1000)::bigint`,
  forUpdate: ' FOR UPDATE',
  lockKey: 'SELECT pg_advisory_xact_lock(hashtext(?), hashtext(?))',
  rowId: 'id',
  likeEscape: "ESCAPE '\\'",
  random: 'random()',
  tokenInList: 'token = ANY(?::text[])',
  bulkUpsert: (table) =>
    `INSERT INTO "${table}" (token, data, expiry) ` +
    `SELECT k, substring(?::bytea from o for n), timestamptz 'epoch' + e * interval '1 millisecond' ` +
    'FROM unnest(?::text[], ?::int[], ?::int[], ?::bigint[]) AS u(k, o, n, e) ' +
    'ON CONFLICT (token) DO UPDATE SET data = excluded.data, expiry = excluded.expiry',
  bulkSetExpiry: (t, live) =>
    `UPDATE ${t} SET expiry = timestamptz 'epoch' + u.e * interval '1 millisecond' ` +
    `FROM unnest(?::text[], ?::bigint[]) AS u(k, e) WHERE token = u.k AND ${live} RETURNING token`,
  keyListParam: (keys) => keys,
  async createTable(knex, table) {
    await knex.schema.createTable(table, (t) => {
      t.text('token').primary().notNullable();
      t.binary('data').notNullable();
      t.timestamp('expiry', { useTz: true, precision: 3 }).nullable();
      t.index(['expiry'], `${table}_expiry_idx`);
    });
    // A stable, increasing row id for SCAN cursors (SQLite has its rowid).
    await knex.raw(`ALTER TABLE ?? ADD COLUMN id bigint GENERATED BY DEFAULT AS IDENTITY`, [table]);
    await knex.raw(`CREATE UNIQUE INDEX ?? ON ?? (id)`, [`${table}_id_idx`, table]);
  },
  // clock_timestamp(), not now(): now() is frozen at the start of the (group-commit) transaction.
  leaseNow: 'clock_timestamp()',
  leaseUntil: `(clock_timestamp() + ?::bigint * interval '1 millisecond')`,
  async createLeaseTable(knex, table) {
    await knex.schema.createTable(table, (t) => {
      t.text('name').primary().notNullable();
      t.text('holder').notNullable();
      t.timestamp('expires_at', { useTz: true, precision: 3 }).notNullable();
    });
  },
};

export function dialectOf(knex: Knex): Dialect {
  return dialectFromConfig(knex.client.config as Knex.Config);
}

export function dialectFromConfig(config: Knex.Config): Dialect {
  const client = String(config.client ?? '');
  if (client === 'pg' || client === 'postgres' || client === 'postgresql') return postgres;
  if (client === 'better-sqlite3') return sqlite;
  throw new Error(`unsupported Knex client '${client}': respql supports 'better-sqlite3' and 'pg'`);
}

export interface PoolSettings {
  /** PostgreSQL connections at most (SQLite always has one). Default 10. */
  poolSize?: number;
  /** How long to wait for a connection (connect and pool), ms. Default 5000. */
  timeoutMs?: number;
}

/** Knex configuration for a `--database-url`: a postgres:// URL or a SQLite file path. */
export function knexConfigFor(databaseUrl: string, settings: PoolSettings = {}): Knex.Config {
  const timeoutMs = settings.timeoutMs ?? 5000;
  // respql reports database errors itself, as one line; Knex would print stack traces.
  const log = { warn() {}, error() {}, deprecate() {}, debug() {} };
  if (/^postgres(ql)?:\/\//i.test(databaseUrl)) {
    return {
      client: 'pg',
      connection: { connectionString: databaseUrl, connectionTimeoutMillis: timeoutMs, application_name: 'respql' },
      pool: { min: 0, max: settings.poolSize ?? 10 },
      acquireConnectionTimeout: timeoutMs,
      log,
    };
  }
  const filename = databaseUrl.replace(/^sqlite:(\/\/)?/i, '');
  return {
    client: 'better-sqlite3',
    connection: { filename },
    useNullAsDefault: true,
    pool: { min: 1, max: 1 },
    acquireConnectionTimeout: timeoutMs,
    log,
  };
}
