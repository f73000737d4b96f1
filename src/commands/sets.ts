/** Set commands, as Redis 7.0's t_set.c: replies, error texts and the order of the checks. */
import { Errors, RespError } from '../protocol/errors';
import type { Reply, SetReply } from '../protocol/reply';
import type { Store } from '../store/store';
import { distinct, wrongType, type MemberStats } from '../store/typed-store';
import { int64, key, keys, LLONG_MAX, parseInt64, word } from './args';
import { memberScanOptions, memberScanReply, parseMemberScan, randomPicks, rangeCount, type MemberScanArgs } from './hashes';
import { absentBeforeWrite, goneAfterRemove, liveBeforeWrite } from './notify';
import { readOf, type KeyLookups } from './context';
import { command } from './types';
import type { CommandContext } from './context';

/** Redis 7.0's set-max-intset-entries: a set of only integers up to this size is an intset (sorted, OBJECT ENCODING). */
export const SET_MAX_INTSET_ENTRIES = 512;

const setReply = (items: Buffer[]): SetReply => ({ kind: 'set', items });

/** Whether Redis 7.0 would keep these members as an intset. */
export function isIntset(members: readonly Buffer[]): boolean {
  return members.length <= SET_MAX_INTSET_ENTRIES && members.every((m) => parseInt64(m) !== null);
}

export const setIsIntset = (s: MemberStats, allIntegers: boolean): boolean => allIntegers && s.count <= SET_MAX_INTSET_ENTRIES;

