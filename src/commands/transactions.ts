import { Errors } from '../protocol/errors';
import { NULL_ARRAY, OK, type Reply } from '../protocol/reply';
import type { Entry } from '../store/store';
import { keys } from './args';
import type { ClientState, Watch } from './context';
import { command } from './types';

const sameEntry = (a: Entry | null, b: Entry | null): boolean =>
  a === null || b === null ? a === b : a.expiry === b.expiry && a.value.equals(b.value);

export const multi = command<null>({
  name: 'multi',
  arity: 1,
  flags: ['noscript', 'loading', 'stale', 'fast', 'allow_busy'],
  keys: [0, 0, 0],
  data: false,
  summary: 'Starts a transaction.',
  group: 'transactions',
  since: '1.2.0',
  parse: () => null,
  run(_, { client }) {
    if (client.multi) return Errors.nestedMulti();
    client.multi = { queue: [], aborted: false };
    return OK;
  },
});

export const discard = command<null>({
  name: 'discard',
  arity: 1,
  flags: ['noscript', 'loading', 'stale', 'fast', 'allow_busy'],
  keys: [0, 0, 0],
  data: false,
  summary: 'Discards a transaction.',
  group: 'transactions',
  since: '2.0.0',
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
  name: 'watch',
  arity: -2,
  flags: ['noscript', 'loading', 'stale', 'fast', 'allow_busy'],
  keys: [1, -1, 1],
  data: true,
  summary: 'Monitors changes to keys to determine the execution of a transaction.',
  group: 'transactions',
  since: '2.2.0',
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
    for (let i = 0; i < added.length; i++)
      Object.assign(added[i], { snapshot: await store.getEntry(addedKeys[i], false, true), dirty: false });
    return OK;
  },
  // No snapshot to trust (the client got an error for this WATCH): its EXEC fails, never runs blind.
  settled({ added }, _, failed) {
    if (failed) for (const w of added) w.dirty = true;
  },
});

export const unwatch = command<null>({
  name: 'unwatch',
  arity: 1,
  flags: ['noscript', 'loading', 'stale', 'fast', 'allow_busy'],
  keys: [0, 0, 0],
  data: false,
  summary: 'Forgets about watched keys of a transaction.',
  group: 'transactions',
  since: '2.2.0',
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

export const exec = command<ExecArgs>({
  name: 'exec',
  arity: 1,
  flags: ['noscript', 'loading', 'stale', 'skip_slowlog'],
  keys: [0, 0, 0],
  data: true,
  summary: 'Executes all commands in a transaction.',
  group: 'transactions',
  since: '1.2.0',
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
  async run({ queue, watched }, { client, server, store }): Promise<Reply> {
    for (const [key, w] of watched) {
      if (w.dirty || !sameEntry(w.snapshot, await store.getEntry(key, true, true))) return NULL_ARRAY;
    }
    // All queued commands share this one SQL transaction: atomic, and errors stay per command.
    const replies: Reply[] = [];
    for (const { spec, argv } of queue) {
      replies.push(await server.call(spec, argv, client, store));
    }
    return replies;
  },
  // Whether the transaction ran, failed or never reached the database (a timeout), the
  // watches it took over are forgotten; until then writes still mark them (a retried batch).
  settled: ({ watched }, { server }) => server.watches.release(watched),
});
