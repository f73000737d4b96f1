import { expect } from 'chai';
import { usePeers } from '../support/differential';
import { frames, runSession, type Step } from '../support/pubsub-session';
import { encodeCommand, RawClient } from '../support/resp-client';
import { BACKENDS } from '../support/respql';

/**
 * Keyspace notifications of the hash and set commands (t_hash.c, t_set.c), and of the generic
 * commands on hashes and sets: each script's event stream must be redis-server 7.0's.
 */
const scripts = (): { name: string; commands: string[][] }[] => [
  {
    name: 'HSET, HMSET, HSETNX: hset (also unchanged values), new on creation; WRONGTYPE raises nothing',
    commands: [
      ['HSET', 'h:a', 'f', '1', 'g', '2'],
      ['HSET', 'h:a', 'f', '1'],
      ['HMSET', 'h:a', 'f', '3'],
      ['HMSET', 'h:b', 'f', '3'],
      ['HSETNX', 'h:a', 'f', '9'],
      ['HSETNX', 'h:a', 'z', '9'],
      ['HSETNX', 'h:c', 'z', '9'],
      ['SET', 'h:s', 'x'],
      ['HSET', 'h:s', 'f', '1'],
      ['HSETNX', 'h:s', 'f', '1'],
      ['HGET', 'h:a', 'f'],
      ['HGETALL', 'h:a'],
    ],
  },
  {
    name: 'HDEL: hdel only for fields removed, del when the hash empties',
    commands: [
      ['HSET', 'h:a', 'f', '1', 'g', '2', 'h', '3'],
      ['HDEL', 'h:a', 'none'],
      ['HDEL', 'h:none', 'f'],
      ['HDEL', 'h:a', 'f', 'none'],
      ['HDEL', 'h:a', 'g', 'h'],
      ['EXISTS', 'h:a'],
    ],
  },
  {
    name: 'HINCRBY, HINCRBYFLOAT: new on creation, errors raise nothing',
    commands: [
      ['HINCRBY', 'h:a', 'n', '5'],
      ['HINCRBY', 'h:a', 'n', '-2'],
      ['HINCRBYFLOAT', 'h:a', 'x', '1.5'],
      ['HINCRBYFLOAT', 'h:b', 'x', '2.5'],
      ['HSET', 'h:a', 's', 'abc', 'm', '9223372036854775807'],
      ['HINCRBY', 'h:a', 's', '1'],
      ['HINCRBY', 'h:a', 'm', '1'],
      ['HINCRBYFLOAT', 'h:a', 's', '1'],
      ['SET', 'h:s', 'x'],
      ['HINCRBY', 'h:s', 'n', '1'],
    ],
  },
  {
    name: 'SADD, SREM: only for members added or removed, del when the set empties',
    commands: [
      ['SADD', 's:a', 'x', 'y', 'x'],
      ['SADD', 's:a', 'x'],
      ['SADD', 's:a', 'x', 'z'],
      ['SREM', 's:a', 'none'],
      ['SREM', 's:none', 'x'],
      ['SREM', 's:a', 'x', 'none'],
      ['SREM', 's:a', 'y', 'z'],
      ['SET', 's:s', 'v'],
      ['SADD', 's:s', 'x'],
      ['SREM', 's:s', 'x'],
      ['SADD', 's:b', '1', '2', '3'],
      ['SMEMBERS', 's:b'],
    ],
  },
  {
    name: 'SPOP with and without a count: spop, del when the set empties',
    commands: [
      ['SADD', 's:a', '1', '2', '3', '4'],
      ['SPOP', 's:a'],
      ['SPOP', 's:a', '0'],
      ['SPOP', 's:a', '1'],
      ['SPOP', 's:a', '5'],
      ['SPOP', 's:a'],
      ['SPOP', 's:a', '2'],
      ['SADD', 's:b', '1'],
      ['SPOP', 's:b'],
      ['SADD', 's:c', '1', '2'],
      ['SPOP', 's:c', '2'],
    ],
  },
  {
    name: 'SMOVE: srem on the source (del when it empties), new and sadd on the destination',
    commands: [
      ['SADD', 's:a', 'x', 'y'],
      ['SMOVE', 's:a', 's:b', 'x'],
      ['SMOVE', 's:a', 's:b', 'none'],
      ['SMOVE', 's:none', 's:b', 'x'],
      ['SMOVE', 's:b', 's:b', 'x'],
      ['SADD', 's:b', 'y'],
      ['SMOVE', 's:a', 's:b', 'y'],
      ['SMOVE', 's:b', 's:c', 'x'],
      ['SET', 's:s', 'v'],
      ['SMOVE', 's:b', 's:s', 'y'],
    ],
  },
  {
    name: 'SINTERSTORE, SUNIONSTORE, SDIFFSTORE: the command name, new, del when an existing destination gets an empty result',
    commands: [
      ['SADD', 's:a', '1', '2', '3'],
      ['SADD', 's:b', '2', '3', '4'],
      ['SINTERSTORE', 's:i', 's:a', 's:b'],
      ['SINTERSTORE', 's:i', 's:a', 's:b'],
      ['SUNIONSTORE', 's:u', 's:a', 's:b'],
      ['SDIFFSTORE', 's:d', 's:a', 's:b'],
      ['SINTERSTORE', 's:i', 's:a', 's:none'],
      ['SINTERSTORE', 's:i', 's:a', 's:none'],
      ['SDIFFSTORE', 's:d', 's:a', 's:a'],
      ['SUNIONSTORE', 's:u', 's:none'],
      ['SUNIONSTORE', 's:u', 's:none'],
      ['SET', 's:str', 'v'],
      ['SUNIONSTORE', 's:str', 's:a'],
      ['SET', 's:str', 'v'],
      ['SDIFFSTORE', 's:str', 's:none'],
      ['SUNIONSTORE', 's:a', 's:a', 's:b'],
      ['SINTERSTORE', 's:x', 's:a', 's:str'],
    ],
  },
  {
    name: 'generic commands on hashes and sets: DEL, UNLINK, RENAME, RENAMENX, COPY, EXPIRE, PERSIST, past expiry',
    commands: [
      ['HSET', 'h:a', 'f', '1'],
      ['SADD', 's:a', 'x'],
      ['RENAME', 'h:a', 'h:b'],
      ['RENAMENX', 's:a', 's:b'],
      ['COPY', 'h:b', 'h:c'],
      ['COPY', 's:b', 'h:c', 'REPLACE'],
      ['EXPIRE', 'h:b', '100'],
      ['PEXPIRE', 's:b', '100000'],
      ['PERSIST', 'h:b'],
      ['DEL', 'h:b', 's:b', 'h:none'],
      ['HSET', 'h:a', 'f', '1'],
      ['SADD', 's:a', 'x'],
      ['PEXPIREAT', 'h:a', '1'],
      ['EXPIRE', 's:a', '-1'],
      ['HSET', 'h:a', 'f', '1'],
      ['UNLINK', 'h:a', 'h:c'],
    ],
  },
  {
    name: 'MULTI/EXEC of hash and set commands: the events of the block, in order',
    commands: [
      ['MULTI'],
      ['HSET', 'h:a', 'f', '1'],
      ['HINCRBY', 'h:a', 'n', '1'],
      ['HDEL', 'h:a', 'f', 'n'],
      ['SADD', 's:a', 'x', 'y'],
      ['SMOVE', 's:a', 's:b', 'x'],
      ['SREM', 's:a', 'y'],
      ['SUNIONSTORE', 's:c', 's:b'],
      ['SINTERSTORE', 's:c', 's:none'],
      ['HSET', 's:b', 'f', '1'],
      ['SPOP', 's:b'],
      ['EXEC'],
    ],
  },
  {
    // RedisIndexedSessionRepository: HMSET the session hash, EXPIRE it, DEL it on invalidation.
    name: 'Spring Session: HMSET, EXPIRE, DEL of a session hash',
    commands: [
      ['HMSET', 'spring:session:sessions:1', 'creationTime', '1', 'maxInactiveInterval', '1800', 'lastAccessedTime', '1'],
      ['EXPIRE', 'spring:session:sessions:1', '2100'],
      ['SADD', 'spring:session:expirations:1', 'expires:1'],
      ['EXPIRE', 'spring:session:expirations:1', '2100'],
      ['HMSET', 'spring:session:sessions:1', 'lastAccessedTime', '2'],
      ['DEL', 'spring:session:sessions:1'],
      ['SREM', 'spring:session:expirations:1', 'expires:1'],
    ],
  },
];

