import type { FlushCommits } from './dialect';

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
export class CommitFlusher {
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
