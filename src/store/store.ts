import type { RespError } from '../protocol/errors';
import type { KeyType, TypedStore } from './typed-store';
import type { ScriptTable } from './scripts';

/**
 * The storage interface, shaped like the operations commands need, not like tables.
 * Every method runs inside the caller's transaction (see SqlEngine.transaction) and
 * treats a row whose expiry has passed (expiry <= now) as absent.
 * Times are Unix epoch milliseconds; `expiry: null` means no TTL.
 */
export interface Entry {
  value: Buffer;
  expiry: number | null;
  /** What the key holds (see typed-store.ts); a hash's or set's `value` is its version, changed by every write. */
  type?: KeyType;
}

export interface SetOptions {
  /** Absolute expiry to write; null = no TTL. Ignored when keepTtl. */
  expiry: number | null;
  keepTtl?: boolean;
  /** NX: only when absent; XX: only when present. */
  condition?: 'NX' | 'XX';
  /** Return the previous value (SET ... GET). */
  returnPrevious?: boolean;
}

export interface SetOutcome {
  written: boolean;
  /** Present when returnPrevious was asked: the value before the command (null if absent). */
  previous?: Buffer | null;
}

export interface ScanPage {
  keys: Buffer[];
  /** Each key's type, in the order of `keys`. */
  types: KeyType[];
  /** 0 when the iteration is complete. */
  cursor: number;
}

export interface Store extends ScriptTable {
  /** The clock of this transaction (ms); one reading per command batch item. */
  readonly now: number;
  /** The database (SELECT's number) this store reads and writes. */
  readonly db: number;
  /**
   * This transaction on database `db` (this store when it is its own): MOVE, COPY ... DB, SWAPDB,
   * FLUSHALL, a SELECT inside MULTI or a script. Throws MissingDatabase (see databases.ts) when
   * this instance has not made sure of its tables yet: the engine creates them and runs the batch again.
   */
  database(db: number): Store;
  /** Every database's store this transaction used, this one included (WATCH signals). */
  readonly used: readonly Store[];
  /** The databases whose tables exist, 0 first (FLUSHALL, INFO keyspace); they can then be used. */
  databases(): Promise<number[]>;
  /**
   * Copies `from` (value, type, expiry) to `to` in the other database `target` (COPY ... DB),
   * replacing it only if `replace`; with `move`, deletes `from` here (MOVE).
   */
  transfer(target: Store, from: string, to: string, replace: boolean, move: boolean): Promise<'missing' | 'exists' | 'done'>;
  /** Swaps every key of this database with those of `other` (SWAPDB). */
  swap(other: Store): Promise<void>;
  /**
   * Keys whose live value or expiry this store's writes changed (a write that changed
   * nothing, like SET NX on a live key, is not here): what invalidates WATCH.
   */
  readonly modified: ReadonlySet<string>;
  /** Whether flush() ran. */
  readonly flushed: boolean;
  get(key: string): Promise<Buffer | null>;
  /** Strings' values, null where absent, WRONGTYPE (returned) for another type: MGET answers it null, but it was found. */
  getMany(keys: string[]): Promise<(Buffer | null | RespError)[]>;
  /**
   * Value and expiry; with forUpdate, the row is locked for the rest of the transaction. A key
   * that is not a string is WRONGTYPE, unless `anyType` (TTL, WATCH: what the key row says).
   */
  getEntry(key: string, forUpdate?: boolean, anyType?: boolean): Promise<Entry | null>;
  /** Hashes, sets and the type of any key, in the same transaction. */
  readonly typed: TypedStore;
  /** SET with all its options, as one operation. */
  set(key: string, value: Buffer, options: SetOptions): Promise<SetOutcome>;
  /** Unconditional write of value and expiry. */
  put(key: string, value: Buffer, expiry: number | null): Promise<void>;
  /** Changes the expiry of a live key; false if the key is absent. */
  setExpiry(key: string, expiry: number | null): Promise<boolean>;
  /** Deletes keys; returns how many of them were live. */
  delete(keys: string[]): Promise<number>;
  /** How many of the keys are live, counting repeats (EXISTS semantics). */
  countExisting(keys: string[]): Promise<number>;
  /** Live keys in the table. */
  count(): Promise<number>;
  /** Live keys with an expiry, and the sum of their remaining ms (INFO keyspace). */
  expiryStats(): Promise<{ keys: number; expires: number; avgTtl: number }>;
  /**
   * One page of SCAN: rows with id > cursor, in id order, at most `count` rows examined.
   * `likePrefix` narrows the SQL side; callers still apply the exact glob.
   */
  scan(cursor: number, count: number, likePrefix?: string): Promise<ScanPage>;
  /** Every live key, optionally narrowed by a literal prefix (KEYS). */
  allKeys(prefix?: string): Promise<Buffer[]>;
  /** Deletes everything in this database (FLUSHDB). */
  flush(): Promise<void>;
  /** Deletes up to `limit` expired rows (the sweeper's garbage collection); returns their keys and expiries. */
  deleteExpired(limit: number): Promise<{ swept: { key: string; expiry: number }[]; full: boolean }>;
  /** Deletes up to `limit` expired rows, those that expired first; returns their keys (`expired` events). */
  takeExpired(limit: number): Promise<string[]>;
  /**
   * Takes the named lease for `holder` for `ms` by the database's clock when it is absent,
   * run out or already `holder`'s; returns who holds it afterwards (the sweeper's lease).
   */
  claimLease(name: string, holder: string, ms: number): Promise<string>;
  /** Gives the named lease up if `holder` has it. */
  releaseLease(name: string, holder: string): Promise<void>;
  /** A random live key or null (RANDOMKEY). */
  randomKey(): Promise<string | null>;
  /** Removes the expiry of a live key; false if the key is absent or has none (PERSIST). */
  persist(key: string): Promise<boolean>;
  /** Deletes a key, returning its value if it was live (GETDEL). */
  take(key: string): Promise<Buffer | null>;
  /** Byte length of a live key's value, or null when absent (STRLEN). */
  valueLength(key: string): Promise<number | null>;
  /** Writes every pair without TTL; of repeated keys the last pair wins (MSET). */
  putMany(entries: ReadonlyArray<readonly [string, Buffer]>): Promise<void>;
  /** Writes every pair without TTL only if none of the keys is live (MSETNX); returns whether it wrote. */
  putManyIfAbsent(entries: ReadonlyArray<readonly [string, Buffer]>): Promise<boolean>;
  /**
   * Moves value and expiry of `from` to `to` (from !== to), replacing `to` unless
   * onlyIfAbsent (RENAME / RENAMENX).
   */
  rename(from: string, to: string, onlyIfAbsent: boolean): Promise<'missing' | 'exists' | 'done'>;
  /** Copies value and expiry of `from` to `to` (from !== to), replacing `to` only if `replace` (COPY). */
  copy(from: string, to: string, replace: boolean): Promise<'missing' | 'exists' | 'done'>;
}

