/**
 * Hashes and sets: the key's row in the sessions table (type, expiry, and in `data` a version
 * that every write changes, so that WATCH across instances sees it), its fields or members one
 * row each in a table of their own (see migrations/typed-keys.ts). Every read checks the key's
 * type and expiry in the same statement that reads the fields: one round trip.
 */
import { randomBytes } from 'node:crypto';
import { RespError } from '../protocol/errors';
import { map, type Reply } from '../protocol/reply';
import type { Dialect, SqlConnection } from './dialect';
import { MARIADB_TOKEN, typedTables } from './migrations/typed-keys';

export type KeyType = 'string' | 'hash' | 'set';
export type MemberType = 'hash' | 'set';

export const wrongType = (): RespError => new RespError('WRONGTYPE Operation against a key holding the wrong kind of value');

/** The type column's value (NULL for strings) as a KeyType. */
export const keyTypeOf = (column: unknown): KeyType => (column === null || column === undefined ? 'string' : (column as KeyType));

/** A merged hash read's reply: HGETALL's map, HMGET's array, HGET's value. */
export function hashReadReply(
  op: { fields: readonly Buffer[] | null; shape: 'map' | 'array' | 'one' },
  found: [Buffer, Buffer][] | null | RespError,
): Reply {
  if (found instanceof RespError) return found;
  if (op.shape === 'map') return map(found ?? []);
  const byField = new Map((found ?? []).map(([f, v]) => [f.toString('latin1'), v] as const));
  const values = (op.fields ?? []).map((f) => byField.get(f.toString('latin1')) ?? null);
  return op.shape === 'one' ? values[0] : values;
}