for (const backend of BACKENDS) {
  describe(`differential vs redis-server: keyspace notifications of hashes and sets (${backend})`, () => {
    const peers = usePeers(backend);
    for (const flags of ['KEA', 'Kh', 'Es', 'Eg', 'Egx', 'AKEn']) {
      for (const script of scripts()) {
        it(`${script.name} (notify-keyspace-events ${flags})`, async () => {
          const steps: Step[] = [
            ['c', ['FLUSHDB']],
            ['c', ['CONFIG', 'SET', 'notify-keyspace-events', flags]],
            ['s', ['PSUBSCRIBE', '__key*__:*']],
            // Which members SPOP picks is random: its reply is left out, its events compared.
            ...script.commands.map((argv): Step => [argv[0] === 'SPOP' ? '~c' : 'c', argv]),
            ['c', ['CONFIG', 'SET', 'notify-keyspace-events', '']],
          ];
          // Each session waits out quiet periods; the two servers are independent, so both run at once.
          const [expected, actual] = await Promise.all([runSession(peers.redis.port, steps), runSession(peers.respql.port, steps)]);
          expect(actual).to.deep.equal(expected);
        });
      }
    }
  });
}

const SESSION = 'spring:session:sessions:2';
const EXPIRES = 'spring:session:sessions:expires:2';
const EXPIRATIONS = 'spring:session:expirations:2';

