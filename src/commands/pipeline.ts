import { Errors, RespError } from '../protocol/errors';
import { OK, QUEUED, type Reply } from '../protocol/reply';
import type { PlainOp, Store } from '../store/store';
import { MissingDatabase } from '../store/databases';
import { lookedUp, type ClientState, type CommandContext, type KeyLookups, type ServerContext } from './context';
import { newEventsOn, plainEvents, publishKeyEvents, type KeyEvent, type NotifyType } from './notify';
import { ALLOWED_WHILE_SUBSCRIBED } from './pubsub';
import type { CommandSpec } from './types';

/** Commands that run immediately even inside MULTI (Redis's list in processCommand). */
const RUN_INSIDE_MULTI = new Set(['exec', 'discard', 'multi', 'watch', 'quit', 'reset']);

const NO_STORE: Store = new Proxy({} as Store, {
  get() {
    throw new Error('internal error: a command without `data: true` used the store');
  },
});

/**
 * The one central pipeline, in Redis's order: lookup -> arity -> auth -> MULTI queueing
 * -> parse -> run. Commands never check these things themselves.
 */
export class CommandPipeline {
  /** The read lookups of the command running on each store: where call() on that store (EXEC's queue) counts. */
  private readonly lookupsOn = new WeakMap<Store, KeyLookups>();
  /** The keyspace events of the command running on each store: where call() on that store (EXEC's queue) collects. */
  private readonly eventsOn = new WeakMap<Store, KeyEvent[]>();

  constructor(private readonly server: ServerContext) {}

  /** The command argv names, descending into subcommands as Redis's lookupCommand does; undefined if unknown. */
  private lookup(argv: Buffer[]): CommandSpec<unknown> | undefined {
    const spec = this.server.commands.get(argv[0].toString('latin1').toLowerCase());
    if (!spec?.subcommands || argv.length < 2) return spec;
    return spec.subcommands[argv[1].toString('latin1').toLowerCase()];
  }

  /** Finds the spec for argv (descending into subcommands) or throws Redis's error. */
  resolve(argv: Buffer[]): CommandSpec<unknown> {
    const spec = this.lookup(argv);
    if (spec) {
      checkArity(spec, argv.length);
      return spec;
    }
    const container = this.server.commands.get(argv[0].toString('latin1').toLowerCase());
    if (container) throw Errors.unknownSubcommand(argv[1], container.name);
    throw Errors.unknownCommand(argv[0], argv.slice(1));
  }

  /** A known command refused before it ran (arity, auth, MULTI): Redis's rejected_calls. */
  private reject(spec: CommandSpec<unknown> | undefined, error: RespError): RespError {
    if (spec) this.server.commandStats.get(spec).rejectedCalls++;
    return error;
  }

  /** Handles one request from a client; the reply is a value or a promise of one. */
  dispatch(client: ClientState, argv: Buffer[]): Reply | Promise<Reply> {
    let spec: CommandSpec<unknown>;
    try {
      spec = this.resolve(argv);
    } catch (err) {
      if (client.multi) client.multi.aborted = true;
      return this.reject(this.lookup(argv), err as RespError);
    }
    client.lastCommand = spec.name;
    if (!client.authenticated && !spec.flags.includes('no_auth')) {
      if (client.multi) client.multi.aborted = true;
      return this.reject(spec, Errors.noAuth());
    }
    // Another client's script has run past busy-reply-threshold (Redis's processCommand order).
    const busy = spec.flags.includes('allow_busy') ? null : this.server.scripting.busy();
    if (busy) {
      if (client.multi) client.multi.aborted = true;
      return this.reject(spec, busy);
    }
    // RESP2 subscribed mode: only the commands Redis allows there (RESP3 has no such limit).
    if (client.subscriptions > 0 && client.protocol === 2 && !ALLOWED_WHILE_SUBSCRIBED.has(spec.name)) {
      if (client.multi) client.multi.aborted = true;
      return this.reject(spec, Errors.onlySubscribeAllowed(spec.name));
    }
    if (client.multi && !RUN_INSIDE_MULTI.has(argv[0].toString('latin1').toLowerCase())) {
      if (spec.flags.includes('no_multi')) {
        client.multi.aborted = true;
        return this.reject(spec, Errors.forbiddenInMulti(spec.name));
      }
      client.multi.queue.push({ spec, argv });
      return QUEUED;
    }
    return this.call(spec, argv, client);
  }

