/** Hash commands, as Redis 7.0's t_hash.c: replies, error texts and the order of the checks. */
import { Errors, RespError } from '../protocol/errors';
import { bulk, map, OK, type Reply } from '../protocol/reply';
import { wrongType, type MemberPage, type MemberStats } from '../store/typed-store';
import type { Store } from '../store/store';
import { int64, key, LLONG_MAX, LLONG_MIN, parseInt64, scanCursor, word } from './args';
import { globMatch } from './glob';
import { addLongDouble, formatLongDouble, isFiniteLongDouble, parseLongDouble, type LongDouble } from './longdouble';
import { absentBeforeWrite, goneAfterRemove } from './notify';
import { readOf } from './context';
import { command } from './types';
import type { CommandContext } from './context';

/**
 * Redis's hash-max-listpack-entries / -value defaults: past them a hash is a hashtable (OBJECT ENCODING, HSCAN).
 * The compiled-in default (config.c) is 512 entries: the 128 of the shipped redis.conf applies only with that file.
 */
export const HASH_MAX_LISTPACK_ENTRIES = 512;
export const HASH_MAX_LISTPACK_VALUE = 64;

export const hashIsListpack = (s: MemberStats): boolean =>
  s.count <= HASH_MAX_LISTPACK_ENTRIES && s.maxField <= HASH_MAX_LISTPACK_VALUE && s.maxValue <= HASH_MAX_LISTPACK_VALUE;

interface KeyField {
  key: string;
  field: Buffer;
}

interface KeyFields {
  key: string;
  fields: Buffer[];
}

interface HashSetArgs {
  key: string;
  pairs: [Buffer, Buffer][];
}

function parsePairs(argv: Buffer[], name: string): HashSetArgs {
  if (argv.length % 2 !== 0) throw Errors.wrongArity(name);
  const pairs: [Buffer, Buffer][] = [];
  for (let i = 2; i < argv.length; i += 2) pairs.push([argv[i], argv[i + 1]]);
  return { key: key(argv[1]), pairs };
}

const keyField = (argv: Buffer[]): KeyField => ({ key: key(argv[1]), field: argv[2] });
const keyFields = (argv: Buffer[]): KeyFields => ({ key: key(argv[1]), fields: argv.slice(2) });
const keyOnly = (argv: Buffer[]): string => key(argv[1]);

/** Redis's events of a hash write: `new` when hashTypeLookupWriteOrCreate created the key, then the command's own. */
function notifyHashWrite(ctx: Pick<CommandContext, 'notify'>, k: string, event: string, fresh: boolean): void {
  if (fresh) ctx.notify('new', 'new', k);
  ctx.notify('hash', event, k);
}

export const hset = command<HashSetArgs>({
  name: 'hset',
  arity: -4,
  flags: ['write', 'denyoom', 'fast'],
  keys: [1, 1, 1],
  data: true,
  summary: 'Creates or modifies the value of a field in a hash.',
  group: 'hash',
  since: '2.0.0',
  parse: (argv) => parsePairs(argv, 'hset'),
  plain: (a) => ({ kind: 'hwrite', key: a.key, pairs: a.pairs, ok: false }),
  async run(a, ctx) {
    const fresh = await absentBeforeWrite(ctx, a.key);
    const added = await ctx.store.typed.hashSet(a.key, a.pairs);
    notifyHashWrite(ctx, a.key, 'hset', fresh);
    return added;
  },
});

export const hmset = command<HashSetArgs>({
  name: 'hmset',
  arity: -4,
  flags: ['write', 'denyoom', 'fast'],
  keys: [1, 1, 1],
  data: true,
  summary: 'Sets the values of multiple fields.',
  group: 'hash',
  since: '2.0.0',
  parse: (argv) => parsePairs(argv, 'hmset'),
  plain: (a) => ({ kind: 'hwrite', key: a.key, pairs: a.pairs, ok: true }),
  async run(a, ctx) {
    const fresh = await absentBeforeWrite(ctx, a.key);
    await ctx.store.typed.hashSet(a.key, a.pairs);
    // HMSET is hsetCommand: its event is hset.
    notifyHashWrite(ctx, a.key, 'hset', fresh);
    return OK;
  },
});

export const hsetnx = command<HashSetArgs>({
  name: 'hsetnx',
  arity: 4,
  flags: ['write', 'denyoom', 'fast'],
  keys: [1, 1, 1],
  data: true,
  summary: "Sets the value of a field in a hash only when the field doesn't exist.",
  group: 'hash',
  since: '2.0.0',
  parse: (argv) => ({ key: key(argv[1]), pairs: [[argv[2], argv[3]]] }),
  async run(a, ctx) {
    const { store } = ctx;
    // A field that exists leaves the hash as it was: no write, no version change.
    const [present] = (await store.typed.hashGet(a.key, [a.pairs[0][0]])) ?? [null];
    if (present !== null) return 0;
    const fresh = await absentBeforeWrite(ctx, a.key);
    const added = await store.typed.hashSet(a.key, a.pairs, true);
    notifyHashWrite(ctx, a.key, 'hset', fresh);
    return added;
  },
});

