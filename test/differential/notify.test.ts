import { expect } from 'chai';
import { describeDifferential, usePeers } from '../support/differential';
import { runSession, type Step } from '../support/pubsub-session';
import { BACKENDS } from '../support/respql';

const future = () => String(Date.now() + 3_600_000);

/** notify-keyspace-events through CONFIG, as Redis 7.0 parses and prints it; Spring Session's start-up. */
describeDifferential('notify-keyspace-events', [
  {
    name: 'flags: parsing, canonical order, errors',
    commands: [
      ['CONFIG', 'GET', 'notify-keyspace-events'],
      ['CONFIG', 'SET', 'notify-keyspace-events', 'Egx'],
      ['CONFIG', 'GET', 'notify-keyspace-events'],
      ['CONFIG', 'SET', 'notify-keyspace-events', 'An'],
      ['CONFIG', 'GET', 'notify-keyspace-events'],
      ['CONFIG', 'SET', 'notify-keyspace-events', 'mEKA'],
      ['CONFIG', 'GET', 'notify-keyspace-events'],
      ['CONFIG', 'SET', 'notify-keyspace-events', 'ng$lshzxetdKE'],
      ['CONFIG', 'GET', 'notify-keyspace-events'],
      ['CONFIG', 'SET', 'notify-keyspace-events', 'Kq'],
      ['CONFIG', 'GET', 'notify-keyspace-events'],
      ['CONFIG', 'SET', 'notify-keyspace-events', 'x'],
      ['CONFIG', 'GET', 'notify-keyspace-events'],
      ['CONFIG', 'SET', 'notify-keyspace-events', ''],
      ['CONFIG', 'GET', 'notify-keyspace-events'],
      ['CONFIG', 'GET', 'notify*'],
    ],
  },
  {
    // RedisIndexedSessionRepository's ConfigureNotifyKeyspaceEventsAction: read, add E g x, write.
    name: 'Spring Session start-up',
    commands: [
      ['CONFIG', 'GET', 'notify-keyspace-events'],
      ['CONFIG', 'SET', 'notify-keyspace-events', 'Egx'],
      ['CONFIG', 'GET', 'notify-keyspace-events'],
    ],
  },
]);

