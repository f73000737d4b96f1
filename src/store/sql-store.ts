import type { Engine } from './engine';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Knex } from 'knex';
import { RespError } from '../protocol/errors';
import { dialectOf, type Dialect, type FlushCommits, type PackedRead, type SqlConnection } from './dialect';
import { leaseTable, migrateLatest } from './migrations';
import { plainKeys, plainReads, type Entry, type PlainOp, type ScanPage, type SetOptions, type SetOutcome, type Store } from './store';

/** The SQL text of every store operation, built once per table. */
function statements(table: string, d: Dialect) {
  const t = `"${table}"`;
  const lease = `"${leaseTable(table)}"`;
  const E = d.expiryParam();
  const live = `(expiry IS NULL OR expiry > ${E})`;
  const upsert = `INSERT INTO ${t} (token, data, expiry) VALUES (?, ?, ${E}) ON CONFLICT (token) DO UPDATE SET data = excluded.data, expiry = excluded.expiry`;
  return {
    get: `SELECT data FROM ${t} WHERE token = ? AND ${live}`,
    getMany: `SELECT token, data FROM ${t} WHERE ${d.tokenInList} AND ${live}`,
    getManyPacked: d.packedRead?.sql(t, live) ?? '',
    getEntry: `SELECT data, ${d.expiryMs('expiry')} AS expiry_ms FROM ${t} WHERE token = ? AND ${live}`,
    getEntryForUpdate: `SELECT data, ${d.expiryMs('expiry')} AS expiry_ms FROM ${t} WHERE token = ? AND ${live}${d.forUpdate}`,
    put: upsert,
    // Inserts, or replaces a row that has expired; a live row is left alone (changes = 0).
    putIfAbsent: `${upsert} WHERE ${t}.expiry IS NOT NULL AND ${t}.expiry <= ${E}`,
    setExpiry: `UPDATE ${t} SET expiry = ${E} WHERE token = ? AND ${live}`,
    putMany: d.bulkUpsert?.(table) ?? '',
    setExpiries: d.bulkSetExpiry?.(t, live) ?? '',
    delete: `DELETE FROM ${t} WHERE ${d.tokenInList} RETURNING token, CASE WHEN ${live} THEN 1 ELSE 0 END AS live`,
    liveAmong: `SELECT token FROM ${t} WHERE ${d.tokenInList} AND ${live}`,
    count: `SELECT count(*) AS n FROM ${t} WHERE ${live}`,
    expiryStats: `SELECT count(*) AS n, count(expiry) AS expires, avg(${d.expiryMs('expiry')}) AS avg_expiry FROM ${t} WHERE ${live}`,
    scan: `SELECT ${d.rowId} AS id, token FROM ${t} WHERE ${d.rowId} > ? AND ${live} ORDER BY ${d.rowId} LIMIT ?`,
    scanLike: `SELECT ${d.rowId} AS id, token FROM ${t} WHERE ${d.rowId} > ? AND ${live} AND token LIKE ? ${d.likeEscape} ORDER BY ${d.rowId} LIMIT ?`,
    keys: `SELECT token FROM ${t} WHERE ${live}`,
    keysLike: `SELECT token FROM ${t} WHERE ${live} AND token LIKE ? ${d.likeEscape}`,
    flush: `DELETE FROM ${t}`,
    randomKey: `SELECT token FROM ${t} WHERE ${live} ORDER BY ${d.random} LIMIT 1`,
    persist: `UPDATE ${t} SET expiry = NULL WHERE token = ? AND expiry IS NOT NULL AND expiry > ${E}`,
    take: `DELETE FROM ${t} WHERE token = ? RETURNING data, CASE WHEN ${live} THEN 1 ELSE 0 END AS live`,
    valueLength: `SELECT length(data) AS n FROM ${t} WHERE token = ? AND ${live}`,
    /** The table name, bound into the key lock (see Dialect.lockKey). */
    table,
    // The outer expiry test is not redundant: on PostgreSQL a row that another transaction
    // revived (SET on an expired key) after the subquery chose it is re-checked by it, and kept.
    sweep: `DELETE FROM ${t} WHERE token IN (SELECT token FROM ${t} WHERE expiry <= ${E} LIMIT ?) AND expiry <= ${E}`,
    // The sweeper lease (see Sweeper): taken when absent or run out, renewed by its holder.
    claimLease: `INSERT INTO ${lease} (name, holder, expires_at) VALUES (?, ?, ${d.leaseUntil}) ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at WHERE ${lease}.holder = excluded.holder OR ${lease}.expires_at <= ${d.leaseNow}`,
    leaseHolder: `SELECT holder FROM ${lease} WHERE name = ?`,
    releaseLease: `DELETE FROM ${lease} WHERE name = ? AND holder = ?`,
  };
}
type Statements = ReturnType<typeof statements>;