/**
 * Spring Session's indexed repository with `Egx` (what it configures at start-up): a session hash
 * and its `expires` key given PX expiries, then left to expire. What a `__keyevent@*__:*` subscriber
 * receives, in any order between keys (Redis's active expiry and respql's sweep take them in their
 * own), until both expired events have come.
 */
async function expiryStream(port: number): Promise<string[]> {
  const c = await RawClient.connect(port);
  const s = await RawClient.connect(port);
  try {
    await c.command('FLUSHDB');
    await c.command('CONFIG', 'SET', 'notify-keyspace-events', 'Egx');
    s.sendRaw(encodeCommand(['PSUBSCRIBE', '__keyevent@*__:*']));
    let text = (await s.readRaw({ minBytes: 1, timeoutMs: 10_000 })).toString('latin1');
    await c.command('HMSET', SESSION, 'creationTime', '1', 'maxInactiveInterval', '1', 'lastAccessedTime', '1');
    await c.command('PEXPIRE', SESSION, '300');
    await c.command('SET', EXPIRES, '', 'PX', '200');
    await c.command('SADD', EXPIRATIONS, 'expires:2');
    await c.command('PEXPIRE', EXPIRATIONS, '250');
    const expiredCount = () => text.split('__keyevent@0__:expired').length - 1;
    const deadline = Date.now() + 8000;
    while (expiredCount() < 3 && Date.now() < deadline) text += (await s.readRaw({ timeoutMs: 100 })).toString('latin1');
    // Anything that would follow the last one.
    text += (await s.readRaw({ timeoutMs: 300 })).toString('latin1');
    await c.command('CONFIG', 'SET', 'notify-keyspace-events', '');
    return frames(text);
  } finally {
    await c.destroy();
    await s.destroy();
  }
}

for (const backend of BACKENDS) {
  describe(`differential vs redis-server: expired events of hashes and sets (${backend})`, () => {
    const peers = usePeers(backend);
    it('Spring Session: a session hash, its expires key and its expirations set given PX expiries raise expired (Egx)', async () => {
      const expected = await expiryStream(peers.redis.port);
      const actual = await expiryStream(peers.respql.port);
      // The subscription's reply and the expire events come in order; the expired ones in any order.
      const inOrder = (f: string[]) => f.filter((x) => !x.includes('__keyevent@0__:expired'));
      const expired = (f: string[]) => f.filter((x) => x.includes('__keyevent@0__:expired')).sort();
      expect(inOrder(actual)).to.deep.equal(inOrder(expected));
      expect(expired(actual)).to.deep.equal(expired(expected));
      expect(expired(expected)).to.have.length(3);
    });
  });
}
