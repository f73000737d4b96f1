/**
 * The SQL text of every store operation, built once per table (by SqlEngine) for one dialect,
 * which supplies the pieces where databases differ.
 */
import type { Dialect } from './dialect';
import { scriptStatements } from './scripts';
import { leaseTable } from './migrations';
import { databasesTable } from './databases';
import { typedTables } from './migrations/typed-keys';
import { typedStatements } from './typed-store';

/** The SQL text of every store operation on `table`. */
export function statements(table: string, d: Dialect) {
  const t = `"${table}"`;
  const lease = `"${leaseTable(table)}"`;
  const E = d.expiryParam();
  const live = `(expiry IS NULL OR expiry > ${E})`;
  // type = NULL: a string replaces a key of any type (a trigger drops a hash's fields, see migrations/typed-keys.ts).
  const insert = `INSERT INTO ${t} (token, data, expiry) VALUES (?, ?, ${E})`;
  const replace = (x: (column: string) => string) => ({ data: x('data'), expiry: x('expiry'), type: 'NULL' });
  return {
    /** The script cache and function libraries (scripts.ts). */
    scripts: scriptStatements(table, d),
    // An expired row comes back without its data, so that the read counts it (ExpiredKeys).
    get: `SELECT CASE WHEN ${live} THEN data END AS data, type, ${d.expiryMs('expiry')} AS expiry_ms FROM ${t} WHERE token = ?`,
    getMany: `SELECT token, CASE WHEN ${live} THEN data END AS data, type, ${d.expiryMs('expiry')} AS expiry_ms FROM ${t} WHERE ${d.tokenInList}`,
    // The keys a packed read missed that are there but expired (SQLite only: no round trip).
    expiredAmong: `SELECT token, ${d.expiryMs('expiry')} AS expiry_ms FROM ${t} WHERE ${d.tokenInList} AND expiry <= ${E}`,
    getManyPacked: d.packedRead?.sql(t, live) ?? '',
    getEntry: `SELECT data, type, ${d.expiryMs('expiry')} AS expiry_ms FROM ${t} WHERE token = ? AND ${live}`,
    getEntryForUpdate: `SELECT data, type, ${d.expiryMs('expiry')} AS expiry_ms FROM ${t} WHERE token = ? AND ${live}${d.forUpdate}`,
    put: `${insert} ${d.onConflict('token', (x) => ({ set: replace(x) }))}`,
    // Inserts, or replaces a row that has expired; a live row is left alone (changes = 0).
    putIfAbsent: `${insert} ${d.onConflict('token', (x) => ({ set: replace(x), where: `${t}.expiry IS NOT NULL AND ${t}.expiry <= ${E}` }))}`,
    setExpiry: `UPDATE ${t} SET expiry = ${E} WHERE token = ? AND ${live}`,
    putMany: d.bulkUpsert?.(table) ?? '',
    setExpiries: d.bulkSetExpiry?.(t, live) ?? '',
    delete: `DELETE FROM ${t} WHERE ${d.tokenInList} RETURNING token, CASE WHEN ${live} THEN 1 ELSE 0 END AS live, ${d.expiryMs('expiry')} AS expiry_ms`,
    liveAmong: `SELECT token FROM ${t} WHERE ${d.tokenInList} AND ${live}`,
    count: `SELECT count(*) AS n FROM ${t} WHERE ${live}`,
    expiryStats: `SELECT count(*) AS n, count(expiry) AS expires, avg(${d.expiryMs('expiry')}) AS avg_expiry FROM ${t} WHERE ${live}`,
    scan: `SELECT ${d.rowId} AS id, token, type FROM ${t} WHERE ${d.rowId} > ? AND ${live} ORDER BY ${d.rowId} LIMIT ?`,
    scanLike: `SELECT ${d.rowId} AS id, token, type FROM ${t} WHERE ${d.rowId} > ? AND ${live} AND ${d.likeToken('token')} ORDER BY ${d.rowId} LIMIT ?`,
    keys: `SELECT token FROM ${t} WHERE ${live}`,
    keysLike: `SELECT token FROM ${t} WHERE ${live} AND ${d.likeToken('token')}`,
    flush: `DELETE FROM ${t}`,
    randomKey: `SELECT token FROM ${t} WHERE ${live} ORDER BY ${d.random} LIMIT 1`,
    persist: `UPDATE ${t} SET expiry = NULL WHERE token = ? AND expiry IS NOT NULL AND expiry > ${E}`,
    // A live key of another type is left alone (GETDEL answers WRONGTYPE).
    take: `DELETE FROM ${t} WHERE token = ? AND (type IS NULL OR NOT ${live}) RETURNING data, CASE WHEN ${live} THEN 1 ELSE 0 END AS live, ${d.expiryMs('expiry')} AS expiry_ms`,
    valueLength: `SELECT length(data) AS n, type FROM ${t} WHERE token = ? AND ${live}`,
    typed: typedStatements(table, d),
    /** The table name, bound into the key lock (see Dialect.lockKey). */
    table,
    // The outer expiry test is not redundant: on PostgreSQL a row that another transaction
    // revived (SET on an expired key) after the subquery chose it is re-checked by it, and kept.
    // A hash or set goes once its fields or members are gone (sweepMembers takes them, a batch at a time).
    sweep: `DELETE FROM ${t} WHERE token IN ${d.limitedSubquery(
      `SELECT token FROM ${t} WHERE expiry <= ${E} AND (type IS NULL OR ` +
        `(NOT EXISTS (SELECT 1 FROM "${typedTables(table).hash}" m WHERE m.token = ${t}.token) AND NOT EXISTS (SELECT 1 FROM "${typedTables(table).set}" m WHERE m.token = ${t}.token))) ` +
        `LIMIT ?`,
    )} AND expiry <= ${E} RETURNING token, ${d.expiryMs('expiry')} AS expiry_ms`,
    // The same, oldest first through the expiry index, naming the keys (their `expired` events).
    takeExpired: `DELETE FROM ${t} WHERE token IN ${d.limitedSubquery(`SELECT token FROM ${t} WHERE expiry <= ${E} ORDER BY expiry LIMIT ?`)} AND expiry <= ${E} RETURNING token, ${d.expiryMs('expiry')} AS expiry_ms`,
    // The sweeper lease (see Sweeper): taken when absent or run out, renewed by its holder.
    claimLease: `INSERT INTO ${lease} (name, holder, expires_at) VALUES (?, ?, ${d.leaseUntil}) ${d.onConflict('name', (x) => ({
      set: { holder: x('holder'), expires_at: x('expires_at') },
      where: `${lease}.holder = ${x('holder')} OR ${lease}.expires_at <= ${d.leaseNow}`,
    }))}`,
    leaseHolder: `SELECT holder FROM ${lease} WHERE name = ?`,
    releaseLease: `DELETE FROM ${lease} WHERE name = ? AND holder = ?`,
    /** The numbered databases whose tables exist (see databases.ts). */
    databases: `SELECT db FROM "${databasesTable(table)}" ORDER BY db`,
  };
}
export type Statements = ReturnType<typeof statements>;

/** Escapes a literal prefix for LIKE ... ESCAPE '\'. */
export function likePrefix(prefix: string): string {
  return prefix.replace(/[\\%_]/g, (c) => `\\${c}`) + '%';
}
