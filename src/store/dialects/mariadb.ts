/**
 * The MariaDB (and MySQL) dialect, through mysql2: a pool of connections, each statement a
 * server-side prepared statement, InnoDB with COMMIT durable by itself
 * (innodb_flush_log_at_trx_commit = 1, checked at set-up).
 *
 * Every connection speaks the SQL the other dialects share: ANSI_QUOTES for "identifiers",
 * UTC, and READ COMMITTED (each statement sees what committed before it, as on PostgreSQL:
 * REPEATABLE READ would serve reads of a batch from a snapshot older than other instances'
 * commits). Keys are utf8mb4 text compared byte for byte, trailing spaces included (NO PAD);
 * expiries are UTC DATETIME(3).
 */
import type { Connection, ExecuteValues, ResultSetHeader } from 'mysql2';
import type { ConflictUpdate, Dialect, Row, SqlConnection } from '../dialect';
import { MARIADB_TOKEN } from '../migrations/typed-keys';

/** Run on every connection as the pool opens it, migrations' included. */
const SESSION =
  "SET SESSION sql_mode = 'STRICT_ALL_TABLES,ANSI_QUOTES,NO_ENGINE_SUBSTITUTION,NO_AUTO_VALUE_ON_ZERO', " +
  "time_zone = '+00:00', tx_isolation = 'READ-COMMITTED'";

/** The epoch as a DATETIME, for expiries in epoch ms (exact: integer microseconds, no floating point). */
const EPOCH = "TIMESTAMP'1970-01-01 00:00:00'";

/** DATETIME's last millisecond (9999-12-31 23:59:59.999): a later expiry is kept until then (see MAX_EXPIRY_MS). */
export const MARIADB_LAST_EXPIRY_MS = 253_402_300_799_999;

/** Connections whose pool was told --allow-lazy-commit (set as the pool creates them). */
const lazyCommitAllowed = new WeakSet<object>();

/** Key locks (see lockKey): one row per bucket of (table, key) hashes, made on first use. */
const KEY_LOCKS = 'respql_key_locks';

/**
 * Parameters as the server should see them: mysql2 sends a JS number as a DOUBLE, which LIMIT
 * refuses and which expiry arithmetic would round; an integer goes as a BIGINT. Lists go as JSON
 * (read with JSON_TABLE).
 */
function bind(params: readonly unknown[]): ExecuteValues[] {
  return params.map((p) =>
    typeof p === 'number' && Number.isInteger(p) ? BigInt(p) : Array.isArray(p) ? JSON.stringify(p) : (p as ExecuteValues),
  );
}

/**
 * A list of keys bound as one parameter (keyListParam, for tokenInList's `token IN (?)`). MariaDB
 * 10.11 reads `IN (SELECT ... FROM JSON_TABLE(...))` in a DELETE by scanning (and locking) the
 * whole table, so a list of up to KEY_LIST_PLACEHOLDERS keys goes as that many placeholders
 * (`IN (?, ?, ...)`: index lookups), a longer one as JSON.
 */
class KeyList {
  constructor(readonly keys: readonly string[]) {}
}
const KEY_LIST_PLACEHOLDERS = 1000;

/** The statement with each KeyList parameter written into it (see KeyList). */
function expandLists(sql: string, params: readonly unknown[]): { sql: string; params: readonly unknown[] } {
  if (!params.some((p) => p instanceof KeyList)) return { sql, params };
  const out: unknown[] = [];
  let i = 0;
  const text = sql.replace(/\?/g, () => {
    const p = params[i++];
    if (!(p instanceof KeyList)) {
      out.push(p);
      return '?';
    }
    if (p.keys.length > 0 && p.keys.length <= KEY_LIST_PLACEHOLDERS) {
      out.push(...p.keys);
      return p.keys.map(() => '?').join(', ');
    }
    out.push(JSON.stringify(p.keys));
    return `SELECT l.k FROM JSON_TABLE(?, '$[*]' COLUMNS (k ${MARIADB_TOKEN} PATH '$')) AS l`;
  });
  return { sql: text, params: out };
}

function execute(c: Connection, statement: string, values: readonly unknown[]): Promise<Row[] | ResultSetHeader> {
  const { sql, params } = expandLists(statement, values);
  return new Promise((resolve, reject) => {
    const done = (err: Error | null, result: unknown) => (err ? reject(err) : resolve(result as Row[] | ResultSetHeader));
    // Parameterless statements (START TRANSACTION, COMMIT, SET) need no prepared statement.
    if (params.length) c.execute(sql, bind(params), done);
    else c.query(sql, done);
  });
}

