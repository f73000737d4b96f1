import type { ClientState, Watch, Watches } from '../commands/context';
import type { Store } from '../store/store';

/**
 * The watches of every client by key, so that a write on this instance marks them dirty even
 * when it rewrites the same value. Writes from other instances sharing the database are
 * caught at EXEC by comparing each watched row with its snapshot.
 */
export class WatchRegistry implements Watches {
  private readonly byKey = new Map<string, Set<Watch>>();

  /** Keys with at least one watch registered (what a forgotten watch would leave behind). */
  get watchedKeys(): number {
    return this.byKey.size;
  }

  /** Registers a watch for `key` unless the client has one; returns the new watch, or null. */
  add(client: ClientState, key: string): Watch | null {
    if (client.watched.has(key)) return null;
    const watch: Watch = { snapshot: null, dirty: false };
    client.watched.set(key, watch);
    let set = this.byKey.get(key);
    if (!set) this.byKey.set(key, (set = new Set()));
    set.add(watch);
    return watch;
  }

  touch(keys: Iterable<string>): void {
    for (const key of keys) {
      const set = this.byKey.get(key);
      if (set) for (const watch of set) watch.dirty = true;
    }
  }

  /**
   * After a command's writes: its modified keys, and on FLUSHDB/FLUSHALL every watched key
   * that was live at WATCH time (as Redis, flushing an absent key changes nothing; keys
   * created since are dirty already).
   */
  signal(store: Pick<Store, 'modified' | 'flushed'>): void {
    this.touch(store.modified);
    if (!store.flushed) return;
    for (const set of this.byKey.values()) {
      for (const watch of set) if (watch.snapshot !== null) watch.dirty = true;
    }
  }

  /** Takes the client's watches away from it; they still see writes until `release` (EXEC, at its turn). */
  detach(client: ClientState): [string, Watch][] {
    const watches = [...client.watched.entries()];
    client.watched.clear();
    return watches;
  }

  release(watches: Iterable<[string, Watch]>): void {
    for (const [key, watch] of watches) {
      const set = this.byKey.get(key);
      set?.delete(watch);
      if (set && !set.size) this.byKey.delete(key);
    }
  }

  unwatchAll(client: ClientState): void {
    this.release(this.detach(client));
  }
}