/** Each script: a subscriber to every keyspace and keyevent channel, then the commands; the event streams must match Redis's. */
const scripts = (): { name: string; commands: string[][] }[] => [
  {
    name: 'SET and its options, SETEX, PSETEX, SETNX, GETSET, MSET, MSETNX',
    commands: [
      ['SET', 'n:a', '1'],
      ['SET', 'n:a', '2', 'EX', '100'],
      ['SET', 'n:a', '3', 'KEEPTTL'],
      ['SET', 'n:a', '4', 'NX'],
      ['SET', 'n:b', '1', 'XX'],
      ['SET', 'n:a', '5', 'XX', 'PX', '100000', 'GET'],
      ['SET', 'n:c', '1', 'PXAT', future()],
      ['SETEX', 'n:d', '100', 'v'],
      ['PSETEX', 'n:d', '100000', 'v'],
      ['SETNX', 'n:e', 'v'],
      ['SETNX', 'n:e', 'w'],
      ['GETSET', 'n:e', 'x'],
      ['MSET', 'n:f', '1', 'n:g', '2', 'n:f', '3'],
      ['MSETNX', 'n:h', '1', 'n:f', '2'],
      ['MSETNX', 'n:h', '1', 'n:i', '2'],
      ['SET', 'n:a', 'v', 'EX', '0'],
    ],
  },
  {
    name: 'DEL, UNLINK, GETDEL, RENAME, RENAMENX, COPY, FLUSHDB',
    commands: [
      ['MSET', 'n:a', '1', 'n:b', '2', 'n:c', '3'],
      ['DEL', 'n:a', 'n:none', 'n:a', 'n:b'],
      ['UNLINK', 'n:c', 'n:c'],
      ['DEL', 'n:none'],
      ['SET', 'n:a', '1'],
      ['GETDEL', 'n:a'],
      ['GETDEL', 'n:a'],
      ['SET', 'n:a', '1'],
      ['RENAME', 'n:a', 'n:b'],
      ['RENAME', 'n:b', 'n:b'],
      ['RENAME', 'n:none', 'n:x'],
      ['SET', 'n:c', '1'],
      ['RENAMENX', 'n:b', 'n:c'],
      ['RENAMENX', 'n:b', 'n:d'],
      ['COPY', 'n:d', 'n:e'],
      ['COPY', 'n:d', 'n:e'],
      ['COPY', 'n:d', 'n:e', 'REPLACE'],
      ['COPY', 'n:none', 'n:e'],
      ['FLUSHDB'],
    ],
  },
  {
    name: 'the expiry family: EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT (conditions, past times), PERSIST, GETEX',
    commands: [
      ['SET', 'n:a', '1'],
      ['EXPIRE', 'n:a', '100'],
      ['PEXPIRE', 'n:a', '100000', 'GT'],
      ['EXPIRE', 'n:a', '10', 'GT'],
      ['EXPIRE', 'n:a', '10', 'LT'],
      ['EXPIREAT', 'n:a', String(Math.floor(Date.now() / 1000) + 100)],
      ['PEXPIREAT', 'n:a', future(), 'NX'],
      ['PERSIST', 'n:a'],
      ['PERSIST', 'n:a'],
      ['EXPIRE', 'n:none', '100'],
      ['EXPIRE', 'n:a', '-1'],
      ['SET', 'n:a', '1'],
      ['PEXPIREAT', 'n:a', '1', 'XX'],
      ['SET', 'n:a', '1'],
      ['PEXPIREAT', 'n:a', '1'],
      ['SET', 'n:a', '1'],
      ['GETEX', 'n:a'],
      ['GETEX', 'n:a', 'EX', '100'],
      ['GETEX', 'n:a', 'PERSIST'],
      ['GETEX', 'n:a', 'PERSIST'],
      ['GETEX', 'n:a', 'PXAT', '1'],
      ['GETEX', 'n:none', 'EX', '1'],
    ],
  },
  {
    name: 'APPEND, SETRANGE, INCR family, INCRBYFLOAT, errors raise nothing',
    commands: [
      ['APPEND', 'n:a', 'x'],
      ['APPEND', 'n:a', 'y'],
      ['APPEND', 'n:a', ''],
      ['SETRANGE', 'n:b', '0', ''],
      ['SETRANGE', 'n:a', '1', 'z'],
      ['SETRANGE', 'n:c', '2', 'q'],
      ['INCR', 'n:i'],
      ['DECR', 'n:i'],
      ['INCRBY', 'n:i', '5'],
      ['DECRBY', 'n:i', '2'],
      ['INCRBYFLOAT', 'n:i', '1.5'],
      ['INCR', 'n:a'],
      ['INCRBYFLOAT', 'n:a', '1'],
      ['SET', 'n:m', '9223372036854775807'],
      ['INCR', 'n:m'],
    ],
  },
  {
    name: 'MULTI/EXEC: the events of the block, in order, once it committed',
    commands: [['MULTI'], ['SET', 'n:a', '1'], ['EXPIRE', 'n:a', '100'], ['DEL', 'n:a', 'n:b'], ['INCR', 'n:c'], ['EXEC']],
  },
];

for (const backend of BACKENDS) {
  describe(`differential vs redis-server: keyspace notifications (${backend})`, () => {
    const peers = usePeers(backend);
    for (const flags of ['KEA', 'Kg', 'E$', 'AKEn']) {
      for (const script of scripts()) {
        it(`${script.name} (notify-keyspace-events ${flags})`, async () => {
          const steps: Step[] = [
            ['c', ['FLUSHDB']],
            ['c', ['CONFIG', 'SET', 'notify-keyspace-events', flags]],
            ['s', ['PSUBSCRIBE', '__key*__:*']],
            ...script.commands.map((argv): Step => ['c', argv]),
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