export const hget = command<KeyField>({
  name: 'hget',
  arity: 3,
  flags: ['readonly', 'fast'],
  keys: [1, 1, 1],
  data: true,
  summary: 'Returns the value of a field in a hash.',
  group: 'hash',
  since: '2.0.0',
  parse: keyField,
  plain: (a) => ({ kind: 'hread', key: a.key, fields: [a.field], shape: 'one' }),
  async run(a, { store, lookups }) {
    return ((await readOf(lookups, store.typed.hashGet(a.key, [a.field]))) ?? [null])[0];
  },
});

export const hmget = command<KeyFields>({
  name: 'hmget',
  arity: -3,
  flags: ['readonly', 'fast'],
  keys: [1, 1, 1],
  data: true,
  summary: 'Returns the values of all fields in a hash.',
  group: 'hash',
  since: '2.0.0',
  parse: keyFields,
  plain: (a) => ({ kind: 'hread', key: a.key, fields: a.fields, shape: 'array' }),
  async run(a, { store, lookups }) {
    return (await readOf(lookups, store.typed.hashGet(a.key, a.fields))) ?? a.fields.map(() => null);
  },
});

export const hgetall = command<string>({
  name: 'hgetall',
  arity: 2,
  flags: ['readonly'],
  keys: [1, 1, 1],
  data: true,
  summary: 'Returns all fields and values in a hash.',
  group: 'hash',
  since: '2.0.0',
  parse: keyOnly,
  plain: (k) => ({ kind: 'hread', key: k, fields: null, shape: 'map' }),
  async run(k, { store, lookups }) {
    return map((await readOf(lookups, store.typed.hashAll(k))) ?? []);
  },
});

function allOf(name: 'hkeys' | 'hvals', summary: string) {
  return command<string>({
    name,
    arity: 2,
    flags: ['readonly'],
    keys: [1, 1, 1],
    data: true,
    summary,
    group: 'hash',
    since: '2.0.0',
    parse: keyOnly,
    async run(k, { store, lookups }) {
      return ((await readOf(lookups, store.typed.hashAll(k))) ?? []).map((p) => p[name === 'hkeys' ? 0 : 1]);
    },
  });
}

export const hkeys = allOf('hkeys', 'Returns all fields in a hash.');
export const hvals = allOf('hvals', 'Returns all values in a hash.');

export const hdel = command<KeyFields>({
  name: 'hdel',
  arity: -3,
  flags: ['write', 'fast'],
  keys: [1, 1, 1],
  data: true,
  summary: 'Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain.',
  group: 'hash',
  since: '2.0.0',
  parse: keyFields,
  async run(a, ctx) {
    const removed = await ctx.store.typed.remove(a.key, 'hash', a.fields);
    if (removed > 0) {
      ctx.notify('hash', 'hdel', a.key);
      if (await goneAfterRemove(ctx, a.key)) ctx.notify('generic', 'del', a.key);
    }
    return removed;
  },
});

export const hexists = command<KeyField>({
  name: 'hexists',
  arity: 3,
  flags: ['readonly', 'fast'],
  keys: [1, 1, 1],
  data: true,
  summary: 'Determines whether a field exists in a hash.',
  group: 'hash',
  since: '2.0.0',
  parse: keyField,
  async run(a, { store, lookups }) {
    return ((await readOf(lookups, store.typed.hashGet(a.key, [a.field]))) ?? [null])[0] === null ? 0 : 1;
  },
});

export const hlen = command<string>({
  name: 'hlen',
  arity: 2,
  flags: ['readonly', 'fast'],
  keys: [1, 1, 1],
  data: true,
  summary: 'Returns the number of fields in a hash.',
  group: 'hash',
  since: '2.0.0',
  parse: keyOnly,
  run: (k, { store, lookups }) => readOf(lookups, store.typed.count(k, 'hash'), (n) => n > 0),
});

export const hstrlen = command<KeyField>({
  name: 'hstrlen',
  arity: 3,
  flags: ['readonly', 'fast'],
  keys: [1, 1, 1],
  data: true,
  summary: 'Returns the length of the value of a field.',
  group: 'hash',
  since: '3.2.0',
  parse: keyField,
  async run(a, { store, lookups }) {
    return ((await readOf(lookups, store.typed.hashGet(a.key, [a.field]))) ?? [null])[0]?.length ?? 0;
  },
});

