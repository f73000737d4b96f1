import { Errors } from '../protocol/errors';
import { NULL_ARRAY, OK, type Reply } from '../protocol/reply';
import type { Entry, Store } from '../store/store';
import { keys } from './args';
import type { CommandPipeline } from './pipeline';
import { command, type ClientState } from './types';

/** A watched key: what it held at WATCH time, and whether a write on this instance touched it since. */
export interface Watch {
  snapshot: Entry | null;
  dirty: boolean;
}

/**
 * Which clients watch which keys, so that a write on this instance marks them dirty even
 * when it rewrites the same value. Writes from other instances sharing the database are
 * caught at EXEC by comparing each watched row with its snapshot.
 */
export class WatchRegistry {
  private readonly byKey = new Map<string, Set<ClientState>>();

  add(client: ClientState, key: string, snapshot: Entry | null): void {
    if (!client.watched.has(key)) client.watched.set(key, { snapshot, dirty: false });
    let set = this.byKey.get(key);
    if (!set) this.byKey.set(key, (set = new Set()));
    set.add(client);
  }

  touch(keys: Iterable<string>): void {
    for (const key of keys) {
      const set = this.byKey.get(key);
      if (set) for (const client of set) client.watched.get(key)!.dirty = true;
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
    for (const [key, set] of this.byKey) {
      for (const client of set) {
        const w = client.watched.get(key)!;
        if (w.snapshot !== null) w.dirty = true;
      }
    }
  }

  unwatchAll(client: ClientState): void {
    for (const key of client.watched.keys()) {
      const set = this.byKey.get(key);
      set?.delete(client);
      if (set && !set.size) this.byKey.delete(key);
    }
    client.watched.clear();
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

export const watch = command<string[]>({
  name: 'watch', arity: -2, flags: ['noscript', 'loading', 'stale', 'fast', 'allow_busy'], keys: [1, -1, 1], data: true,
  summary: 'Monitors changes to keys to determine the execution of a transaction.', group: 'transactions', since: '2.2.0',
  parse: (argv) => keys(argv.slice(1)),
  async run(ks, { client, server, store }) {
    if (client.multi) return Errors.watchInMulti();
    for (const k of ks) {
      if (!client.watched.has(k)) server.watches.add(client, k, await store.getEntry(k));
    }
    return OK;
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

/** EXEC needs the pipeline to run the queued commands; the table builder supplies it. */
export function execCommand(pipeline: () => CommandPipeline) {
  return command<null>({
    name: 'exec', arity: 1, flags: ['noscript', 'loading', 'stale', 'skip_slowlog'], keys: [0, 0, 0], data: true,
    summary: 'Executes all commands in a transaction.', group: 'transactions', since: '1.2.0',
    parse: () => null,
    async run(_, { client, server, store }): Promise<Reply> {
      const transaction = client.multi;
      if (!transaction) return Errors.execWithoutMulti();
      client.multi = null;
      const watched = [...client.watched.entries()];
      server.watches.unwatchAll(client);
      if (transaction.aborted) return Errors.execAbort();
      for (const [key, w] of watched) {
        if (w.dirty || !sameEntry(w.snapshot, await store.getEntry(key, true))) return NULL_ARRAY;
      }
      // All queued commands share this one SQL transaction: atomic, and errors stay per command.
      const replies: Reply[] = [];
      for (const { spec, argv } of transaction.queue) {
        replies.push(await pipeline().execute(spec, argv, client, store));
      }
      return replies;
    },
  });
}