function mariadbConnection(c: Connection): SqlConnection {
  return {
    async all(sql, params) {
      const result = await execute(c, sql, params);
      return Array.isArray(result) ? result : [];
    },
    async run(sql, params) {
      const result = await execute(c, sql, params);
      if (Array.isArray(result)) return result.length;
      // An UPDATE counts the rows it matched, as on PostgreSQL (affectedRows leaves out a row set
      // to the value it had); an upsert counts a row it changed once (affectedRows counts it twice).
      const info = result.info ?? '';
      const matched = /Rows matched: (\d+)/.exec(info);
      if (matched) return Number(matched[1]);
      return result.affectedRows - Number(/Duplicates: (\d+)/.exec(info)?.[1] ?? 0);
    },
  };
}

/** Connection options from a mysql:// or mariadb:// URL (`?socket=/path` for a Unix socket). */
function connectionOptions(databaseUrl: string, timeoutMs: number) {
  const url = new URL(databaseUrl);
  const socketPath = url.searchParams.get('socket') ?? undefined;
  return {
    host: url.hostname || '127.0.0.1',
    port: Number(url.port || 3306),
    ...(socketPath ? { socketPath } : {}),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: decodeURIComponent(url.pathname.replace(/^\//, '')),
    charset: 'utf8mb4',
    connectTimeout: timeoutMs,
    // UPDATE and upserts report rows changed, not rows found: an upsert whose condition fails
    // changes nothing, and says so (see onConflict).
    flags: ['-FOUND_ROWS'],
    supportBigNumbers: true,
    // Statements per connection: the server holds at most max_prepared_stmt_count (16382) for all
    // connections together, and each length of a key list (see KeyList) is a statement of its own.
    maxPreparedStatements: 500,
  };
}

export const mariadb: Dialect = {
  name: 'mariadb',
  knexClients: ['mysql2'],
  acceptsUrl: (databaseUrl) => /^(mysql|mariadb):\/\//i.test(databaseUrl),
  knexConfig: (databaseUrl, { poolSize, timeoutMs, allowLazyCommit }) => ({
    client: 'mysql2',
    connection: connectionOptions(databaseUrl, timeoutMs),
    pool: {
      min: 0,
      max: poolSize,
      afterCreate(raw: Connection, done: (err: Error | null, raw: Connection) => void) {
        if (allowLazyCommit) lazyCommitAllowed.add(raw);
        raw.query(SESSION, (err) => done(err, raw));
      },
    },
  }),
  wrap: (raw) => mariadbConnection(raw as Connection),
  begin: 'START TRANSACTION',
  beginRead: 'START TRANSACTION READ ONLY',
  autocommitOneStatement: true,
  sideConnections: true,
  sweepBatchRows: 1000,
  async setUpConnection(raw, conn, timeoutMs) {
    const [row] = await conn.all('SELECT @@innodb_flush_log_at_trx_commit AS flush', []);
    if (Number(row.flush) !== 1 && !lazyCommitAllowed.has(raw as object))
      throw new Error(
        `MariaDB's innodb_flush_log_at_trx_commit is ${String(row.flush)}: a COMMIT is not on disk when it returns; ` +
          'set it to 1, or start respql with --allow-lazy-commit yes',
      );
    // On a Galera node, a read waits until the node has applied what the cluster committed before
    // it (causal reads): a write acknowledged through another node is then seen through this one.
    const wsrep = await conn.all("SHOW VARIABLES LIKE 'wsrep_on'", []);
    const galera = wsrep.some((row) => row.Value === 'ON');
    // max_statement_time in seconds; the lock wait in whole seconds, at least one.
    await conn.run(
      `SET SESSION max_statement_time = ${Math.max(0.001, timeoutMs / 1000)}, innodb_lock_wait_timeout = ${Math.max(1, Math.ceil(timeoutMs / 1000))}` +
        (galera ? ', wsrep_sync_wait = 1' : ''),
      [],
    );
    return null;
  },
  retryReason: (err) => {
    // 1213: deadlock (the transaction was rolled back; on Galera also a certification failure);
    // 1205: lock wait timeout (the engine rolls back and runs the batch again).
    const errno = (err as { errno?: unknown } | null)?.errno;
    return errno === 1213 ? 'deadlock' : errno === 1205 ? 'lock_wait_timeout' : null;
  },
  unboundMigration: 'SET SESSION max_statement_time = 0',
  migrationSetup: () => [],
  isBusy: () => false,
  abort(raw) {
    (raw as Connection).destroy();
  },
  expiryParam: () => `(${EPOCH} + INTERVAL LEAST(?, ${MARIADB_LAST_EXPIRY_MS}) * 1000 MICROSECOND)`,
  expiryMs: (column) => `(TIMESTAMPDIFF(MICROSECOND, ${EPOCH}, ${column}) DIV 1000)`,
  forUpdate: ' FOR UPDATE',
  // No transaction-scoped advisory lock (GET_LOCK lasts the session): a row lock on one of 2^24
  // buckets, held to COMMIT. Two keys may share a bucket; the wait is then merely longer.
  lockKey:
    `INSERT INTO ${KEY_LOCKS} (bucket) VALUES (CONV(LEFT(SHA2(CONCAT(?, 0x00, ?), 256), 6), 16, 10)) ` +
    'ON DUPLICATE KEY UPDATE bucket = bucket',
  rowId: 'id',
  // Byte for byte: MariaDB 10.11's index range for a LIKE prefix under utf8mb4_nopad_bin misses
  // keys with 4-byte characters after it. (The backslash doubled: MariaDB reads escapes in literals.)
  likeToken: (column) => `CAST(${column} AS BINARY) LIKE ? ESCAPE '\\\\'`,
  random: 'RAND()',
  onConflict(target, update) {
    if (!update) return `ON DUPLICATE KEY UPDATE ${target.split(',')[0]} = ${target.split(',')[0]}`;
    const { set, where }: ConflictUpdate = update((column) => `VALUES(${column})`);
    const columns = Object.entries(set);
    if (!where) return `ON DUPLICATE KEY UPDATE ${columns.map(([c, v]) => `${c} = ${v}`).join(', ')}`;
    // The assignments run in order, each seeing the columns the ones before it set: the
    // condition is tested once, before the first, and kept in a session variable.
    return `ON DUPLICATE KEY UPDATE ${columns
      .map(([c, v], i) => `${c} = IF(${i === 0 ? `@respql_clash := (${where})` : '@respql_clash'}, ${v}, ${c})`)
      .join(', ')}`;
  },
  limitedSubquery: (select) => `(SELECT * FROM (${select}) AS limited)`,
  binaryInList: (column) =>
    `${column}_hash IN (SELECT UNHEX(SHA2(UNHEX(l.v), 256)) FROM JSON_TABLE(?, '$[*]' COLUMNS (v LONGTEXT PATH '$')) AS l)`,
  binaryListParam: (values) => JSON.stringify(values.map((v) => v.toString('hex'))),
  tokenInList: 'token IN (?)',
  keyListParam: (keys) => new KeyList(keys),
  // Rows [key, offset, length, expiry] of one JSON array: JSON_TABLE reads one list at a time.
  bulkUpsert: (table) =>
    `INSERT INTO "${table}" (token, data, expiry) ` +
    `SELECT j.k, SUBSTRING(?, j.o, j.n), ${EPOCH} + INTERVAL LEAST(j.e, ${MARIADB_LAST_EXPIRY_MS}) * 1000 MICROSECOND ` +
    `FROM JSON_TABLE(?, '$[*]' COLUMNS (k ${MARIADB_TOKEN} PATH '$[0]', o BIGINT PATH '$[1]', n BIGINT PATH '$[2]', e BIGINT PATH '$[3]')) AS j ` +
    'ON DUPLICATE KEY UPDATE data = VALUES(data), expiry = VALUES(expiry), type = NULL',
  bulkUpsertParams: (values, keys, offsets, lengths, expiries) => [
    values,
    JSON.stringify(keys.map((key, i) => [key, offsets[i], lengths[i], expiries[i]])),
  ],
  async createTable(knex, table) {
    await knex.raw(
      `CREATE TABLE "${table}" (token ${MARIADB_TOKEN} NOT NULL PRIMARY KEY, data LONGBLOB NOT NULL, expiry DATETIME(3) NULL, ` +
        // id: a stable, increasing row id for SCAN cursors (SQLite has its rowid).
        `id BIGINT NOT NULL AUTO_INCREMENT, UNIQUE KEY "${table}_id_idx" (id), KEY "${table}_expiry_idx" (expiry)) ENGINE=InnoDB`,
    );
    await knex.raw(`CREATE TABLE IF NOT EXISTS ${KEY_LOCKS} (bucket INT UNSIGNED NOT NULL PRIMARY KEY) ENGINE=InnoDB`);
  },
  // UTC_TIMESTAMP is the statement's clock, not the transaction's start.
  leaseNow: 'UTC_TIMESTAMP(3)',
  leaseUntil: '(UTC_TIMESTAMP(3) + INTERVAL ? * 1000 MICROSECOND)',
  async createLeaseTable(knex, table) {
    await knex.raw(
      `CREATE TABLE "${table}" (name VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL PRIMARY KEY, ` +
        'holder VARCHAR(255) NOT NULL, expires_at DATETIME(3) NOT NULL) ENGINE=InnoDB',
    );
  },
};