/** The SQL of the typed operations on one table. */
export function typedStatements(table: string, d: Dialect) {
  const { hash, set } = typedTables(table);
  const K = `"${table}"`;
  const H = `"${hash}"`;
  const S = `"${set}"`;
  const E = d.expiryParam();
  const live = (a: string) => `(${a}.expiry IS NULL OR ${a}.expiry > ${E})`;
  const sqlite = d.name === 'sqlite';
  const mariadb = d.name === 'mariadb';
  // A list of binary values bound as one parameter (see TypedStore.binaryList).
  const inList = (column: string) => d.binaryInList(column);
  // MariaDB: fields (members) and values as rows of hex strings in a JSON array, numbered from 1 (see jsonRows).
  const jsonRows = (columns: string) => `JSON_TABLE(?, '$[*]' COLUMNS (i FOR ORDINALITY, ${columns})) AS j`;
  const hexHash = (hex: string) => `UNHEX(SHA2(UNHEX(${hex}), 256))`;
  const members = (M: string, cols: string) => ({
    all: `SELECT k.type AS type, ${cols} FROM ${K} k LEFT JOIN ${M} m ON m.token = k.token WHERE k.token = ? AND ${live('k')} ORDER BY m.seq`,
    some: `SELECT k.type AS type, ${cols} FROM ${K} k LEFT JOIN ${M} m ON m.token = k.token AND ${inList(M === H ? 'm.field' : 'm.member')} WHERE k.token = ? AND ${live('k')}`,
    count: `SELECT k.type AS type, (SELECT count(*) FROM ${M} m WHERE m.token = k.token) AS n FROM ${K} k WHERE k.token = ? AND ${live('k')}`,
    remove: `DELETE FROM ${M} WHERE token = ? AND ${inList(M === H ? 'field' : 'member')}`,
    scan: `SELECT seq, ${M === H ? 'field, value' : 'member'} FROM ${M} WHERE token = ? AND seq > ? ORDER BY seq LIMIT ?`,
    dropIfEmpty: `DELETE FROM ${K} WHERE token = ? AND NOT EXISTS (SELECT 1 FROM ${M} WHERE token = ?)`,
    move: `UPDATE ${M} SET token = ? WHERE token = ?`,
    copy:
      M === H
        ? `INSERT INTO ${H} (token, seq, field, value) SELECT ?, seq, field, value FROM ${H} WHERE token = ?`
        : `INSERT INTO ${S} (token, seq, member) SELECT ?, seq, member FROM ${S} WHERE token = ?`,
    stats:
      M === H
        ? `SELECT count(*) AS n, max(length(field)) AS f, max(length(value)) AS v FROM ${H} WHERE token = ?`
        : `SELECT count(*) AS n, max(length(member)) AS f, 0 AS v FROM ${S} WHERE token = ?`,
  });
  const nextSeq = (M: string) => `(SELECT coalesce(max(seq), 0) + 1 FROM ${M} WHERE token = ?)`;
  // Many keys' hash reads as one statement, bound as one JSON array of {k: key, f: [hex field...] | absent for all}.
  const readMany = sqlite
    ? `SELECT w.key AS pos, k.type AS type, h.field AS field, h.value AS value FROM json_each(?) w ` +
      `JOIN ${K} k ON k.token = json_extract(w.value, '$.k') AND ${live('k')} ` +
      `LEFT JOIN ${H} h ON h.token = k.token AND (json_extract(w.value, '$.f') IS NULL OR h.field IN (SELECT unhex(f.value) FROM json_each(w.value, '$.f') f)) ` +
      `ORDER BY w.key, h.seq`
    : // LATERAL: one index lookup per key, whatever the planner guesses of the list's length (a join
      // would hash the whole table: 6-25 ms a batch).
      `SELECT w.pos - 1 AS pos, k.type AS type, h.field AS field, h.value AS value FROM jsonb_array_elements(?::jsonb) WITH ORDINALITY AS w(x, pos) ` +
      `CROSS JOIN LATERAL (SELECT token, type FROM ${K} WHERE token = w.x->>'k' AND ${live(K)} LIMIT 1) k ` +
      `LEFT JOIN LATERAL (SELECT seq, field, value FROM ${H} WHERE token = k.token ` +
      `AND (w.x->'f' IS NULL OR field IN (SELECT decode(f, 'hex') FROM jsonb_array_elements_text(w.x->'f') AS f))) h ON true ` +
      `ORDER BY w.pos, h.seq`;
  // PostgreSQL: many keys' HSETs as one statement. Claims every key (see claim) and writes the fields of
  // those it claimed; answers which keys it claimed ('c') and each field written and whether it was new ('f').
  const writeMany =
    `WITH c AS (INSERT INTO ${K} (token, data, expiry, type) SELECT u.k, u.v, NULL, 'hash' FROM unnest(?::text[], ?::bytea[]) AS u(k, v) ` +
    `ON CONFLICT (token) DO UPDATE SET data = excluded.data WHERE ${K}.type = excluded.type AND ${live(K)} RETURNING token), ` +
    `f AS (INSERT INTO ${H} (token, seq, field, value) ` +
    `SELECT u.k, (SELECT coalesce(max(seq), 0) FROM ${H} WHERE token = u.k) + u.i, substring(?::bytea from u.fo for u.fn), substring(?::bytea from u.vo for u.vn) ` +
    `FROM unnest(?::text[], ?::int[], ?::int[], ?::int[], ?::int[], ?::int[]) AS u(k, i, fo, fn, vo, vn) WHERE u.k IN (SELECT token FROM c) ORDER BY u.k, u.i ` +
    `ON CONFLICT (token, field) DO UPDATE SET value = excluded.value RETURNING token, (xmax = 0) AS inserted) ` +
    `SELECT 'c' AS kind, token, false AS inserted FROM c UNION ALL SELECT 'f', token, inserted FROM f`;
  // MariaDB: many keys' HSETs in a few statements (see TypedStore.hashWriteManyJson), bound as JSON rows.
  const mariadbWriteMany = {
    // Claims every key (rows [key, hex version]); which it claimed shows in their version.
    claim:
      `INSERT INTO ${K} (token, data, expiry, type) SELECT j.k, UNHEX(j.v), NULL, 'hash' FROM ${jsonRows(`k ${MARIADB_TOKEN} PATH '$[0]', v LONGTEXT PATH '$[1]'`)} ` +
      d.onConflict('token', (x) => ({ set: { data: x('data') }, where: `${K}.type = ${x('type')} AND ${live(K)}` })),
    versions: `SELECT token, data FROM ${K} WHERE ${d.tokenInList}`,
    tops: `SELECT token, max(seq) AS top FROM ${H} WHERE ${d.tokenInList} GROUP BY token`,
    // Of rows [key, hex field], how many each key has already.
    existing:
      `SELECT j.k AS token, count(*) AS n FROM ${jsonRows(`k ${MARIADB_TOKEN} PATH '$[0]', f LONGTEXT PATH '$[1]'`)} ` +
      `JOIN ${H} h ON h.token = j.k AND h.field_hash = ${hexHash('j.f')} GROUP BY j.k`,
    // Rows [key, seq, hex field, hex value].
    upsert:
      `INSERT INTO ${H} (token, seq, field, value) SELECT j.k, j.s, UNHEX(j.f), UNHEX(j.v) ` +
      `FROM ${jsonRows(`k ${MARIADB_TOKEN} PATH '$[0]', s BIGINT PATH '$[1]', f LONGTEXT PATH '$[2]', v LONGTEXT PATH '$[3]'`)} ORDER BY j.i ` +
      d.onConflict('token, field', (x) => ({ set: { value: x('value') } })),
  };
  return {
    sqlite,
    mariadb,
    mariadbWriteMany,
    /** The table name, bound into the key lock (see Dialect.lockKey). */
    table,
    readMany,
    writeMany,
    type: `SELECT type FROM ${K} WHERE token = ? AND ${live(K)}`,
    // Creates the key, or changes a live key of this type's version; anything else changes nothing.
    claim:
      `INSERT INTO ${K} (token, data, expiry, type) VALUES (?, ?, NULL, ?) ` +
      d.onConflict('token', (x) => ({ set: { data: x('data') }, where: `${K}.type = ${x('type')} AND ${live(K)}` })),
    dropExpired: `DELETE FROM ${K} WHERE token = ? AND expiry IS NOT NULL AND expiry <= ${E}`,
    // Up to `limit` fields (members) of expired keys: the sweeper takes a big hash apart a batch at a time.
    sweepHash: `DELETE FROM ${H} WHERE (token, seq) IN ${d.limitedSubquery(`SELECT m.token, m.seq FROM ${K} k JOIN ${H} m ON m.token = k.token WHERE k.expiry <= ${E} AND k.type = 'hash' LIMIT ?`)}`,
    sweepSet: `DELETE FROM ${S} WHERE (token, seq) IN ${d.limitedSubquery(`SELECT m.token, m.seq FROM ${K} k JOIN ${S} m ON m.token = k.token WHERE k.expiry <= ${E} AND k.type = 'set' LIMIT ?`)}`,
    copyKey: `INSERT INTO ${K} (token, data, expiry, type) SELECT ?, ?, expiry, type FROM ${K} WHERE token = ?`,
    deleteKey: `DELETE FROM ${K} WHERE token = ?`,
    hash: {
      ...members(H, 'm.field AS field, m.value AS value'),
      // One field at a time on SQLite (in-process: a statement costs microseconds).
      update: `UPDATE ${H} SET value = ? WHERE token = ? AND field = ?`,
      insert: `INSERT INTO ${H} (token, seq, field, value) VALUES (?, ${nextSeq(H)}, ?, ?) ${d.onConflict('token, field', null)}`,
      // PostgreSQL: every field in one statement; fields and values each travel as one bytea (see Dialect.bulkUpsert).
      upsertMany:
        `INSERT INTO ${H} (token, seq, field, value) ` +
        `SELECT ?, (SELECT coalesce(max(seq), 0) FROM ${H} WHERE token = ?) + u.i, substring(?::bytea from u.fo for u.fn), substring(?::bytea from u.vo for u.vn) ` +
        `FROM unnest(?::int[], ?::int[], ?::int[], ?::int[]) WITH ORDINALITY AS u(fo, fn, vo, vn, i) ORDER BY u.i ` +
        `ON CONFLICT (token, field) DO UPDATE SET value = excluded.value RETURNING (xmax = 0) AS inserted`,
      // MariaDB: the last seq and how many of the fields (JSON rows [hex field, hex value]) are there, then
      // every field in one statement. The count comes first, since an upsert's row count mixes new and
      // changed rows; the seq too, since an INSERT ... SELECT that reads its own table loses JSON_TABLE's
      // values (MariaDB 10.11: every field came out empty).
      existingJson:
        `SELECT (SELECT coalesce(max(seq), 0) FROM ${H} WHERE token = ?) AS top, ` +
        `(SELECT count(*) FROM ${H} WHERE token = ? AND field_hash IN (SELECT ${hexHash('j.f')} FROM ${jsonRows("f LONGTEXT PATH '$[0]'")})) AS n`,
      upsertJson: (onlyNew: boolean) =>
        `INSERT INTO ${H} (token, seq, field, value) SELECT ?, ? + j.i, UNHEX(j.f), UNHEX(j.v) ` +
        `FROM ${jsonRows("f LONGTEXT PATH '$[0]', v LONGTEXT PATH '$[1]'")} ORDER BY j.i ` +
        d.onConflict('token, field', onlyNew ? null : (x) => ({ set: { value: x('value') } })),
    },
    set: {
      ...members(S, 'm.member AS member'),
      insert: `INSERT INTO ${S} (token, seq, member) VALUES (?, ${nextSeq(S)}, ?) ${d.onConflict('token, member', null)}`,
      // MariaDB: the last seq, then every member in one statement (bound as key, last seq, JSON rows [hex member]).
      top: `SELECT coalesce(max(seq), 0) AS top FROM ${S} WHERE token = ?`,
      insertJson:
        `INSERT INTO ${S} (token, seq, member) SELECT ?, ? + j.i, UNHEX(j.m) FROM ${jsonRows("m LONGTEXT PATH '$[0]'")} ` +
        `ORDER BY j.i ${d.onConflict('token, member', null)}`,
      insertMany:
        `INSERT INTO ${S} (token, seq, member) ` +
        `SELECT ?, (SELECT coalesce(max(seq), 0) FROM ${S} WHERE token = ?) + u.i, substring(?::bytea from u.o for u.n) ` +
        `FROM unnest(?::int[], ?::int[]) WITH ORDINALITY AS u(o, n, i) ORDER BY u.i ON CONFLICT (token, member) DO NOTHING`,
    },
  };
}
export type TypedStatements = ReturnType<typeof typedStatements>;