/** A field's current value for HINCRBY/HINCRBYFLOAT, the key locked (WRONGTYPE before any number is read). */
async function fieldForUpdate(store: Store, a: KeyField): Promise<Buffer | null> {
  await store.typed.lock(a.key);
  return ((await store.typed.hashGet(a.key, [a.field])) ?? [null])[0];
}

export const hincrby = command<KeyField & { by: bigint }>({
  name: 'hincrby',
  arity: 4,
  flags: ['write', 'denyoom', 'fast'],
  keys: [1, 1, 1],
  data: true,
  summary: "Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist.",
  group: 'hash',
  since: '2.0.0',
  parse: (argv) => ({ ...keyField(argv), by: int64(argv[3]) }),
  async run(a, ctx) {
    const { store } = ctx;
    const current = await fieldForUpdate(store, a);
    const fresh = current === null && (await absentBeforeWrite(ctx, a.key));
    const old = current === null ? 0n : parseInt64(current);
    if (old === null) throw new RespError('ERR hash value is not an integer');
    if ((a.by < 0n && old < 0n && a.by < LLONG_MIN - old) || (a.by > 0n && old > 0n && a.by > LLONG_MAX - old)) throw Errors.overflow();
    const value = old + a.by;
    await store.typed.hashSet(a.key, [[a.field, Buffer.from(value.toString())]]);
    notifyHashWrite(ctx, a.key, 'hincrby', fresh);
    return value;
  },
});

const ZERO: LongDouble = { neg: false, m: 0n, e: 0 };

export const hincrbyfloat = command<KeyField & { by: LongDouble }>({
  name: 'hincrbyfloat',
  arity: 4,
  flags: ['write', 'denyoom', 'fast'],
  keys: [1, 1, 1],
  data: true,
  summary: "Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist.",
  group: 'hash',
  since: '2.6.0',
  parse(argv) {
    const by = parseLongDouble(argv[3]);
    if (!by) throw Errors.notFloat();
    // hincrbyfloatCommand rejects an infinite increment itself, before the key is looked up.
    if (!isFiniteLongDouble(by)) throw new RespError('ERR value is NaN or Infinity');
    return { ...keyField(argv), by };
  },
  async run(a, ctx) {
    const { store } = ctx;
    const current = await fieldForUpdate(store, a);
    const fresh = current === null && (await absentBeforeWrite(ctx, a.key));
    const old = current === null ? ZERO : parseLongDouble(current);
    if (!old) throw new RespError('ERR hash value is not a float');
    const sum = addLongDouble(old, a.by);
    if (!sum || !isFiniteLongDouble(sum)) throw Errors.nanOrInfinity();
    const text = formatLongDouble(sum);
    await store.typed.hashSet(a.key, [[a.field, Buffer.from(text)]]);
    notifyHashWrite(ctx, a.key, 'hincrbyfloat', fresh);
    return bulk(text);
  },
});

interface RandArgs {
  key: string;
  /** null: one field (or nil). */
  count: bigint | null;
  withValues: boolean;
}

const LONG_MAX = LLONG_MAX;

/** HRANDFIELD's arguments, as hrandfieldCommand: the count, then the option, then WITHVALUES's own range. */
function parseHrandfield(argv: Buffer[]): RandArgs {
  const args: RandArgs = { key: key(argv[1]), count: null, withValues: false };
  if (argv.length < 3) return args;
  args.count = rangeCount(argv[2]);
  if (argv.length > 4 || (argv.length === 4 && word(argv[3]) !== 'WITHVALUES')) throw Errors.syntax();
  if (argv.length === 4) {
    args.withValues = true;
    if (args.count < -LONG_MAX / 2n || args.count > LONG_MAX / 2n) throw new RespError('ERR value is out of range');
  }
  return args;
}

/** A count in -LONG_MAX..LONG_MAX (Redis's getRangeLongFromObjectOrReply). */
export function rangeCount(arg: Buffer): bigint {
  const n = int64(arg);
  if (n < -LONG_MAX) throw new RespError(`ERR value is out of range, value must between ${-LONG_MAX} and ${LONG_MAX}`);
  return n;
}

