import type { Reply } from '../protocol/reply';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Knex } from 'knex';
import { RespError } from '../protocol/errors';
import { planBatch } from './batch-plan';
import { CommitFlusher } from './commit-flusher';
import { dialectOf, type Dialect, type SqlConnection } from './dialect';
import type { Engine, TransactionOptions } from './engine';
import { ExpiredKeys } from './expired-keys';
import { migrateLatest } from './migrations';
import { SqlStore, type Databases, type PlainResult } from './sql-store';
import { databaseTable, databasesTable, MissingDatabase } from './databases';
import { statements, type Statements } from './statements';
import { plainReads, type PlainOp, type Store } from './store';

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
  /** May run past the deadline (see TransactionOptions.unbounded). */
  unbounded?: boolean;
  /** The database it works on (SELECT's number). */
  db: number;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export interface EngineOptions {
  table: string;
  clock: () => number;
  /**
   * The longest a piece of work waits for the database, queueing included, before it fails
   * with DatabaseTimeoutError (the server passes --database-timeout; its default is the
   * settings table's).
   */
  timeoutMs: number;
}
/** How often BEGIN is retried while another process holds the SQLite write lock. */
const BUSY_RETRY_MS = 20;
/** The first pause before a batch the database undid (serialization failure, deadlock) runs again; doubled each time, with jitter. */
const RETRY_BASE_MS = 5;

/** The database did not answer in time: the reply says it is unavailable, the connection is cut. */
export class DatabaseTimeoutError extends Error {}