const toNumber = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const toBuffer = (v: unknown): Buffer => (Buffer.isBuffer(v) ? v : Buffer.from(v as Uint8Array));

/** Values concatenated, with each one's 1-based offset and length (one bytea parameter, see Dialect.bulkUpsert). */
function packed(values: readonly Buffer[]): { bytes: Buffer; offsets: number[]; lengths: number[] } {
  const offsets: number[] = [];
  let next = 1;
  for (const v of values) {
    offsets.push(next);
    next += v.length;
  }
  return { bytes: Buffer.concat(values), offsets, lengths: values.map((v) => v.length) };
}

/** Pairs with repeated fields merged: each field once, at its first place, with its last value (as HSET applies them). */
export function lastValues(pairs: ReadonlyArray<readonly [Buffer, Buffer]>): [Buffer, Buffer][] {
  const byField = new Map<string, [Buffer, Buffer]>();
  for (const [field, value] of pairs) {
    const k = field.toString('latin1');
    const found = byField.get(k);
    if (found) found[1] = value;
    else byField.set(k, [field, value]);
  }
  return [...byField.values()];
}

/** Distinct buffers, first occurrence kept. */
export function distinct(values: readonly Buffer[]): Buffer[] {
  const seen = new Map<string, Buffer>();
  for (const v of values) if (!seen.has(v.toString('latin1'))) seen.set(v.toString('latin1'), v);
  return [...seen.values()];
}

