/**
 * Keyspace notifications (Redis 7.0's notify.c): the `notify-keyspace-events` flags, and the
 * publication of the events a command collected with `ctx.notify` once its transaction has
 * committed (a rolled-back write announces nothing).
 */
import type { PlainOp } from '../store/store';
import type { PubSubHub } from '../pubsub/hub';
import type { CommandContext } from './context';

/** Event classes, by Redis's names (NOTIFY_GENERIC, NOTIFY_STRING, ...). */
export type NotifyType =
  'generic' | 'string' | 'list' | 'set' | 'hash' | 'zset' | 'expired' | 'evicted' | 'stream' | 'keymiss' | 'module' | 'new';

const KEYSPACE = 1 << 0;
const KEYEVENT = 1 << 1;
const TYPE_BITS: Record<NotifyType, number> = {
  generic: 1 << 2,
  string: 1 << 3,
  list: 1 << 4,
  set: 1 << 5,
  hash: 1 << 6,
  zset: 1 << 7,
  expired: 1 << 8,
  evicted: 1 << 9,
  stream: 1 << 10,
  keymiss: 1 << 11,
  module: 1 << 13,
  new: 1 << 14,
};
const ALL = ['generic', 'string', 'list', 'set', 'hash', 'zset', 'expired', 'evicted', 'stream', 'module'].reduce(
  (m, t) => m | TYPE_BITS[t as NotifyType],
  0,
);
const CHARS: Record<string, number> = {
  g: TYPE_BITS.generic,
  $: TYPE_BITS.string,
  l: TYPE_BITS.list,
  s: TYPE_BITS.set,
  h: TYPE_BITS.hash,
  z: TYPE_BITS.zset,
  x: TYPE_BITS.expired,
  e: TYPE_BITS.evicted,
  K: KEYSPACE,
  E: KEYEVENT,
  t: TYPE_BITS.stream,
  m: TYPE_BITS.keymiss,
  d: TYPE_BITS.module,
  n: TYPE_BITS.new,
};

export const INVALID_EVENT_CLASS = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";

/** keyspaceEventsStringToFlags: the flags of a setting, or null for an unknown character. */
export function parseNotifyFlags(text: string): number | null {
  let flags = 0;
  for (const c of text) {
    if (c === 'A') flags |= ALL;
    else if (Object.hasOwn(CHARS, c)) flags |= CHARS[c];
    else return null;
  }
  return flags;
}

/** keyspaceEventsFlagsToString: Redis's canonical order (Egx reads back gxE; A hides n). */
export function formatNotifyFlags(flags: number): string {
  let out = '';
  if ((flags & ALL) === ALL) out += 'A';
  else for (const c of 'g$lshzxetdn') if (flags & CHARS[c]) out += c;
  if (flags & KEYSPACE) out += 'K';
  if (flags & KEYEVENT) out += 'E';
  if (flags & TYPE_BITS.keymiss) out += 'm';
  return out;
}

/** One event a command raised: its class, Redis's event name, the key and its database (if not the batch's). */
export interface KeyEvent {
  type: NotifyType;
  event: string;
  key: string;
  db?: number;
}

/** Whether events of `type` are published under `flags` at all (commands may skip the work otherwise). */
export function notifying(flags: number, type: NotifyType): boolean {
  return (flags & TYPE_BITS[type]) !== 0 && (flags & (KEYSPACE | KEYEVENT)) !== 0;
}

/**
 * notifyKeyspaceEvent for each event, in order: `__keyspace@<db>__:<key>` gets the event name,
 * `__keyevent@<db>__:<event>` the key (`db` for the events that name no database of their own).
 * Failures of the bus (PostgreSQL away) are the events' loss only. With an asynchronous bus,
 * returns when they have been delivered on this instance.
 */