/**
 * A command whose whole effect is one plain read or one unconditional write. The engine
 * merges the plain operations of a batch, kind by kind, into one statement per kind (one
 * round trip on PostgreSQL for all the GETs of 50 clients, another for their SETs), keeping
 * the order of the operations on each key (see planBatch in batch-plan.ts). Results: `get`
 * the value or null; `exists` how many of its keys are there (a key named twice counts twice);
 * `put` null; `expire` 1 if the key was there (its new expiry is in the future), else 0;
 * `delete` how many of its keys were there.
 */
export type PlainOp =
  | { kind: 'get'; key: string }
  | { kind: 'exists'; keys: string[] }
  | { kind: 'put'; key: string; value: Buffer; expiry: number | null }
  | { kind: 'expire'; key: string; expiry: number }
  | { kind: 'delete'; keys: string[] }
  /**
   * HGETALL (fields null), HMGET, HGET (`one`): read as one statement with the batch's other hash reads.
   * `found` is the store's answer beside the reply: whether the key was there (a hash, or another type),
   * which INFO's keyspace_hits counts and the reply alone cannot tell (HGET of a missing field is null too).
   */
  | { kind: 'hread'; key: string; fields: Buffer[] | null; shape: 'map' | 'array' | 'one'; found?: boolean }
  /** HSET / HMSET (`ok`): written with the batch's other HSETs (one statement on PostgreSQL). */
  | { kind: 'hwrite'; key: string; pairs: [Buffer, Buffer][]; ok: boolean };

/** The keys a plain operation reads or writes. */
export function plainKeys(op: PlainOp): readonly string[] {
  return op.kind === 'delete' || op.kind === 'exists' ? op.keys : [op.key];
}

/** Whether a plain operation only reads. */
export function plainReads(op: PlainOp): boolean {
  return op.kind === 'get' || op.kind === 'exists' || op.kind === 'hread';
}