/** A page of HSCAN/SSCAN: cursor 0 when done. */
export interface MemberPage {
  cursor: number;
  items: Buffer[];
}

/** How Redis 7.0 would encode a hash or set of these contents (OBJECT ENCODING). */
export interface MemberStats {
  count: number;
  maxField: number;
  maxValue: number;
}

/** The typed operations bound to one connection inside one transaction (see SqlStore.typed). */
export class TypedStore {
  constructor(
    private readonly conn: SqlConnection,
    private readonly sql: TypedStatements,
    private readonly dialect: Dialect,
    private readonly now: number,
    private readonly modified: Set<string>,
  ) {}

  private binaryList(values: readonly Buffer[]): unknown {
    return this.dialect.binaryListParam(values);
  }

  /** The type of a live key, or null when absent. */
  async keyType(key: string): Promise<KeyType | null> {
    const rows = await this.conn.all(this.sql.type, [key, this.now]);
    return rows.length ? keyTypeOf(rows[0].type) : null;
  }

  /** Takes the key's lock where the database needs one (see Dialect.lockKey), for read-then-write commands. */
  async lock(key: string): Promise<void> {
    if (this.dialect.lockKey) await this.conn.all(this.dialect.lockKey, [this.sql.table, key]);
  }

  /**
   * Makes `key` a live key of `type` about to be written: creates it, or changes its version;
   * WRONGTYPE if it holds another type. An expired key is dropped first (its members with it).
   */
  async claim(key: string, type: MemberType): Promise<void> {
    const version = randomBytes(8);
    if ((await this.conn.run(this.sql.claim, [key, version, type, this.now])) > 0) {
      this.modified.add(key);
      return;
    }
    if ((await this.keyType(key)) !== null) throw wrongType();
    await this.conn.run(this.sql.dropExpired, [key, this.now]);
    await this.conn.run(this.sql.claim, [key, version, type, this.now]);
    this.modified.add(key);
  }

