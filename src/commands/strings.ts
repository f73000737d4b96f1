import { Errors, RespError } from '../protocol/errors';
import { OK, type Reply } from '../protocol/reply';
import { int64, key, keys } from './args';
import { lookedUp, type CommandContext, type KeyLookups } from './context';
import { checkStringLength } from './errors';
import { absoluteExpiry, parseExpiryOptions, type ExpireArg } from './expiry-options';
import { absentBeforeWrite } from './notify';
import { command } from './types';

/** setGenericCommand's events: `new` for a key created, `set`, then `expire` when an expiry was given. */
function notifySet(notify: CommandContext['notify'], k: string, expires: boolean, fresh: boolean): void {
  if (fresh) notify('new', 'new', k);
  notify('string', 'set', k);
  if (expires) notify('generic', 'expire', k);
}

/** A value read as Redis's lookupKeyRead reads it: a hit or a miss in INFO (see KeyLookups). */
function read<T>(lookups: KeyLookups, value: T | null): T | null {
  lookedUp(lookups, value !== null);
  return value;
}

interface SetArgs {
  key: string;
  value: Buffer;
  expire: ExpireArg | null;
  keepTtl: boolean;
  condition: 'NX' | 'XX' | undefined;
  get: boolean;
}

/**
 * SET's option grammar, as Redis 7's parseExtendedStringArgumentsOrReply: an option may
 * repeat (the last expiry wins) but may not conflict with another (NX/XX, KEEPTTL/EX...).
 */
function parseSet(argv: Buffer[]): SetArgs {
  const k = key(argv[1]); // a key that is not text is reported before a bad option
  let condition: SetArgs['condition'];
  let get = false;
  const { expire, keepTtl } = parseExpiryOptions(argv, 3, 'KEEPTTL', (opt) => {
    if (opt === 'NX' && condition !== 'XX') condition = 'NX';
    else if (opt === 'XX' && condition !== 'NX') condition = 'XX';
    else if (opt === 'GET') get = true;
    else return false;
    return true;
  });
  return { key: k, value: argv[2], expire, keepTtl, condition, get };
}

export const get = command<string>({
  name: 'get',
  arity: 2,
  flags: ['readonly', 'fast'],
  keys: [1, 1, 1],
  data: true,
  summary: 'Returns the string value of a key.',
  group: 'string',
  since: '1.0.0',
  parse: (argv) => key(argv[1]),
  plain: (k) => ({ kind: 'get', key: k }),
  run: async (k, { store, lookups }) => read(lookups, await store.get(k)),
});

export const set = command<SetArgs>({
  name: 'set',
  arity: -3,
  flags: ['write', 'denyoom'],
  keys: [1, 1, 1],
  data: true,
  summary: "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.",
  group: 'string',
  since: '1.0.0',
  parse: parseSet,
  // SET with only a value and an expiry is an unconditional write.
  plain: (a, now) =>
    a.condition || a.keepTtl || a.get
      ? null
      : { kind: 'put', key: a.key, value: a.value, expiry: a.expire ? absoluteExpiry(a.expire, now, 'set') : null },
  async run(a, ctx): Promise<Reply> {
    const { store, lookups, notify } = ctx;
    const expiry = a.expire ? absoluteExpiry(a.expire, store.now, 'set') : null;
    const fresh = await absentBeforeWrite(ctx, a.key);
    const outcome = await store.set(a.key, a.value, {
      expiry,
      keepTtl: a.keepTtl,
      condition: a.condition,
      returnPrevious: a.get,
    });
    if (outcome.written) notifySet(notify, a.key, expiry !== null, fresh);
    // SET ... GET reads the old value as GET does.
    if (a.get) return read(lookups, outcome.previous ?? null);
    return outcome.written ? OK : null;
  },
});

