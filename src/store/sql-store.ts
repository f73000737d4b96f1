/**
 * The Store over SQL, bound to one transaction: each operation is one or a few of the
 * statements in statements.ts; runPlain runs a group of plain operations the planner merged.
 */
import type { Dialect, PackedRead, SqlConnection } from './dialect';
import type { ExpiredKeys } from './expired-keys';
import { likePrefix, type Statements } from './statements';
import type { Entry, PlainOp, ScanPage, SetOptions, SetOutcome, Store } from './store';
import { RespError } from '../protocol/errors';
import { OK, type Reply } from '../protocol/reply';
import { hashReadReply, keyTypeOf, TypedStore, wrongType } from './typed-store';
import { sqlScriptTable, type ScriptTable } from './scripts';
import { MissingDatabase, SWAP_SCRATCH, swapStatements, transferStatements } from './databases';
import { randomBytes } from 'node:crypto';

const toNumber = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const toBuffer = (v: unknown): Buffer => (Buffer.isBuffer(v) ? v : Buffer.from(v as Uint8Array));

/** A plain operation's result, and the keys it changed (for WATCH). */
export interface PlainResult {
  /** A RespError for a key of another type (GET of a hash); a hash read's reply as it goes to the client. */
  value: Reply;
  changed: readonly string[];
}
const UNCHANGED: readonly string[] = [];

/** How many of `keys` are in `live`, a key named twice counting twice (EXISTS). */
function countAmong(live: Set<string>, keys: readonly string[]): number {
  return keys.reduce((n, key) => n + (live.has(key) ? 1 : 0), 0);
}

/** What the engine tells a store of the numbered databases (see databases.ts). */
export interface Databases {
  /** The sessions table's name (database 0's). */
  readonly table: string;
  /** A database's statements, or null when this instance has not made sure of its tables. */
  statementsOf(db: number): Statements | null;
  /** The registry says these databases' tables exist. */
  found(dbs: readonly number[]): void;
}

/** The Store bound to one connection inside one transaction, at one clock reading. */
export class SqlStore implements Store {
  readonly modified = new Set<string>();
  flushed = false;
  /** The stores of this transaction by database, once one reached another database. */
  private family: Map<number, SqlStore> | null = null;

  constructor(
    private readonly conn: SqlConnection,
    private readonly sql: Statements,
    private readonly dialect: Dialect,
    readonly now: number,
    /** Counts the expired rows this store's reads and deletes come across. */
    private readonly expired: ExpiredKeys,
    readonly db = 0,
    private readonly dbs: Databases | null = null,
  ) {}

  database(db: number): SqlStore {
    if (db === this.db) return this;
    if (!this.family) this.family = new Map([[this.db, this]]);
    let store = this.family.get(db);
    if (store) return store;
    const sql = this.dbs?.statementsOf(db);
    if (!sql) throw new MissingDatabase(db);
    store = new SqlStore(this.conn, sql, this.dialect, this.now, this.expired, db, this.dbs);
    store.family = this.family;
    this.family.set(db, store);
    return store;
  }

  get used(): readonly SqlStore[] {
    return this.family ? [...this.family.values()] : [this];
  }

  async databases(): Promise<number[]> {
    const rows = await this.conn.all(this.sql.databases, []);
    const found = rows.map((row) => toNumber(row.db));
    this.dbs?.found(found);
    return [0, ...found];
  }

  async transfer(target: Store, from: string, to: string, replace: boolean, move: boolean): Promise<'missing' | 'exists' | 'done'> {
    const dst = target as SqlStore;
    const entry = await this.getEntry(from, true, true);
    if (!entry) return 'missing';
    if (this.dialect.lockKey) await this.conn.all(this.dialect.lockKey, [dst.sql.table, to]);
    if (!replace && (await dst.countExisting([to])) > 0) return 'exists';
    // Whatever is there goes, an expired row included (its fields and members with it).
    await dst.typed.deleteRow(to);
    const sql = transferStatements(this.sql.table, dst.sql.table);
    const typed = entry.type === 'hash' || entry.type === 'set' ? entry.type : null;
    await this.conn.run(sql.key, [to, typed ? randomBytes(8) : null, from]);
    if (typed) await this.conn.run(sql[typed], [to, from]);
    dst.modified.add(to);
    if (move) await this.delete([from]);
    return 'done';
  }