  /** Rows of a members query: null when the key is absent; WRONGTYPE when it holds another type. */
  private checked(rows: Record<string, unknown>[], type: MemberType): Record<string, unknown>[] | null {
    if (!rows.length) return null;
    if (rows[0].type !== type) throw wrongType();
    return rows;
  }

  // ---- hashes

  /** Every field and value in insertion order; null when the key is absent. */
  async hashAll(key: string): Promise<[Buffer, Buffer][] | null> {
    const rows = this.checked(await this.conn.all(this.sql.hash.all, [key, this.now]), 'hash');
    if (!rows) return null;
    return rows.filter((r) => r.field !== null).map((r) => [toBuffer(r.field), toBuffer(r.value)]);
  }

  /** The values of `fields` (null where missing); null when the key is absent. */
  async hashGet(key: string, fields: readonly Buffer[]): Promise<(Buffer | null)[] | null> {
    const rows = this.checked(await this.conn.all(this.sql.hash.some, [this.binaryList(fields), key, this.now]), 'hash');
    if (!rows) return null;
    const found = new Map<string, Buffer>();
    for (const r of rows) if (r.field !== null) found.set(toBuffer(r.field).toString('latin1'), toBuffer(r.value));
    return fields.map((f) => found.get(f.toString('latin1')) ?? null);
  }

  /** How many fields (members); 0 when the key is absent. */
  async count(key: string, type: MemberType): Promise<number> {
    const rows = this.checked(await this.conn.all(this.sql[type].count, [key, this.now]), type);
    return rows ? toNumber(rows[0].n) : 0;
  }

  /** Sets fields (each field once, see lastValues); returns how many were new. `onlyNew`: leaves existing fields alone (HSETNX). */
  async hashSet(key: string, pairs: ReadonlyArray<readonly [Buffer, Buffer]>, onlyNew = false): Promise<number> {
    await this.claim(key, 'hash');
    const unique = lastValues(pairs);
    const h = this.sql.hash;
    if (this.sql.mariadb) {
      const rows = JSON.stringify(unique.map(([f, v]) => [f.toString('hex'), v.toString('hex')]));
      const [{ top, n }] = await this.conn.all(h.existingJson, [key, key, rows]);
      await this.conn.run(h.upsertJson(onlyNew), [key, toNumber(top), rows]);
      return unique.length - toNumber(n);
    }
    if (this.sql.sqlite || onlyNew) {
      let added = 0;
      for (const [field, value] of unique) {
        if (!onlyNew && (await this.conn.run(h.update, [value, key, field])) > 0) continue;
        added += await this.conn.run(h.insert, [key, key, field, value]);
      }
      return added;
    }
    const f = packed(unique.map((p) => p[0]));
    const v = packed(unique.map((p) => p[1]));
    const rows = await this.conn.all(h.upsertMany, [key, key, f.bytes, v.bytes, f.offsets, f.lengths, v.offsets, v.lengths]);
    return rows.filter((r) => r.inserted === true || r.inserted === 1).length;
  }

