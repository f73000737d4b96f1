import type { Reply } from '../protocol/reply';
import type { ExpiredKeys } from './expired-keys';
import type { PlainOp, Store } from './store';

export interface TransactionOptions {
  /**
   * The work may run longer than the database timeout (a script: BUSY and SCRIPT KILL bound
   * it): its batch's deadline waits while it runs, and counts again from its end.
   */
  unbounded?: boolean;
  /** The database the work's store is on (SELECT's number); 0 if absent. */
  db?: number;
}

/** Counters an engine keeps for INFO and the metrics endpoint. */
export interface EngineStats {
  transactions: number;
  batchedWork: number;
  maxBatch: number;
  statements: number;
  statementErrors: number;
  timeouts: number;
  /** Batches run again after the database undid them (serialization failure, deadlock). */
  retries: number;
}

/**
 * What commands and the server need from the database side, whatever the dialect: the
 * contract that the SQL engine implements. Commands reach data only through this and the
 * Store it hands to `transaction`.
 */
export interface Engine {
  /** The backend's name as INFO shows it (storage_backend). */
  readonly backend: string;
  readonly table: string;
  readonly stats: Readonly<EngineStats>;
  /** INFO's expired_keys: expired rows that commands came across or the sweeper deleted, each once. */
  readonly expiredKeys: ExpiredKeys;
  /** WAL flushes after COMMIT; 0 where COMMIT flushes itself. */
  readonly walFlushes: number;
  /** WAL checkpoints run on their own thread; 0 where the database does them. */
  readonly walCheckpoints: number;
  /** Sees each committed batch's size (the metrics endpoint's histogram); null when metrics are off. */
  batchObserver: ((size: number) => void) | null;
  /**
   * Runs `work` in a transaction shared with other callers' work (group commit); settles
   * after COMMIT is durable. A read-only transaction takes no write lock.
   */
  transaction<T>(work: (store: Store) => Promise<T>, readOnly?: boolean, options?: TransactionOptions): Promise<T>;
  /** One plain operation on database `db`, merged with its neighbours; `executed` gets the keys it changed. */
  plain(op: PlainOp, executed?: (changed: readonly string[]) => void, db?: number): Promise<Reply>;
}
