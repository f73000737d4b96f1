import { Errors } from '../protocol/errors';
import { NULL_ARRAY, OK, type Reply } from '../protocol/reply';
import type { Entry, Store } from '../store/store';
import { keys } from './args';
import type { CommandPipeline } from './pipeline';
import { command, type ClientState } from './types';

/**
 * A watched key: what it held at WATCH time, and whether a write on this instance touched it
 * since. Registered as WATCH is read (so that a pipelined EXEC sees it), the snapshot taken
 * when WATCH reaches the store, in queue order, before any later command of the client runs.
 */
export interface Watch {
  snapshot: Entry | null;
  dirty: boolean;
}

/**
 * The watches of every client by key, so that a write on this instance marks them dirty even
 * when it rewrites the same value. Writes from other instances sharing the database are
 * caught at EXEC by comparing each watched row with its snapshot.
 */
export class WatchRegistry {
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

const sameEntry = (a: Entry | null, b: Entry | null): boolean =>
  a === null || b === null ? a === b : a.expiry === b.expiry && a.value.equals(b.value);

export const multi = command<null>({
  name: 'multi', arity: 1, flags: ['noscript', 'loading', 'stale', 'fast', 'allow_busy'], keys: [0, 0, 0], data: false,
  summary: 'Starts a transaction.', group: 'transactions', since: '1.2.0',
  parse: () => null,
  run(_, { client }) {
    if (client.multi) return Errors.nestedMulti();
    client.multi = { queue: [], aborted: false };
    return OK;
  },
});

export const discard = command<null>({
  name: 'discard', arity: 1, flags: ['noscript', 'loading', 'stale', 'fast', 'allow_busy'], keys: [0, 0, 0], data: false,
  summary: 'Discards a transaction.', group: 'transactions', since: '2.0.0',
  parse: () => null,
  run(_, { client, server }) {
    if (!client.multi) return Errors.discardWithoutMulti();
    client.multi = null;
    server.watches.unwatchAll(client);
    return OK;
  },
});

/** WATCH's arguments: its keys, and (once read) the watches it registered, whose snapshots its turn takes. */
interface WatchArgs {
  keys: string[];
  added: Watch[];
  addedKeys: string[];
}

export const watch = command<WatchArgs>({
  name: 'watch', arity: -2, flags: ['noscript', 'loading', 'stale', 'fast', 'allow_busy'], keys: [1, -1, 1], data: true,
  summary: 'Monitors changes to keys to determine the execution of a transaction.', group: 'transactions', since: '2.2.0',
  parse: (argv) => ({ keys: keys(argv.slice(1)), added: [], addedKeys: [] }),
  dispatch({ keys: ks }, { client, server }) {
    if (client.multi) return Errors.watchInMulti();
    const args: WatchArgs = { keys: ks, added: [], addedKeys: [] };
    for (const k of ks) {
      const watch = server.watches.add(client, k);
      if (watch) {
        args.added.push(watch);
        args.addedKeys.push(k);
      }
    }
    return args;
  },
  async run({ added, addedKeys }, { store }) {
    // A write that ran before this WATCH's turn does not count.
    for (let i = 0; i < added.length; i++) Object.assign(added[i], { snapshot: await store.getEntry(addedKeys[i]), dirty: false });
    return OK;
  },
  // No snapshot to trust (the client got an error for this WATCH): its EXEC fails, never runs blind.
  settled({ added }, _, failed) {
    if (failed) for (const w of added) w.dirty = true;
  },
});

export const unwatch = command<null>({
  name: 'unwatch', arity: 1, flags: ['noscript', 'loading', 'stale', 'fast', 'allow_busy'], keys: [0, 0, 0], data: false,
  summary: 'Forgets about watched keys of a transaction.', group: 'transactions', since: '2.2.0',
  parse: () => null,
  run(_, { client, server }) {
    server.watches.unwatchAll(client);
    return OK;
  },
});

/** What EXEC takes over from the client when it is read: the queued commands and the watches. */
interface ExecArgs {
  queue: NonNullable<ClientState['multi']>['queue'];
  watched: [string, Watch][];
}

/** EXEC needs the pipeline to run the queued commands; the table builder supplies it. */
export function execCommand(pipeline: () => CommandPipeline) {
  return command<ExecArgs>({
    name: 'exec', arity: 1, flags: ['noscript', 'loading', 'stale', 'skip_slowlog'], keys: [0, 0, 0], data: true,
    summary: 'Executes all commands in a transaction.', group: 'transactions', since: '1.2.0',
    parse: (): ExecArgs => ({ queue: [], watched: [] }),
    // The transaction ends as EXEC is read: a MULTI pipelined after it starts a new one.
    dispatch(_, { client, server }) {
      const transaction = client.multi;
      if (!transaction) return Errors.execWithoutMulti();
      client.multi = null;
      // Until EXEC's turn, writes of commands ahead of it in the queue still mark its watches.
      const watched = server.watches.detach(client);
      if (transaction.aborted) {
        server.watches.release(watched);
        return Errors.execAbort();
      }
      return { queue: transaction.queue, watched };
    },
    async run({ queue, watched }, { client, store }): Promise<Reply> {
      for (const [key, w] of watched) {
        if (w.dirty || !sameEntry(w.snapshot, await store.getEntry(key, true))) return NULL_ARRAY;
      }
      // All queued commands share this one SQL transaction: atomic, and errors stay per command.
      const replies: Reply[] = [];
      for (const { spec, argv } of queue) {
        replies.push(await pipeline().execute(spec, argv, client, store));
      }
      return replies;
    },
    // Whether the transaction ran, failed or never reached the database (a timeout), the
    // watches it took over are forgotten; until then writes still mark them (a retried batch).
    settled: ({ watched }, { server }) => server.watches.release(watched),
  });
}