/** Members in the order Redis 7.0 answers them where it is fixed: an intset is sorted by value. */
function inRedisOrder(members: Buffer[]): Buffer[] {
  if (!isIntset(members)) return members;
  return members
    .map((m) => [parseInt64(m)!, m] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map((p) => p[1]);
}

interface KeyMembers {
  key: string;
  members: Buffer[];
}

const keyMembers = (argv: Buffer[]): KeyMembers => ({ key: key(argv[1]), members: argv.slice(2) });
const keyOnly = (argv: Buffer[]): string => key(argv[1]);

/** The events of members removed from `k` (SREM, SPOP, SMOVE's source): the command's own, then `del` if the set went. */
async function notifyRemoved(ctx: CommandContext, k: string, event: string): Promise<void> {
  ctx.notify('set', event, k);
  if (await goneAfterRemove(ctx, k)) ctx.notify('generic', 'del', k);
}

export const sadd = command<KeyMembers>({
  name: 'sadd',
  arity: -3,
  flags: ['write', 'denyoom', 'fast'],
  keys: [1, 1, 1],
  data: true,
  summary: "Adds one or more members to a set. Creates the key if it doesn't exist.",
  group: 'set',
  since: '1.0.0',
  parse: keyMembers,
  async run(a, ctx) {
    const { store } = ctx;
    // Members already there change nothing (no version change for WATCH).
    const present = await store.typed.setHas(a.key, a.members);
    if (present && present.every(Boolean)) return 0;
    const fresh = present === null && (await absentBeforeWrite(ctx, a.key));
    const added = await store.typed.setAdd(a.key, a.members);
    if (fresh) ctx.notify('new', 'new', a.key);
    if (added > 0) ctx.notify('set', 'sadd', a.key);
    return added;
  },
});

export const srem = command<KeyMembers>({
  name: 'srem',
  arity: -3,
  flags: ['write', 'fast'],
  keys: [1, 1, 1],
  data: true,
  summary: 'Removes one or more members from a set. Deletes the set if the last member was removed.',
  group: 'set',
  since: '1.0.0',
  parse: keyMembers,
  async run(a, ctx) {
    const removed = await ctx.store.typed.remove(a.key, 'set', a.members);
    if (removed > 0) await notifyRemoved(ctx, a.key, 'srem');
    return removed;
  },
});

export const smembers = command<string>({
  name: 'smembers',
  arity: 2,
  flags: ['readonly'],
  keys: [1, 1, 1],
  data: true,
  summary: 'Returns all members of a set.',
  group: 'set',
  since: '1.0.0',
  parse: keyOnly,
  async run(k, { store, lookups }) {
    return setReply(inRedisOrder((await readOf(lookups, store.typed.setAll(k))) ?? []));
  },
});

export const sismember = command<KeyMembers>({
  name: 'sismember',
  arity: 3,
  flags: ['readonly', 'fast'],
  keys: [1, 1, 1],
  data: true,
  summary: 'Determines whether a member belongs to a set.',
  group: 'set',
  since: '1.0.0',
  parse: keyMembers,
  async run(a, { store, lookups }) {
    return (await readOf(lookups, store.typed.setHas(a.key, a.members)))?.[0] ? 1 : 0;
  },
});

export const smismember = command<KeyMembers>({
  name: 'smismember',
  arity: -3,
  flags: ['readonly', 'fast'],
  keys: [1, 1, 1],
  data: true,
  summary: 'Determines whether multiple members belong to a set.',
  group: 'set',
  since: '6.2.0',
  parse: keyMembers,
  async run(a, { store, lookups }) {
    const found = await readOf(lookups, store.typed.setHas(a.key, a.members));
    return a.members.map((_, i) => (found?.[i] ? 1 : 0));
  },
});

export const scard = command<string>({
  name: 'scard',
  arity: 2,
  flags: ['readonly', 'fast'],
  keys: [1, 1, 1],
  data: true,
  summary: 'Returns the number of members in a set.',
  group: 'set',
  since: '1.0.0',
  parse: keyOnly,
  run: (k, { store, lookups }) => readOf(lookups, store.typed.count(k, 'set'), (n) => n > 0),
});

interface CountArgs {
  key: string;
  count: bigint | null;
}

export const spop = command<CountArgs>({
  name: 'spop',
  arity: -2,
  flags: ['write', 'fast'],
  keys: [1, 1, 1],
  data: true,
  summary: 'Returns one or more random members from a set after removing them. Deletes the set if the last member was popped.',
  group: 'set',
  since: '1.0.0',
  parse(argv) {
    if (argv.length > 3) throw Errors.syntax();
    if (argv.length === 2) return { key: key(argv[1]), count: null };
    // getPositiveLongFromObjectOrReply: one message for a negative count and for a non-integer.
    const positive = () => new RespError('ERR value is out of range, must be positive');
    let count: bigint;
    try {
      count = int64(argv[2]);
    } catch {
      throw positive();
    }
    if (count < 0n) throw positive();
    return { key: key(argv[1]), count };
  },
  async run(a, ctx): Promise<Reply> {
    const { store } = ctx;
    await store.typed.lock(a.key);
    const all = await store.typed.setAll(a.key);
    if (a.count === null) {
      if (!all?.length) return null;
      const pick = all[Math.floor(Math.random() * all.length)];
      await store.typed.remove(a.key, 'set', [pick]);
      await notifyRemoved(ctx, a.key, 'spop');
      return pick;
    }
    if (!all || a.count === 0n) return setReply([]);
    const picks = randomPicks(all, a.count);
    await store.typed.remove(a.key, 'set', picks);
    await notifyRemoved(ctx, a.key, 'spop');
    return setReply(picks);
  },
});

export const srandmember = command<CountArgs>({
  name: 'srandmember',
  arity: -2,
  flags: ['readonly'],
  keys: [1, 1, 1],
  data: true,
  summary: 'Get one or multiple random members from a set',
  group: 'set',
  since: '1.0.0',
  parse(argv) {
    if (argv.length > 3) throw Errors.syntax();
    return { key: key(argv[1]), count: argv.length === 3 ? rangeCount(argv[2]) : null };
  },
  async run(a, { store, lookups }): Promise<Reply> {
    const all = await readOf(lookups, store.typed.setAll(a.key));
    if (a.count === null) return all?.length ? all[Math.floor(Math.random() * all.length)] : null;
    if (!all || a.count === 0n) return [];
    return randomPicks(all, a.count);
  },
});

interface MoveArgs {
  from: string;
  to: string;
  member: Buffer;
}

export const smove = command<MoveArgs>({
  name: 'smove',
  arity: 4,
  flags: ['write', 'fast'],
  keys: [1, 2, 1],
  data: true,
  summary: 'Moves a member from one set to another.',
  group: 'set',
  since: '1.0.0',
  parse: (argv) => ({ from: key(argv[1]), to: key(argv[2]), member: argv[3] }),
  async run(a, ctx) {
    const { store } = ctx;
    await lockAll(store, [a.from, a.to]);
    const fromType = await store.typed.keyType(a.from);
    if (fromType === null) return 0;
    const toType = await store.typed.keyType(a.to);
    if (fromType !== 'set' || (toType !== null && toType !== 'set')) throw wrongType();
    if (a.from === a.to) return (await store.typed.setHas(a.from, [a.member]))?.[0] ? 1 : 0;
    if ((await store.typed.remove(a.from, 'set', [a.member])) === 0) return 0;
    await notifyRemoved(ctx, a.from, 'srem');
    if (toType === null) ctx.notify('new', 'new', a.to);
    // A member the destination had already changes nothing there.
    if ((await store.typed.setAdd(a.to, [a.member])) > 0) ctx.notify('set', 'sadd', a.to);
    return 1;
  },
});

/**
 * Takes the locks of read-then-write commands over several keys (instances sharing one
 * PostgreSQL), each key once and in one order, so that two such commands cannot deadlock.
 */
async function lockAll(store: Store, keys: readonly string[]): Promise<void> {
  for (const k of [...new Set(keys)].sort()) await store.typed.lock(k);
}

/** Every key's members (null where absent); WRONGTYPE if any key holds another type, checked before anything is computed. */
async function loadSets(store: Store, ks: string[], lookups: KeyLookups): Promise<(Buffer[] | null)[]> {
  const sets: (Buffer[] | null)[] = [];
  // Each key is a read lookup (lookupKeyRead, the STORE forms too), up to the first of another type.
  for (const k of ks) sets.push(await readOf(lookups, store.typed.setAll(k)));
  return sets;
}

const text = (b: Buffer): string => b.toString('latin1');

/** SINTER of loaded sets; `limit` > 0 stops there (SINTERCARD). */
function intersect(sets: (Buffer[] | null)[], limit = 0): Buffer[] {
  if (sets.some((s) => !s || !s.length)) return [];
  const ordered = [...(sets as Buffer[][])].sort((a, b) => a.length - b.length);
  const others = ordered.slice(1).map((s) => new Set(s.map(text)));
  const out: Buffer[] = [];
  for (const m of ordered[0]) {
    if (others.every((o) => o.has(text(m)))) {
      out.push(m);
      if (limit > 0 && out.length >= limit) break;
    }
  }
  return out;
}

function union(sets: (Buffer[] | null)[]): Buffer[] {
  return distinct(sets.flatMap((s) => s ?? []));
}

function difference(sets: (Buffer[] | null)[]): Buffer[] {
  const [first, ...rest] = sets;
  if (!first) return [];
  const removed = new Set(rest.flatMap((s) => s ?? []).map(text));
  return first.filter((m) => !removed.has(text(m)));
}

type Combine = (sets: (Buffer[] | null)[]) => Buffer[];

function combineCommand(name: string, combine: Combine, summary: string) {
  return command<string[]>({
    name,
    arity: -2,
    flags: ['readonly'],
    keys: [1, -1, 1],
    data: true,
    summary,
    group: 'set',
    since: '1.0.0',
    parse: (argv) => keys(argv.slice(1)),
    async run(ks, { store, lookups }) {
      return setReply(inRedisOrder(combine(await loadSets(store, ks, lookups))));
    },
  });
}

function storeCommand(name: string, combine: Combine, summary: string) {
  return command<{ to: string; from: string[] }>({
    name,
    arity: -3,
    flags: ['write', 'denyoom'],
    keys: [1, -1, 1],
    data: true,
    summary,
    group: 'set',
    since: '1.0.0',
    parse: (argv) => ({ to: key(argv[1]), from: keys(argv.slice(2)) }),
    async run(a, ctx) {
      const { store, lookups } = ctx;
      await lockAll(store, [a.to, ...a.from]);
      const result = combine(await loadSets(store, a.from, lookups));
      // setKey creates the destination (`new`) and raises the command's name; an empty result deletes it (`del`).
      const fresh = result.length > 0 && (await absentBeforeWrite(ctx, a.to));
      const existed = result.length === 0 && (await liveBeforeWrite(ctx, a.to));
      await store.typed.setReplace(a.to, result);
      if (fresh) ctx.notify('new', 'new', a.to);
      if (result.length) ctx.notify('set', name, a.to);
      else if (existed) ctx.notify('generic', 'del', a.to);
      return result.length;
    },
  });
}

export const sinter = combineCommand('sinter', intersect, 'Returns the intersect of multiple sets.');
export const sunion = combineCommand('sunion', union, 'Returns the union of multiple sets.');
export const sdiff = combineCommand('sdiff', difference, 'Returns the difference of multiple sets.');
export const sinterstore = storeCommand('sinterstore', intersect, 'Stores the intersect of multiple sets in a key.');
export const sunionstore = storeCommand('sunionstore', union, 'Stores the union of multiple sets in a key.');
export const sdiffstore = storeCommand('sdiffstore', difference, 'Stores the difference of multiple sets in a key.');

/** SINTERCARD numkeys key [key ...] [LIMIT limit], as sinterCardCommand. */
export const sintercard = command<{ keys: string[]; limit: number }>({
  name: 'sintercard',
  arity: -3,
  flags: ['readonly', 'movablekeys'],
  keys: [0, 0, 0],
  data: true,
  summary: 'Returns the number of members of the intersect of multiple sets.',
  group: 'set',
  since: '7.0.0',
  parse(argv) {
    const n = parseInt64(argv[1]);
    if (n === null || n < 1n) throw new RespError('ERR numkeys should be greater than 0');
    if (n > BigInt(argv.length - 2)) throw new RespError("ERR Number of keys can't be greater than number of args");
    const count = Number(n);
    let limit = 0;
    for (let i = 2 + count; i < argv.length; i++) {
      if (word(argv[i]) === 'LIMIT' && i + 1 < argv.length) {
        const l = parseInt64(argv[++i]);
        if (l === null || l < 0n) throw new RespError("ERR LIMIT can't be negative");
        limit = l > LLONG_MAX ? Number.MAX_SAFE_INTEGER : Number(l);
      } else {
        throw Errors.syntax();
      }
    }
    return { keys: keys(argv.slice(2, 2 + count)), limit };
  },
  async run(a, { store, lookups }) {
    return intersect(await loadSets(store, a.keys, lookups), a.limit).length;
  },
});

export const sscan = command<MemberScanArgs>({
  name: 'sscan',
  arity: -3,
  flags: ['readonly'],
  keys: [1, 1, 1],
  data: true,
  summary: 'Iterates over members of a set.',
  group: 'set',
  since: '2.8.0',
  parse: parseMemberScan,
  async run(a, { store, lookups }): Promise<Reply> {
    const type = await readOf(lookups, store.typed.keyType(a.key));
    if (type === null) return [Buffer.from('0'), []];
    if (type !== 'set') throw wrongType();
    const o = memberScanOptions(a.options, false);
    // An intset answers in one page, sorted (as Redis); a hashtable page by page.
    const stats = await store.typed.stats(a.key, 'set');
    if (stats.count <= SET_MAX_INTSET_ENTRIES) {
      const all = (await store.typed.setAll(a.key)) ?? [];
      if (isIntset(all)) return memberScanReply({ cursor: 0, items: inRedisOrder(all) }, o, false);
    }
    if (a.cursor > BigInt(Number.MAX_SAFE_INTEGER)) return [Buffer.from('0'), []];
    const page = await store.typed.scan(a.key, 'set', Number(a.cursor), o.count);
    return page ? memberScanReply(page, o, false) : [Buffer.from('0'), []];
  },
});

export const setCommands = [
  sadd,
  srem,
  smembers,
  sismember,
  smismember,
  scard,
  spop,
  srandmember,
  smove,
  sinter,
  sunion,
  sdiff,
  sinterstore,
  sunionstore,
  sdiffstore,
  sintercard,
  sscan,
];
