import type { ClientState, Watch, Watches } from '../commands/context';
import type { Store } from '../store/store';

/** A watch's name: its database and key (the database's digits end at the first colon). */
const nameOf = (db: number, key: string): string => `${db}:${key}`;

/**
 * The watches of every client by database and key, so that a write on this instance marks them
 * dirty even when it rewrites the same value. Writes from other instances sharing the database
 * are caught at EXEC by comparing each watched row with its snapshot.
 */
export class WatchRegistry implements Watches {
  private readonly byKey = new Map<string, Set<Watch>>();

  /** Keys with at least one watch registered (what a forgotten watch would leave behind). */
  get watchedKeys(): number {
    return this.byKey.size;
  }

  /** Registers a watch for `key` of database `db` unless the client has one; returns the new watch, or null. */
  add(client: ClientState, key: string, db: number): Watch | null {
    const name = nameOf(db, key);
    if (client.watched.has(name)) return null;
    const watch: Watch = { db, key, snapshot: null, dirty: false };
    client.watched.set(name, watch);
    let set = this.byKey.get(name);
    if (!set) this.byKey.set(name, (set = new Set()));
    set.add(watch);
    return watch;
  }

  touch(keys: Iterable<string>, db: number): void {
    if (!this.byKey.size) return;
    for (const key of keys) {
      const set = this.byKey.get(nameOf(db, key));
      if (set) for (const watch of set) watch.dirty = true;
    }
  }

  /**
   * After a command's writes, in each database it used: its modified keys, and on FLUSHDB,
   * FLUSHALL and SWAPDB every watched key of the database that was live at WATCH time (as Redis,
   * flushing an absent key changes nothing; keys created since are dirty already, and EXEC
   * compares each watched row with its snapshot).
   */
  signal(store: Pick<Store, 'used'>): void {
    for (const used of store.used) {
      this.touch(used.modified, used.db);
      if (!used.flushed) continue;
      for (const set of this.byKey.values()) {
        for (const watch of set) if (watch.db === used.db && watch.snapshot !== null) watch.dirty = true;
      }
    }
  }

  /** Takes the client's watches away from it; they still see writes until `release` (EXEC, at its turn). */
  detach(client: ClientState): Watch[] {
    const watches = [...client.watched.values()];
    client.watched.clear();
    return watches;
  }

  release(watches: Iterable<Watch>): void {
    for (const watch of watches) {
      const name = nameOf(watch.db, watch.key);
      const set = this.byKey.get(name);
      set?.delete(watch);
      if (set && !set.size) this.byKey.delete(name);
    }
  }

  unwatchAll(client: ClientState): void {
    this.release(this.detach(client));
  }
}
