/**
 * Hashes and sets (issue 16).
 *
 * Seeded random sequences mixing strings, hashes and sets over 6 keys (two home keys per type;
 * one command in five goes to another key, often of another type: WRONGTYPE), with expiries, MULTI/EXEC and WATCH, sent to
 * redis-server and the target one command at a time, interleaved. Replies are compared
 * reply by reply through the shapes of ./shapes.ts: member and field lists (SMEMBERS,
 * HKEYS, HVALS, HGETALL, SINTER/SUNION/SDIFF, KEYS) as sets, because Redis orders them by
 * encoding (listpack: insertion order; intset: numeric; hashtable: hash order) and the
 * clients we serve do not depend on it. SPOP is left out (a random removal makes the two
 * keyspaces differ); SRANDMEMBER and HRANDFIELD are compared by count, and each server's
 * own picks are checked against its own key with SMISMEMBER / HMGET (outside MULTI only).
 *
 * Expiry times never make a comparison depend on the moment (multiples of 1000 s, as in
 * random.test.ts). A failure names the seed (RANDOM_SEED=n replays one) and shows the last
 * commands with redis-server's replies.
 */
import { expect } from 'chai';
import { prng } from '../support/prng';
import { Resp3Client, type Value } from '../support/resp3';
import { canonical, shapeOf, TARGETS, useReferenceAndTarget, type Shape } from './shapes';

const KEYS = Array.from({ length: 6 }, (_, i) => `x:${i}`);
const FIELDS = ['a', 'b', 'c', 'd', 'n', ''];
const MEMBERS = ['a', 'b', 'c', '1', '2', '10', ''];
const VALUES = ['', 'v', '0', '1', '-3', '2.5', 'hello', '9223372036854775806'];

