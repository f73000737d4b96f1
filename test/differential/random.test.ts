/**
 * Randomized differential test: seeded sequences of ~300 commands over 8 keys (SET with
 * options, GET, DEL, EXISTS, INCR/INCRBY, APPEND, GETRANGE/SETRANGE, MSET/MGET, the EXPIRE
 * family with conditions, PERSIST, RENAME, COPY, GETDEL, GETEX, STRLEN, MULTI/EXEC blocks)
 * sent to redis-server and to respql one command at a time, interleaved, so both see the
 * same moment. Replies must be identical (remaining times within a second). A failure names
 * the seed and shows the commands leading to it; RANDOM_SEED=n replays one seed.
 *
 * Expiry times are chosen so that no comparison depends on the moment: every relative
 * expiry is a distinct multiple of 1000 s, every absolute one lies beyond all relative ones.
 */
import { expect } from 'chai';
import { usePeers } from '../support/differential';
import { RawClient, toStrings } from '../support/resp-client';
import { BACKENDS } from '../support/respql';
import { prng } from '../support/prng';

const KEYS = Array.from({ length: 8 }, (_, i) => `r:${i}`);
const VALUES = ['', 'a', 'hello', 'x y', '0', '1', '-5', '42', '10.5', '9223372036854775806', 'ünï'];