export const mget = command<string[]>({
  name: 'mget',
  arity: -2,
  flags: ['readonly', 'fast'],
  keys: [1, -1, 1],
  data: true,
  summary: 'Atomically returns the string values of one or more keys.',
  group: 'string',
  since: '1.0.0',
  parse: (argv) => keys(argv.slice(1)),
  async run(ks, { store, lookups }) {
    const values = await store.getMany(ks);
    // A hash or a set is found (a hit), then answered null as lookupKeyRead's caller does for a non-string.
    lookedUp(lookups, values.filter((v) => v !== null).length, values.length);
    return values.map((v) => (v instanceof RespError ? null : v));
  },
});

/** MSET/MSETNX pairs; an odd count of key/value arguments is an arity error, as in Redis. */
function parsePairs(argv: Buffer[], name: string): [string, Buffer][] {
  if (argv.length % 2 === 0) throw Errors.wrongArity(name);
  const pairs: [string, Buffer][] = [];
  for (let i = 1; i < argv.length; i += 2) pairs.push([key(argv[i]), argv[i + 1]]);
  return pairs;
}

export const mset = command<[string, Buffer][]>({
  name: 'mset',
  arity: -3,
  flags: ['write', 'denyoom'],
  keys: [1, -1, 2],
  data: true,
  summary: 'Atomically creates or modifies the string values of one or more keys.',
  group: 'string',
  since: '1.0.1',
  parse: (argv) => parsePairs(argv, 'mset'),
  async run(pairs, ctx) {
    const { store, notify } = ctx;
    // A key named twice is new for its first pair only.
    const fresh = new Set<string>();
    for (const [k] of pairs) if (!fresh.has(k) && (await absentBeforeWrite(ctx, k))) fresh.add(k);
    await store.putMany(pairs);
    for (const [k] of pairs) notifySet(notify, k, false, fresh.delete(k));
    return OK;
  },
});

export const msetnx = command<[string, Buffer][]>({
  name: 'msetnx',
  arity: -3,
  flags: ['write', 'denyoom'],
  keys: [1, -1, 2],
  data: true,
  summary: "Atomically modifies the string values of one or more keys only when all keys don't exist.",
  group: 'string',
  since: '1.0.1',
  parse: (argv) => parsePairs(argv, 'msetnx'),
  async run(pairs, { store, notify }) {
    if (!(await store.putManyIfAbsent(pairs))) return 0;
    const seen = new Set<string>();
    for (const [k] of pairs) notifySet(notify, k, false, !seen.has(k) && !!seen.add(k));
    return 1;
  },
});

interface SetexArgs {
  key: string;
  expire: ExpireArg;
  value: Buffer;
}

/** SETEX key seconds value / PSETEX key milliseconds value: SET with EX / PX. */
function setexCommand(name: 'setex' | 'psetex') {
  return command<SetexArgs>({
    name,
    arity: 4,
    flags: ['write', 'denyoom'],
    keys: [1, 1, 1],
    data: true,
    summary:
      name === 'setex'
        ? "Sets the string value and expiration time of a key. Creates the key if it doesn't exist."
        : "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist.",
    group: 'string',
    since: name === 'setex' ? '2.0.0' : '2.6.0',
    parse: (argv) => ({ key: key(argv[1]), expire: { unit: name === 'setex' ? 'EX' : 'PX', raw: argv[2] }, value: argv[3] }),
    // Always an unconditional write (phpredis and Rails write every session with SETEX).
    plain: (a, now) => ({ kind: 'put', key: a.key, value: a.value, expiry: absoluteExpiry(a.expire, now, name) }),
    async run(a, ctx) {
      const { store, notify } = ctx;
      const expiry = absoluteExpiry(a.expire, store.now, name);
      const fresh = await absentBeforeWrite(ctx, a.key);
      await store.set(a.key, a.value, { expiry });
      notifySet(notify, a.key, true, fresh);
      return OK;
    },
  });
}

export const setex = setexCommand('setex');
export const psetex = setexCommand('psetex');

interface KeyValue {
  key: string;
  value: Buffer;
}

const keyValue = (argv: Buffer[]): KeyValue => ({ key: key(argv[1]), value: argv[2] });

