import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { SqlEngine } from './sql-engine';

export interface SweeperStats {
  runs: number;
  deleted: number;
  lastDurationMs: number;
  /** This instance's name in the lease table: host:pid:random. */
  instanceId: string;
  /** Who held the sweeper lease at this instance's last look ('' before the first). */
  leaseHolder: string;
  /** Whether this instance holds the lease, and so is the one sweeping. */
  leaseHeld: boolean;
}

/** The lease row's name in `<table>_sweeper_lease`. */
export const SWEEPER_LEASE = 'sweeper';
/**
 * Lease length, in sweep intervals. The holder renews on every tick, so one late tick
 * does not lose it; when the holder dies the lease runs out and the next tick of another
 * instance takes it over.
 */
export const LEASE_INTERVALS = 2;

/**
 * Garbage-collects expired rows. Reads never depend on it (they filter by expiry), so it
 * only keeps the table from growing. Deletes in bounded batches so no transaction holds
 * the write lock for long, on an unref()'d timer that close() stops.
 *
 * Several instances on one database take turns through a lease row (not an advisory lock,
 * which distributed PostgreSQL-compatible engines lack): on each tick an instance claims
 * or renews the lease, and sweeps only while it holds it, renewing it before every batch.
 * Two sweepers at once (a holder stalled past its lease) would only waste work: deleting
 * expired rows twice is harmless.
 */
export class Sweeper {
  readonly stats: SweeperStats = {
    runs: 0,
    deleted: 0,
    lastDurationMs: 0,
    instanceId: `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`,
    leaseHolder: '',
    leaseHeld: false,
  };
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly engine: SqlEngine,
    private readonly intervalMs: number,
    private readonly batchSize = 1000,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  start(): void {
    if (this.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  /** A timer tick: claim or renew the lease, and sweep while holding it. */
  private tick(): void {
    // A sweep still in progress renews the lease itself, batch by batch.
    if (this.running) return;
    this.exclusive(async () => {
      if (await this.claim()) await this.sweepAll(true);
    }).catch(this.onError);
  }

  /** One full sweep now, lease or not (tests, and `RespqlServer.sweep`); joins one in progress. */
  sweepNow(): Promise<void> {
    return this.exclusive(() => this.sweepAll(false));
  }

  private exclusive(work: () => Promise<void>): Promise<void> {
    if (!this.running) this.running = work().finally(() => (this.running = null));
    return this.running;
  }

  private async claim(): Promise<boolean> {
    const me = this.stats.instanceId;
    try {
      this.stats.leaseHolder = await this.engine.claimLease(SWEEPER_LEASE, me, this.intervalMs * LEASE_INTERVALS);
      this.stats.leaseHeld = this.stats.leaseHolder === me;
    } catch (err) {
      this.stats.leaseHeld = false;
      throw err;
    }
    return this.stats.leaseHeld;
  }

  /** Every database, batches until a batch comes back short (or, leased, until the lease is lost). */
  private async sweepAll(leased: boolean): Promise<void> {
    const started = Date.now();
    let going = true;
    for (const db of await this.engine.databases()) {
      let batch: { deleted: number; full: boolean };
      do {
        batch = await this.engine.sweepBatch(this.batchSize, db);
        this.stats.deleted += batch.deleted;
        // Let clients' requests in between batches: SQLite's calls are synchronous, and
        // queueing the next batch at once would keep the engine busy for the whole sweep.
        await new Promise((resolve) => setImmediate(resolve));
      } while (batch.full && (going = !this.stopped && (!leased || (await this.claim()))));
      if (!going) break;
    }
    this.stats.runs++;
    this.stats.lastDurationMs = Date.now() - started;
  }

  /** Stops the timer, waits for a sweep in progress, and hands the lease back so another instance takes over at its next tick. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
    if (this.stats.leaseHeld) {
      this.stats.leaseHeld = false;
      await this.engine.releaseLease(SWEEPER_LEASE, this.stats.instanceId).catch(this.onError);
    }
  }
}