  async swap(other: Store): Promise<void> {
    const b = other as SqlStore;
    // The scratch tables, created the first time (see MissingDatabase).
    this.database(SWAP_SCRATCH);
    for (const statement of swapStatements(this.dbs!.table, this.db, b.db, this.dialect)) {
      if (statement.startsWith('SELECT')) await this.conn.all(statement, []);
      else await this.conn.run(statement, []);
    }
    // As FLUSHDB for WATCH: every watched key that was there is touched (Redis's touchAllWatchedKeysInDb).
    this.flushed = true;
    b.flushed = true;
  }

  /** A command found `key`'s row expired (INFO expired_keys). */
  private found(key: string, expiry: number): void {
    this.expired.found(key, expiry, this.db);
  }

  /** Records a key whose live value or expiry a statement changed (`count` rows); true if any. */
  private changed(key: string, count: number): boolean {
    if (count > 0) this.modified.add(key);
    return count > 0;
  }

  private typedStore: TypedStore | undefined;
  get typed(): TypedStore {
    return (this.typedStore ??= new TypedStore(this.conn, this.sql.typed, this.dialect, this.now, this.modified));
  }

  async get(key: string): Promise<Buffer | null> {
    const value = await this.readOne(key);
    if (value instanceof RespError) throw value;
    return value;
  }

  /** A string's value, null when absent, WRONGTYPE (returned, not thrown) for another type: the merged GET answers each key apart. */
  private async readOne(key: string): Promise<Buffer | null | RespError> {
    const rows = await this.conn.all(this.sql.get, [this.now, key]);
    if (!rows.length) return null;
    if (rows[0].data === null) {
      this.found(key, toNumber(rows[0].expiry_ms));
      return null;
    }
    return rows[0].type === null ? toBuffer(rows[0].data) : wrongType();
  }

  /** MGET: a key of another type is WRONGTYPE here (found: a read lookup's hit), null in MGET's reply. */
  getMany(keys: string[]): Promise<(Buffer | null | RespError)[]> {
    return this.readMany(keys);
  }

  private async readMany(keys: string[]): Promise<(Buffer | null | RespError)[]> {
    const packing = this.dialect.packedRead;
    if (packing) {
      if (keys.length <= packing.maxKeys) return this.getPacked(keys, packing);
      const values: (Buffer | null | RespError)[] = [];
      for (let start = 0; start < keys.length; start += packing.maxKeys) {
        values.push(...(await this.getPacked(keys.slice(start, start + packing.maxKeys), packing)));
      }
      return values;
    }
    const rows = await this.conn.all(this.sql.getMany, [this.now, this.dialect.keyListParam(keys)]);
    const found = new Map<string, Buffer | RespError>();
    for (const row of rows) {
      if (row.data === null) this.found(row.token as string, toNumber(row.expiry_ms));
      else found.set(row.token as string, row.type === null ? toBuffer(row.data) : wrongType());
    }
    return keys.map((k) => found.get(k) ?? null);
  }

