import type { SqlEngine } from './sql-store';

export interface SweeperStats {
  runs: number;
  deleted: number;
  lastDurationMs: number;
}

/**
 * Garbage-collects expired rows. Reads never depend on it (they filter by expiry), so it
 * only keeps the table from growing. Deletes in bounded batches so no transaction holds
 * the write lock for long, on an unref()'d timer that close() stops.
 */
export class Sweeper {
  readonly stats: SweeperStats = { runs: 0, deleted: 0, lastDurationMs: 0 };
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
    this.timer = setInterval(() => void this.sweepNow().catch(this.onError), this.intervalMs);
    this.timer.unref();
  }

  /** One full sweep: batches until a batch comes back short. */
  sweepNow(): Promise<void> {
    if (!this.running) {
      this.running = this.sweepAll().finally(() => (this.running = null));
    }
    return this.running;
  }

  private async sweepAll(): Promise<void> {
    const started = Date.now();
    let deleted: number;
    do {
      deleted = await this.engine.sweepBatch(this.batchSize);
      this.stats.deleted += deleted;
    } while (deleted === this.batchSize && !this.stopped);
    this.stats.runs++;
    this.stats.lastDurationMs = Date.now() - started;
  }

  /** Stops the timer and waits for a sweep in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }
}
