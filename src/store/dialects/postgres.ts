/**
 * The PostgreSQL dialect, through pg: a pool of connections, each statement a named prepared
 * statement, and COMMIT durable by itself (synchronous_commit = on).
 *
 * Behind a pooler in transaction mode (PgBouncer's pool_mode = transaction) a client connection
 * is lent a server connection only for one transaction: nothing of a session outlives it, not a
 * named prepared statement (PgBouncer 1.18), not a SET. Such a connection ("pooled") sends
 * unnamed statements, and its settings go with each transaction (SET LOCAL after BEGIN).
 */
import type { Client as PgClient } from 'pg';
import type { Dialect, PreparedStatements, Row, SqlConnection } from '../dialect';
import { limitedSubquery, onConflict } from './ansi';

/** What --prepared-statements asked for, per connection (set as the pool creates it). */
const requested = new WeakMap<object, PreparedStatements>();
/** Connections behind a pooler: the statements to run after each BEGIN (see transactionSetup). */
const pooled = new WeakMap<object, string>();

/**
 * A statement with parameters goes as a named prepared statement: PostgreSQL parses and plans
 * it once per connection, not on every call (GET -P 1 +10-20 %, BENCHMARKS.md). One name per
 * text, `?` placeholders turned into `$1..$n`, worked out once. Parameterless statements (BEGIN,
 * COMMIT, SET lists) go as simple queries.
 */
const preparedStatements = new Map<string, { name: string; text: string }>();
function pgQuery(sql: string, params: readonly unknown[], named: boolean): { name?: string; text: string; values: unknown[] } {
  if (!params.length) return { text: sql, values: [] };
  let statement = preparedStatements.get(sql);
  if (statement === undefined) {
    let n = 0;
    statement = { name: `respql_${preparedStatements.size + 1}`, text: sql.replace(/\?/g, () => `$${++n}`) };
    preparedStatements.set(sql, statement);
  }
  // Unnamed: parsed anew each time, and valid only until the next Parse on that server connection.
  return named ? { ...statement, values: params as unknown[] } : { text: statement.text, values: params as unknown[] };
}

function postgresConnection(client: PgClient): SqlConnection {
  const named = !pooled.has(client);
  return {
    async all(sql, params) {
      const result = await client.query(pgQuery(sql, params, named));
      return result.rows as Row[];
    },
    async run(sql, params) {
      const result = await client.query(pgQuery(sql, params, named));
      return result.rowCount ?? 0;
    },
  };
}

/**
 * Whether a connection goes through a pooler (--prepared-statements auto): PostgreSQL's startup
 * message gives the client its backend's process id (BackendKeyData, for cancel requests); a
 * pooler such as PgBouncer, which lends server connections out, makes up a key of its own. A
 * session pooler is taken for one too: unnamed statements cost a parse, not correctness.
 */
async function behindPooler(client: PgClient, conn: SqlConnection): Promise<boolean> {
  const mode = requested.get(client) ?? 'auto';
  if (mode !== 'auto') return mode === 'no';
  const [row] = await conn.all('SELECT pg_backend_pid() AS pid', []);
  return Number(row?.pid) !== (client as PgClient & { processID?: number }).processID;
}

export const postgres: Dialect = {
  name: 'postgres',
  knexClients: ['pg', 'postgres', 'postgresql'],
  acceptsUrl: (databaseUrl) => /^postgres(ql)?:\/\//i.test(databaseUrl),
  knexConfig: (databaseUrl, { poolSize, timeoutMs, preparedStatements }) => ({
    client: 'pg',
    connection: { connectionString: databaseUrl, connectionTimeoutMillis: timeoutMs, application_name: 'respql' },
    pool: {
      min: 0,
      max: poolSize,
      afterCreate(raw: object, done: (err: Error | null, raw: object) => void) {
        requested.set(raw, preparedStatements);
        done(null, raw);
      },
    },
  }),
  wrap: (raw) => postgresConnection(raw as PgClient),
  begin: 'BEGIN',
  beginRead: 'BEGIN READ ONLY',
  autocommitOneStatement: true,
  sideConnections: true,
  // On its own connection, beside the clients' batches: bigger batches, fewer round trips.
  sweepBatchRows: 1000,
  async setUpConnection(raw, conn, timeoutMs) {
    const settings = (scope: string) =>
      `SET ${scope}synchronous_commit = on; SET ${scope}statement_timeout = ${Math.max(1, Math.round(timeoutMs))}`;
    if (await behindPooler(raw as PgClient, conn)) {
      // A session SET would stay on whichever server connection ran it, for other clients.
      pooled.set(raw as object, settings('LOCAL '));
      return null;
    }
    pooled.delete(raw as object);
    // Per session, not per transaction: a batch that is one statement runs without BEGIN.
    await conn.run(settings(''), []);
    return null;
  },
  transactionSetup: (raw) => pooled.get(raw as object) ?? null,
  retryReason: (err) => {
    // Class 40, transaction rollback: the database says the whole transaction was undone.
    const code = (err as { code?: unknown } | null)?.code;
    return code === '40001' ? 'serialization_failure' : code === '40P01' ? 'deadlock_detected' : null;
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
  likeToken: (column) => `${column} LIKE ? ESCAPE '\\'`,
  random: 'random()',
  onConflict,
  limitedSubquery,
  binaryInList: (column) => `${column} = ANY(?::bytea[])`,
  binaryListParam: (values) => values,
  tokenInList: 'token = ANY(?::text[])',
  bulkUpsert: (table) =>
    `INSERT INTO "${table}" (token, data, expiry) ` +
    `SELECT k, substring(?::bytea from o for n), timestamptz 'epoch' + e * interval '1 millisecond' ` +
    'FROM unnest(?::text[], ?::int[], ?::int[], ?::bigint[]) AS u(k, o, n, e) ' +
    'ON CONFLICT (token) DO UPDATE SET data = excluded.data, expiry = excluded.expiry, type = NULL',
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
