/**
 * Edge cases of the key commands, as data: each script runs on a fresh connection against
 * redis-server and respql and the replies must match. Scripts that look at the whole
 * keyspace (KEYS, SCAN, RANDOMKEY, FLUSH*) start with FLUSHALL. KEYS and SCAN replies are
 * compared as sets (see keys.test.ts); remaining times only through TTL/PTTL (tolerance)
 * or absolute times far in the future.
 */
export const scripts: { name: string; commands: string[][] }[] = [
  {
    name: 'EXISTS, TOUCH, TYPE, UNLINK count live keys, repeats included',
    commands: [
      ['SET', 'k:a', '1'], ['SET', 'k:b', '2'],
      ['EXISTS', 'k:a', 'k:a', 'k:b', 'k:none'], ['EXISTS', 'k:none'], ['exists', 'k:b'],
      ['TOUCH', 'k:a', 'k:none', 'k:a'], ['TOUCH', 'k:none'],
      ['TYPE', 'k:a'], ['TYPE', 'k:none'],
      ['UNLINK', 'k:a', 'k:none', 'k:a'], ['EXISTS', 'k:a'], ['UNLINK', 'k:a'],
      ['EXISTS'], ['UNLINK'], ['TOUCH'], ['TYPE'], ['TYPE', 'k:a', 'k:b'],
    ],
  },
  {
    name: 'EXPIRE/PEXPIRE set a TTL; zero, negative and past times delete',
    commands: [
      ['SET', 'e:1', 'v'], ['EXPIRE', 'e:1', '100'], ['TTL', 'e:1'], ['PEXPIRE', 'e:1', '200000'], ['TTL', 'e:1'],
      ['EXPIRE', 'e:none', '100'], ['PEXPIRE', 'e:none', '100'],
      ['EXPIRE', 'e:1', '0'], ['EXISTS', 'e:1'], ['EXPIRE', 'e:1', '0'],
      ['SET', 'e:1', 'v'], ['EXPIRE', 'e:1', '-5'], ['EXISTS', 'e:1'],
      ['SET', 'e:1', 'v'], ['PEXPIRE', 'e:1', '-1'], ['GET', 'e:1'],
      ['SET', 'e:1', 'v'], ['EXPIREAT', 'e:1', '1'], ['EXISTS', 'e:1'],
      ['SET', 'e:1', 'v'], ['PEXPIREAT', 'e:1', '0'], ['EXISTS', 'e:1'],
      ['SET', 'e:1', 'v'], ['EXPIREAT', 'e:1', '-9223372036854775'], ['EXISTS', 'e:1'],
      ['SET', 'e:1', 'v'], ['PEXPIREAT', 'e:1', '-9223372036854775808'], ['EXISTS', 'e:1'],
      ['SET', 'e:2', 'v'], ['PEXPIREAT', 'e:2', '9223372036854775807'], ['EXISTS', 'e:2'],
    ],
  },
  {
    name: 'EXPIRE family errors: options first, then the number, then overflow',
    commands: [
      ['SET', 'x:1', 'v'],
      ['EXPIRE', 'x:1', 'abc'], ['EXPIRE', 'x:1', '1.5'], ['EXPIRE', 'x:1', ''], ['EXPIRE', 'x:1', ' 1'], ['EXPIRE', 'x:1', '+1'],
      ['EXPIRE', 'x:1', '10', 'foo'], ['EXPIRE', 'x:1', 'abc', 'foo'], ['EXPIRE', 'x:1', '10', 'nx', 'foo'],
      ['EXPIRE', 'x:1', '10', 'NX', 'XX'], ['EXPIRE', 'x:1', '10', 'nx', 'gt'], ['EXPIRE', 'x:1', '10', 'NX', 'LT'],
      ['EXPIRE', 'x:1', '10', 'GT', 'LT'], ['EXPIRE', 'x:1', 'abc', 'GT', 'LT'], ['EXPIRE', 'x:1', '10', 'XX', 'NX', 'GT', 'LT'],
      ['EXPIRE', 'x:1', '9223372036854775'], ['EXPIRE', 'x:1', '9223372036854774'], ['EXPIRE', 'x:1', '-9223372036854776'],
      ['EXPIRE', 'x:1', '9223372036854775808'], ['PEXPIRE', 'x:1', '9223372036854775807'],
      ['EXPIREAT', 'x:1', '9223372036854775807'], ['EXPIREAT', 'x:1', '-9223372036854776'],
      ['PEXPIREAT', 'x:none', '9223372036854775807'],
      ['EXPIRE', 'x:none', '9223372036854775'], ['PEXPIRE', 'x:none', '9223372036854775807'],
      ['TTL', 'x:1'],
      ['EXPIRE', 'x:1'], ['PEXPIRE'], ['EXPIREAT', 'x:1'], ['PEXPIREAT', 'x:1'],
    ],
  },
  {
    name: 'EXPIRE NX XX GT LT (no TTL counts as infinite)',
    commands: [
      ['SET', 'c:1', 'v'],
      ['EXPIRE', 'c:1', '100', 'XX'], ['EXPIRE', 'c:1', '100', 'GT'], ['TTL', 'c:1'],
      ['EXPIRE', 'c:1', '100', 'LT'], ['TTL', 'c:1'],
      ['EXPIRE', 'c:1', '50', 'NX'], ['EXPIRE', 'c:1', '200', 'gt'], ['TTL', 'c:1'],
      ['EXPIRE', 'c:1', '100', 'GT'], ['EXPIRE', 'c:1', '250', 'GT'], ['TTL', 'c:1'], ['EXPIRE', 'c:1', '300', 'LT'],
      ['EXPIRE', 'c:1', '100', 'Lt'], ['TTL', 'c:1'],
      ['EXPIRE', 'c:1', '150', 'XX', 'GT'], ['TTL', 'c:1'], ['EXPIRE', 'c:1', '120', 'XX', 'LT'], ['TTL', 'c:1'],
      ['EXPIRE', 'c:1', '500', 'GT', 'XX'], ['TTL', 'c:1'],
      ['PERSIST', 'c:1'], ['EXPIRE', 'c:1', '100', 'NX', 'NX'], ['TTL', 'c:1'],
      ['EXPIRE', 'c:1', '-1', 'GT'], ['EXISTS', 'c:1'], ['EXPIRE', 'c:1', '-1', 'LT'], ['EXISTS', 'c:1'],
      ['SET', 'c:2', 'v'], ['EXPIRE', 'c:2', '-1', 'LT'], ['EXISTS', 'c:2'],
      ['SET', 'c:3', 'v'], ['EXPIRE', 'c:3', '0', 'NX'], ['EXISTS', 'c:3'],
      ['EXPIRE', 'c:none', '10', 'NX'], ['EXPIRE', 'c:none', '10', 'XX'], ['EXPIRE', 'c:none', '10', 'LT'],
      ['SET', 'c:4', 'v'], ['PEXPIRE', 'c:4', '100000', 'NX'], ['PEXPIREAT', 'c:4', '4102444800000', 'GT'], ['EXPIRETIME', 'c:4'],
      ['EXPIREAT', 'c:4', '4102444801', 'LT'], ['EXPIREAT', 'c:4', '4102444799', 'LT'], ['EXPIRETIME', 'c:4'],
    ],
  },
  {
    name: 'EXPIREAT, PEXPIREAT, EXPIRETIME, PEXPIRETIME with absolute times',
    commands: [
      ['SET', 't:1', 'v'], ['EXPIRETIME', 't:1'], ['PEXPIRETIME', 't:1'], ['EXPIRETIME', 't:none'], ['PEXPIRETIME', 't:none'],
      ['EXPIREAT', 't:1', '4102444800'], ['EXPIRETIME', 't:1'], ['PEXPIRETIME', 't:1'],
      ['PEXPIREAT', 't:1', '4102444800123'], ['EXPIRETIME', 't:1'], ['PEXPIRETIME', 't:1'],
      ['PEXPIREAT', 't:1', '4102444800499'], ['EXPIRETIME', 't:1'], ['PEXPIREAT', 't:1', '4102444800500'], ['EXPIRETIME', 't:1'],
      ['EXPIREAT', 't:none', '4102444800'], ['PEXPIREAT', 't:none', '4102444800000'],
      ['SET', 't:1', 'w'], ['EXPIRETIME', 't:1'],
      ['EXPIRETIME'], ['PEXPIRETIME', 't:1', 't:2'],
    ],
  },
  {
    name: 'PERSIST',
    commands: [
      ['SET', 'p:1', 'v', 'EX', '100'], ['PERSIST', 'p:1'], ['TTL', 'p:1'], ['PERSIST', 'p:1'], ['PERSIST', 'p:none'],
      ['SETEX', 'p:2', '100', 'v'], ['PERSIST', 'p:2'], ['GET', 'p:2'], ['PERSIST'], ['PERSIST', 'a', 'b'],
    ],
  },
  {
    name: 'KEYS with glob patterns (LIKE specials, escapes, classes, case)',
    commands: [
      ['FLUSHALL'],
      ['MSET', 'user:1', 'a', 'user:2', 'b', 'user:10', 'c', 'USER:3', 'd', 'admin', 'x', 'h?llo', 'y', 'hello', 'z', 'hallo', 'z',
        'a*b', 'w', '[x', 'q', '100%', 'p', 'a_b', 'q', 'axb', 'r', 'a\\b', 's', 'héllo', 't'],
      ['KEYS', '*'], ['KEYS', 'user:*'], ['KEYS', 'user:?'], ['KEYS', 'USER:*'], ['KEYS', 'h?llo'], ['KEYS', 'h\\?llo'],
      ['KEYS', '*o'], ['KEYS', '[au]*'], ['KEYS', '[^u]*'], ['KEYS', '[a-b]*'], ['KEYS', '[b-a]*'], ['KEYS', 'a\\*b'], ['KEYS', 'a*b'],
      ['KEYS', 'nomatch'], ['KEYS', 'user'], ['KEYS', 'user:1'], ['KEYS', ''], ['KEYS', '\\[x'], ['KEYS', '[x'], ['KEYS', '100%'],
      ['KEYS', '100*'], ['KEYS', 'a_b'], ['KEYS', 'a_*'], ['KEYS', 'a%b'], ['KEYS', 'a\\\\b'], ['KEYS', 'h?llo*'], ['KEYS', 'h[^e]llo'],
      ['KEYS', '**'], ['KEYS', '?'], ['KEYS', 'h\u00e9*'], ['KEYS', 'h?llo'],
      ['KEYS'], ['KEYS', 'a', 'b'],
    ],
  },
  {
    name: 'SCAN options, TYPE filter and cursor errors',
    commands: [
      ['FLUSHALL'], ['SCAN', '0'],
      ['MSET', 'sess:1', 'a', 'sess:2', 'b', 'sess:3', 'c', 'other', 'd', 'SESS:4', 'e'],
      ['SCAN', '0'], ['SCAN', '0', 'COUNT', '100'], ['SCAN', '0', 'MATCH', 'sess:*', 'COUNT', '100'], ['scan', '0', 'match', 'sess:*'],
      ['SCAN', '0', 'MATCH', '*'], ['SCAN', '0', 'MATCH', 'nomatch*'], ['SCAN', '0', 'MATCH', '*:?', 'COUNT', '1000'],
      ['SCAN', '0', 'TYPE', 'string'], ['SCAN', '0', 'TYPE', 'STRING', 'COUNT', '50'], ['SCAN', '0', 'TYPE', 'hash'], ['SCAN', '0', 'TYPE', 'nosuchtype'],
      ['SCAN', '0', 'MATCH', 'a', 'MATCH', 'sess:1'], ['SCAN', '0', 'COUNT', '1000', 'COUNT', '100'], ['SCAN', '0', 'COUNT', '9223372036854775807'],
      ['SCAN', '', 'COUNT', '100'], ['SCAN', '+0', 'COUNT', '100'], ['SCAN', '-0', 'COUNT', '100'], ['SCAN', '00', 'COUNT', '100'],
      ['SCAN', 'abc'], ['SCAN', ' 0'], ['SCAN', '0 '], ['SCAN', '0x1'], ['SCAN', '-'], ['SCAN', '1.0'], ['SCAN', '18446744073709551616'],
      ['SCAN', '-18446744073709551616'], ['SCAN', 'abc', 'COUNT', '0'],
      ['SCAN', '0', 'COUNT', '0'], ['SCAN', '0', 'COUNT', '-1'], ['SCAN', '0', 'COUNT', 'abc'], ['SCAN', '0', 'COUNT', '9223372036854775808'],
      ['SCAN', '0', 'COUNT'], ['SCAN', '0', 'MATCH'], ['SCAN', '0', 'TYPE'], ['SCAN', '0', 'FOO', 'bar'], ['SCAN', '0', 'COUNT', '0', 'FOO'],
      ['SCAN', '0', 'MATCH', 'x', 'FOO'],
      ['SCAN'],
    ],
  },
  {
    name: 'FLUSHDB and FLUSHALL with SYNC/ASYNC',
    commands: [
      ['MSET', 'f:1', 'a', 'f:2', 'b'], ['FLUSHDB'], ['DBSIZE'],
      ['MSET', 'f:1', 'a', 'f:2', 'b'], ['FLUSHALL', 'ASYNC'], ['DBSIZE'],
      ['SET', 'f:1', 'a'], ['FLUSHDB', 'sync'], ['DBSIZE'], ['SET', 'f:1', 'a'], ['FLUSHALL', 'Sync'], ['FLUSHDB', 'async'], ['EXISTS', 'f:1'],
      ['SET', 'f:1', 'a'], ['FLUSHDB', 'foo'], ['FLUSHDB', 'sync', 'async'], ['FLUSHALL', 'x', 'y'], ['FLUSHALL', 'now'], ['DBSIZE'],
    ],
  },
  {
    name: 'RANDOMKEY',
    commands: [
      ['FLUSHALL'], ['RANDOMKEY'], ['SET', 'only', 'v'], ['RANDOMKEY'], ['RANDOMKEY', 'extra'],
    ],
  },
  {
    name: 'RENAME and RENAMENX move value and TTL',
    commands: [
      ['SET', 'r:a', '1'], ['EXPIRE', 'r:a', '100'], ['RENAME', 'r:a', 'r:b'], ['EXISTS', 'r:a'], ['GET', 'r:b'], ['TTL', 'r:b'],
      ['RENAME', 'r:none', 'r:x'], ['RENAME', 'r:b', 'r:b'], ['GET', 'r:b'], ['RENAME', 'r:none', 'r:none'],
      ['SET', 'r:c', '3'], ['RENAME', 'r:b', 'r:c'], ['GET', 'r:c'], ['TTL', 'r:c'], ['EXISTS', 'r:b'],
      ['SET', 'r:p', 'x', 'EX', '100'], ['SET', 'r:q', 'y'], ['RENAME', 'r:q', 'r:p'], ['TTL', 'r:p'], ['GET', 'r:p'],
      ['RENAMENX', 'r:c', 'r:d'], ['GET', 'r:d'], ['SET', 'r:e', '5'], ['RENAMENX', 'r:d', 'r:e'], ['GET', 'r:d'], ['GET', 'r:e'],
      ['RENAMENX', 'r:d', 'r:d'], ['RENAMENX', 'r:none', 'r:x'], ['RENAMENX', 'r:none', 'r:none'],
      ['RENAME', 'r:d'], ['RENAMENX', 'r:d', 'r:e', 'r:f'],
    ],
  },
  {
    name: 'COPY with REPLACE and DB',
    commands: [
      ['SET', 'y:a', '1'], ['EXPIRE', 'y:a', '100'], ['COPY', 'y:a', 'y:b'], ['GET', 'y:b'], ['TTL', 'y:b'], ['TTL', 'y:a'],
      ['COPY', 'y:a', 'y:b'], ['SET', 'y:a', '2'], ['COPY', 'y:a', 'y:b', 'REPLACE'], ['GET', 'y:b'], ['TTL', 'y:b'],
      ['COPY', 'y:none', 'y:x'], ['EXISTS', 'y:x'], ['COPY', 'y:none', 'y:b', 'REPLACE'], ['GET', 'y:b'],
      ['COPY', 'y:a', 'y:a'], ['COPY', 'y:a', 'y:a', 'REPLACE'], ['COPY', 'y:none', 'y:none'], ['COPY', 'y:a', 'y:a', 'DB', '0'],
      ['COPY', 'y:a', 'y:z', 'DB', '0'], ['GET', 'y:z'], ['COPY', 'y:a', 'y:z', 'db', '0', 'replace'],
      ['COPY', 'y:a', 'y:w', 'DB', '1'], ['COPY', 'y:a', 'y:w', 'DB', '-1'], ['COPY', 'y:a', 'y:w', 'DB', 'abc'],
      ['COPY', 'y:a', 'y:w', 'DB', '2147483648'], ['COPY', 'y:a', 'y:w', 'DB', '-2147483649'],
      ['COPY', 'y:a', 'y:w', 'DB', '9223372036854775808'], ['COPY', 'y:a', 'y:w', 'DB', ' 1'], ['COPY', 'y:a', 'y:w', 'DB', '1', 'FOO'], ['COPY', 'y:a', 'y:w', 'FOO', 'DB', '1'],
      ['COPY', 'y:a', 'y:w', 'DB'], ['COPY', 'y:a', 'y:w', 'REPLACE', 'REPLACE'], ['COPY', 'y:a', 'y:w', 'REPLACE', 'x'],
      ['EXISTS', 'y:w'], ['COPY', 'y:a'],
    ],
  },
];
