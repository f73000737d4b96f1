/**
 * Numbered databases against a real redis-server (both with 16 databases): SELECT, MOVE, SWAPDB,
 * COPY ... DB, FLUSHDB and FLUSHALL, SELECT inside MULTI and scripts, WATCH per database, INFO
 * keyspace, CLIENT LIST's db=, and the database in keyspace notifications' channel names.
 */
import { expect } from 'chai';
import { runPipelined, transcript, usePeers } from '../support/differential';
import { describeUnorderedDifferential } from './unordered';
import { runSession, type Step } from '../support/pubsub-session';
import { RawClient, toStrings } from '../support/resp-client';
import { BACKENDS } from '../support/respql';

describeUnorderedDifferential('numbered databases', [
  {
    name: 'SELECT: the range, Redis errors, one key space per database',
    commands: [
      ['FLUSHALL'],
      ['SELECT', '16'],
      ['SELECT', '-1'],
      ['SELECT', 'abc'],
      ['SELECT', '1.5'],
      ['SELECT', '01'],
      ['SELECT', '99999999999999'],
      ['SELECT', '-2147483649'],
      ['SELECT'],
      ['SET', 'd:k', 'zero'],
      ['SELECT', '3'],
      ['GET', 'd:k'],
      ['SET', 'd:k', 'three'],
      ['HSET', 'd:h', 'f', '3'],
      ['DBSIZE'],
      ['KEYS', '*'],
      ['SELECT', '0'],
      ['GET', 'd:k'],
      ['HGETALL', 'd:h'],
      ['DBSIZE'],
      ['SELECT', '15'],
      ['DBSIZE'],
      ['RANDOMKEY'],
      ['SCAN', '0'],
      ['CONFIG', 'GET', 'databases'],
    ],
  },
  {
    name: 'MOVE: strings, hashes and sets with their TTL; absent, present in the target, errors',
    commands: [
      ['FLUSHALL'],
      ['MOVE', 'd:k', '1'],
      ['SET', 'd:k', 'v', 'EX', '1000'],
      ['MOVE', 'd:k', '16'],
      ['MOVE', 'd:k', '-1'],
      ['MOVE', 'd:k', 'a'],
      ['MOVE', 'd:k', '99999999999'],
      ['MOVE', 'd:k', '0'],
      ['MOVE', 'd:k', '1'],
      ['EXISTS', 'd:k'],
      ['SELECT', '1'],
      ['GET', 'd:k'],
      ['TTL', 'd:k'],
      ['SET', 'd:j', 'in1'],
      ['SELECT', '0'],
      ['SET', 'd:j', 'in0'],
      ['MOVE', 'd:j', '1'],
      ['GET', 'd:j'],
      ['HSET', 'd:h', 'f1', 'a', 'f2', 'b'],
      ['MOVE', 'd:h', '2'],
      ['SADD', 'd:s', 'x', 'y', 'z'],
      ['MOVE', 'd:s', '2'],
      ['SELECT', '2'],
      ['HGETALL', 'd:h'],
      ['TYPE', 'd:h'],
      ['SMISMEMBER', 'd:s', 'x', 'y', 'z', 'm0', 'm2'],
      ['MOVE', 'd:h', '0'],
      ['HGETALL', 'd:h'],
      ['SELECT', '0'],
      ['HGET', 'd:h', 'f2'],
    ],
  },
  {
    name: 'COPY ... DB: to another database, REPLACE, errors in Redis order',
    commands: [
      ['FLUSHALL'],
      ['SET', 'd:a', 'v'],
      ['COPY', 'd:a', 'd:a', 'DB', '1'],
      ['COPY', 'd:a', 'd:a', 'DB', '1'],
      ['SET', 'd:a', 'w'],
      ['COPY', 'd:a', 'd:a', 'DB', '1', 'REPLACE'],
      ['COPY', 'd:a', 'd:a', 'DB', '0'],
      ['COPY', 'd:a', 'd:b', 'DB', '16'],
      ['COPY', 'd:a', 'd:b', 'DB', '99', 'FOO'],
      ['COPY', 'd:a', 'd:b', 'DB', '1', 'FOO'],
      ['COPY', 'd:a', 'd:b', 'FOO', 'DB', '99'],
      ['COPY', 'd:a', 'd:b', 'DB', '1', 'DB', '16'],
      ['COPY', 'd:none', 'd:b', 'DB', '1'],
      ['HSET', 'd:h', 'f', 'v', 'g', 'w'],
      ['COPY', 'd:h', 'd:h2', 'DB', '4'],
      ['SELECT', '1'],
      ['GET', 'd:a'],
      ['COPY', 'd:a', 'd:a', 'DB', '0'],
      ['SELECT', '4'],
      ['HGETALL', 'd:h2'],
      ['SELECT', '0'],
      ['HGETALL', 'd:h'],
    ],
  },
  {
    name: 'SWAPDB: errors, swapping with an empty database and back, every type and TTL',
    commands: [
      ['FLUSHALL'],
      ['SWAPDB', '0', '16'],
      ['SWAPDB', 'a', '0'],
      ['SWAPDB', '0', 'a'],
      ['SWAPDB', '0', '99999999999'],
      ['SWAPDB', '-1', '0'],
      ['SWAPDB', '0', '0'],
      ['SET', 'd:a', 'zero'],
      ['HSET', 'd:h', 'f', '0'],
      ['SADD', 'd:s', 'm0'],
      ['SET', 'd:t', 't', 'EX', '1000'],
      ['SELECT', '2'],
      ['SET', 'd:a', 'two'],
      ['SET', 'd:only2', 'x'],
      ['SADD', 'd:s', 'm2'],
      ['SWAPDB', '0', '2'],
      ['GET', 'd:a'],
      ['HGETALL', 'd:h'],
      ['SMISMEMBER', 'd:s', 'x', 'y', 'z', 'm0', 'm2'],
      ['TTL', 'd:t'],
      ['DBSIZE'],
      ['SELECT', '0'],
      ['GET', 'd:a'],
      ['GET', 'd:only2'],
      ['SMISMEMBER', 'd:s', 'x', 'y', 'z', 'm0', 'm2'],
      ['HGETALL', 'd:h'],
      ['DBSIZE'],
      ['SWAPDB', '0', '5'],
      ['DBSIZE'],
      ['SELECT', '5'],
      ['DBSIZE'],
      ['SWAPDB', '5', '0'],
      ['DBSIZE'],
    ],
  },
  {
    name: 'FLUSHDB empties one database, FLUSHALL every one (ASYNC and SYNC)',
    commands: [
      ['FLUSHALL'],
      ['SET', 'd:a', '0'],
      ['SELECT', '1'],
      ['SET', 'd:a', '1'],
      ['HSET', 'd:h', 'f', 'v'],
      ['FLUSHDB'],
      ['DBSIZE'],
      ['SELECT', '0'],
      ['DBSIZE'],
      ['SELECT', '2'],
      ['SET', 'd:x', 'y'],
      ['FLUSHALL', 'ASYNC'],
      ['DBSIZE'],
      ['SELECT', '0'],
      ['DBSIZE'],
      ['FLUSHALL', 'SYNC'],
      ['FLUSHDB', 'ASYNC'],
      ['FLUSHALL', 'foo'],
      ['FLUSHDB', 'SYNC', 'ASYNC'],
    ],
  },
  {
    name: 'SELECT inside MULTI: the queue follows it, the client stays there after EXEC',
    commands: [
      ['FLUSHALL'],
      ['SET', 'd:a', 'zero'],
      ['MULTI'],
      ['SELECT', '1'],
      ['SET', 'd:a', 'one'],
      ['SELECT', '16'],
      ['GET', 'd:a'],
      ['MOVE', 'd:a', '0'],
      ['COPY', 'd:a', 'd:a', 'DB', '2'],
      ['EXEC'],
      ['GET', 'd:a'],
      ['SELECT', '2'],
      ['GET', 'd:a'],
      ['SELECT', '0'],
      ['GET', 'd:a'],
      ['MULTI'],
      ['SELECT', '3'],
      ['DISCARD'],
      ['SET', 'd:z', 'in0'],
      ['SELECT', '3'],
      ['EXISTS', 'd:z'],
    ],
  },
  {
    name: "a script's SELECT is the script's own (Redis 7)",
    commands: [
      ['FLUSHALL'],
      ['SELECT', '2'],
      [
        'EVAL',
        "redis.call('SET', KEYS[1], 'two'); redis.call('SELECT', 5); redis.call('SET', KEYS[1], 'five'); return redis.call('GET', KEYS[1])",
        '1',
        'd:k',
      ],
      ['GET', 'd:k'],
      ['SELECT', '5'],
      ['GET', 'd:k'],
      ['EVAL', "return redis.pcall('SELECT', 16)", '0'],
      ['EVAL', "return redis.call('MOVE', KEYS[1], 6)", '1', 'd:k'],
      ['SELECT', '6'],
      ['GET', 'd:k'],
    ],
  },
]);

