/**
 * Generic commands on every type, WRONGTYPE both ways, MULTI/EXEC, OBJECT ENCODING, WATCH precision
 * for hash and set writes, and HSCAN/SSCAN iterated to the end over keys large enough that
 * Redis pages them. Everything is compared with redis-server 7.0 (DIFF_REFERENCE_ONLY=1:
 * with a second redis-server).
 */
import { expect } from 'chai';
import { encodingScripts, scripts } from './scripts/typed';
import { fields } from './scripts/hashes';
import { describeShapedDifferential, TARGETS, useReferenceAndTarget } from './shapes';
import { Resp3Client, type Value } from '../support/resp3';

describeShapedDifferential('generic commands over strings, hashes and sets', scripts);
describeShapedDifferential('OBJECT ENCODING of hashes and sets (Redis 7.0 thresholds)', encodingScripts);

interface WatchCase {
  name: string;
  setup: string[][];
  watch: string[];
  /** What another client runs between WATCH and MULTI. */
  other: string[][];
}

/**
 * Redis signals a modified key only when a write changed something (signalModifiedKey):
 * the cases below pin which hash and set writes do.
 */
const watchCases: WatchCase[] = [
  { name: 'HSET of a new field touches', setup: [['HSET', 'k', 'a', '1']], watch: ['k'], other: [['HSET', 'k', 'b', '2']] },
  { name: 'HSET of the same value touches', setup: [['HSET', 'k', 'a', '1']], watch: ['k'], other: [['HSET', 'k', 'a', '1']] },
  {
    name: 'HSETNX on an existing field does not touch',
    setup: [['HSET', 'k', 'a', '1']],
    watch: ['k'],
    other: [['HSETNX', 'k', 'a', '2']],
  },
  { name: 'HSETNX of a new field touches', setup: [['HSET', 'k', 'a', '1']], watch: ['k'], other: [['HSETNX', 'k', 'b', '2']] },
  {
    name: 'HDEL of a missing field does not touch',
    setup: [['HSET', 'k', 'a', '1']],
    watch: ['k'],
    other: [
      ['HDEL', 'k', 'zz'],
      ['HDEL', 'none', 'a'],
    ],
  },
  { name: 'HDEL of a field touches', setup: [['HSET', 'k', 'a', '1', 'b', '2']], watch: ['k'], other: [['HDEL', 'k', 'a']] },
  { name: 'HDEL of the last field touches', setup: [['HSET', 'k', 'a', '1']], watch: ['k'], other: [['HDEL', 'k', 'a']] },
  { name: 'HINCRBY 0 touches', setup: [['HSET', 'k', 'n', '1']], watch: ['k'], other: [['HINCRBY', 'k', 'n', '0']] },
  {
    name: 'HINCRBY on a non-integer fails and does not touch',
    setup: [['HSET', 'k', 'n', 'x']],
    watch: ['k'],
    other: [
      ['HINCRBY', 'k', 'n', '1'],
      ['HINCRBYFLOAT', 'k', 'n', '1'],
    ],
  },
  {
    name: 'HGETALL, HGET, HRANDFIELD, HSCAN do not touch',
    setup: [['HSET', 'k', 'a', '1']],
    watch: ['k'],
    other: [
      ['HGETALL', 'k'],
      ['HGET', 'k', 'a'],
      ['HRANDFIELD', 'k', '-2'],
      ['HSCAN', 'k', '0'],
    ],
  },
  { name: 'SADD of a new member touches', setup: [['SADD', 'k', 'a']], watch: ['k'], other: [['SADD', 'k', 'b']] },
  { name: 'SADD of an existing member does not touch', setup: [['SADD', 'k', 'a']], watch: ['k'], other: [['SADD', 'k', 'a']] },
  { name: 'SREM of a missing member does not touch', setup: [['SADD', 'k', 'a']], watch: ['k'], other: [['SREM', 'k', 'zz']] },
  { name: 'SREM of a member touches', setup: [['SADD', 'k', 'a', 'b']], watch: ['k'], other: [['SREM', 'k', 'a']] },
  {
    name: 'SPOP touches; SPOP of an absent key does not',
    setup: [['SADD', 'k', 'a']],
    watch: ['k', 'n'],
    other: [
      ['SPOP', 'n'],
      ['SPOP', 'k'],
    ],
  },
  { name: 'SPOP 0 does not touch', setup: [['SADD', 'k', 'a']], watch: ['k'], other: [['SPOP', 'k', '0']] },
  {
    name: 'SMOVE touches source and destination',
    setup: [
      ['SADD', 'k', 'a'],
      ['SADD', 'd', 'b'],
    ],
    watch: ['d'],
    other: [['SMOVE', 'k', 'd', 'a']],
  },
  {
    name: 'SMOVE of a missing member touches nothing',
    setup: [
      ['SADD', 'k', 'a'],
      ['SADD', 'd', 'b'],
    ],
    watch: ['k', 'd'],
    other: [['SMOVE', 'k', 'd', 'zz']],
  },
  {
    name: 'SMOVE of a member the destination has touches the source',
    setup: [
      ['SADD', 'k', 'a', 'x'],
      ['SADD', 'd', 'a'],
    ],
    watch: ['k'],
    other: [['SMOVE', 'k', 'd', 'a']],
  },
  { name: 'SMOVE onto itself does not touch', setup: [['SADD', 'k', 'a']], watch: ['k'], other: [['SMOVE', 'k', 'k', 'a']] },
  {
    name: 'SINTERSTORE touches its destination',
    setup: [
      ['SADD', 'a', '1'],
      ['SADD', 'b', '1'],
    ],
    watch: ['k'],
    other: [['SINTERSTORE', 'k', 'a', 'b']],
  },
  {
    name: 'SINTERSTORE of an empty result over an absent destination does not touch',
    setup: [['SADD', 'a', '1']],
    watch: ['k'],
    other: [['SINTERSTORE', 'k', 'a', 'none']],
  },
  {
    name: 'SUNIONSTORE over an existing destination touches',
    setup: [
      ['SADD', 'a', '1'],
      ['HSET', 'k', 'f', 'v'],
    ],
    watch: ['k'],
    other: [['SUNIONSTORE', 'k', 'a']],
  },
  { name: 'SET over a hash touches', setup: [['HSET', 'k', 'a', '1']], watch: ['k'], other: [['SET', 'k', 'v']] },
  {
    name: 'a WRONGTYPE write does not touch',
    setup: [['HSET', 'k', 'a', '1']],
    watch: ['k'],
    other: [
      ['SADD', 'k', 'm'],
      ['APPEND', 'k', 'x'],
      ['INCR', 'k'],
    ],
  },
  { name: 'EXPIRE on a hash touches', setup: [['HSET', 'k', 'a', '1']], watch: ['k'], other: [['EXPIRE', 'k', '100']] },
];

