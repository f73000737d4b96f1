/**
 * Differential runs for typed keys (hashes, sets) whose replies Redis leaves partly
 * unspecified. Each reply is put in a canonical form before the comparison, by the shape
 * its command's step declares (or the command's default shape):
 *
 *   exact      compared as is (the default for every command not listed in DEFAULT_SHAPES)
 *   set        an array in no defined order (SMEMBERS, SINTER, HKEYS, HVALS, KEYS ...): sorted;
 *              a RESP3 set reply is sorted inside its { set } wrapper, so RESP2/RESP3 still differ
 *   pairs      a flat field/value array (HGETALL in RESP2), compared as a set of pairs; a RESP3
 *              map is compared as a set of entries
 *   scan       [cursor, items]: cursor exact, items as a set (SCAN, SSCAN)
 *   scanPairs  [cursor, flat pairs]: cursor exact, pairs as a set (HSCAN)
 *   length     only the array length (or null-ness) is compared
 *   { members }    a random pick (SRANDMEMBER, SPOP, HRANDFIELD without values, RANDOMKEY):
 *                  compared by length, by whether the picks are all distinct, and by whether
 *                  every pick is one of `members`; a single pick by membership. (With a negative
 *                  count, use one beyond the key's size, so that repeats are certain.)
 *   { pairsFrom }  HRANDFIELD ... WITHVALUES: count, distinctness, and every field/value pair
 *                  (flat in RESP2, [field, value] arrays in RESP3) taken from the given hash
 *
 * Order: Redis returns a small (listpack) hash in insertion order and a small intset set in
 * numeric order, a large one in hash-table order. We do not require respql to copy either:
 * the clients we target (Spring Session: HGETALL into a Map; ASP.NET Core: HMGET, ordered by
 * request; node-redis: HGETALL into an object) never depend on it. HMGET, HRANDFIELD's
 * field/value pairing, SMISMEMBER and every count, error and type are compared exactly.
 *
 * TTL/PTTL/EXPIRETIME/PEXPIRETIME replies within a clock tolerance of the reference count as
 * equal. EXEC's replies are canonicalized one by one with their queued commands' shapes.
 *
 * DIFF_TRANSCRIPT=<file> appends redis-server's (canonical) replies of each script to <file>.
 *
 * DIFF_REFERENCE_ONLY=1 (see test/reference-only.sh): instead of respql, each script runs on
 * a second redis-server and the two are compared through the same canonical forms. That
 * proves the scripts run (no protocol error, no unknown command: each command is a typo
 * check) and that every random or unordered reply is declared with a shape that makes it
 * stable; every { members } / { pairsFrom } pick must also hold on Redis's own reply.
 */
import { expect } from 'chai';
import { appendFileSync } from 'node:fs';
import { startRedisServer, type RedisServer } from '../support/redis-server';
import { Resp3Client, type Value } from '../support/resp3';
import { BACKENDS, startRespql } from '../support/respql';

export type Shape =
  'exact' | 'set' | 'pairs' | 'scan' | 'scanPairs' | 'length' | { members: string[] } | { pairsFrom: Record<string, string> };

export type Step = string[] | { argv: string[]; shape: Shape };

export interface ShapedScript {
  name: string;
  /** Sends HELLO 3 first (its reply, which names the server, is not compared). */
  resp3?: boolean;
  steps: Step[];
}

export const REFERENCE_ONLY = process.env.DIFF_REFERENCE_ONLY === '1';

const DEFAULT_SHAPES: Record<string, Shape> = {
  SMEMBERS: 'set',
  SINTER: 'set',
  SUNION: 'set',
  SDIFF: 'set',
  HKEYS: 'set',
  HVALS: 'set',
  KEYS: 'set',
  HGETALL: 'pairs',
  SCAN: 'scan',
  SSCAN: 'scan',
  HSCAN: 'scanPairs',
};

export const argvOf = (step: Step): string[] => (Array.isArray(step) ? step : step.argv);
export const shapeOf = (step: Step): Shape => (Array.isArray(step) ? (DEFAULT_SHAPES[step[0].toUpperCase()] ?? 'exact') : step.shape);