/** Generates one seed's command sequence. */
export function generate(seed: number, length = 300): string[][] {
  const rnd = prng(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const key = () => pick(KEYS);
  const value = () => (rnd() < 0.8 ? pick(VALUES) : `v${int(1000)}`);
  const nowSec = Math.floor(Date.now() / 1000);
  // Each expiry is used once: k * 1000 s relative, or beyond 200000 s absolute.
  const pool = Array.from({ length: 1000 }, (_, i) => i + 1);
  for (let i = pool.length - 1; i > 0; i--) {
    const j = int(i + 1);
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  const k = () => pool.pop()!;
  const relSec = () => String(k() * 1000);
  const relMs = () => String(k() * 1_000_000);
  const absSec = () => String(nowSec + 200_000 + k() * 1000);
  const absMs = () => String((nowSec + 200_000 + k() * 1000) * 1000);
  const expiryOption = (): string[] => {
    const r = int(4);
    return r === 0 ? ['EX', relSec()] : r === 1 ? ['PX', relMs()] : r === 2 ? ['EXAT', absSec()] : ['PXAT', absMs()];
  };
  const condition = (): string[] => (rnd() < 0.5 ? [] : [pick(['NX', 'XX', 'GT', 'LT'])]);

  const generators: (() => string[])[] = [
    () => {
      const argv = ['SET', key(), value()];
      if (rnd() < 0.4) argv.push(...expiryOption());
      if (rnd() < 0.2) argv.push(pick(['NX', 'XX']));
      if (rnd() < 0.15) argv.push('GET');
      if (rnd() < 0.1) argv.push('KEEPTTL');
      return argv;
    },
    () => ['GET', key()],
    () => ['GET', key()],
    () => ['DEL', ...Array.from({ length: 1 + int(3) }, key)],
    () => ['EXISTS', ...Array.from({ length: 1 + int(3) }, key)],
    () => ['INCR', key()],
    () => ['INCRBY', key(), String(int(200) - 100)],
    () => ['DECRBY', key(), String(int(10))],
    () => ['APPEND', key(), value()],
    () => ['GETRANGE', key(), String(int(12) - 6), String(int(12) - 3)],
    () => ['SETRANGE', key(), String(int(8)), rnd() < 0.1 ? '' : value()],
    () => ['MSET', ...Array.from({ length: 1 + int(3) }, () => [key(), value()]).flat()],
    () => ['MGET', ...Array.from({ length: 1 + int(4) }, key)],
    () => ['MSETNX', ...Array.from({ length: 1 + int(2) }, () => [key(), value()]).flat()],
    () => ['EXPIRE', key(), rnd() < 0.1 ? '-1' : relSec(), ...condition()],
    () => ['PEXPIRE', key(), rnd() < 0.1 ? '0' : relMs(), ...condition()],
    () => ['EXPIREAT', key(), absSec(), ...condition()],
    () => ['PEXPIREAT', key(), rnd() < 0.1 ? '1' : absMs(), ...condition()],
    () => ['PERSIST', key()],
    () => ['TTL', key()],
    () => ['PTTL', key()],
    () => ['EXPIRETIME', key()],
    () => ['RENAME', key(), key()],
    () => ['RENAMENX', key(), key()],
    () => ['COPY', key(), key(), ...(rnd() < 0.5 ? ['REPLACE'] : [])],
    () => ['GETDEL', key()],
    () => ['GETEX', key(), ...(rnd() < 0.3 ? [] : rnd() < 0.25 ? ['PERSIST'] : expiryOption())],
    () => ['STRLEN', key()],
    () => ['TYPE', key()],
    () => ['SETNX', key(), value()],
    () => ['GETSET', key(), value()],
    () => ['SETEX', key(), relSec(), value()],
    () => ['DBSIZE'],
  ];
  const one = () => pick(generators)();

  const out: string[][] = [['FLUSHALL']];
  while (out.length < length) {
    if (rnd() < 0.06) {
      out.push(['MULTI']);
      for (let i = int(5); i >= 0; i--) out.push(rnd() < 0.05 ? ['GET'] : one()); // a bad arity aborts EXEC
      out.push([rnd() < 0.1 ? 'DISCARD' : 'EXEC']);
    } else {
      out.push(one());
    }
  }
  return out;
}

/** Remaining-time replies may differ by the moments the two servers ran the command. */
const TOLERANCE: Record<string, number> = { TTL: 1, PTTL: 1000, EXPIRETIME: 1, PEXPIRETIME: 1000 };

function same(argv: string[], a: unknown, b: unknown): boolean {
  const tolerance = TOLERANCE[argv[0]];
  if (tolerance && typeof a === 'number' && typeof b === 'number' && a >= 0 && b >= 0) return Math.abs(a - b) <= tolerance;
  return JSON.stringify(a) === JSON.stringify(b);
}

async function compare(seed: number, redisPort: number, respqlPort: number): Promise<void> {
  const commands = generate(seed);
  const [redis, respql] = await Promise.all([RawClient.connect(redisPort), RawClient.connect(respqlPort)]);
  const transcript: string[] = [];
  let queued: string[][] | null = null;
  try {
    for (const argv of commands) {
      const expected = toStrings(await redis.send(...argv));
      const actual = toStrings(await respql.send(...argv));
      transcript.push(`${argv.join(' ')} -> ${JSON.stringify(expected)}`);
      // EXEC's replies are compared one by one, each as its queued command's.
      const name = argv[0];
      const ok =
        name === 'EXEC' && Array.isArray(expected) && Array.isArray(actual) && queued
          ? expected.length === actual.length && queued.every((q, i) => same(q, expected[i], actual[i]))
          : same(argv, expected, actual);
      if (name === 'MULTI') queued = [];
      else if (name === 'EXEC' || name === 'DISCARD') queued = null;
      else queued?.push(argv);
      if (!ok) {
        expect.fail(
          `seed ${seed}, command ${transcript.length}: respql answered ${JSON.stringify(actual)}\n` +
            `(replay with RANDOM_SEED=${seed}); the last commands, with redis-server's replies:\n  ` +
            transcript.slice(-25).join('\n  '),
        );
      }
    }
  } finally {
    await Promise.all([redis.close(), respql.close()]);
  }
}

const SEEDS = process.env.RANDOM_SEED ? [Number(process.env.RANDOM_SEED)] : [1, 2, 3, 42, 2026];

describe('the random sequence generator', () => {
  it('is deterministic per seed and mixes the command families', () => {
    expect(
      generate(7)
        .slice(0, 50)
        .map((c) => c[0]),
    ).to.deep.equal(
      generate(7)
        .slice(0, 50)
        .map((c) => c[0]),
    );
    const names = new Set(SEEDS.flatMap((s) => generate(s).map((c) => c[0])));
    for (const name of ['SET', 'GETEX', 'COPY', 'RENAME', 'EXPIRE', 'MULTI', 'EXEC', 'SETRANGE', 'INCRBY']) expect(names).to.include(name);
  });
});

for (const backend of BACKENDS) {
  describe(`differential vs redis-server: random command sequences (${backend})`, function () {
    this.timeout(120_000);
    const peers = usePeers(backend);
    for (const seed of SEEDS) {
      it(`seed ${seed}: 300 commands over 8 keys give identical replies`, async () => {
        await compare(seed, peers.redis.port, peers.respql.port);
      });
    }
  });
}