/** A non-command error thrown by one piece of work: the rest of its batch may be retried without it. */
class WorkFailed extends Error {
  constructor(readonly error: unknown) {
    super('a piece of the batch failed', { cause: error });
  }
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
  /** When the last unbounded work (a script) ended (performance.now()). */
  private unboundedEnd = 0;
  private running = false;
  private idleWaiters: (() => void)[] = [];
  /** Each open database's statements (see databases.ts): those whose tables this instance has made sure of. */
  private readonly sqlOf = new Map<number, Statements>();
  /** Tables being created: every piece queued meanwhile waits, so that pieces keep their order. */
  private opening: Promise<void> | null = null;
  /** What the stores know of the numbered databases. */
  private readonly databasesView: Databases;
  /** INFO's expired_keys. */
  readonly expiredKeys = new ExpiredKeys();
  /** Figures for INFO. */
  readonly stats = { transactions: 0, batchedWork: 0, maxBatch: 0, statements: 0, statementErrors: 0, timeouts: 0, retries: 0 };

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
    this.sqlOf.set(0, this.sql);
    this.databasesView = {
      table: options.table,
      statementsOf: (db) => this.sqlOf.get(db) ?? null,
      found: (dbs) => {
        for (const db of dbs) if (!this.sqlOf.has(db)) this.sqlOf.set(db, this.statementsFor(db));
      },
    };
  }

  /** Database n's statements: its own tables, and database 0's shared ones (scripts, lease, the registry). */
  private statementsFor(db: number): Statements {
    const own = statements(databaseTable(this.options.table, db), this.dialect);
    const { scripts, claimLease, leaseHolder, releaseLease, databases } = this.sql;
    return { ...own, scripts, claimLease, leaseHolder, releaseLease, databases };
  }

  /**
   * Makes sure database `db`'s tables exist (the same migrations as database 0's, see databases.ts)
   * and lists it in the registry. Pieces queued meanwhile wait for it.
   */
  openDatabase(db: number): Promise<void> {
    if (this.sqlOf.has(db)) return Promise.resolve();
    const previous = this.opening ?? Promise.resolve();
    const opened: Promise<void> = previous
      .then(async () => {
        if (this.sqlOf.has(db)) return;
        for (const statement of this.dialect.migrationSetup(this.timeoutMs)) await this.knex.raw(statement);
        try {
          await migrateLatest(this.knex, databaseTable(this.options.table, db), this.dialect, undefined, true);
          if (db > 0) await this.knex(databasesTable(this.options.table)).insert({ db }).onConflict('db').ignore();
        } finally {
          // Set every connection up for serving again (migrationSetup changed it).
          this.prepared = new WeakSet();
        }
        this.sqlOf.set(db, this.statementsFor(db));
      })
      .finally(() => {
        if (this.opening === opened) this.opening = null;
      });
    this.opening = opened;
    return opened;
  }

  get backend(): string {
    return this.dialect.name;
  }

  get table(): string {
    return this.options.table;
  }

  get timeoutMs(): number {
    return this.options.timeoutMs;
  }

  /** One empty transaction: proves the database can be reached and written (start-up check). */
  async check(): Promise<void> {
    await this.transaction(() => Promise.resolve());
  }

  async migrate(): Promise<void> {
    for (const statement of this.dialect.migrationSetup(this.timeoutMs)) await this.knex.raw(statement);
    await migrateLatest(this.knex, this.options.table, this.dialect);
    // The numbered databases created so far get the migrations added since (see databases.ts).
    const registered = await this.knex(databasesTable(this.options.table)).select<{ db: number }[]>('db');
    for (const row of registered) {
      const db = Number(row.db);
      await migrateLatest(this.knex, databaseTable(this.options.table, db), this.dialect, undefined, true);
      this.sqlOf.set(db, this.statementsFor(db));
    }
    // Set up every connection for serving again.
    this.prepared = new WeakSet();
  }

  /**
   * Runs `work` atomically in the next group commit; resolves after COMMIT. `readOnly`: it only
   * reads (a command flagged `readonly`), so a batch of only such work writes nothing.
   */
  transaction<T>(work: (store: Store) => Promise<T>, readOnly = false, options?: TransactionOptions): Promise<T> {
    return this.enqueue(work, undefined, undefined, readOnly, options?.unbounded, options?.db);
  }

  /**
   * A plain operation, merged with the others of its kind in the batch (see planBatch); resolves
   * to its result (see PlainOp) after COMMIT. `executed` runs as soon as its statement has run,
   * in batch order (WATCH needs writes signalled before the next command of the batch runs, not
   * when the reply leaves after the flush).
   */
  plain(op: PlainOp, executed?: (changed: readonly string[]) => void, db = 0): Promise<Reply> {
    return this.enqueue(undefined, op, executed, plainReads(op), false, db);
  }

  private enqueue<T>(
    work: QueuedWork['work'],
    plain: PlainOp | undefined,
    executed: QueuedWork['executed'],
    readOnly: boolean,
    unbounded = false,
    db = 0,
  ): Promise<T> {
    // Behind tables being created, or a database not yet open: after it, in the order queued.
    const again = () => this.enqueue<T>(work, plain, executed, readOnly, unbounded, db);
    if (this.opening) return this.opening.then(again, again);
    if (!this.sqlOf.has(db)) return this.openDatabase(db).then(again);
    return new Promise<T>((resolve, reject) => {
      // Every piece has the same fields in the same order: one object shape on the hot path.
      this.pending.push({
        work,
        plain,
        readOnly,
        executed,
        since: performance.now(),
        unbounded,
        db,
        resolve: resolve as (v: unknown) => void,
        reject,
      });
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
      // Work that waited behind a script counts its time from the script's end.
      const deadline = Math.max(batch[0].since, this.unboundedEnd) + this.timeoutMs;
      try {
        await this.runRetrying(batch, deadline);
      } catch (err) {
        if (err instanceof WorkFailed && batch.length > 1) {
          // One piece failed and the batch was rolled back: run each piece alone so the failure is only its own.
          for (const item of batch) await this.runRetrying([item], deadline).catch((e) => item.reject(unwrap(e)));
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

  /**
   * runBatch, run again while the database says it undid the whole transaction (Dialect.retryReason:
   * a serialization failure, a deadlock) and time is left. Safe: no caller has been answered (they
   * are only after COMMIT), and nothing of the batch committed (an autocommitted write that went
   * through rules a retry out): each attempt reads afresh and writes what it reads to mean. A lost
   * connection is never retried: its COMMIT may have committed.
   */
  private async runRetrying(batch: QueuedWork[], deadline: number): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const progress = { committed: false };
      try {
        return await this.runBatch(batch, deadline, progress);
      } catch (err) {
        // A piece reached a database not open yet (rolled back): open it, then run the batch again.
        const missing = unwrap(err);
        if (missing instanceof MissingDatabase && !progress.committed) {
          await this.openDatabase(missing.db);
          // As for work queued behind the opening: its time counts from there.
          deadline = performance.now() + this.timeoutMs;
          attempt--;
          continue;
        }
        const pause = RETRY_BASE_MS * 2 ** Math.min(attempt, 6) * (0.5 + Math.random());
        if (progress.committed || !this.dialect.retryReason?.(unwrap(err)) || performance.now() + pause + RETRY_BASE_MS >= deadline)
          throw err;
        this.stats.retries++;
        await sleep(pause);
      }
    }
  }

  private timeoutError(): DatabaseTimeoutError {
    return new DatabaseTimeoutError(`the database did not answer within ${this.timeoutMs} ms`);
  }

  /**
   * Runs one batch by `deadline`. Past it, its callers get DatabaseTimeoutError at once and its
   * connection is cut, so a hung batch never holds up the queue, and the pool discards the
   * connection rather than reusing it.
   */
  private async runBatch(batch: QueuedWork[], deadline: number, progress = { committed: false }): Promise<void> {
    const left = deadline - performance.now();
    if (left <= 0) {
      this.stats.timeouts++;
      throw this.timeoutError();
    }
    const abandon = new AbortController();
    // Unbounded work (a script) moves the deadline: see TransactionOptions.unbounded.
    const limit = { deadline, unbounded: 0 };
    const attempt = this.attempt(batch, limit, abandon.signal, progress);
    // An abandoned attempt still settles: its statements fail once the connection is cut.
    attempt.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      const check = () => {
        const wait = limit.deadline - performance.now();
        if (limit.unbounded > 0 || wait > 0) {
          timer = setTimeout(check, Math.max(wait, limit.unbounded > 0 ? this.timeoutMs : 0));
          return;
        }
        this.stats.timeouts++;
        const error = this.timeoutError();
        abandon.abort(error);
        reject(error);
      };
      timer = setTimeout(check, left);
    });
    try {
      await Promise.race([attempt, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Set-up on a connection's first use, then BEGIN (unless `begin()` gives null), both retried while
   * another process holds the SQLite write lock: on a timer, since better-sqlite3's own busy
   * wait would block the event loop.
   */
  private async open(raw: object, conn: SqlConnection, begin: () => string | null, deadline: number, signal: AbortSignal): Promise<void> {
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
        const statement = begin();
        if (statement) await conn.run(statement, []);
        return;
      } catch (err) {
        // Give up before the deadline, so that the callers learn why ("database is locked"): a
        // whole retry early, since the sleep's timer may fire late, after the deadline's own.
        if (!this.dialect.isBusy(err) || performance.now() + 2 * BUSY_RETRY_MS >= deadline) throw err;
      }
      await sleep(BUSY_RETRY_MS);
    }
  }

  private async attempt(
    batch: QueuedWork[],
    limit: { deadline: number; unbounded: number },
    signal: AbortSignal,
    progress: { committed: boolean },
  ): Promise<void> {
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
      // A merged HSET may take more than one statement (a key of another type, or expired): never on its own.
      const writes = steps
        .filter((step) => 'plain' in step && !plainReads(batch[step.plain[0]].plain!))
        .reduce((n, step) => n + ('plain' in step && batch[step.plain[0]].plain!.kind === 'hwrite' ? 2 : 1), 0);
      const readOnly = batch.every((item) => item.readOnly);
      let autocommit = false;
      await this.open(
        raw,
        conn,
        () => {
          // Known once the connection is set up: behind a transaction pooler, settings go with each transaction.
          const setup = this.dialect.transactionSetup?.(raw) ?? null;
          autocommit = !setup && plainOnly && (writes === 0 || (writes === 1 && this.dialect.autocommitOneStatement));
          if (autocommit) return null;
          const begin = readOnly ? this.dialect.beginRead : this.dialect.begin;
          return setup ? `${begin}; ${setup}` : begin;
        },
        limit.deadline,
        signal,
      );
      const outcomes = new Array<{ ok: boolean; value: unknown }>(batch.length);
      try {
        for (const step of steps) {
          const db = batch['plain' in step ? step.plain[0] : step.work].db;
          const sql = db === 0 ? this.sql : this.sqlOf.get(db)!;
          const store = new SqlStore(conn, sql, this.dialect, this.options.clock(), this.expiredKeys, db, this.databasesView);
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
            // Without a transaction a write commits with its statement: the batch must not run again.
            if (autocommit && !plainReads(batch[step.plain[0]].plain!)) progress.committed = true;
            step.plain.forEach((i, j) => {
              outcomes[i] = { ok: true, value: results[j].value };
              batch[i].executed?.(results[j].changed);
            });
            continue;
          }
          const unbounded = batch[step.work].unbounded;
          if (unbounded) limit.unbounded++;
          try {
            outcomes[step.work] = { ok: true, value: await batch[step.work].work!(store) };
          } catch (err) {
            // A command's own error (wrong type, syntax...) does not abort the others.
            if (!(err instanceof RespError)) throw new WorkFailed(err);
            outcomes[step.work] = { ok: false, value: err };
          } finally {
            if (unbounded) {
              limit.unbounded--;
              this.unboundedEnd = performance.now();
              limit.deadline = Math.max(limit.deadline, this.unboundedEnd + this.timeoutMs);
            }
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
      if (durable) this.untilDeadline(durable, limit.deadline).then(answer, (err) => batch.forEach((item) => item.reject(err)));
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
      timer = setTimeout(
        () => {
          this.stats.timeouts++;
          reject(this.timeoutError());
        },
        Math.max(0, deadline - performance.now()),
      );
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

  /**
   * Deletes up to `limit` expired rows in one transaction: the keys deleted, and whether the
   * batch was full (more may be waiting, fields of expired hashes included).
   */
  async sweepBatch(limit: number, db = 0): Promise<{ deleted: number; full: boolean }> {
    const work = async (store: Store) => ({ ...(await store.database(db).deleteExpired(limit)), now: store.now });
    const { swept, full, now } = await this.sweepTransaction(work);
    // Committed: counted now, each row once (see ExpiredKeys).
    this.expiredKeys.swept(swept, db);
    if (!full) this.expiredKeys.sweptUpTo(now, db);
    return { deleted: swept.length, full };
  }

  private sweepTransaction<T>(work: (store: Store) => Promise<T>): Promise<T> {
    if (!this.dialect.sideConnections) return this.transaction(work);
    // Beside the group commit, on a connection of its own: a long DELETE does not delay the clients' batches.
    return new Promise<T>((resolve, reject) => {
      const item: QueuedWork = {
        work,
        plain: undefined,
        readOnly: false,
        executed: undefined,
        since: performance.now(),
        unbounded: false,
        db: 0,
        resolve: resolve as (v: unknown) => void,
        reject,
      };
      this.runRetrying([item], item.since + this.timeoutMs).catch((err) => item.reject(unwrap(err)));
    });
  }

  /** The databases whose tables exist (the registry, which other instances write too), 0 first. */
  databases(): Promise<number[]> {
    return this.transaction((store) => store.databases(), true);
  }

  /** Store.claimLease in its own piece of a group commit. */
  claimLease(name: string, holder: string, ms: number): Promise<string> {
    return this.transaction((store) => store.claimLease(name, holder, ms));
  }

  releaseLease(name: string, holder: string): Promise<void> {
    return this.transaction((store) => store.releaseLease(name, holder));
  }
}