  /** Deletes fields (members); the key goes when nothing is left. Returns how many were there. */
  async remove(key: string, type: MemberType, items: readonly Buffer[]): Promise<number> {
    const kind = await this.keyType(key);
    if (kind === null) return 0;
    if (kind !== type) throw wrongType();
    const removed = await this.conn.run(this.sql[type].remove, [key, this.binaryList(distinct(items))]);
    if (removed > 0) {
      this.modified.add(key);
      await this.conn.run(this.sql[type].dropIfEmpty, [key, key]);
    }
    return removed;
  }

  /** One page of HSCAN/SSCAN in insertion order: items after `cursor`, at most `count` rows; null when the key is absent. */
  async scan(key: string, type: MemberType, cursor: number, count: number): Promise<MemberPage | null> {
    const kind = await this.keyType(key);
    if (kind === null) return null;
    if (kind !== type) throw wrongType();
    const rows = await this.conn.all(this.sql[type].scan, [key, cursor, count]);
    const items = rows.flatMap((r) => (type === 'hash' ? [toBuffer(r.field), toBuffer(r.value)] : [toBuffer(r.member)]));
    return { cursor: rows.length < count ? 0 : toNumber(rows[rows.length - 1].seq), items };
  }

  /** Sizes that decide Redis's encoding of the key (OBJECT ENCODING). */
  async stats(key: string, type: MemberType): Promise<MemberStats> {
    const [row] = await this.conn.all(this.sql[type].stats, [key]);
    return { count: toNumber(row.n), maxField: toNumber(row.f ?? 0), maxValue: toNumber(row.v ?? 0) };
  }

  /**
   * Many hash reads as one statement (merged HGETALL/HMGET/HGET of a batch): for each, the
   * fields asked for (null: all) in insertion order, null when the key is absent, or WRONGTYPE.
   */
  async hashReadMany(
    reads: ReadonlyArray<{ key: string; fields: readonly Buffer[] | null }>,
  ): Promise<([Buffer, Buffer][] | null | RespError)[]> {
    if (this.sql.mariadb) return this.hashReadEach(reads);
    const param = JSON.stringify(reads.map((r) => (r.fields ? { k: r.key, f: r.fields.map((f) => f.toString('hex')) } : { k: r.key })));
    const rows = await this.conn.all(this.sql.readMany, [param, this.now]);
    const out: ([Buffer, Buffer][] | null | RespError)[] = reads.map(() => null);
    for (const r of rows) {
      const pos = toNumber(r.pos);
      if (r.type !== 'hash') {
        out[pos] = wrongType();
        continue;
      }
      let pairs = out[pos];
      if (pairs === null) out[pos] = pairs = [];
      if (r.field !== null && Array.isArray(pairs)) pairs.push([toBuffer(r.field), toBuffer(r.value)]);
    }
    return out;
  }

  /** hashReadMany one read at a time (MariaDB has no LATERAL join for the one statement). */
  private async hashReadEach(
    reads: ReadonlyArray<{ key: string; fields: readonly Buffer[] | null }>,
  ): Promise<([Buffer, Buffer][] | null | RespError)[]> {
    const out: ([Buffer, Buffer][] | null | RespError)[] = [];
    for (const { key, fields } of reads) {
      try {
        if (!fields) {
          out.push(await this.hashAll(key));
          continue;
        }
        const values = await this.hashGet(key, fields);
        out.push(values && fields.flatMap((f, i) => (values[i] === null ? [] : [[f, values[i]] as [Buffer, Buffer]])));
      } catch (err) {
        if (!(err instanceof RespError)) throw err;
        out.push(err);
      }
    }
    return out;
  }

