/**
 * INFO's expired_keys for one process: each expired row counted once, whether a command
 * found it (GET, MGET, DEL... skip or delete it) or the sweeper deleted it.
 *
 * Reads may run in read-only transactions, so they skip an expired row without deleting
 * it; the sweeper deletes it later. A row is known by its key and expiry: one counted on
 * access is remembered until the sweeper deletes it (then not counted again), or until a
 * complete sweep has passed its expiry (then the row is gone, by the sweeper or by a write
 * that replaced it). A key set again with another expiry is a new row, counted again when
 * that one expires. Per process: another instance's sweeper counts the row in its own INFO.
 */
export class ExpiredKeys {
  /** Expired rows counted: found by commands, or deleted by the sweeper unseen. */
  count = 0;
  /** Per database: key -> expiry (ms) of the row counted when a command found it expired. */
  private readonly seenIn = new Map<number, Map<string, number>>();

  /** Bounds the memory where no complete sweep runs here (sweeper off, or another instance's). */
  constructor(private readonly maxRemembered = 100_000) {}

  private seen(db: number): Map<string, number> {
    let seen = this.seenIn.get(db);
    if (!seen) this.seenIn.set(db, (seen = new Map<string, number>()));
    return seen;
  }

  /** A command found `key`'s row (in database `db`) expired (at `expiry`). */
  found(key: string, expiry: number, db = 0): void {
    const seen = this.seen(db);
    if (seen.get(key) === expiry) return;
    this.count++;
    seen.delete(key);
    seen.set(key, expiry);
    // The oldest first; forgetting one could only count its row again when swept.
    if (seen.size > this.maxRemembered) seen.delete(seen.keys().next().value!);
  }

  /** The sweeper deleted these rows of database `db` (committed): the ones no command counted count now. */
  swept(rows: readonly { key: string; expiry: number }[], db = 0): void {
    const seen = this.seen(db);
    for (const { key, expiry } of rows) {
      if (seen.get(key) === expiry) seen.delete(key);
      else this.count++;
    }
  }

  /** A sweep deleted every row of database `db` expired at `now`: the rows remembered up to then are gone. */
  sweptUpTo(now: number, db = 0): void {
    const seen = this.seen(db);
    for (const [key, expiry] of seen) if (expiry <= now) seen.delete(key);
  }

  /** CONFIG RESETSTAT. */
  reset(): void {
    this.count = 0;
  }
}