/** Picks for a count as Redis's *RANDFIELD / SRANDMEMBER: negative repeats, else distinct (all of them when count >= size). */
export function randomPicks<T>(items: readonly T[], count: bigint): T[] {
  if (count < 0n) {
    const n = Number(-count);
    return Array.from({ length: n }, () => items[Math.floor(Math.random() * items.length)]);
  }
  if (count >= BigInt(items.length)) return [...items];
  const pool = [...items];
  const n = Number(count);
  // Partial Fisher-Yates: the first n of a shuffled pool.
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(Math.random() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return pool.slice(0, n);
}

export const hrandfield = command<RandArgs>({
  name: 'hrandfield',
  arity: -2,
  flags: ['readonly'],
  keys: [1, 1, 1],
  data: true,
  summary: 'Returns one or more random fields from a hash.',
  group: 'hash',
  since: '6.2.0',
  parse: parseHrandfield,
  async run(a, { store, client, lookups }): Promise<Reply> {
    const all = await readOf(lookups, store.typed.hashAll(a.key));
    if (a.count === null) return all?.length ? all[Math.floor(Math.random() * all.length)][0] : null;
    if (!all || a.count === 0n) return [];
    const picks = randomPicks(all, a.count);
    if (!a.withValues) return picks.map((p) => p[0]);
    // RESP3: an array of [field, value] pairs; RESP2: flat.
    return client.protocol === 3 ? picks.map((p) => [p[0], p[1]]) : picks.flat();
  },
});

export interface MemberScanArgs {
  key: string;
  cursor: bigint;
  /** The options, read only once the key is known to be of the right type (as Redis does). */
  options: Buffer[];
}

export interface MemberScanOptions {
  count: number;
  pattern: Buffer | null;
  noValues: boolean;
}

export function parseMemberScan(argv: Buffer[]): MemberScanArgs {
  // Redis checks the cursor before the key, and the options after it.
  const cursor = scanCursor(argv[2]);
  return { key: key(argv[1]), cursor, options: argv.slice(3) };
}

/** scanGenericCommand's options for HSCAN/SSCAN (no TYPE); NOVALUES is Redis 7.4's, accepted for HSCAN. */
export function memberScanOptions(options: Buffer[], hash: boolean): MemberScanOptions {
  const out: MemberScanOptions = { count: 10, pattern: null, noValues: false };
  for (let i = 0; i < options.length; i++) {
    const opt = word(options[i]);
    const hasValue = i + 1 < options.length;
    if (opt === 'COUNT' && hasValue) {
      const count = parseInt64(options[++i]);
      if (count === null) throw Errors.notInteger();
      if (count < 1n) throw Errors.syntax();
      out.count = count > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(count);
    } else if (opt === 'MATCH' && hasValue) {
      const p = options[++i];
      out.pattern = p.length === 1 && p[0] === 0x2a ? null : p;
    } else if (hash && opt === 'NOVALUES') {
      out.noValues = true;
    } else {
      throw Errors.syntax();
    }
  }
  return out;
}

/** The reply of a HSCAN/SSCAN page: MATCH applies to fields (members), `pairs` when items come field, value. */
export function memberScanReply(page: MemberPage, o: MemberScanOptions, pairs: boolean): Reply {
  const out: Buffer[] = [];
  const step = pairs ? 2 : 1;
  for (let i = 0; i < page.items.length; i += step) {
    if (o.pattern && !globMatch(o.pattern, page.items[i])) continue;
    out.push(page.items[i]);
    if (pairs && !o.noValues) out.push(page.items[i + 1]);
  }
  return [bulk(String(page.cursor)), out];
}

const EMPTY_SCAN: Reply = [bulk('0'), []];

export const hscan = command<MemberScanArgs>({
  name: 'hscan',
  arity: -3,
  flags: ['readonly'],
  keys: [1, 1, 1],
  data: true,
  summary: 'Iterates over fields and values of a hash.',
  group: 'hash',
  since: '2.8.0',
  parse: parseMemberScan,
  async run(a, { store, lookups }): Promise<Reply> {
    const type = await readOf(lookups, store.typed.keyType(a.key));
    if (type === null) return EMPTY_SCAN;
    if (type !== 'hash') throw wrongType();
    const o = memberScanOptions(a.options, true);
    // A listpack hash answers in one page, whatever the cursor and COUNT (as Redis).
    if (hashIsListpack(await store.typed.stats(a.key, 'hash'))) {
      const all = (await store.typed.hashAll(a.key)) ?? [];
      return memberScanReply({ cursor: 0, items: all.flat() }, o, true);
    }
    if (a.cursor > BigInt(Number.MAX_SAFE_INTEGER)) return EMPTY_SCAN;
    const page = await store.typed.scan(a.key, 'hash', Number(a.cursor), o.count);
    return page ? memberScanReply(page, o, true) : EMPTY_SCAN;
  },
});

export const hashCommands = [
  hset,
  hsetnx,
  hmset,
  hget,
  hmget,
  hgetall,
  hkeys,
  hvals,
  hdel,
  hexists,
  hlen,
  hstrlen,
  hincrby,
  hincrbyfloat,
  hrandfield,
  hscan,
];