  /** ServerContext.call: parse -> run, timed and counted for INFO commandstats and the metrics endpoint. */
  call(spec: CommandSpec<unknown>, argv: Buffer[], client: ClientState, store?: Store): Reply | Promise<Reply> {
    const stat = this.server.commandStats.get(spec);
    const started = performance.now();
    const reply = this.parseAndRun(spec, argv, client, store);
    const stats = this.server.stats;
    return reply instanceof Promise ? reply.then((r) => stat.record(started, r, stats)) : stat.record(started, reply, stats);
  }

  /** parse -> run, in a store transaction when the command touches data. */
  private parseAndRun(spec: CommandSpec<unknown>, argv: Buffer[], client: ClientState, store?: Store): Reply | Promise<Reply> {
    let args: unknown;
    try {
      args = spec.parse(argv);
    } catch (err) {
      return asReply(err);
    }
    if (spec.dispatch) {
      const dispatched = spec.dispatch(args, { client, server: this.server });
      if (dispatched instanceof RespError) return dispatched;
      args = dispatched;
    }
    let reply: Reply | Promise<Reply>;
    let plain: PlainOp | RespError | null;
    const server = this.server;
    // The database as the command is read (a SELECT pipelined after it must not move it).
    const db = client.db;
    // A command without data looks nothing up; one on a given store counts with the command that owns it.
    if (!spec.data)
      reply = this.run(spec, args, { client, server, store: store ?? NO_STORE, lookups: server.stats, notify: this.notifyNow(db) });
    else if (store) {
      // Inside EXEC or a script, on the database selected there.
      const target = store.database(db);
      const events = this.eventsOn.get(store);
      const lookups = this.lookupsOn.get(store);
      if (target !== store) {
        // A script run by this command reaches them through its own store.
        if (events) this.eventsOn.set(target, events);
        if (lookups) this.lookupsOn.set(target, lookups);
      }
      const notify = events ? collectInto(events, db) : this.notifyNow(db);
      reply = this.run(spec, args, { client, server, store: target, lookups: lookups ?? server.stats, notify });
    } else if (spec.plain && !newEventsOn(server.config.notifyKeyspaceEvents) && (plain = this.plainOp(spec, args))) {
      const op = plain;
      let changedKeys: readonly string[] = [];
      reply =
        op instanceof RespError
          ? op
          : server.engine
              .plain(op, (changed) => (server.watches.touch(changed, db), (changedKeys = changed)), db)
              .then((value) => {
                // The plain reads are GET's, EXISTS's and the hash reads: one read lookup per key, as Redis's lookupKeyRead.
                if (op.kind === 'get') lookedUp(server.stats, value !== null);
                else if (op.kind === 'exists') lookedUp(server.stats, value as number, op.keys.length);
                else if (op.kind === 'hread') lookedUp(server.stats, op.found === true);
                const flags = server.config.notifyKeyspaceEvents;
                const result = op.kind === 'put' ? OK : value;
                const delivered = flags ? publishKeyEvents(server.pubsub, flags, plainEvents(op, changedKeys), db) : undefined;
                return delivered ? delivered.then(() => result) : result;
              }, asReply);
    } else {
      let lookups: KeyLookups = { keyspaceHits: 0, keyspaceMisses: 0 };
      let events: KeyEvent[] = [];
      const transaction = server.engine.transaction(
        async (tx) => {
          // Afresh on every attempt: a batch rolled back and run again counts its lookups once.
          this.lookupsOn.set(tx, (lookups = { keyspaceHits: 0, keyspaceMisses: 0 }));
          // Likewise its events: only those of the attempt that committed are published.
          this.eventsOn.set(tx, (events = []));
          try {
            return await spec.run(args, { client, server, store: tx, lookups, notify: collectInto(events, db) });
          } finally {
            // Redis's signalModifiedKey: WATCHes see the keys this command (or EXEC's queue)
            // really changed, before the next command of the batch runs.
            server.watches.signal(tx);
          }
        },
        spec.flags.includes('readonly'),
        spec.unbounded || db !== 0 ? { unbounded: spec.unbounded, db } : undefined,
      );
      // Counted (and its events published) once the transaction committed: with the reply, or with the command's own error.
      // The reply waits for the events' delivery on this instance (on PostgreSQL, their way through NOTIFY), as in Redis.
      const count = (): Promise<void> | void => {
        lookedUp(server.stats, lookups.keyspaceHits, lookups.keyspaceHits + lookups.keyspaceMisses);
        const flags = server.config.notifyKeyspaceEvents;
        if (flags && events.length) return publishKeyEvents(server.pubsub, flags, events, db);
      };
      const committed = transaction.then(
        (r) => {
          const delivered = count();
          return delivered ? delivered.then(() => r) : r;
        },
        (err) => {
          const delivered = err instanceof RespError ? count() : undefined;
          // The command's own error, once its events are out.
          if (delivered)
            return delivered.then(() => {
              throw err;
            });
          throw err;
        },
      );
      reply = spec.settled
        ? committed.then(
            (r) => {
              spec.settled?.(args, { client, server }, false);
              return r;
            },
            (err) => {
              spec.settled?.(args, { client, server }, true);
              return asReply(err);
            },
          )
        : committed.catch(asReply);
    }
    return reply;
  }