export function publishKeyEvents(hub: PubSubHub, flags: number, events: readonly KeyEvent[], db = 0): Promise<void> | undefined {
  let last: Promise<number> | undefined;
  for (const { type, event, key, db: on = db } of events) {
    if (!(flags & TYPE_BITS[type])) continue;
    const name = Buffer.from(event);
    const keyBytes = Buffer.from(key, 'utf8');
    if (flags & KEYSPACE)
      last = pending(hub.publish(false, Buffer.concat([prefix(KEYSPACE_PREFIXES, 'keyspace', on), keyBytes]), name)) ?? last;
    if (flags & KEYEVENT)
      last = pending(hub.publish(false, Buffer.concat([prefix(KEYEVENT_PREFIXES, 'keyevent', on), name]), keyBytes)) ?? last;
  }
  // A bus delivers in order: once the last event is delivered here, all are.
  return last?.then(
    () => undefined,
    () => undefined,
  );
}

const KEYSPACE_PREFIXES = new Map<number, Buffer>();
const KEYEVENT_PREFIXES = new Map<number, Buffer>();

/** `__keyspace@<db>__:` or `__keyevent@<db>__:`, made once per database. */
function prefix(made: Map<number, Buffer>, kind: string, db: number): Buffer {
  let p = made.get(db);
  if (!p) made.set(db, (p = Buffer.from(`__${kind}@${db}__:`)));
  return p;
}

/** A bus's pending delivery, its failure handled (the events are lost, the write stands). */
function pending(result: number | Promise<number>): Promise<number> | undefined {
  if (!(result instanceof Promise)) return undefined;
  result.catch(() => undefined);
  return result;
}

/** The events of a plain operation (the merged fast path of SET, SETEX, DEL, UNLINK, EXPIRE...), from the keys it changed. */
export function plainEvents(op: PlainOp, changed: readonly string[]): KeyEvent[] {
  switch (op.kind) {
    case 'put':
      return op.expiry === null
        ? [{ type: 'string', event: 'set', key: op.key }]
        : [
            { type: 'string', event: 'set', key: op.key },
            { type: 'generic', event: 'expire', key: op.key },
          ];
    case 'delete':
      return changed.map((key) => ({ type: 'generic', event: 'del', key }));
    case 'expire':
      return changed.length ? [{ type: 'generic', event: 'expire', key: op.key }] : [];
    case 'hwrite':
      // HSET and HMSET raise hset whatever they changed (a WRONGTYPE changes no key, raises nothing).
      return changed.length ? [{ type: 'hash', event: 'hset', key: op.key }] : [];
    default:
      return [];
  }
}

/**
 * For `new` events (Redis's dbAdd): whether `key` is absent before a write that may create it,
 * read only when `new` events are on (one statement more per write then).
 */
export async function absentBeforeWrite(ctx: Pick<CommandContext, 'server' | 'store'>, key: string): Promise<boolean> {
  if (!notifying(ctx.server.config.notifyKeyspaceEvents, 'new')) return false;
  return (await ctx.store.countExisting([key])) === 0;
}

/**
 * For `del` after a write that removes members (HDEL, SREM, SPOP, SMOVE's source): whether it
 * left `key` absent (the last member went with it), read only when generic events are on.
 */
export async function goneAfterRemove(ctx: Pick<CommandContext, 'server' | 'store'>, key: string): Promise<boolean> {
  if (!notifying(ctx.server.config.notifyKeyspaceEvents, 'generic')) return false;
  return (await ctx.store.countExisting([key])) === 0;
}

/**
 * For the `del` of SINTERSTORE and the like with an empty result (Redis's dbDelete on the
 * destination): whether `key` is live before the write, read only when generic events are on.
 */
export async function liveBeforeWrite(ctx: Pick<CommandContext, 'server' | 'store'>, key: string): Promise<boolean> {
  if (!notifying(ctx.server.config.notifyKeyspaceEvents, 'generic')) return false;
  return (await ctx.store.countExisting([key])) > 0;
}

/** Whether `new` events are on: the merged plain writes cannot tell a new key, so commands take their full path. */
export const newEventsOn = (flags: number): boolean => notifying(flags, 'new');