  /** Up to maxKeys values in one statement (see PackedRead), cut apart here; null where absent. */
  private async getPacked(keys: string[], packing: PackedRead): Promise<(Buffer | null | RespError)[]> {
    const [row] = await this.conn.all(this.sql.getManyPacked, [this.dialect.keyListParam(keys), this.now]);
    const values = new Array<Buffer | null | RespError>(keys.length).fill(null);
    const positions = JSON.parse(row.positions as string) as number[];
    const lengths = JSON.parse(row.lengths as string) as number[];
    const types = JSON.parse(row.types as string) as (string | null)[];
    const packed = row.packed as Buffer | null;
    let offset = 0;
    for (let i = 0; i < positions.length; i++) {
      const length = lengths[i];
      if (length > packing.maxValueBytes) {
        // Left out of the pack: read on its own, in the same transaction and at the same clock.
        values[positions[i]] = await this.readOne(keys[positions[i]]);
        continue;
      }
      // A view, not a copy: the whole read is one allocation.
      values[positions[i]] = types[i] === null ? packed!.subarray(offset, offset + length) : wrongType();
      offset += length;
    }
    if (positions.length < keys.length) {
      // Some missed: which of them are expired rows (counted), not absent ones.
      const missed = keys.filter((_, i) => values[i] === null);
      for (const r of await this.conn.all(this.sql.expiredAmong, [this.dialect.keyListParam(missed), this.now]))
        this.found(r.token as string, toNumber(r.expiry_ms));
    }
    return values;
  }

  /** Plain operations of one kind, each key at most once, as one statement (see planBatch); each one's result. */
  async runPlain(run: PlainOp[]): Promise<PlainResult[]> {
    const kind = run[0].kind;
    if (kind === 'get') {
      const keys = run.map((op) => (op as PlainOp & { kind: 'get' }).key);
      // One key: the plain statement, cheaper than the list form.
      const values = keys.length === 1 ? [await this.readOne(keys[0])] : await this.readMany(keys);
      return values.map((value) => ({ value, changed: UNCHANGED }));
    }
    if (kind === 'exists') {
      const ops = run as (PlainOp & { kind: 'exists' })[];
      const live = await this.liveKeys([...new Set(ops.flatMap((op) => op.keys))]);
      return ops.map((op) => ({ value: countAmong(live, op.keys), changed: UNCHANGED }));
    }
    if (kind === 'hread') {
      const ops = run as (PlainOp & { kind: 'hread' })[];
      const found = await this.typed.hashReadMany(ops);
      return ops.map((op, i) => {
        op.found = found[i] !== null;
        return { value: hashReadReply(op, found[i]), changed: UNCHANGED };
      });
    }
    if (kind === 'hwrite') {
      const ops = run as (PlainOp & { kind: 'hwrite' })[];
      const written = await this.typed.hashWriteMany(ops);
      return ops.map((op, i) => {
        const w = written[i];
        if (w instanceof RespError) return { value: w, changed: UNCHANGED };
        return { value: op.ok ? OK : w, changed: [op.key] };
      });
    }
    if (kind === 'put') {
      await this.putAll(run as (PlainOp & { kind: 'put' })[]);
      return run.map((op) => ({ value: null, changed: [(op as PlainOp & { kind: 'put' }).key] }));
    }
    if (kind === 'expire') {
      const ops = run as (PlainOp & { kind: 'expire' })[];
      const found = await this.setExpiries(ops);
      return ops.map((op) => (found.has(op.key) ? { value: 1, changed: [op.key] } : { value: 0, changed: UNCHANGED }));
    }
    const ops = run as (PlainOp & { kind: 'delete' })[];
    const deleted = await this.deleteLive([...new Set(ops.flatMap((op) => op.keys))]);
    // A key deleted counts for the first operation that names it, as if they ran one by one.
    return ops.map((op) => {
      const changed = [...new Set(op.keys)].filter((key) => deleted.delete(key));
      return { value: changed.length, changed };
    });
  }

  private async putAll(puts: (PlainOp & { kind: 'put' })[]): Promise<void> {
    if (!this.sql.putMany || puts.length === 1) {
      for (const p of puts) await this.put(p.key, p.value, p.expiry);
      return;
    }
    const offsets: number[] = [];
    let next = 1; // SQL's substring counts from 1
    for (const p of puts) {
      offsets.push(next);
      next += p.value.length;
    }
    const values = Buffer.concat(puts.map((p) => p.value));
    const keys = puts.map((p) => p.key);
    const lengths = puts.map((p) => p.value.length);
    const expiries = puts.map((p) => p.expiry);
    await this.conn.run(
      this.sql.putMany,
      this.dialect.bulkUpsertParams?.(values, keys, offsets, lengths, expiries) ?? [values, keys, offsets, lengths, expiries],
    );
  }