/** `INFO keyspace` without avg_ttl (Redis estimates it by sampling, respql computes it). */
const keyspace = (info: unknown) =>
  String(info)
    .split('\r\n')
    .filter((line) => /^db\d+:/.test(line))
    .map((line) => line.replace(/,avg_ttl=\d+/, ''));

/** The db= field of CLIENT INFO. */
const dbField = (info: unknown) => /\bdb=(\d+)/.exec(String(info))?.[1];

for (const backend of BACKENDS) {
  describe(`differential vs redis-server: numbered databases, INFO, CLIENT, WATCH, notifications (${backend})`, () => {
    const peers = usePeers(backend);

    it('INFO keyspace: one line per database with keys, in order', async () => {
      const script = [
        ['FLUSHALL'],
        ['SET', 'i:a', '1'],
        ['SELECT', '9'],
        ['SET', 'i:a', '1', 'EX', '1000'],
        ['SET', 'i:b', '1'],
        ['SELECT', '12'],
        ['SET', 'i:c', '1'],
        ['DEL', 'i:c'],
        ['SELECT', '3'],
        ['HSET', 'i:h', 'f', 'v'],
        ['INFO', 'keyspace'],
      ];
      const expected = await runPipelined(peers.redis.port, script);
      const actual = await runPipelined(peers.respql.port, script);
      expect(keyspace(actual.at(-1))).to.deep.equal(keyspace(expected.at(-1)));
      expect(keyspace(expected.at(-1))).to.deep.equal(['db0:keys=1,expires=0', 'db3:keys=1,expires=0', 'db9:keys=2,expires=1']);
    });

    it('CLIENT INFO and CLIENT LIST show the selected database; RESET goes back to 0, HELLO keeps it', async () => {
      for (const port of [peers.redis.port, peers.respql.port]) {
        const c = await RawClient.connect(port);
        try {
          const seen: unknown[] = [];
          await c.send('SELECT', '7');
          seen.push(dbField(toStrings(await c.send('CLIENT', 'INFO'))));
          seen.push(String(toStrings(await c.send('CLIENT', 'LIST'))).includes(' db=7 '));
          await c.send('HELLO', '2');
          seen.push(dbField(toStrings(await c.send('CLIENT', 'INFO'))));
          await c.send('RESET');
          seen.push(dbField(toStrings(await c.send('CLIENT', 'INFO'))));
          expect(seen, `port ${port}`).to.deep.equal(['7', true, '7', '0']);
        } finally {
          await c.close();
        }
      }
    });

    it('a pipelined EXEC that selects moves the commands read after it', async () => {
      const script = [
        ['FLUSHALL'],
        ['SET', 'p:k', 'zero'],
        ['MULTI'],
        ['SELECT', '4'],
        ['SET', 'p:k', 'four'],
        ['EXEC'],
        ['GET', 'p:k'],
        ['SELECT', '0'],
        ['GET', 'p:k'],
      ];
      const expected = await runPipelined(peers.redis.port, script);
      const actual = await runPipelined(peers.respql.port, script);
      expect(transcript(script, actual)).to.deep.equal(transcript(script, expected));
    });

    it('WATCH is per database: a write of the same name elsewhere does not touch it; FLUSHALL and SWAPDB do', async () => {
      const cases: { name: string; other: string[][] }[] = [
        { name: 'SET of the name in database 0', other: [['SET', 'w:k', 'x']] },
        {
          name: 'SET in the watched database',
          other: [
            ['SELECT', '1'],
            ['SET', 'w:k', 'x'],
          ],
        },
        { name: 'FLUSHDB of database 0', other: [['FLUSHDB']] },
        { name: 'FLUSHALL', other: [['FLUSHALL']] },
        { name: 'SWAPDB of the watched database', other: [['SWAPDB', '1', '2']] },
        { name: 'SWAPDB of two others', other: [['SWAPDB', '0', '2']] },
        {
          name: 'MOVE into the watched database',
          other: [
            ['SET', 'w:k', 'y'],
            ['MOVE', 'w:k', '1'],
          ],
        },
      ];
      const run = async (port: number, other: string[][]) => {
        const a = await RawClient.connect(port);
        const b = await RawClient.connect(port);
        try {
          await b.send('FLUSHALL');
          await a.send('SELECT', '1');
          await a.send('SET', 'w:k', 'v');
          await a.send('WATCH', 'w:k');
          for (const argv of other) await b.send(...argv);
          await a.send('MULTI');
          await a.send('PING');
          return toStrings(await a.send('EXEC'));
        } finally {
          await a.close();
          await b.close();
        }
      };
      for (const c of cases) {
        const expected = await run(peers.redis.port, c.other);
        expect(await run(peers.respql.port, c.other), c.name).to.deep.equal(expected);
      }
    });

    it("keyspace notifications name each event's database (SELECT, MOVE, COPY ... DB, SWAPDB, FLUSHALL)", async () => {
      const steps: Step[] = [
        ['c', ['CONFIG', 'SET', 'notify-keyspace-events', 'KEAn']],
        ['c', ['FLUSHALL']],
        ['sub', ['PSUBSCRIBE', '__key*__:*']],
        ['c', ['SELECT', '3']],
        ['c', ['SET', 'e:k', 'v']],
        ['c', ['MOVE', 'e:k', '5']],
        ['c', ['SELECT', '5']],
        ['c', ['COPY', 'e:k', 'e:k', 'DB', '7']],
        ['c', ['HSET', 'e:h', 'f', 'v']],
        ['c', ['EXPIRE', 'e:h', '100']],
        ['c', ['SWAPDB', '5', '7']],
        ['c', ['DEL', 'e:k']],
        ['c', ['MULTI']],
        ['c', ['SELECT', '9']],
        ['c', ['SET', 'e:m', '1']],
        ['c', ['EXEC']],
        ['c', ['FLUSHALL']],
        ['c', ['CONFIG', 'SET', 'notify-keyspace-events', '']],
      ];
      const expected = await runSession(peers.redis.port, steps);
      const actual = await runSession(peers.respql.port, steps);
      expect(actual).to.deep.equal(expected);
    });
  });
}