  /** ctx.notify outside a transaction: published at once, on database `db` unless the event names another. */
  private notifyNow(db: number): (type: NotifyType, event: string, key: string, on?: number) => void {
    return (type, event, key, on = db) => {
      const flags = this.server.config.notifyKeyspaceEvents;
      // Nothing waits for these (no transaction): the returned promise never rejects.
      if (flags) void publishKeyEvents(this.server.pubsub, flags, [{ type, event, key, db: on }]);
    };
  }

  private plainOp(spec: CommandSpec<unknown>, args: unknown): PlainOp | RespError | null {
    try {
      return spec.plain!(args, this.server.now());
    } catch (err) {
      return asReply(err);
    }
  }

  private run(spec: CommandSpec<unknown>, args: unknown, ctx: CommandContext): Reply | Promise<Reply> {
    try {
      const result = spec.run(args, ctx);
      return result instanceof Promise ? result.catch(inTransaction) : result;
    } catch (err) {
      return inTransaction(err);
    }
  }
}

/** ctx.notify inside a transaction: collected, published after COMMIT; on database `db` unless the event names another. */
function collectInto(events: KeyEvent[], db: number): (type: NotifyType, event: string, key: string, on?: number) => void {
  return (type, event, key, on = db) => void events.push({ type, event, key, db: on });
}

/** The key arguments of a command line, from its [first, last, step] spec (COMMAND GETKEYS too). */
export function keyArguments(spec: CommandSpec<unknown>, argv: Buffer[]): Buffer[] {
  if (spec.getKeys) return spec.getKeys(argv);
  const [first, last, step] = spec.keys;
  if (first === 0) return [];
  const end = last < 0 ? argv.length + last : last;
  const out: Buffer[] = [];
  for (let i = first; i <= end && i < argv.length; i += step) out.push(argv[i]);
  return out;
}

function checkArity(spec: CommandSpec<unknown>, argc: number): void {
  if ((spec.arity > 0 && argc !== spec.arity) || argc < -spec.arity) throw Errors.wrongArity(spec.name);
}

/**
 * asReply for a command run inside another's transaction (EXEC's queue, a script), except that a
 * database not open yet fails the whole transaction: the engine opens it and runs it again.
 */
function inTransaction(err: unknown): RespError {
  if (err instanceof MissingDatabase) throw err;
  return asReply(err);
}

/** A command's error becomes its reply; anything else is a database or internal failure. */
export function asReply(err: unknown): RespError {
  if (err instanceof RespError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return Errors.databaseUnavailable(message.split('\n')[0]);
}