  /** New expiries for live keys; returns the keys that were live. */
  private async setExpiries(ops: (PlainOp & { kind: 'expire' })[]): Promise<Set<string>> {
    if (!this.sql.setExpiries || ops.length === 1) {
      const found = new Set<string>();
      for (const op of ops) if (await this.setExpiry(op.key, op.expiry)) found.add(op.key);
      return found;
    }
    const rows = await this.conn.all(this.sql.setExpiries, [ops.map((op) => op.key), ops.map((op) => op.expiry), this.now]);
    return new Set(rows.map((row) => row.token as string));
  }

  async getEntry(key: string, forUpdate = false, anyType = false): Promise<Entry | null> {
    if (forUpdate && this.dialect.lockKey) await this.conn.all(this.dialect.lockKey, [this.sql.table, key]);
    const rows = await this.conn.all(forUpdate ? this.sql.getEntryForUpdate : this.sql.getEntry, [key, this.now]);
    if (!rows.length) return null;
    if (!anyType && rows[0].type !== null) throw wrongType();
    const expiry = rows[0].expiry_ms;
    return { value: toBuffer(rows[0].data), expiry: expiry === null ? null : toNumber(expiry), type: keyTypeOf(rows[0].type) };
  }

  async put(key: string, value: Buffer, expiry: number | null): Promise<void> {
    await this.conn.run(this.sql.put, [key, value, expiry]);
    this.modified.add(key);
  }

  private async putIfAbsent(key: string, value: Buffer, expiry: number | null): Promise<boolean> {
    return this.changed(key, await this.conn.run(this.sql.putIfAbsent, [key, value, expiry, this.now]));
  }

  async set(key: string, value: Buffer, o: SetOptions): Promise<SetOutcome> {
    // The common cases are one statement each.
    if (!o.keepTtl && !o.returnPrevious) {
      if (!o.condition) {
        await this.put(key, value, o.expiry);
        return { written: true };
      }
      if (o.condition === 'NX') return { written: await this.putIfAbsent(key, value, o.expiry) };
    }
    // SET replaces a key of any type; only SET ... GET needs a string there.
    const entry = await this.getEntry(key, true, true);
    if (o.returnPrevious && entry && entry.type !== 'string') throw wrongType();
    const previous = entry ? entry.value : null;
    const result = (written: boolean): SetOutcome => (o.returnPrevious ? { written, previous } : { written });
    if ((o.condition === 'NX' && entry) || (o.condition === 'XX' && !entry)) return result(false);
    const expiry = o.keepTtl ? (entry?.expiry ?? null) : o.expiry;
    if (o.condition === 'NX') return result(await this.putIfAbsent(key, value, expiry));
    await this.put(key, value, expiry);
    return result(true);
  }

  async setExpiry(key: string, expiry: number | null): Promise<boolean> {
    return this.changed(key, await this.conn.run(this.sql.setExpiry, [expiry, key, this.now]));
  }

  async delete(keys: string[]): Promise<number> {
    const deleted = await this.deleteLive(keys);
    for (const key of deleted) this.modified.add(key);
    return deleted.size;
  }

  /** Deletes the rows of `keys`; returns the keys that were live (an expired row goes too, but was not there). */
  private async deleteLive(keys: readonly string[]): Promise<Set<string>> {
    const rows = await this.conn.all(this.sql.delete, [this.dialect.keyListParam(keys), this.now]);
    const live = new Set<string>();
    for (const row of rows) {
      if (toNumber(row.live) > 0) live.add(row.token as string);
      else this.found(row.token as string, toNumber(row.expiry_ms));
    }
    return live;
  }

