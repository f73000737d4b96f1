/**
 * The SQLite dialect, through better-sqlite3: one in-process connection, a WAL file whose
 * fdatasync after COMMIT runs off the event loop (walFlusher), and a thread that checkpoints it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';
import type { Dialect, FlushCommits, Row, SqlConnection } from '../dialect';
import type { CheckpointReport, CheckpointWorkerData } from '../wal-checkpoint-worker';
import { limitedSubquery, onConflict } from './ansi';

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
        checkpointer = new Worker(path.join(__dirname, '..', 'wal-checkpoint-worker.js'), { workerData });
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
    // better-sqlite3 is synchronous; the promise only keeps one interface for both dialects
    // (a statement that throws rejects it, as an async function's would).
    all: (sql, params) =>
      new Promise((resolve) => {
        const stmt = prepare(sql);
        resolve(stmt.reader ? (stmt.all(...params) as Row[]) : (stmt.run(...params), []));
      }),
    run: (sql, params) => new Promise((resolve) => resolve(prepare(sql).run(...params).changes)),
  };
}

export const sqlite: Dialect = {
  name: 'sqlite',
  knexClients: ['better-sqlite3'],
  // Asked last: any URL no other dialect takes is a file path, `sqlite:` or `sqlite://` before it optional.
  acceptsUrl: () => true,
  knexConfig: (databaseUrl) => ({
    client: 'better-sqlite3',
    connection: { filename: databaseUrl.replace(/^sqlite:(\/\/)?/i, '') },
    useNullAsDefault: true,
    // One connection: SQLite has one writer, and one WAL file to flush (see walFlusher).
    pool: { min: 1, max: 1 },
  }),
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
  likeToken: (column) => `${column} LIKE ? ESCAPE '\\'`,
  random: 'random()',
  onConflict,
  limitedSubquery,
  binaryInList: (column) => `${column} IN (SELECT unhex(value) FROM json_each(?))`,
  binaryListParam: (values) => JSON.stringify(values.map((v) => v.toString('hex'))),
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
        `SELECT json_group_array(wanted.key) AS positions, json_group_array(octet_length(data)) AS lengths, json_group_array(${table}.type) AS types, ` +
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