export const setnx = command<KeyValue>({
  name: 'setnx',
  arity: 3,
  flags: ['write', 'denyoom', 'fast'],
  keys: [1, 1, 1],
  data: true,
  summary: "Set the string value of a key only when the key doesn't exist.",
  group: 'string',
  since: '1.0.0',
  parse: keyValue,
  async run(a, { store, notify }) {
    if (!(await store.set(a.key, a.value, { expiry: null, condition: 'NX' })).written) return 0;
    notifySet(notify, a.key, false, true);
    return 1;
  },
});

/** GETSET: SET ... GET, which also drops the TTL. */
export const getset = command<KeyValue>({
  name: 'getset',
  arity: 3,
  flags: ['write', 'denyoom', 'fast'],
  keys: [1, 1, 1],
  data: true,
  summary: 'Returns the previous string value of a key after setting it to a new value.',
  group: 'string',
  since: '1.0.0',
  parse: keyValue,
  async run(a, { store, lookups, notify }) {
    const previous = (await store.set(a.key, a.value, { expiry: null, returnPrevious: true })).previous ?? null;
    notifySet(notify, a.key, false, previous === null);
    return read(lookups, previous);
  },
});

export const getdel = command<string>({
  name: 'getdel',
  arity: 2,
  flags: ['write', 'fast'],
  keys: [1, 1, 1],
  data: true,
  summary: 'Returns the string value of a key after deleting the key.',
  group: 'string',
  since: '6.2.0',
  parse: (argv) => key(argv[1]),
  async run(k, { store, lookups, notify }) {
    const value = read(lookups, await store.take(k));
    if (value !== null) notify('generic', 'del', k);
    return value;
  },
});

interface GetexArgs {
  key: string;
  expire: ExpireArg | null;
  persist: boolean;
}

/** GETEX's options, as Redis 7.0's parseExtendedStringArgumentsOrReply(COMMAND_GET). */
function parseGetex(argv: Buffer[]): GetexArgs {
  const k = key(argv[1]);
  const { expire, persist } = parseExpiryOptions(argv, 2, 'PERSIST');
  return { key: k, expire, persist };
}

/**
 * GETEX: the value, after changing the expiry. As in Redis the time is checked only when
 * the key exists, and an EXAT/PXAT time not in the future deletes the key.
 */
export const getex = command<GetexArgs>({
  name: 'getex',
  arity: -2,
  flags: ['write', 'fast'],
  keys: [1, 1, 1],
  data: true,
  summary: 'Returns the string value of a key after setting its expiration time.',
  group: 'string',
  since: '6.2.0',
  parse: parseGetex,
  async run(a, { store, lookups, notify }): Promise<Reply> {
    if (!a.expire && !a.persist) return read(lookups, await store.get(a.key));
    const entry = read(lookups, await store.getEntry(a.key, true));
    if (!entry) return null;
    if (a.expire) {
      const expiry = absoluteExpiry(a.expire, store.now, 'getex');
      if ((a.expire.unit === 'EXAT' || a.expire.unit === 'PXAT') && expiry <= store.now) {
        await store.delete([a.key]);
        notify('generic', 'del', a.key);
      } else {
        await store.setExpiry(a.key, expiry);
        notify('generic', 'expire', a.key);
      }
    } else if (await store.persist(a.key)) {
      notify('generic', 'persist', a.key);
    }
    return entry.value;
  },
});

export const strlen = command<string>({
  name: 'strlen',
  arity: 2,
  flags: ['readonly', 'fast'],
  keys: [1, 1, 1],
  data: true,
  summary: 'Returns the length of a string value.',
  group: 'string',
  since: '2.2.0',
  parse: (argv) => key(argv[1]),
  async run(k, { store, lookups }) {
    return read(lookups, await store.valueLength(k)) ?? 0;
  },
});