export function generateTyped(seed: number, length = 400): string[][] {
  const rnd = prng(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const some = <T>(xs: readonly T[], max: number): T[] => Array.from({ length: 1 + int(max) }, () => pick(xs));
  const key = () => pick(KEYS);
  // Each type has its home keys; a command goes elsewhere (often a WRONGTYPE) one time in five.
  const HOME = { str: KEYS.slice(0, 2), hash: KEYS.slice(2, 4), set: KEYS.slice(4, 6) };
  const keyOf = (kind: keyof typeof HOME) => (rnd() < 0.8 ? pick(HOME[kind]) : key());
  const pool = Array.from({ length: 2000 }, (_, i) => i + 1);
  for (let i = pool.length - 1; i > 0; i--) {
    const j = int(i + 1);
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  const rel = () => String(pool.pop()! * 1000);
  const count = () => String(int(9) - 4);

  const generators: (() => string[])[] = [
    () => ['SET', keyOf('str'), pick(VALUES), ...(rnd() < 0.3 ? ['EX', rel()] : [])],
    () => ['GET', keyOf('str')],
    () => ['APPEND', keyOf('str'), pick(VALUES)],
    () => ['INCR', keyOf('str')],
    () => ['HSET', keyOf('hash'), ...some(FIELDS, 3).flatMap((f) => [f, pick(VALUES)])],
    () => ['HSET', keyOf('hash'), pick(FIELDS), pick(VALUES)],
    () => ['HSETNX', keyOf('hash'), pick(FIELDS), pick(VALUES)],
    () => ['HGET', keyOf('hash'), pick(FIELDS)],
    () => ['HMGET', keyOf('hash'), ...some(FIELDS, 3)],
    () => ['HGETALL', keyOf('hash')],
    () => ['HDEL', keyOf('hash'), ...some(FIELDS, 3)],
    () => ['HLEN', keyOf('hash')],
    () => ['HEXISTS', keyOf('hash'), pick(FIELDS)],
    () => ['HSTRLEN', keyOf('hash'), pick(FIELDS)],
    () => ['HKEYS', keyOf('hash')],
    () => ['HVALS', keyOf('hash')],
    () => ['HINCRBY', keyOf('hash'), pick(FIELDS), String(int(21) - 10)],
    () => ['HINCRBYFLOAT', keyOf('hash'), pick(FIELDS), pick(['0.5', '-1.25', '3', '1e3'])],
    () => ['HRANDFIELD', keyOf('hash'), ...(rnd() < 0.5 ? [count(), ...(rnd() < 0.5 ? ['WITHVALUES'] : [])] : [])],
    () => ['SADD', keyOf('set'), ...some(MEMBERS, 4)],
    () => ['SREM', keyOf('set'), ...some(MEMBERS, 3)],
    () => ['SMEMBERS', keyOf('set')],
    () => ['SISMEMBER', keyOf('set'), pick(MEMBERS)],
    () => ['SMISMEMBER', keyOf('set'), ...some(MEMBERS, 3)],
    () => ['SCARD', keyOf('set')],
    () => ['SMOVE', keyOf('set'), keyOf('set'), pick(MEMBERS)],
    () => ['SRANDMEMBER', keyOf('set'), ...(rnd() < 0.5 ? [count()] : [])],
    () => [pick(['SINTER', 'SUNION', 'SDIFF']), ...Array.from({ length: 1 + int(3) }, () => keyOf('set'))],
    () => [pick(['SINTERSTORE', 'SUNIONSTORE', 'SDIFFSTORE']), keyOf('set'), ...Array.from({ length: 1 + int(3) }, () => keyOf('set'))],
    () => ['SINTERCARD', '2', keyOf('set'), keyOf('set'), ...(rnd() < 0.3 ? ['LIMIT', String(int(3))] : [])],
    () => ['TYPE', key()],
    () => ['EXISTS', ...some(KEYS, 3)],
    () => ['DEL', key()],
    () => ['EXPIRE', key(), rnd() < 0.1 ? '-1' : rel(), ...(rnd() < 0.3 ? [pick(['NX', 'XX', 'GT', 'LT'])] : [])],
    () => ['PERSIST', key()],
    () => ['TTL', key()],
    () => ['RENAME', key(), key()],
    () => ['RENAMENX', key(), key()],
    () => ['COPY', key(), key(), ...(rnd() < 0.5 ? ['REPLACE'] : [])],
    () => ['DBSIZE'],
    () => ['KEYS', 'x:*'],
  ];
  const one = () => pick(generators)();
  const out: string[][] = [['FLUSHALL']];
  while (out.length < length) {
    const r = rnd();
    if (r < 0.05) {
      out.push(['MULTI']);
      for (let i = int(5); i >= 0; i--) out.push(rnd() < 0.05 ? ['HSET', key()] : one()); // a bad arity aborts EXEC
      out.push([rnd() < 0.1 ? 'DISCARD' : 'EXEC']);
    } else if (r < 0.08) {
      // WATCH, maybe a write to the watched key, then a transaction
      const k = key();
      out.push(['WATCH', k]);
      if (rnd() < 0.6) out.push(pick(generators.slice(4, 7).concat(generators.slice(19, 21)))().map((a, i) => (i === 1 ? k : a)));
      out.push(['MULTI'], one(), ['EXEC']);
    } else {
      out.push(one());
    }
  }
  return out;
}

/** Shapes for random picks: only their count and distinctness (membership is checked apart). */
function shapeFor(argv: string[]): Shape {
  const name = argv[0].toUpperCase();
  if (name === 'HRANDFIELD' && argv.some((a) => a.toUpperCase() === 'WITHVALUES')) return { pairsFrom: {} };
  if (name === 'SRANDMEMBER' || name === 'HRANDFIELD') return { members: [] };
  return shapeOf(argv);
}

/** Reduces a pick's canonical form to what both servers must agree on. */
function comparable(argv: string[], v: Value): Value {
  const c = canonical(shapeFor(argv), v);
  if (c && typeof c === 'object' && !Array.isArray(c) && ('allMembers' in c || 'member' in c || 'allPairs' in c)) {
    const o = c as Record<string, unknown>;
    // A negative count may repeat picks, or by chance not: distinctness is compared only for positive counts.
    const distinct = Number(argv[2]) < 0 || o.distinct;
    if ('member' in o) return { single: true } as unknown as Value;
    if ('allPairs' in o) return { pairs: o.pairs, distinct, nested: o.nested } as unknown as Value;
    return { length: o.length, distinct } as unknown as Value;
  }
  return c;
}

/** Checks on the server itself that a pick's elements belong to the key (outside MULTI). */
async function picksBelong(client: Resp3Client, argv: string[], reply: Value): Promise<boolean> {
  const name = argv[0].toUpperCase();
  if (reply === null || (typeof reply === 'object' && !Array.isArray(reply))) return true;
  const items = Array.isArray(reply) ? reply : [reply];
  if (items.length === 0) return true;
  if (name === 'SRANDMEMBER') {
    const r = await client.send('SMISMEMBER', argv[1], ...(items as string[]));
    return Array.isArray(r) && r.every((x) => x === 1);
  }
  const withValues = argv.some((a) => a.toUpperCase() === 'WITHVALUES');
  const flat = items.flatMap((x) => (Array.isArray(x) ? x : [x])) as string[];
  const names = withValues ? flat.filter((_, i) => i % 2 === 0) : flat;
  const got = await client.send('HMGET', argv[1], ...names);
  if (!Array.isArray(got) || got.some((x) => x === null)) return false;
  return !withValues || got.every((x, i) => x === flat[2 * i + 1]);
}

const TOLERANCE: Record<string, number> = { TTL: 1 };

function same(argv: string[], a: Value, b: Value): boolean {
  const tol = TOLERANCE[argv[0].toUpperCase()];
  if (tol && typeof a === 'number' && typeof b === 'number' && a >= 0 && b >= 0) return Math.abs(a - b) <= tol;
  return JSON.stringify(a) === JSON.stringify(b);
}

async function compare(seed: number, redisPort: number, targetPort: number): Promise<void> {
  const commands = generateTyped(seed);
  const [redis, target] = await Promise.all([Resp3Client.connect(redisPort), Resp3Client.connect(targetPort)]);
  const transcript: string[] = [];
  let queued: string[][] | null = null;
  const fail = (why: string): never =>
    expect.fail(
      `seed ${seed}, command ${transcript.length}: ${why}\n(replay with RANDOM_SEED=${seed}); the last commands, with redis-server's replies:\n  ${transcript.slice(-25).join('\n  ')}`,
    );
  try {
    for (const argv of commands) {
      const expected = await redis.send(...argv);
      const actual = await target.send(...argv);
      transcript.push(`${argv.join(' ')} -> ${JSON.stringify(expected)}`);
      const name = argv[0].toUpperCase();
      let ok: boolean;
      if (name === 'EXEC' && queued && Array.isArray(expected) && Array.isArray(actual)) {
        const q = queued;
        ok = expected.length === actual.length && q.every((c, i) => same(c, comparable(c, expected[i]), comparable(c, actual[i])));
      } else {
        ok = same(argv, comparable(argv, expected), comparable(argv, actual));
      }
      if (!ok) fail(`the target answered ${JSON.stringify(actual)}`);
      if (!queued && (name === 'SRANDMEMBER' || name === 'HRANDFIELD')) {
        if (!(await picksBelong(redis, argv, expected))) fail(`redis-server's own pick is not in the key?! ${JSON.stringify(expected)}`);
        if (!(await picksBelong(target, argv, actual))) fail(`the target picked what the key does not hold: ${JSON.stringify(actual)}`);
      }
      if (name === 'MULTI') queued = [];
      else if (name === 'EXEC' || name === 'DISCARD') queued = null;
      else if (queued && expected === 'QUEUED') queued.push(argv);
    }
  } finally {
    await Promise.all([redis.close(), target.close()]);
  }
}

const DEFAULT_SEEDS = [1, 2, 3, 16, 2026];
const SEEDS = process.env.RANDOM_SEED ? [Number(process.env.RANDOM_SEED)] : DEFAULT_SEEDS;

describe('the typed random sequence generator', () => {
  it('is deterministic per seed and mixes the three types, transactions and WATCH', () => {
    expect(generateTyped(5)).to.deep.equal(generateTyped(5));
    const names = new Set(DEFAULT_SEEDS.flatMap((s) => generateTyped(s).map((c) => c[0])));
    for (const name of [
      'SET',
      'HSET',
      'HGETALL',
      'HINCRBYFLOAT',
      'HRANDFIELD',
      'SADD',
      'SMOVE',
      'SINTERSTORE',
      'SRANDMEMBER',
      'MULTI',
      'EXEC',
      'WATCH',
      'COPY',
      'RENAME',
      'EXPIRE',
    ]) {
      expect(names).to.include(name);
    }
  });
});

for (const label of TARGETS) {
  describe(`differential vs redis-server: random sequences over strings, hashes and sets (${label})`, function () {
    this.timeout(120_000);
    const peers = useReferenceAndTarget(label);
    for (const seed of SEEDS) {
      it(`seed ${seed}: 400 commands over 6 keys of mixed types give the same replies`, async () => {
        await compare(seed, peers.redis.port, peers.target.port);
      });
    }
  });
}
