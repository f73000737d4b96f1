import { expect } from 'chai';
import { describeDifferential, runScript, type Script } from '../support/differential';
import { startRespql } from '../support/respql';

const future = () => String(Date.now() + 3_600_000);
const futureSec = () => String(Math.floor(Date.now() / 1000) + 3600);

/** SET's options, their combinations and errors, GET/DEL/TTL, and the connection commands. */
const scripts = (): Script[] => [
  { name: 'PING and ECHO', commands: [['PING'], ['PING', 'hi'], ['PING', 'a', 'b'], ['ECHO', 'x'], ['ECHO'], ['ECHO', 'a', 'b']] },
  {
    name: 'SET/GET/DEL basics',
    commands: [
      ['SET', 'f:a', 'v'],
      ['GET', 'f:a'],
      ['GET', 'f:none'],
      ['DEL', 'f:a', 'f:a', 'f:none'],
      ['GET', 'f:a'],
      ['DEL', 'f:a'],
    ],
  },
  {
    name: 'SET NX / XX / GET',
    commands: [
      ['SET', 'f:n', '1', 'XX'],
      ['GET', 'f:n'],
      ['SET', 'f:n', '1', 'NX'],
      ['SET', 'f:n', '2', 'NX'],
      ['GET', 'f:n'],
      ['SET', 'f:n', '3', 'XX'],
      ['GET', 'f:n'],
      ['SET', 'f:n', '4', 'GET'],
      ['SET', 'f:new', '5', 'GET'],
      ['SET', 'f:n', '6', 'NX', 'GET'],
      ['SET', 'f:n2', '6', 'NX', 'GET'],
      ['SET', 'f:n', '7', 'XX', 'GET'],
      ['SET', 'f:n3', '7', 'XX', 'GET'],
      ['SET', 'f:n', 'x', 'NX', 'NX'],
      ['SET', 'f:n', 'y', 'GET', 'GET'],
      ['GET', 'f:n'],
    ],
  },
  {
    name: 'SET expiry options and TTL',
    commands: [
      ['SET', 'f:e', 'v', 'EX', '100'],
      ['TTL', 'f:e'],
      ['SET', 'f:e', 'v', 'PX', '100000'],
      ['TTL', 'f:e'],
      ['SET', 'f:e', 'v', 'EXAT', futureSec()],
      ['TTL', 'f:e'],
      ['SET', 'f:e', 'v', 'PXAT', future()],
      ['TTL', 'f:e'],
      ['SET', 'f:e', 'w', 'KEEPTTL'],
      ['TTL', 'f:e'],
      ['GET', 'f:e'],
      ['SET', 'f:e', 'z'],
      ['TTL', 'f:e'],
      ['TTL', 'f:none'],
      ['SET', 'f:e', 'v', 'EX', '10', 'EX', '100'],
      ['TTL', 'f:e'],
      ['PTTL', 'f:none'],
    ],
  },
  {
    name: 'SET errors',
    commands: [
      ['SET', 'f:x', 'v', 'EX', '0'],
      ['SET', 'f:x', 'v', 'EX', '-1'],
      ['SET', 'f:x', 'v', 'PX', '0'],
      ['SET', 'f:x', 'v', 'EX', 'abc'],
      ['SET', 'f:x', 'v', 'EX', '1.5'],
      ['SET', 'f:x', 'v', 'EX'],
      ['SET', 'f:x', 'v', 'EX', '10', 'PX', '10'],
      ['SET', 'f:x', 'v', 'NX', 'XX'],
      ['SET', 'f:x', 'v', 'KEEPTTL', 'EX', '10'],
      ['SET', 'f:x', 'v', 'EX', '10', 'KEEPTTL'],
      ['SET', 'f:x', 'v', 'FOO'],
      ['SET', 'f:x'],
      ['SET', 'f:x', 'v', 'EX', '9223372036854775807'],
      ['SET', 'f:x', 'v', 'PX', '9223372036854775807'],
      ['SET', 'f:x', 'v', 'EXAT', '99999999999999999999'],
      ['SET', 'f:x', 'v', 'PXAT', '-5'],
      ['GET', 'f:x'],
      ['GET'],
      ['GET', 'a', 'b'],
      ['DEL'],
    ],
  },
  {
    name: 'an expiry in the past makes the key absent',
    commands: [
      ['SET', 'f:p', 'v', 'PXAT', '1'],
      ['GET', 'f:p'],
      ['TTL', 'f:p'],
      ['SET', 'f:p', 'w', 'NX'],
      ['GET', 'f:p'],
    ],
  },
  {
    name: 'unknown commands and subcommands',
    commands: [['NOSUCH'], ['NOSUCH', 'a', 'b'], ['CLIENT', 'NOSUCH'], ['CONFIG', 'NOSUCH'], ['CLIENT']],
  },
  {
    name: 'connection commands',
    commands: [
      ['AUTH', 'pw'],
      ['AUTH', 'default', 'pw'],
      ['AUTH', 'nobody', 'pw'],
      ['SELECT', '0'],
      ['SELECT', 'x'],
      ['SELECT', '1'],
      ['SELECT', '-1'],
      ['CLIENT', 'SETNAME', 'my-app'],
      ['CLIENT', 'GETNAME'],
      ['CLIENT', 'SETNAME', 'has space'],
      ['CLIENT', 'SETNAME', ''],
      ['CLIENT', 'GETNAME'],
      ['HELLO', '4'],
      ['HELLO', 'x'],
      ['HELLO', '2', 'FOO'],
      ['HELLO', '2', 'AUTH', 'default'],
      ['CONFIG', 'GET', 'save'],
      ['CONFIG', 'GET', 'databases'],
      ['CONFIG', 'GET', 'nosuch*'],
    ],
  },
  {
    name: 'MULTI / EXEC / DISCARD',
    commands: [
      ['MULTI'],
      ['SET', 'f:m', '1'],
      ['SET', 'f:m', '2', 'EX', '0'],
      ['GET', 'f:m'],
      ['EXEC'],
      ['MULTI'],
      ['NOSUCH'],
      ['SET', 'f:m', '3'],
      ['EXEC'],
      ['GET', 'f:m'],
      ['EXEC'],
      ['DISCARD'],
      ['MULTI'],
      ['MULTI'],
      ['GET'],
      ['DISCARD'],
      ['GET', 'f:m'],
      ['WATCH', 'f:m'],
      ['SET', 'f:m', '9'],
      ['MULTI'],
      ['GET', 'f:m'],
      ['EXEC'],
      ['WATCH', 'f:m'],
      ['MULTI'],
      ['GET', 'f:m'],
      ['EXEC'],
      ['UNWATCH'],
    ],
  },
];

describeDifferential('foundation commands', scripts);

describe('deliberate differences from redis-server (documented in the README)', () => {
  it('commands of other data types answer the unknown-command error', async () => {
    const respql = await startRespql('sqlite');
    try {
      expect(
        await runScript(respql.port, [
          ['LPUSH', 'l', 'x'],
          ['ZADD', 'z', '1', 'm'],
        ]),
      ).to.deep.equal([
        { error: "ERR unknown command 'LPUSH', with args beginning with: 'l' 'x' " },
        { error: "ERR unknown command 'ZADD', with args beginning with: 'z' '1' 'm' " },
      ]);
    } finally {
      await respql.stop();
    }
  });
});