/** APPEND: creates the key or extends its value, keeping its TTL; replies the new length. */
export const append = command<KeyValue>({
  name: 'append',
  arity: 3,
  flags: ['write', 'denyoom', 'fast'],
  keys: [1, 1, 1],
  data: true,
  summary: "Appends a string to the value of a key. Creates the key if it doesn't exist.",
  group: 'string',
  since: '2.0.0',
  parse: keyValue,
  async run(a, { store, server, notify }) {
    const entry = await store.getEntry(a.key, true);
    if (entry) checkStringLength(entry.value.length, a.value.length, server.config.limits.protoMaxBulkLen);
    const value = entry ? Buffer.concat([entry.value, a.value]) : a.value;
    await store.put(a.key, value, entry?.expiry ?? null);
    if (!entry) notify('new', 'new', a.key);
    notify('string', 'append', a.key);
    return value.length;
  },
});

interface RangeArgs {
  key: string;
  start: bigint;
  end: bigint;
}

/** GETRANGE's index rules (Redis 7.0 getrangeCommand), on a value of `length` bytes. */
export function byteRange(length: number, start: bigint, end: bigint): [number, number] | null {
  const len = BigInt(length);
  if (start < 0n && end < 0n && start > end) return null;
  if (start < 0n) start += len;
  if (end < 0n) end += len;
  if (start < 0n) start = 0n;
  if (end < 0n) end = 0n;
  if (end >= len) end = len - 1n;
  if (start > end || length === 0) return null;
  return [Number(start), Number(end) + 1];
}

function getrangeCommand(name: 'getrange' | 'substr') {
  return command<RangeArgs>({
    name,
    arity: 4,
    flags: ['readonly'],
    keys: [1, 1, 1],
    data: true,
    summary: 'Returns a substring of the string stored at a key.',
    group: 'string',
    since: name === 'substr' ? '1.0.0' : '2.4.0',
    parse: (argv) => ({ key: key(argv[1]), start: int64(argv[2]), end: int64(argv[3]) }),
    async run(a, { store, lookups }) {
      const value = read(lookups, await store.get(a.key));
      const range = value ? byteRange(value.length, a.start, a.end) : null;
      return range && value ? value.subarray(range[0], range[1]) : Buffer.alloc(0);
    },
  });
}

export const getrange = getrangeCommand('getrange');
export const substr = getrangeCommand('substr');

interface SetrangeArgs {
  key: string;
  offset: bigint;
  value: Buffer;
}

/**
 * SETRANGE, as Redis 7.0: a negative offset is refused before anything else; an empty
 * value changes nothing (and creates no key); the result may not exceed proto-max-bulk-len; the
 * TTL is kept.
 */
export const setrange = command<SetrangeArgs>({
  name: 'setrange',
  arity: 4,
  flags: ['write', 'denyoom'],
  keys: [1, 1, 1],
  data: true,
  summary: "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.",
  group: 'string',
  since: '2.2.0',
  parse(argv) {
    const offset = int64(argv[2]);
    if (offset < 0n) throw Errors.offsetOutOfRange();
    return { key: key(argv[1]), offset, value: argv[3] };
  },
  async run(a, { store, server, notify }) {
    const entry = await store.getEntry(a.key, true);
    const old = entry?.value ?? Buffer.alloc(0);
    if (a.value.length === 0) return old.length;
    checkStringLength(a.offset, a.value.length, server.config.limits.protoMaxBulkLen);
    const offset = Number(a.offset);
    const value = Buffer.alloc(Math.max(old.length, offset + a.value.length));
    old.copy(value);
    a.value.copy(value, offset);
    await store.put(a.key, value, entry?.expiry ?? null);
    if (!entry) notify('new', 'new', a.key);
    notify('string', 'setrange', a.key);
    return value.length;
  },
});

export const stringCommands = [
  get,
  set,
  mget,
  mset,
  msetnx,
  setex,
  psetex,
  setnx,
  getset,
  getdel,
  getex,
  strlen,
  append,
  getrange,
  substr,
  setrange,
];