const toNumber = (v: unknown): number => (typeof v === 'number' ? v : Number(v));
const toBuffer = (v: unknown): Buffer => (Buffer.isBuffer(v) ? v : Buffer.from(v as Uint8Array));

/** Escapes a literal prefix for LIKE ... ESCAPE '\'. */
export function likePrefix(prefix: string): string {
  return prefix.replace(/[\\%_]/g, (c) => `\\${c}`) + '%';
}

/** One step of a batch: one piece of work on its own, or plain operations of one kind merged into one statement. */
type Step = { work: number } | { plain: number[] };

/** Within a span of plain operations, their groups run kind by kind in this order, round after round. */
const KIND_ORDER: Record<PlainOp['kind'], number> = { get: 0, exists: 1, put: 2, expire: 3, delete: 4 };
const KINDS = 5;

/**
 * The order a batch runs in (indices into it). Work that is not plain runs where it stands.
 * Between two such pieces, the plain operations are grouped by kind, each group one
 * statement: an operation joins the first group of its kind that comes after every earlier
 * operation on any of its keys that it does not commute with (all do but two reads).
 * Operations on different keys commute, and on one key a write keeps its place among the
 * reads and writes, so every reply is what running the batch in order would give; 50
 * clients each sending GET and then EXPIRE of their own session make two statements, not 100.
 */
function planBatch(batch: QueuedWork[]): Step[] {
  const steps: Step[] = [];
  let span: number[] = [];
  for (let i = 0; i <= batch.length; i++) {
    if (i < batch.length && batch[i].plain) {
      span.push(i);
      continue;
    }
    if (span.length) steps.push(...planPlainSpan(batch, span));
    span = [];
    if (i < batch.length) steps.push({ work: i });
  }
  return steps;
}

function planPlainSpan(batch: QueuedWork[], span: number[]): Step[] {
  // Groups are numbered as slots: slot % KINDS is the group's kind, slots run in ascending order.
  // A read must follow the key's last write; a write must follow every earlier read and write of it.
  const lastWrite = new Map<string, number>();
  const lastAny = new Map<string, number>();
  const groups = new Map<number, number[]>();
  for (const i of span) {
    const op = batch[i].plain!;
    const keys = plainKeys(op);
    const reads = plainReads(op);
    let after = -1;
    for (const key of keys) after = Math.max(after, (reads ? lastWrite : lastAny).get(key) ?? -1);
    const first = after + 1;
    const slot = first + ((((KIND_ORDER[op.kind] - first) % KINDS) + KINDS) % KINDS);
    for (const key of keys) {
      lastAny.set(key, Math.max(slot, lastAny.get(key) ?? -1));
      if (!reads) lastWrite.set(key, slot);
    }
    const group = groups.get(slot);
    if (group) group.push(i);
    else groups.set(slot, [i]);
  }
  const steps: Step[] = [];
  for (const slot of [...groups.keys()].sort((a, b) => a - b)) steps.push(...cutAtValueBytes(batch, groups.get(slot)!));
  return steps;
}

/** Merged values travel as one parameter: past this, a group of SETs is cut into several statements. */
const MERGED_VALUES_MAX_BYTES = 16 * 1024 * 1024;

