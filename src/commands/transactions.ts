import { Errors } from '../protocol/errors';
import { NULL_ARRAY, OK, type Reply } from '../protocol/reply';
import type { Entry } from '../store/store';
import { keys } from './args';
import type { ClientState, ServerContext, Watch } from './context';
import { outOfRange, select } from './databases';
import { command, type QueuedCommand } from './types';

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
  parse: (argv) => ({ keys: keys(argv.slice(1)), added: [] }),
  dispatch({ keys: ks }, { client, server }) {
    if (client.multi) return Errors.watchInMulti();
    const args: WatchArgs = { keys: ks, added: [] };
    for (const k of ks) {
      const watch = server.watches.add(client, k, client.db);
      if (watch) args.added.push(watch);
    }
    return args;
  },
  async run({ added }, { store }) {
    // A write that ran before this WATCH's turn does not count.
    for (const watch of added)
      Object.assign(watch, { snapshot: await store.database(watch.db).getEntry(watch.key, false, true), dirty: false });
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

/** The database a client has selected after `queue` ran from `db` (its SELECTs that succeed). */
function selectedAfter(queue: readonly QueuedCommand[], db: number, server: ServerContext): number {
  for (const { spec, argv } of queue) {
    if (spec !== select) continue;
    try {
      const n = select.parse(argv);
      if (!outOfRange(server, n)) db = n;
    } catch {
      // Its error is its reply; the database stays.
    }
  }
  return db;
}

/** What EXEC takes over from the client when it is read: the queued commands and the watches. */
interface ExecArgs {
  queue: NonNullable<ClientState['multi']>['queue'];
  watched: Watch[];
  /** The database selected at EXEC: each attempt of the transaction starts there. */
  db: number;
  /** The database selected once its SELECTs have run. */
  after: number;
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
  parse: (): ExecArgs => ({ queue: [], watched: [], db: 0, after: 0 }),
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
    const db = client.db;
    // The commands read after EXEC run on the database its SELECTs leave selected (they are read before it runs).
    client.db = selectedAfter(transaction.queue, db, server);
    return { queue: transaction.queue, watched, db, after: client.db };
  },
  async run({ queue, watched, db, after }, { client, server, store }): Promise<Reply> {
    for (const w of watched) {
      if (w.dirty || !sameEntry(w.snapshot, await store.database(w.db).getEntry(w.key, true, true))) {
        // Nothing ran, no SELECT of it either (unless the client has selected since).
        if (client.db === after) client.db = db;
        return NULL_ARRAY;
      }
    }
    // All queued commands share this one SQL transaction: atomic, and errors stay per command.
    // Each runs on the database selected in the transaction so far: the client's, swapped in for
    // the synchronous start of the call (where the pipeline reads it and SELECT sets it).
    const replies: Reply[] = [];
    let selected = db;
    for (const { spec, argv } of queue) {
      const outside = client.db;
      client.db = selected;
      let reply: Reply | Promise<Reply>;
      try {
        reply = server.call(spec, argv, client, store);
        selected = client.db;
      } finally {
        client.db = outside;
      }
      replies.push(await reply);
    }
    return replies;
  },
  // Whether the transaction ran, failed or never reached the database (a timeout), the
  // watches it took over are forgotten; until then writes still mark them (a retried batch).
  settled: ({ watched }, { server }) => server.watches.release(watched),
});