async function runWatchCase(port: number, c: WatchCase): Promise<string[]> {
  const [watcher, other] = await Promise.all([Resp3Client.connect(port), Resp3Client.connect(port)]);
  const out: string[] = [];
  const send = async (client: Resp3Client, argv: string[]) => {
    let reply: Value = await client.send(...argv);
    if (argv[0] === 'HRANDFIELD' && Array.isArray(reply)) reply = reply.length; // random picks: count only
    out.push(`${argv.join(' ')} -> ${JSON.stringify(reply)}`);
  };
  try {
    for (const argv of [['FLUSHALL'], ...c.setup]) await send(other, argv);
    await send(watcher, ['WATCH', ...c.watch]);
    for (const argv of c.other) await send(other, argv);
    for (const argv of [['MULTI'], ['PING'], ['EXEC']]) await send(watcher, argv);
    return out;
  } finally {
    await Promise.all([watcher.close(), other.close()]);
  }
}

/** Every member, or field/value pair, that HSCAN/SSCAN returns from cursor 0 until it answers 0. */
async function scanAll(port: number, argv: string[]): Promise<{ items: string[]; calls: number }> {
  const client = await Resp3Client.connect(port);
  try {
    const seen = new Set<string>();
    let cursor = '0';
    let calls = 0;
    const pairs = argv[0].toUpperCase() === 'HSCAN';
    do {
      const reply = await client.send(argv[0], argv[1], cursor, ...argv.slice(2));
      if (!Array.isArray(reply) || reply.length !== 2 || typeof reply[0] !== 'string' || !Array.isArray(reply[1])) {
        throw new Error(`${argv.join(' ')} answered ${JSON.stringify(reply)}`);
      }
      cursor = reply[0];
      const items = reply[1] as string[];
      if (pairs) for (let i = 0; i < items.length; i += 2) seen.add(`${items[i]}=${items[i + 1]}`);
      else for (const m of items) seen.add(m);
      if (++calls > 10_000) throw new Error('the scan does not end');
    } while (cursor !== '0');
    return { items: [...seen].sort(), calls };
  } finally {
    await client.close();
  }
}

for (const label of TARGETS) {
  describe(`differential vs redis-server: WATCH and hash/set writes (${label})`, function () {
    this.timeout(60_000);
    const peers = useReferenceAndTarget(label);
    for (const c of watchCases) {
      it(c.name, async () => {
        const expected = await runWatchCase(peers.redis.port, c);
        expect(await runWatchCase(peers.target.port, c)).to.deep.equal(expected);
      });
    }
  });

  describe(`differential vs redis-server: HSCAN and SSCAN iterated to the end (${label})`, function () {
    this.timeout(60_000);
    const peers = useReferenceAndTarget(label);
    const setup: string[][] = [
      ['FLUSHALL'],
      ['HSET', 'big:h', ...fields(600)], // past the 512-entry listpack limit: a paged hashtable in Redis
      ['SADD', 'big:s', ...Array.from({ length: 300 }, (_, i) => `m${i}`)],
      ['SADD', 'big:i', ...Array.from({ length: 300 }, (_, i) => String(i * 7))],
      ['SADD', 'small:s', 'user:1', 'user:2', 'admin', 'user:10'],
    ];
    before(async () => {
      for (const port of [peers.redis.port, peers.target.port]) {
        const client = await Resp3Client.connect(port);
        await client.pipeline(setup);
        await client.close();
      }
    });
    const iterations: string[][] = [
      ['HSCAN', 'big:h'],
      ['HSCAN', 'big:h', 'COUNT', '7'],
      ['HSCAN', 'big:h', 'MATCH', 'f1*', 'COUNT', '3'],
      ['SSCAN', 'big:s', 'COUNT', '1'],
      ['SSCAN', 'big:s', 'MATCH', '*9'],
      ['SSCAN', 'big:i', 'COUNT', '50'],
      ['SSCAN', 'small:s', 'COUNT', '1'],
      ['SSCAN', 'small:s', 'MATCH', 'user:*', 'COUNT', '1'],
    ];
    for (const argv of iterations) {
      it(`${argv.join(' ')}: the same members, whatever the paging`, async () => {
        const expected = await scanAll(peers.redis.port, argv);
        const actual = await scanAll(peers.target.port, argv);
        expect(actual.items).to.deep.equal(expected.items);
        expect(expected.items.length).to.be.greaterThan(0);
      });
    }
  });
}
