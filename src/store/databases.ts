/**
 * Numbered databases (SELECT): database 0 is the sessions table set as it always was, database
 * n > 0 a table set of its own, `<table>_db<n>` with its `_hash_fields` and `_set_members`,
 * created the first time it is used by the same migrations (so every dialect gets it). One
 * engine, one group-commit queue and one connection serve them all, so that MOVE, COPY ... DB,
 * SWAPDB and FLUSHALL are one transaction. A registry table lists the databases created, so
 * every instance sharing the database knows them (FLUSHALL, INFO keyspace, the sweeper).
 */
import type { Dialect } from './dialect';
import { typedTables } from './migrations/typed-keys';

/** The scratch table set SWAPDB moves one database's rows through. */
export const SWAP_SCRATCH = -1;

/** The key table of database `db` (SWAP_SCRATCH: the scratch set). */
export function databaseTable(table: string, db: number): string {
  if (db === SWAP_SCRATCH) return `${table}_swap`;
  return db === 0 ? table : `${table}_db${db}`;
}

/** The registry of the databases whose tables exist: one row per database n > 0. */
export function databasesTable(table: string): string {
  return `${table}_databases`;
}

/**
 * Thrown inside a transaction that reaches a database whose tables this instance has not made
 * sure of (a SELECT inside MULTI or a script, MOVE's target): the engine rolls the batch back,
 * creates the tables and runs the batch again.
 */
export class MissingDatabase extends Error {
  constructor(readonly db: number) {
    super(`database ${db} is not open yet`);
  }
}

const KEY_COLUMNS = 'token, data, expiry, type';
const HASH_COLUMNS = 'seq, field, value';
const SET_COLUMNS = 'seq, member';

/** Statements that copy one key from one database's tables to another's (MOVE, COPY ... DB). */
export function transferStatements(from: string, to: string) {
  const f = typedTables(from);
  const t = typedTables(to);
  return {
    // A hash's or set's row gets a new version (`version` non-null: WATCH compares it); a string keeps its value.
    key: `INSERT INTO "${to}" (${KEY_COLUMNS}) SELECT ?, coalesce(?, data), expiry, type FROM "${from}" WHERE token = ?`,
    hash: `INSERT INTO "${t.hash}" (token, ${HASH_COLUMNS}) SELECT ?, ${HASH_COLUMNS} FROM "${f.hash}" WHERE token = ?`,
    set: `INSERT INTO "${t.set}" (token, ${SET_COLUMNS}) SELECT ?, ${SET_COLUMNS} FROM "${f.set}" WHERE token = ?`,
  };
}

/**
 * The statements of SWAPDB a b, in order, one transaction: a's rows go to the scratch set, b's
 * to a, the scratch's to b. Rows are locked first where the database has row locks, so that no
 * write to an existing key of either database is lost in between; a key's deletion takes its
 * fields and members with it (the typed-keys triggers), so they are deleted by key row.
 * O(keys of both databases), not O(1) as in Redis.
 */
export function swapStatements(base: string, a: number, b: number, d: Dialect): string[] {
  const A = databaseTable(base, a);
  const B = databaseTable(base, b);
  const S = databaseTable(base, SWAP_SCRATCH);
  const move = (from: string, to: string): string[] => {
    const f = typedTables(from);
    const t = typedTables(to);
    return [
      `INSERT INTO "${to}" (${KEY_COLUMNS}) SELECT ${KEY_COLUMNS} FROM "${from}"`,
      `INSERT INTO "${t.hash}" (token, ${HASH_COLUMNS}) SELECT token, ${HASH_COLUMNS} FROM "${f.hash}"`,
      `INSERT INTO "${t.set}" (token, ${SET_COLUMNS}) SELECT token, ${SET_COLUMNS} FROM "${f.set}"`,
      `DELETE FROM "${from}" WHERE token IN (SELECT token FROM "${to}")`,
    ];
  };
  const lock = (table: string) => `SELECT count(*) AS n FROM (SELECT token FROM "${table}"${d.forUpdate}) locked`;
  return [
    ...(d.forUpdate ? [lock(A), lock(B)] : []),
    // Left over by nothing (it is emptied in the same transaction), but never trusted.
    `DELETE FROM "${S}"`,
    ...move(A, S),
    ...move(B, A),
    ...move(S, B),
  ];
}