function cutAtValueBytes(batch: QueuedWork[], group: number[]): Step[] {
  const steps: Step[] = [];
  let current: number[] = [];
  let bytes = 0;
  for (const i of group) {
    const op = batch[i].plain!;
    const size = op.kind === 'put' ? op.value.length : 0;
    if (current.length && bytes + size > MERGED_VALUES_MAX_BYTES) {
      steps.push({ plain: current });
      current = [];
      bytes = 0;
    }
    current.push(i);
    bytes += size;
  }
  if (current.length) steps.push({ plain: current });
  return steps;
}

/** A plain operation's result, and the keys it changed (for WATCH). */
export interface PlainResult {
  value: Buffer | number | null;
  changed: readonly string[];
}
const UNCHANGED: readonly string[] = [];

/** How many of `keys` are in `live`, a key named twice counting twice (EXISTS). */
function countAmong(live: Set<string>, keys: readonly string[]): number {
  return keys.reduce((n, key) => n + (live.has(key) ? 1 : 0), 0);
}

/** The Store bound to one connection inside one transaction, at one clock reading. */
class SqlStore implements Store {
  readonly modified = new Set<string>();
  flushed = false;

  constructor(
    private readonly conn: SqlConnection,
    private readonly sql: Statements,
    private readonly dialect: Dialect,
    readonly now: number,
  ) {}

  /** Records a key whose live value or expiry a statement changed (`count` rows); true if any. */
  private changed(key: string, count: number): boolean {
    if (count > 0) this.modified.add(key);
    return count > 0;
  }

  async get(key: string): Promise<Buffer | null> {
    const rows = await this.conn.all(this.sql.get, [key, this.now]);
    return rows.length ? toBuffer(rows[0].data) : null;
  }

  async getMany(keys: string[]): Promise<(Buffer | null)[]> {
    const packing = this.dialect.packedRead;
    if (packing) {
      if (keys.length <= packing.maxKeys) return this.getPacked(keys, packing);
      const values: (Buffer | null)[] = [];
      for (let start = 0; start < keys.length; start += packing.maxKeys) {
        values.push(...(await this.getPacked(keys.slice(start, start + packing.maxKeys), packing)));
      }
      return values;
    }
    const rows = await this.conn.all(this.sql.getMany, [this.dialect.keyListParam(keys), this.now]);
    const found = new Map<string, Buffer>();
    for (const row of rows) found.set(row.token as string, toBuffer(row.data));
    return keys.map((k) => found.get(k) ?? null);
  }

  /** Up to maxKeys values in one statement (see PackedRead), cut apart here; null where absent. */
  private async getPacked(keys: string[], packing: PackedRead): Promise<(Buffer | null)[]> {
    const [row] = await this.conn.all(this.sql.getManyPacked, [this.dialect.keyListParam(keys), this.now]);
    const values = new Array<Buffer | null>(keys.length).fill(null);
    const positions = JSON.parse(row.positions as string) as number[];
    const lengths = JSON.parse(row.lengths as string) as number[];
    const packed = row.packed as Buffer | null;
    let offset = 0;
    for (let i = 0; i < positions.length; i++) {
      const length = lengths[i];
      if (length > packing.maxValueBytes) {
        // Left out of the pack: read on its own, in the same transaction and at the same clock.
        values[positions[i]] = await this.get(keys[positions[i]]);
        continue;
      }
      // A view, not a copy: the whole read is one allocation.
      values[positions[i]] = packed!.subarray(offset, offset + length);
      offset += length;
    }
    return values;
  }

