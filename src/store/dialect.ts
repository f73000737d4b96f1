/**
 * What the store needs from a database, whatever it is: the Dialect interface and the types it
 * shares with the engine. Every difference between databases lives in one Dialect object per
 * database (src/store/dialects/), chosen by knex-config.ts.
 *
 * Expiry: SQLite keeps epoch milliseconds in an INTEGER; PostgreSQL keeps a real
 * `timestamptz(3)` so that SQL users can write `WHERE expiry > now()`. Both are
 * millisecond-exact. Statements use `?` placeholders; the PostgreSQL adapter numbers them.
 */
import type { Knex } from 'knex';
import { dialectFromConfig } from './knex-config';

export type Row = Record<string, unknown>;

/** One acquired database connection, driven directly (no query builder on the hot path). */
export interface SqlConnection {
  all(sql: string, params: readonly unknown[]): Promise<Row[]>;
  run(sql: string, params: readonly unknown[]): Promise<number>;
}

export interface Dialect {
  /** As INFO's storage_backend shows it ('sqlite', 'postgres'). */
  readonly name: string;
  /** The Knex client names that mean this dialect (the first is the one knexConfigFor sets). */
  readonly knexClients: readonly string[];
  /** Whether a `--database-url` is this dialect's (dialects are asked in the order knex-config.ts lists them). */
  acceptsUrl(databaseUrl: string): boolean;
  /** Knex's client, connection and pool for such a URL; knexConfigFor adds what every dialect shares. */
  knexConfig(databaseUrl: string, settings: ConnectionSettings): Knex.Config;
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
   * After setUpConnection: SQL to run right after BEGIN on this connection, where its session
   * keeps no settings (behind a pooler in transaction mode); every batch on it then runs in a
   * transaction. null (or absent) where the session keeps them.
   */
  transactionSetup?(raw: unknown): string | null;
  /**
   * Why the database undid a whole transaction that may simply be run again (a serialization
   * failure, a deadlock), or null: the engine then retries the batch, if nothing of it committed.
   */
  retryReason?(err: unknown): string | null;
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
  /** `column LIKE ?`, the pattern bound, with a backslash escape character, comparing as the token column does. */
  likeToken(column: string): string;
  /** Random row. */
  readonly random: string;
  /**
   * The clause that makes an INSERT an upsert on a clash on `target` (the key's columns): null
   * leaves the existing row alone; otherwise `update` gives each column's new value and, if
   * any, a condition on the existing row (`"table".column`) without which it is left alone. Both
   * name the value the INSERT would have written as `excluded(column)`. A row left alone counts
   * as no row changed.
   */
  onConflict(target: string, update: ((excluded: (column: string) => string) => ConflictUpdate) | null): string;
  /** A subquery with LIMIT, as the right-hand side of IN (some databases take it only from a derived table). */
  limitedSubquery(select: string): string;
  /** `column IN <list>` for a list of binary values bound as one parameter (see binaryListParam). */
  binaryInList(column: string): string;
  binaryListParam(values: readonly Buffer[]): unknown;
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
  /** bulkUpsert's parameters, where they go otherwise than in the order above (MariaDB: one JSON array of rows). */
  bulkUpsertParams?(values: Buffer, keys: string[], offsets: number[], lengths: number[], expiries: (number | null)[]): unknown[];
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

/** What an upsert's clash changes (see Dialect.onConflict). */
export interface ConflictUpdate {
  set: Record<string, string>;
  where?: string;
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

/** Connection settings a dialect's Knex configuration is built from, defaults applied (see knexConfigFor). */
export interface ConnectionSettings {
  /** Connections at most, where the dialect has a pool of several. */
  poolSize: number;
  /** How long to wait for a connection (connect and pool), ms. */
  timeoutMs: number;
  /** Named prepared statements (PostgreSQL): yes, no (behind a transaction pooler), auto (detected per connection). */
  preparedStatements: PreparedStatements;
  /** MariaDB: serve even when innodb_flush_log_at_trx_commit is not 1 (a COMMIT then reaches the disk up to a second later). */
  allowLazyCommit: boolean;
}

export type PreparedStatements = 'yes' | 'no' | 'auto';

/** The dialect of a Knex instance. */
export function dialectOf(knex: Knex): Dialect {
  return dialectFromConfig((knex.client as Knex.Client).config);
}