  async countExisting(keys: string[]): Promise<number> {
    return countAmong(await this.liveKeys(keys), keys);
  }

  /** The keys among `keys` that are live. */
  private async liveKeys(keys: readonly string[]): Promise<Set<string>> {
    const rows = await this.conn.all(this.sql.liveAmong, [this.dialect.keyListParam(keys), this.now]);
    return new Set(rows.map((row) => row.token as string));
  }

  async count(): Promise<number> {
    const rows = await this.conn.all(this.sql.count, [this.now]);
    return toNumber(rows[0].n);
  }

  async expiryStats(): Promise<{ keys: number; expires: number; avgTtl: number }> {
    const [row] = await this.conn.all(this.sql.expiryStats, [this.now]);
    const expires = toNumber(row.expires);
    const avgTtl = expires ? Math.max(0, Math.round(toNumber(row.avg_expiry) - this.now)) : 0;
    return { keys: toNumber(row.n), expires, avgTtl };
  }

  async scan(cursor: number, count: number, prefix?: string): Promise<ScanPage> {
    const rows = prefix
      ? await this.conn.all(this.sql.scanLike, [cursor, this.now, likePrefix(prefix), count])
      : await this.conn.all(this.sql.scan, [cursor, this.now, count]);
    const keys = rows.map((r) => Buffer.from(r.token as string, 'utf8'));
    const types = rows.map((r) => keyTypeOf(r.type));
    return { keys, types, cursor: rows.length < count ? 0 : toNumber(rows[rows.length - 1].id) };
  }

  async allKeys(prefix?: string): Promise<Buffer[]> {
    const rows = prefix
      ? await this.conn.all(this.sql.keysLike, [this.now, likePrefix(prefix)])
      : await this.conn.all(this.sql.keys, [this.now]);
    return rows.map((r) => Buffer.from(r.token as string, 'utf8'));
  }

  async flush(): Promise<void> {
    await this.conn.run(this.sql.flush, []);
    this.flushed = true;
  }

  async deleteExpired(limit: number): Promise<{ swept: { key: string; expiry: number }[]; full: boolean }> {
    // Fields and members of expired hashes and sets first, so that no batch deletes more than `limit` rows of them;
    // a key row goes once nothing of it is left (see statements.sweep).
    if ((await this.typed.sweepMembers(limit)) >= limit) return { swept: [], full: true };
    const rows = await this.conn.all(this.sql.sweep, [this.now, limit, this.now]);
    return { swept: rows.map((row) => ({ key: row.token as string, expiry: toNumber(row.expiry_ms) })), full: rows.length >= limit };
  }

  async takeExpired(limit: number): Promise<string[]> {
    const rows = await this.conn.all(this.sql.takeExpired, [this.now, limit, this.now]);
    // RETURNING has no order of its own: in the order they expired.
    return rows.sort((a, b) => toNumber(a.expiry_ms) - toNumber(b.expiry_ms)).map((row) => row.token as string);
  }

  async claimLease(name: string, holder: string, ms: number): Promise<string> {
    if ((await this.conn.run(this.sql.claimLease, [name, holder, ms])) > 0) return holder;
    const rows = await this.conn.all(this.sql.leaseHolder, [name]);
    return String(rows[0].holder);
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.conn.run(this.sql.releaseLease, [name, holder]);
  }

  // The script cache and function libraries (src/store/scripts.ts), in this transaction.
  private scriptTable: ScriptTable | null = null;
  private get scripts(): ScriptTable {
    return (this.scriptTable ??= sqlScriptTable(this.conn, this.sql.scripts));
  }
  getScript(sha: string) {
    return this.scripts.getScript(sha);
  }
  putScript(sha: string, body: Buffer) {
    return this.scripts.putScript(sha, body);
  }
  hasScripts(shas: string[]) {
    return this.scripts.hasScripts(shas);
  }
  flushScripts() {
    return this.scripts.flushScripts();
  }
  libraries() {
    return this.scripts.libraries();
  }
  putLibrary(name: string, code: Buffer) {
    return this.scripts.putLibrary(name, code);
  }
  deleteLibrary(name: string) {
    return this.scripts.deleteLibrary(name);
  }
  flushLibraries() {
    return this.scripts.flushLibraries();
  }