  /** Plain operations of one kind, each key at most once, as one statement (see planBatch); each one's result. */
  async runPlain(run: PlainOp[]): Promise<PlainResult[]> {
    const kind = run[0].kind;
    if (kind === 'get') {
      const keys = run.map((op) => (op as PlainOp & { kind: 'get' }).key);
      // One key: the plain statement, cheaper than the list form.
      const values = keys.length === 1 ? [await this.get(keys[0])] : await this.getMany(keys);
      return values.map((value) => ({ value, changed: UNCHANGED }));
    }
    if (kind === 'exists') {
      const ops = run as (PlainOp & { kind: 'exists' })[];
      const live = await this.liveKeys([...new Set(ops.flatMap((op) => op.keys))]);
      return ops.map((op) => ({ value: countAmong(live, op.keys), changed: UNCHANGED }));
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
    await this.conn.run(this.sql.putMany, [values, puts.map((p) => p.key), offsets, puts.map((p) => p.value.length), puts.map((p) => p.expiry)]);
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

  async getEntry(key: string, forUpdate = false): Promise<Entry | null> {
    if (forUpdate && this.dialect.lockKey) await this.conn.all(this.dialect.lockKey, [this.sql.table, key]);
    const rows = await this.conn.all(forUpdate ? this.sql.getEntryForUpdate : this.sql.getEntry, [key, this.now]);
    if (!rows.length) return null;
    const expiry = rows[0].expiry_ms;
    return { value: toBuffer(rows[0].data), expiry: expiry === null ? null : toNumber(expiry) };
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
    const entry = await this.getEntry(key, true);
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
    return new Set(rows.filter((row) => toNumber(row.live) > 0).map((row) => row.token as string));
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
    return { keys, cursor: rows.length < count ? 0 : toNumber(rows[rows.length - 1].id) };
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

  async deleteExpired(limit: number): Promise<number> {
    return this.conn.run(this.sql.sweep, [this.now, limit, this.now]);
  }

  async claimLease(name: string, holder: string, ms: number): Promise<string> {
    if ((await this.conn.run(this.sql.claimLease, [name, holder, ms])) > 0) return holder;
    const rows = await this.conn.all(this.sql.leaseHolder, [name]);
    return String(rows[0].holder);
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.conn.run(this.sql.releaseLease, [name, holder]);
  }

  async randomKey(): Promise<string | null> {
    const rows = await this.conn.all(this.sql.randomKey, [this.now]);
    return rows.length ? (rows[0].token as string) : null;
  }

  async persist(key: string): Promise<boolean> {
    return this.changed(key, await this.conn.run(this.sql.persist, [key, this.now]));
  }

  async take(key: string): Promise<Buffer | null> {
    const rows = await this.conn.all(this.sql.take, [key, this.now]);
    return rows.length && this.changed(key, toNumber(rows[0].live)) ? toBuffer(rows[0].data) : null;
  }

  async valueLength(key: string): Promise<number | null> {
    const rows = await this.conn.all(this.sql.valueLength, [key, this.now]);
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
    const entry = await this.getEntry(from, true);
    if (!entry) return 'missing';
    if (onlyIfAbsent) {
      if (!(await this.putIfAbsent(to, entry.value, entry.expiry))) return 'exists';
    } else {
      await this.put(to, entry.value, entry.expiry);
    }
    await this.delete([from]);
    return 'done';
  }

  async copy(from: string, to: string, replace: boolean): Promise<'missing' | 'exists' | 'done'> {
    const entry = await this.getEntry(from);
    if (!entry) return 'missing';
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

/** One caller's piece of a batch: either `work` or a `plain` operation. */
interface QueuedWork {
  work?: (store: Store) => Promise<unknown>;
  plain?: PlainOp;
  /** It only reads: a batch of only such pieces commits nothing, so it takes no write lock and waits for no flush of its own. */
  readOnly: boolean;
  /** For a plain op: called once its statement has executed, with the keys it changed (see SqlEngine.plain). */
  executed?: (changed: readonly string[]) => void;
  /** When it was queued (performance.now()): its answer is due within the database timeout. */
  since: number;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export interface EngineOptions {
  table: string;
  clock: () => number;
  /**
   * The longest a piece of work waits for the database, queueing included, before it fails
   * with DatabaseTimeoutError. Default 5000 ms.
   */
  timeoutMs?: number;
}

export const DEFAULT_DATABASE_TIMEOUT_MS = 5000;
/** How often BEGIN is retried while another process holds the SQLite write lock. */
const BUSY_RETRY_MS = 20;

/** The database did not answer in time: the reply says it is unavailable, the connection is cut. */
export class DatabaseTimeoutError extends Error {}

/**
 * Holds replies until the flush that makes them durable, where COMMIT does not flush (see
 * FlushCommits). A batch that committed waits for a flush that started after its COMMIT; a
 * read-only batch, which may have read what an earlier batch committed, waits for every
 * earlier commit's flush. One flush at a time; the next covers every commit made meanwhile.
 *
 * When to start the next flush: at once, clients answered by the last flush would miss it
 * (they are still on their way back) and the clients would split into two halves, each half
 * waiting for every other flush. So the next flush waits until as many commands wait as the
 * last cycle carried (the answered ones plus those already waiting), or for half of the last
 * flush's duration at most: a lone client is flushed at once, fifty are flushed together.
 *
 * A failed flush is final, as in PostgreSQL (which stops): after it the disk may have dropped
 * committed pages, so nothing more is acknowledged until a restart recovers from the WAL.
 */
class CommitFlusher {
  private committed = 0;
  private flushed = 0;
  private flushing = false;
  private failure: Error | null = null;
  private waiters: { upTo: number; size: number; resolve: () => void; reject: (err: unknown) => void }[] = [];
  /** Commands waiting in `waiters`. */
  private waiting = 0;
  /** Commands the last cycle carried: the next flush waits for as many (or for `gatherMs`). */
  private target = 1;
  private gatherMs = 0;
  private gatherTimer: NodeJS.Timeout | null = null;
  /** Flushes done, for INFO. */
  flushes = 0;

  constructor(readonly flushCommits: FlushCommits) {}

  /**
   * Resolves once every commit so far (this batch's COMMIT included, if `committed`) is on
   * disk; null if that is already so. `size`: the batch's commands.
   */
  durable(committed: boolean, size = 1): Promise<void> | null {
    if (committed) this.committed++;
    if (this.failure) return Promise.reject(this.failure);
    if (this.flushed >= this.committed) return null;
    return new Promise((resolve, reject) => {
      this.waiters.push({ upTo: this.committed, size, resolve, reject });
      this.waiting += size;
      this.maybeStart();
    });
  }

  private maybeStart(): void {
    if (this.flushing || !this.waiters.length) return;
    if (this.waiting >= this.target || this.gatherMs <= 0) return this.start();
    this.gatherTimer ??= setTimeout(() => this.start(), this.gatherMs);
  }

  private start(): void {
    if (this.gatherTimer) clearTimeout(this.gatherTimer);
    this.gatherTimer = null;
    if (this.flushing) return;
    this.flushing = true;
    const upTo = this.committed;
    const started = performance.now();
    this.flushCommits
      .flush()
      .then(
        () => {
          this.flushed = upTo;
          this.flushes++;
        },
        (err: unknown) => {
          this.failure = new Error(`could not flush the write-ahead log to disk: ${(err as Error).message ?? err}`);
        },
      )
      .finally(() => {
        this.flushing = false;
        this.gatherMs = (performance.now() - started) / 2;
        const cycle = this.waiting;
        const waiting = this.waiters;
        this.waiters = [];
        this.waiting = 0;
        for (const w of waiting) {
          if (this.failure) w.reject(this.failure);
          else if (w.upTo <= this.flushed) w.resolve();
          else {
            this.waiters.push(w);
            this.waiting += w.size;
          }
        }
        this.target = Math.max(1, cycle);
        this.maybeStart();
      });
  }
}

/** A non-command error thrown by one piece of work: the rest of its batch may be retried without it. */
class WorkFailed {
  constructor(readonly error: unknown) {}
}
const unwrap = (err: unknown): unknown => (err instanceof WorkFailed ? err.error : err);

/**
 * Owns the database side: migrations, durability settings per connection, and the
 * group-commit queue. All work submitted while a transaction is in flight goes into the
 * next single transaction; each caller's promise settles only after that COMMIT returns,
 * so a reply is never sent for a write that is not durable.
 */
export class SqlEngine implements Engine {
  readonly dialect: Dialect;
  private readonly sql: Statements;
  private prepared = new WeakSet<object>();
  /** Set when the dialect's COMMIT does not flush (SQLite): replies wait for it. */
  private flusher: CommitFlusher | null = null;
  private pending: QueuedWork[] = [];
  private running = false;
  private idleWaiters: (() => void)[] = [];
  /** Figures for INFO. */
  readonly stats = { transactions: 0, batchedWork: 0, maxBatch: 0, statements: 0, statementErrors: 0, timeouts: 0 };

  /** WAL flushes after COMMIT (see FlushCommits); 0 where COMMIT flushes itself. */
  get walFlushes(): number {
    return this.flusher?.flushes ?? 0;
  }
  /** WAL checkpoints that copied pages back, on their own thread (SQLite); 0 on PostgreSQL. */
  get walCheckpoints(): number {
    return this.flusher?.flushCommits.checkpoints ?? 0;
  }
  /** Sees each committed batch's size (the metrics endpoint's histogram); null when metrics are off. */
  batchObserver: ((size: number) => void) | null = null;

  constructor(
    readonly knex: Knex,
    private readonly options: EngineOptions,
  ) {
    this.dialect = dialectOf(knex);
    this.sql = statements(options.table, this.dialect);
  }

  get backend(): string {
    return this.dialect.name;
  }

  get table(): string {
    return this.options.table;
  }

  get timeoutMs(): number {
    return this.options.timeoutMs ?? DEFAULT_DATABASE_TIMEOUT_MS;
  }

  /** One empty transaction: proves the database can be reached and written (start-up check). */
  async check(): Promise<void> {
    await this.transaction(async () => undefined);
  }

  async migrate(): Promise<void> {
    for (const statement of this.dialect.migrationSetup(this.timeoutMs)) await this.knex.raw(statement);
    await migrateLatest(this.knex, this.options.table, this.dialect);
    // Set up every connection for serving again.
    this.prepared = new WeakSet();
  }

  /**
   * Runs `work` atomically in the next group commit; resolves after COMMIT. `readOnly`: it only
   * reads (a command flagged `readonly`), so a batch of only such work writes nothing.
   */
  transaction<T>(work: (store: Store) => Promise<T>, readOnly = false): Promise<T> {
    return this.enqueue(work, undefined, undefined, readOnly);
  }

  /**
   * A plain operation, merged with the others of its kind in the batch (see planBatch); resolves
   * to its result (see PlainOp) after COMMIT. `executed` runs as soon as its statement has run,
   * in batch order (WATCH needs writes signalled before the next command of the batch runs, not
   * when the reply leaves after the flush).
   */
  plain(op: PlainOp, executed?: (changed: readonly string[]) => void): Promise<Buffer | number | null> {
    return this.enqueue(undefined, op, executed, plainReads(op));
  }

  private enqueue<T>(work: QueuedWork['work'], plain: PlainOp | undefined, executed: QueuedWork['executed'], readOnly: boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      // Every piece has the same fields in the same order: one object shape on the hot path.
      this.pending.push({ work, plain, readOnly, executed, since: performance.now(), resolve: resolve as (v: unknown) => void, reject });
      if (!this.running) {
        this.running = true;
        // Let every connection's data of this I/O turn join the batch.
        setImmediate(() => void this.drain());
      }
    });
  }

  /** After whenIdle, at shutdown: releases what the engine holds open besides the pool (the WAL file). */
  close(): void {
    this.flusher?.flushCommits.close();
    this.flusher = null;
    // Used again after all (a shared Knex pool): set every connection up anew, flusher included.
    this.prepared = new WeakSet();
  }

  /** Resolves when no work is queued or in flight, and every commit is durable. */
  async whenIdle(): Promise<void> {
    if (this.running) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    await this.flusher?.durable(false)?.catch(() => undefined);
  }

  private async drain(): Promise<void> {
    while (this.pending.length) {
      const batch = this.pending;
      this.pending = [];
      // Every caller is answered within the timeout of its arrival: the batch gets its oldest caller's deadline.
      const deadline = batch[0].since + this.timeoutMs;
      try {
        await this.runBatch(batch, deadline);
      } catch (err) {
        if (err instanceof WorkFailed && batch.length > 1) {
          // One piece failed and the batch was rolled back: run each piece alone so the failure is only its own.
          for (const item of batch) await this.runBatch([item], deadline).catch((e) => item.reject(unwrap(e)));
        } else {
          // The database failed (unreachable, too slow, COMMIT lost): every caller gets the error, and
          // nothing is retried, since a lost COMMIT may have committed.
          for (const item of batch) item.reject(unwrap(err));
        }
      }
    }
    this.running = false;
    for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private timeoutError(): DatabaseTimeoutError {
    return new DatabaseTimeoutError(`the database did not answer within ${this.timeoutMs} ms`);
  }

  /**
   * Runs one batch by `deadline`. Past it, its callers get DatabaseTimeoutError at once and its
   * connection is cut, so a hung batch never holds up the queue, and the pool discards the
   * connection rather than reusing it.
   */
  private async runBatch(batch: QueuedWork[], deadline: number): Promise<void> {
    const left = deadline - performance.now();
    if (left <= 0) {
      this.stats.timeouts++;
      throw this.timeoutError();
    }
    const abandon = new AbortController();
    const attempt = this.attempt(batch, deadline, abandon.signal);
    // An abandoned attempt still settles: its statements fail once the connection is cut.
    attempt.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.stats.timeouts++;
        abandon.abort(this.timeoutError());
        reject(abandon.signal.reason);
      }, left);
    });
    try {
      await Promise.race([attempt, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Set-up on a connection's first use, then BEGIN (unless `begin` is null), both retried while
   * another process holds the SQLite write lock: on a timer, since better-sqlite3's own busy
   * wait would block the event loop.
   */
  private async open(raw: object, conn: SqlConnection, begin: string | null, deadline: number, signal: AbortSignal): Promise<void> {
    for (;;) {
      signal.throwIfAborted();
      try {
        if (!this.prepared.has(raw)) {
          const flush = await this.dialect.setUpConnection(raw, conn, this.timeoutMs);
          // SQLite has one connection (one WAL file): a later set-up of it keeps the flusher and its counts.
          if (flush && !this.flusher) this.flusher = new CommitFlusher(flush);
          else flush?.close();
          this.prepared.add(raw);
        }
        if (begin) await conn.run(begin, []);
        return;
      } catch (err) {
        // Give up before the deadline, so that the callers learn why ("database is locked"): a
        // whole retry early, since the sleep's timer may fire late, after the deadline's own.
        if (!this.dialect.isBusy(err) || performance.now() + 2 * BUSY_RETRY_MS >= deadline) throw err;
      }
      await sleep(BUSY_RETRY_MS);
    }
  }

  private async attempt(batch: QueuedWork[], deadline: number, signal: AbortSignal): Promise<void> {
    const client = this.knex.client as { acquireConnection(): Promise<object>; releaseConnection(c: object): Promise<void> };
    const raw = await client.acquireConnection();
    const cut = () => this.dialect.abort(raw);
    signal.addEventListener('abort', cut);
    try {
      const conn = this.counted(this.dialect.wrap(raw));
      const steps = planBatch(batch);
      // Plain reads need no transaction: each statement reads what is committed when it starts,
      // which is all that came before it. Where the dialect allows, neither does one statement of
      // plain writes among them (it commits on its own: one commit, as with BEGIN and COMMIT, and
      // two round trips fewer). Two or more writing statements share one commit.
      const plainOnly = steps.every((step) => 'plain' in step);
      const writes = steps.filter((step) => 'plain' in step && !plainReads(batch[step.plain[0]].plain!)).length;
      const readOnly = batch.every((item) => item.readOnly);
      const autocommit = plainOnly && (writes === 0 || (writes === 1 && this.dialect.autocommitOneStatement));
      await this.open(raw, conn, autocommit ? null : readOnly ? this.dialect.beginRead : this.dialect.begin, deadline, signal);
      const outcomes = new Array<{ ok: boolean; value: unknown }>(batch.length);
      try {
        for (const step of steps) {
          const store = new SqlStore(conn, this.sql, this.dialect, this.options.clock());
          if ('plain' in step) {
            let results: PlainResult[];
            try {
              results = await store.runPlain(step.plain.map((i) => batch[i].plain!));
            } catch (err) {
              // In a transaction, one operation alone may be retried alone (the rest rolled back);
              // a merged statement's failure is everyone's, and so is any without a transaction,
              // where an earlier statement may have committed.
              throw step.plain.length === 1 && !autocommit ? new WorkFailed(err) : err;
            }
            step.plain.forEach((i, j) => {
              outcomes[i] = { ok: true, value: results[j].value };
              batch[i].executed?.(results[j].changed);
            });
            continue;
          }
          try {
            outcomes[step.work] = { ok: true, value: await batch[step.work].work!(store) };
          } catch (err) {
            // A command's own error (wrong type, syntax...) does not abort the others.
            if (!(err instanceof RespError)) throw new WorkFailed(err);
            outcomes[step.work] = { ok: false, value: err };
          }
        }
        // Past the deadline its callers have their error already: it must not commit.
        signal.throwIfAborted();
        if (!autocommit) await conn.run('COMMIT', []);
      } catch (err) {
        if (!autocommit) await conn.run('ROLLBACK', []).catch(() => undefined);
        throw err;
      }
      this.stats.transactions++;
      this.stats.batchedWork += batch.length;
      this.stats.maxBatch = Math.max(this.stats.maxBatch, batch.length);
      this.batchObserver?.(batch.length);
      const answer = () => batch.forEach((item, i) => (outcomes[i].ok ? item.resolve(outcomes[i].value) : item.reject(outcomes[i].value)));
      // The next batch may run while this one waits for its flush: the disk and the event loop work side by side.
      const durable = this.flusher?.durable(!readOnly, batch.length);
      if (durable) this.untilDeadline(durable, deadline).then(answer, (err) => batch.forEach((item) => item.reject(err)));
      else answer();
    } finally {
      signal.removeEventListener('abort', cut);
      await client.releaseConnection(raw);
    }
  }

  /** A batch's wait for its flush, failing with DatabaseTimeoutError past the batch's deadline. */
  private untilDeadline(durable: Promise<void>, deadline: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.stats.timeouts++;
        reject(this.timeoutError());
      }, Math.max(0, deadline - performance.now()));
    });
    return Promise.race([durable, expired]).finally(() => clearTimeout(timer));
  }

  /** Every statement of the store goes through here: the one place round trips and their failures are counted. */
  private counted(conn: SqlConnection): SqlConnection {
    const stats = this.stats;
    const failed = (err: unknown): never => {
      stats.statementErrors++;
      throw err;
    };
    return {
      all(sql, params) {
        stats.statements++;
        return conn.all(sql, params).catch(failed);
      },
      run(sql, params) {
        stats.statements++;
        return conn.run(sql, params).catch(failed);
      },
    };
  }

  /** Deletes up to `limit` expired rows in one transaction; returns how many. */
  async sweepBatch(limit: number): Promise<number> {
    const work = (store: Store) => store.deleteExpired(limit);
    if (!this.dialect.sideConnections) return this.transaction(work);
    // Beside the group commit, on a connection of its own: a long DELETE does not delay the clients' batches.
    return new Promise<number>((resolve, reject) => {
      const item: QueuedWork = { work, plain: undefined, readOnly: false, executed: undefined, since: performance.now(), resolve: resolve as (v: unknown) => void, reject };
      this.runBatch([item], item.since + this.timeoutMs).catch((err) => reject(unwrap(err)));
    });
  }

  /** Store.claimLease in its own piece of a group commit. */
  claimLease(name: string, holder: string, ms: number): Promise<string> {
    return this.transaction((store) => store.claimLease(name, holder, ms));
  }

  releaseLease(name: string, holder: string): Promise<void> {
    return this.transaction((store) => store.releaseLease(name, holder));
  }
}