  /**
   * Many HSETs on distinct keys (merged HSET/HMSET of a batch): each one's count of new fields,
   * or WRONGTYPE. PostgreSQL: one statement for all (see writeMany), keys it could not claim
   * (another type, expired) one by one after it; SQLite: one by one (in-process).
   */
  async hashWriteMany(
    writes: ReadonlyArray<{ key: string; pairs: ReadonlyArray<readonly [Buffer, Buffer]> }>,
  ): Promise<(number | RespError)[]> {
    const one = async (w: (typeof writes)[number]): Promise<number | RespError> => {
      try {
        return await this.hashSet(w.key, w.pairs);
      } catch (err) {
        if (err instanceof RespError) return err;
        throw err;
      }
    };
    if (this.sql.sqlite || writes.length === 1) {
      const out: (number | RespError)[] = [];
      for (const w of writes) out.push(await one(w));
      return out;
    }
    if (this.sql.mariadb) return this.hashWriteManyJson(writes, one);
    const rows: { key: string; i: number; field: Buffer; value: Buffer }[] = [];
    for (const w of writes) lastValues(w.pairs).forEach(([field, value], i) => rows.push({ key: w.key, i: i + 1, field, value }));
    const f = packed(rows.map((r) => r.field));
    const v = packed(rows.map((r) => r.value));
    const result = await this.conn.all(this.sql.writeMany, [
      writes.map((w) => w.key),
      writes.map(() => randomBytes(8)),
      this.now,
      f.bytes,
      v.bytes,
      rows.map((r) => r.key),
      rows.map((r) => r.i),
      f.offsets,
      f.lengths,
      v.offsets,
      v.lengths,
    ]);
    const claimed = new Set<string>();
    const added = new Map<string, number>();
    for (const r of result) {
      const token = r.token as string;
      if (r.kind === 'c') claimed.add(token);
      else if (r.inserted === true) added.set(token, (added.get(token) ?? 0) + 1);
    }
    const out: (number | RespError)[] = [];
    for (const w of writes) {
      if (claimed.has(w.key)) {
        this.modified.add(w.key);
        out.push(added.get(w.key) ?? 0);
      } else {
        out.push(await one(w));
      }
    }
    return out;
  }

  /**
   * hashWriteMany on MariaDB, in five statements whatever the number of keys: claim them all,
   * see which it claimed (their version is ours), read their last seq and how many of the fields
   * they have, write every field. Keys it could not claim go one by one (`one`), after.
   */
  private async hashWriteManyJson(
    writes: ReadonlyArray<{ key: string; pairs: ReadonlyArray<readonly [Buffer, Buffer]> }>,
    one: (w: (typeof writes)[number]) => Promise<number | RespError>,
  ): Promise<(number | RespError)[]> {
    const sql = this.sql.mariadbWriteMany;
    const versions = new Map(writes.map((w) => [w.key, randomBytes(8)]));
    const keyList = this.dialect.keyListParam(writes.map((w) => w.key));
    await this.conn.run(sql.claim, [JSON.stringify(writes.map((w) => [w.key, versions.get(w.key)!.toString('hex')])), this.now]);
    const claimed = new Set<string>();
    for (const r of await this.conn.all(sql.versions, [keyList]))
      if (toBuffer(r.data).equals(versions.get(r.token as string)!)) claimed.add(r.token as string);
    const mine = writes.filter((w) => claimed.has(w.key)).map((w) => ({ key: w.key, pairs: lastValues(w.pairs) }));
    const tops = new Map<string, number>();
    const existing = new Map<string, number>();
    if (mine.length) {
      const fieldRows = mine.flatMap((w) => w.pairs.map(([f]) => [w.key, f.toString('hex')]));
      for (const r of await this.conn.all(sql.tops, [this.dialect.keyListParam(mine.map((w) => w.key))]))
        tops.set(r.token as string, toNumber(r.top));
      for (const r of await this.conn.all(sql.existing, [JSON.stringify(fieldRows)])) existing.set(r.token as string, toNumber(r.n));
      const rows = mine.flatMap((w) =>
        w.pairs.map(([f, v], i) => [w.key, (tops.get(w.key) ?? 0) + i + 1, f.toString('hex'), v.toString('hex')]),
      );
      await this.conn.run(sql.upsert, [JSON.stringify(rows)]);
    }
    const out: (number | RespError)[] = [];
    for (const w of writes) {
      if (claimed.has(w.key)) {
        this.modified.add(w.key);
        out.push(lastValues(w.pairs).length - (existing.get(w.key) ?? 0));
      } else {
        out.push(await one(w));
      }
    }
    return out;
  }