  async randomKey(): Promise<string | null> {
    const rows = await this.conn.all(this.sql.randomKey, [this.now]);
    return rows.length ? (rows[0].token as string) : null;
  }

  async persist(key: string): Promise<boolean> {
    return this.changed(key, await this.conn.run(this.sql.persist, [key, this.now]));
  }

  async take(key: string): Promise<Buffer | null> {
    const rows = await this.conn.all(this.sql.take, [key, this.now, this.now]);
    if (!rows.length && (await this.typed.keyType(key)) !== null) throw wrongType();
    if (rows.length && !toNumber(rows[0].live)) this.found(key, toNumber(rows[0].expiry_ms));
    return rows.length && this.changed(key, toNumber(rows[0].live)) ? toBuffer(rows[0].data) : null;
  }

  async valueLength(key: string): Promise<number | null> {
    const rows = await this.conn.all(this.sql.valueLength, [key, this.now]);
    if (rows.length && rows[0].type !== null) throw wrongType();
    return rows.length ? toNumber(rows[0].n) : null;
  }

  async putMany(entries: ReadonlyArray<readonly [string, Buffer]>): Promise<void> {
    for (const [key, value] of lastWins(entries)) await this.put(key, value, null);
  }

  async putManyIfAbsent(entries: ReadonlyArray<readonly [string, Buffer]>): Promise<boolean> {
    const unique = lastWins(entries);
    // Lock the names in one order (no deadlock between instances), then check and write.
    if (this.dialect.lockKey) for (const key of [...unique.keys()].sort()) await this.conn.all(this.dialect.lockKey, [this.sql.table, key]);
    if ((await this.countExisting([...unique.keys()])) > 0) return false;
    for (const [key, value] of unique) {
      // Another instance created the key after our check: roll back and let the engine retry.
      if (!(await this.putIfAbsent(key, value, null))) throw new Error(`concurrent write to '${key}' during MSETNX`);
    }
    return true;
  }

  async rename(from: string, to: string, onlyIfAbsent: boolean): Promise<'missing' | 'exists' | 'done'> {
    const entry = await this.getEntry(from, true, true);
    if (!entry) return 'missing';
    if (entry.type && entry.type !== 'string') {
      if (onlyIfAbsent && (await this.countExisting([to])) > 0) return 'exists';
      if (await this.typed.deleteRow(to)) this.modified.add(to);
      await this.typed.transfer(from, to, entry.type, true);
      return 'done';
    }
    if (onlyIfAbsent) {
      if (!(await this.putIfAbsent(to, entry.value, entry.expiry))) return 'exists';
    } else {
      await this.put(to, entry.value, entry.expiry);
    }
    await this.delete([from]);
    return 'done';
  }

  async copy(from: string, to: string, replace: boolean): Promise<'missing' | 'exists' | 'done'> {
    const entry = await this.getEntry(from, false, true);
    if (!entry) return 'missing';
    if (entry.type && entry.type !== 'string') {
      if (!replace && (await this.countExisting([to])) > 0) return 'exists';
      if (await this.typed.deleteRow(to)) this.modified.add(to);
      await this.typed.transfer(from, to, entry.type, false);
      return 'done';
    }
    if (replace) await this.put(to, entry.value, entry.expiry);
    else if (!(await this.putIfAbsent(to, entry.value, entry.expiry))) return 'exists';
    return 'done';
  }
}

/** Pairs by key in first-seen order, each key with its last value. */
function lastWins(entries: ReadonlyArray<readonly [string, Buffer]>): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [key, value] of entries) out.set(key, value);
  return out;
}