const key = (v: unknown): string => JSON.stringify(v);
const sortValues = (xs: Value[]): Value[] => [...xs].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
const chunkPairs = (xs: Value[]): Value[] => Array.from({ length: Math.ceil(xs.length / 2) }, (_, i) => [xs[2 * i], xs[2 * i + 1]]);
const isObj = <K extends string>(v: Value, k: K): v is Extract<Value, Record<K, unknown>> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && k in v;

function asSet(v: Value): Value {
  if (Array.isArray(v)) return sortValues(v);
  if (isObj(v, 'set')) return { set: sortValues(v.set) };
  return v;
}

function asPairs(v: Value): Value {
  if (Array.isArray(v)) return { pairs: sortValues(chunkPairs(v)) } as unknown as Value;
  if (isObj(v, 'map')) return { map: sortValues(v.map) } as unknown as Value;
  return v;
}

/** Canonical form of one reply under a shape; errors and nulls stay as they are. */
export function canonical(shape: Shape, v: Value): Value {
  if (v === null || isObj(v, 'error')) return v;
  if (shape === 'exact') return v;
  if (shape === 'set') return asSet(v);
  if (shape === 'pairs') return asPairs(v);
  if (shape === 'scan' || shape === 'scanPairs') {
    if (!Array.isArray(v) || v.length !== 2) return v;
    return [v[0], shape === 'scan' ? asSet(v[1]) : asPairs(v[1])];
  }
  const items = Array.isArray(v) ? v : isObj(v, 'set') ? v.set : undefined;
  if (shape === 'length') return items ? ({ length: items.length } as unknown as Value) : v;
  if ('members' in shape) {
    const allowed = new Set(shape.members);
    if (items === undefined) return { member: typeof v === 'string' && allowed.has(v) } as unknown as Value;
    return {
      length: items.length,
      distinct: new Set(items.map(key)).size === items.length,
      allMembers: items.every((x) => typeof x === 'string' && allowed.has(x)),
    } as unknown as Value;
  }
  // pairsFrom
  if (!items) return v;
  const pairs = items.length > 0 && Array.isArray(items[0]) ? (items as Value[][]) : (chunkPairs(items) as Value[][]);
  return {
    pairs: pairs.length,
    distinct: new Set(pairs.map((p) => key(p[0]))).size === pairs.length,
    allPairs: pairs.every(([f, val]) => typeof f === 'string' && Object.hasOwn(shape.pairsFrom, f) && shape.pairsFrom[f] === val),
    nested: items.length > 0 && Array.isArray(items[0]),
  } as unknown as Value;
}

/** Whether a canonical reply of a random-pick shape says every pick was allowed. */
export function picksHold(shape: Shape, canon: Value): boolean {
  if (typeof shape !== 'object' || canon === null || typeof canon !== 'object' || Array.isArray(canon)) return true;
  const c = canon as Record<string, unknown>;
  if ('member' in c) return c.member === true;
  if ('allMembers' in c) return c.allMembers === true;
  if ('allPairs' in c) return c.allPairs === true;
  return true;
}

const TOLERANCE: Record<string, number> = { TTL: 1, PTTL: 1000, EXPIRETIME: 1, PEXPIRETIME: 1000 };

/** Runs a script on one server; returns each step's canonical reply (EXEC's element by element). */
export async function runShaped(port: number, script: ShapedScript): Promise<Value[]> {
  const client = await Resp3Client.connect(port);
  try {
    if (script.resp3) {
      const hello = await client.send('HELLO', '3');
      if (!isObj(hello, 'map')) throw new Error(`HELLO 3 answered ${key(hello)}`);
    }
    const out: Value[] = [];
    let queued: Step[] | null = null;
    for (const step of script.steps) {
      const argv = argvOf(step);
      const name = argv[0].toUpperCase();
      const reply = await client.send(...argv);
      if (name === 'EXEC' && queued && Array.isArray(reply))
        out.push(reply.map((r, i) => canonical(queued![i] ? shapeOf(queued![i]) : 'exact', r)));
      else out.push(canonical(shapeOf(step), reply));
      if (name === 'MULTI' && !isObj(reply, 'error')) queued = [];
      else if (name === 'EXEC' || name === 'DISCARD') queued = null;
      else if (queued && reply === 'QUEUED') queued.push(step);
    }
    return out;
  } finally {
    await client.close();
  }
}