  // ---- sets

  /** Every member; null when the key is absent. */
  async setAll(key: string): Promise<Buffer[] | null> {
    const rows = this.checked(await this.conn.all(this.sql.set.all, [key, this.now]), 'set');
    if (!rows) return null;
    return rows.filter((r) => r.member !== null).map((r) => toBuffer(r.member));
  }

  /** Whether each of `members` is in the set; null when the key is absent. */
  async setHas(key: string, members: readonly Buffer[]): Promise<boolean[] | null> {
    const rows = this.checked(await this.conn.all(this.sql.set.some, [this.binaryList(members), key, this.now]), 'set');
    if (!rows) return null;
    const found = new Set(rows.filter((r) => r.member !== null).map((r) => toBuffer(r.member).toString('latin1')));
    return members.map((m) => found.has(m.toString('latin1')));
  }

  /** Adds members; returns how many were new. */
  async setAdd(key: string, members: readonly Buffer[]): Promise<number> {
    await this.claim(key, 'set');
    const unique = distinct(members);
    if (this.sql.mariadb) {
      const [{ top }] = await this.conn.all(this.sql.set.top, [key]);
      return this.conn.run(this.sql.set.insertJson, [key, toNumber(top), JSON.stringify(unique.map((m) => [m.toString('hex')]))]);
    }
    if (this.sql.sqlite) {
      let added = 0;
      for (const m of unique) added += await this.conn.run(this.sql.set.insert, [key, key, m]);
      return added;
    }
    const p = packed(unique);
    return this.conn.run(this.sql.set.insertMany, [key, key, p.bytes, p.offsets, p.lengths]);
  }

  /** Replaces `key` (any type) with a set of `members`, or deletes it when there are none (SINTERSTORE...). */
  async setReplace(key: string, members: readonly Buffer[]): Promise<void> {
    if ((await this.conn.run(this.sql.deleteKey, [key])) > 0) this.modified.add(key);
    if (members.length) await this.setAdd(key, members);
  }

  // ---- keys of any type

  /**
   * Moves (RENAME) or copies (COPY) a typed key's row and members to `to`, which the caller has
   * made absent; the expiry goes with it.
   */
  async transfer(from: string, to: string, type: MemberType, move: boolean): Promise<void> {
    // A new version: WATCH on `to` compares it.
    await this.conn.run(this.sql.copyKey, [to, randomBytes(8), from]);
    if (move) {
      await this.conn.run(this.sql[type].move, [to, from]);
      await this.conn.run(this.sql.deleteKey, [from]);
      this.modified.add(from);
    } else {
      await this.conn.run(this.sql[type].copy, [to, from]);
    }
    this.modified.add(to);
  }

  /** Deletes up to `limit` fields and members of expired keys (the sweeper's first step); returns how many. */
  async sweepMembers(limit: number): Promise<number> {
    const fields = await this.conn.run(this.sql.sweepHash, [this.now, limit]);
    return fields >= limit ? fields : fields + (await this.conn.run(this.sql.sweepSet, [this.now, limit - fields]));
  }

  /** Deletes a key's row (any type; its members go with it); whether there was a row. */
  async deleteRow(key: string): Promise<boolean> {
    return (await this.conn.run(this.sql.deleteKey, [key])) > 0;
  }
}