/** Command -> reply lines; a remaining time within tolerance of the reference shows the reference's. */
export function shapedTranscript(script: ShapedScript, replies: Value[], reference: Value[] = replies): string[] {
  return script.steps.map((step, i) => {
    const argv = argvOf(step);
    let reply = replies[i];
    const ref = reference[i];
    const tol = TOLERANCE[argv[0].toUpperCase()];
    if (tol && typeof reply === 'number' && typeof ref === 'number' && reply >= 0 && ref >= 0 && Math.abs(reply - ref) <= tol) reply = ref;
    return `${argv.join(' ')} -> ${JSON.stringify(reply)}`;
  });
}

/** Problems with a script's reference run itself: unknown commands, picks that do not hold. */
export function referenceProblems(script: ShapedScript, replies: Value[]): string[] {
  const problems: string[] = [];
  script.steps.forEach((step, i) => {
    const r = replies[i];
    const line = `${argvOf(step).join(' ')} -> ${JSON.stringify(r)}`;
    if (isObj(r, 'error') && /unknown command|unknown subcommand/i.test(r.error)) problems.push(`unknown command: ${line}`);
    if (!picksHold(shapeOf(step), r)) problems.push(`declared pick does not hold on Redis: ${line}`);
  });
  return problems;
}

/** A server a shaped test runs against: respql on a backend, or (reference-only) redis-server. */
export interface Target {
  port: number;
  url: string;
  stop(): Promise<void>;
}

/** The target labels to run: both backends, or one redis-server in reference-only mode. */
export const TARGETS: readonly string[] = REFERENCE_ONLY ? ['reference redis-server'] : BACKENDS;

/** Starts respql on `label`'s backend, or in reference-only mode a second redis-server. */
export async function startTarget(label: string): Promise<Target> {
  if (REFERENCE_ONLY) {
    const r: RedisServer = await startRedisServer();
    return { port: r.port, url: r.url, stop: () => r.stop() };
  }
  const s = await startRespql(label as (typeof BACKENDS)[number]);
  return { port: s.port, url: s.url, stop: () => s.stop() };
}

/** Reference redis-server and a target for the enclosing describe block. */
export function useReferenceAndTarget(label: string): { readonly redis: RedisServer; readonly target: Target } {
  const peers = {} as { redis: RedisServer; target: Target };
  before(async function () {
    this.timeout(60_000);
    [peers.redis, peers.target] = await Promise.all([startRedisServer(), startTarget(label)]);
  });
  after(async function () {
    this.timeout(60_000);
    await Promise.all([peers.redis?.stop(), peers.target?.stop()]);
  });
  return peers;
}

/**
 * One test per script and target: the target's canonical replies must equal redis-server's.
 * In reference-only mode the target is a second redis-server, and the reference run must
 * also be free of the problems referenceProblems() lists.
 */
export function describeShapedDifferential(title: string, scripts: ShapedScript[]): void {
  for (const label of TARGETS) {
    describe(`differential vs redis-server: ${title} (${label})`, function () {
      this.timeout(60_000);
      const peers = useReferenceAndTarget(label);
      for (const script of scripts) {
        it(script.name, async () => {
          const expected = await runShaped(peers.redis.port, script);
          if (REFERENCE_ONLY) expect(referenceProblems(script, expected)).to.deep.equal([]);
          if (process.env.DIFF_TRANSCRIPT) {
            appendFileSync(
              process.env.DIFF_TRANSCRIPT,
              `## ${title}: ${script.name}\n${shapedTranscript(script, expected).join('\n')}\n\n`,
            );
          }
          const actual = await runShaped(peers.target.port, script);
          expect(shapedTranscript(script, actual, expected)).to.deep.equal(shapedTranscript(script, expected));
        });
      }
    });
  }
}
