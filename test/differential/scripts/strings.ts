/**
 * Edge cases of the string commands, as data: each script runs on a fresh connection
 * against redis-server and respql and the replies must match (TTL/PTTL within a tolerance).
 */
export const scripts: { name: string; commands: string[][] }[] = [
  {
    name: 'MGET and MSET (last value wins, TTL dropped, odd arguments)',
    commands: [
      ['MSET', 'm:a', '1', 'm:b', '2', 'm:a', '3'], ['MGET', 'm:a', 'm:b', 'm:none', 'm:a'], ['MGET', 'm:none'],
      ['SET', 'm:t', 'v', 'EX', '100'], ['MSET', 'm:t', 'x'], ['TTL', 'm:t'], ['GET', 'm:t'],
      ['MSET', 'm:e', ''], ['MGET', 'm:e'],
      ['MSET', 'm:a'], ['MSET', 'm:a', '1', 'm:b'], ['MSET'], ['MGET'],
    ],
  },
  {
    name: 'MSETNX writes all or nothing',
    commands: [
      ['MSETNX', 'n:1', '1', 'n:2', '2'], ['MGET', 'n:1', 'n:2'], ['MSETNX', 'n:2', 'x', 'n:3', '3'], ['EXISTS', 'n:3'], ['GET', 'n:2'],
      ['MSETNX', 'n:4', 'a', 'n:4', 'b'], ['GET', 'n:4'], ['MSETNX', 'n:5'], ['MSETNX', 'n:5', '1', 'n:6'],
    ],
  },
  {
    name: 'SETEX and PSETEX',
    commands: [
      ['SETEX', 's:1', '100', 'v'], ['TTL', 's:1'], ['GET', 's:1'], ['PSETEX', 's:2', '100000', 'w'], ['PTTL', 's:2'], ['GET', 's:2'],
      ['SETEX', 's:1', '0', 'v'], ['SETEX', 's:1', '-1', 'v'], ['SETEX', 's:1', 'abc', 'v'], ['SETEX', 's:1', '1.5', 'v'], ['SETEX', 's:1', '', 'v'],
      ['SETEX', 's:1', '9223372036854775807', 'v'], ['SETEX', 's:1', '9223372036854775', 'v'], ['SETEX', 's:1', '9223372036854775808', 'v'],
      ['PSETEX', 's:2', '0', 'v'], ['PSETEX', 's:2', '-5', 'v'], ['PSETEX', 's:2', '9223372036854775807', 'v'],
      ['GET', 's:1'], ['GET', 's:2'], ['SETEX', 's:x', '0', 'v'], ['EXISTS', 's:x'],
      ['SETEX', 's:1', '100'], ['PSETEX', 's:1', '100', 'v', 'x'],
    ],
  },
  {
    name: 'SETNX and GETSET (GETSET drops the TTL)',
    commands: [
      ['SETNX', 'g:1', '1'], ['SETNX', 'g:1', '2'], ['GET', 'g:1'],
      ['GETSET', 'g:2', 'a'], ['GET', 'g:2'], ['SET', 'g:2', 'v', 'EX', '100'], ['GETSET', 'g:2', 'b'], ['TTL', 'g:2'], ['GET', 'g:2'],
      ['SETNX', 'g:1'], ['GETSET', 'g:1'],
    ],
  },
  {
    name: 'GETDEL',
    commands: [['SET', 'd:1', 'v'], ['GETDEL', 'd:1'], ['GETDEL', 'd:1'], ['EXISTS', 'd:1'], ['GETDEL'], ['GETDEL', 'a', 'b']],
  },
  {
    name: 'GETEX options; the time is only checked when the key exists',
    commands: [
      ['SET', 'x:1', 'v'], ['GETEX', 'x:1'], ['TTL', 'x:1'], ['GETEX', 'x:1', 'EX', '100'], ['TTL', 'x:1'],
      ['GETEX', 'x:1', 'PX', '50000'], ['PTTL', 'x:1'], ['GETEX', 'x:1', 'PERSIST'], ['TTL', 'x:1'],
      ['GETEX', 'x:1', 'EXAT', '4102444800'], ['EXPIRETIME', 'x:1'], ['GETEX', 'x:1', 'pxat', '4102444800123'], ['PEXPIRETIME', 'x:1'],
      ['GETEX', 'x:1', 'EX', '0'], ['GETEX', 'x:1', 'EX', '-1'], ['GETEX', 'x:1', 'PX', '0'], ['GETEX', 'x:1', 'EX', 'abc'],
      ['GETEX', 'x:1', 'EXAT', '0'], ['GETEX', 'x:1', 'EX', '9223372036854775807'], ['GETEX', 'x:1', 'PX', '9223372036854775807'],
      ['GETEX', 'x:none', 'EX', '0'], ['GETEX', 'x:none', 'EX', 'abc'], ['GETEX', 'x:none', 'PERSIST'], ['GETEX', 'x:none'],
      ['GETEX', 'x:1', 'EX', '10', 'PX', '10'], ['GETEX', 'x:1', 'EX', '10', 'PERSIST'], ['GETEX', 'x:1', 'PERSIST', 'EX', '10'],
      ['GETEX', 'x:1', 'EX'], ['GETEX', 'x:1', 'NX'], ['GETEX', 'x:1', 'KEEPTTL'], ['GETEX', 'x:1', 'GET'], ['GETEX', 'x:none', 'FOO'],
      ['GETEX', 'x:1', 'EX', '10', 'EX', '200'], ['TTL', 'x:1'], ['GETEX', 'x:1', 'PERSIST', 'PERSIST'], ['TTL', 'x:1'],
      ['GETEX', 'x:1', 'EXAT', '1'], ['EXISTS', 'x:1'], ['SET', 'x:1', 'w'], ['GETEX', 'x:1', 'PXAT', '1'], ['GET', 'x:1'],
      ['GETEX'],
    ],
  },
  {
    name: 'STRLEN counts bytes',
    commands: [
      ['SET', 'l:1', 'hello'], ['STRLEN', 'l:1'], ['STRLEN', 'l:none'], ['SET', 'l:2', 'h\u00e9llo \u2603'], ['STRLEN', 'l:2'],
      ['SET', 'l:3', ''], ['STRLEN', 'l:3'], ['STRLEN'], ['STRLEN', 'a', 'b'],
    ],
  },
  {
    name: 'APPEND creates or extends and keeps the TTL',
    commands: [
      ['APPEND', 'a:1', 'hello'], ['APPEND', 'a:1', ' world'], ['GET', 'a:1'], ['SET', 'a:2', 'v', 'EX', '100'], ['APPEND', 'a:2', 'x'],
      ['TTL', 'a:2'], ['GET', 'a:2'], ['APPEND', 'a:3', ''], ['EXISTS', 'a:3'], ['GET', 'a:3'], ['APPEND', 'a:1', ''], ['APPEND', 'a:1'],
    ],
  },
  {
    name: 'GETRANGE and SUBSTR index rules',
    commands: [
      ['SET', 'r:1', 'This is a string'],
      ['GETRANGE', 'r:1', '0', '3'], ['GETRANGE', 'r:1', '-3', '-1'], ['GETRANGE', 'r:1', '0', '-1'], ['GETRANGE', 'r:1', '10', '100'],
      ['GETRANGE', 'r:1', '5', '3'], ['GETRANGE', 'r:1', '-1', '-5'], ['GETRANGE', 'r:1', '-100', '-1'], ['GETRANGE', 'r:1', '-100', '2'],
      ['GETRANGE', 'r:1', '100', '200'], ['GETRANGE', 'r:1', '3', '3'], ['GETRANGE', 'r:1', '-1', '-1'], ['GETRANGE', 'r:1', '0', '-100'],
      ['GETRANGE', 'r:1', '0', '9223372036854775807'], ['GETRANGE', 'r:1', '-9223372036854775808', '-1'],
      ['GETRANGE', 'r:1', '-9223372036854775808', '9223372036854775807'], ['GETRANGE', 'r:1', '9223372036854775807', '0'],
      ['GETRANGE', 'r:none', '0', '-1'], ['GETRANGE', 'r:1', 'a', '1'], ['GETRANGE', 'r:1', '0', '1.5'], ['GETRANGE', 'r:none', 'a', '1'],
      ['GETRANGE', 'r:1', '0', '9223372036854775808'],
      ['SET', 'r:2', ''], ['GETRANGE', 'r:2', '0', '-1'], ['GETRANGE', 'r:2', '-1', '-1'], ['GETRANGE', 'r:2', '0', '0'],
      ['SUBSTR', 'r:1', '0', '3'], ['SUBSTR', 'r:1', '-6', '-1'], ['GETRANGE', 'r:1', '0'], ['SUBSTR', 'r:1'],
    ],
  },
  {
    name: 'SETRANGE pads with zero bytes, checks offset and size, keeps the TTL',
    commands: [
      ['SETRANGE', 'w:1', '0', 'hi'], ['GET', 'w:1'], ['SETRANGE', 'w:1', '5', 'xy'], ['GET', 'w:1'], ['SETRANGE', 'w:1', '1', 'ELLO'], ['GET', 'w:1'],
      ['SETRANGE', 'w:1', '-1', 'x'], ['SETRANGE', 'w:1', '-1', ''], ['SETRANGE', 'w:none', '-1', ''], ['SETRANGE', 'w:1', 'abc', 'x'],
      ['SETRANGE', 'w:1', '9223372036854775808', 'x'],
      ['SETRANGE', 'w:2', '10', ''], ['EXISTS', 'w:2'], ['SETRANGE', 'w:1', '100', ''], ['SETRANGE', 'w:1', '9223372036854775807', ''],
      ['SETRANGE', 'w:1', '536870912', 'x'], ['SETRANGE', 'w:1', '536870911', 'xy'], ['SETRANGE', 'w:1', '9223372036854775807', 'x'],
      ['SETRANGE', 'w:none', '536870912', 'x'], ['EXISTS', 'w:none'],
      ['SET', 'w:3', 'value', 'EX', '100'], ['SETRANGE', 'w:3', '0', 'V'], ['TTL', 'w:3'], ['GET', 'w:3'],
      ['SETRANGE', 'w:4', '3', '\u00e9'], ['GET', 'w:4'], ['STRLEN', 'w:4'],
      ['SETRANGE', 'w:1', '0'], ['SETRANGE', 'w:1', '0', 'a', 'b'],
    ],
  },
  {
    name: 'INCR, DECR, INCRBY, DECRBY: integer rules and overflow',
    commands: [
      ['INCR', 'i:1'], ['INCRBY', 'i:1', '10'], ['DECR', 'i:1'], ['DECRBY', 'i:1', '5'], ['INCRBY', 'i:1', '-10'], ['DECRBY', 'i:1', '-3'], ['GET', 'i:1'],
      ['DECR', 'i:2'], ['DECRBY', 'i:3', '7'], ['INCRBY', 'i:4', '0'], ['GET', 'i:4'],
      ['SET', 'i:max', '9223372036854775806'], ['INCR', 'i:max'], ['INCR', 'i:max'], ['INCRBY', 'i:max', '1'], ['INCRBY', 'i:max', '-1'],
      ['SET', 'i:min', '-9223372036854775807'], ['DECR', 'i:min'], ['DECR', 'i:min'], ['DECRBY', 'i:min', '1'], ['INCRBY', 'i:min', '-1'],
      ['GET', 'i:min'], ['INCRBY', 'i:min', '9223372036854775807'],
      ['DECRBY', 'i:1', '-9223372036854775808'], ['DECRBY', 'i:none', '-9223372036854775808'], ['DECRBY', 'i:1', '9223372036854775807'],
      ['INCRBY', 'i:1', '9223372036854775808'], ['INCRBY', 'i:1', 'abc'], ['INCRBY', 'i:1', ''], ['INCRBY', 'i:1', '1.0'], ['INCRBY', 'i:1', '+1'],
      ['SET', 'i:f', '1.5'], ['INCR', 'i:f'], ['SET', 'i:f', ' 1'], ['INCR', 'i:f'], ['SET', 'i:f', '01'], ['INCR', 'i:f'],
      ['SET', 'i:f', '+1'], ['INCR', 'i:f'], ['SET', 'i:f', ''], ['INCR', 'i:f'], ['SET', 'i:f', '-0'], ['DECR', 'i:f'],
      ['SET', 'i:f', '9223372036854775808'], ['INCR', 'i:f'], ['SET', 'i:f', '0'], ['INCR', 'i:f'], ['GET', 'i:f'],
      ['SET', 'i:t', '5', 'EX', '100'], ['INCR', 'i:t'], ['TTL', 'i:t'], ['INCRBY', 'i:t', '5'], ['TTL', 'i:t'],
      ['INCR'], ['INCR', 'a', 'b'], ['INCRBY', 'a'], ['DECRBY', 'a', '1', '2'], ['DECR'],
    ],
  },
  {
    name: 'INCRBYFLOAT: long double arithmetic and Redis formatting',
    commands: [
      ['INCRBYFLOAT', 'fl:1', '10.5'], ['INCRBYFLOAT', 'fl:1', '0.1'], ['INCRBYFLOAT', 'fl:1', '-5'], ['GET', 'fl:1'],
      ['SET', 'fl:2', '5.0e3'], ['INCRBYFLOAT', 'fl:2', '2.0e2'], ['INCRBYFLOAT', 'fl:2', '-5200'], ['INCRBYFLOAT', 'fl:2', '-0'],
      ['INCRBYFLOAT', 'fl:3', '0.1'], ['INCRBYFLOAT', 'fl:3', '0.2'], ['INCRBYFLOAT', 'fl:3', '1.23456789012345678901'],
      ['INCRBYFLOAT', 'fl:4', '1e17'], ['INCRBYFLOAT', 'fl:4', '0.3'], ['INCRBYFLOAT', 'fl:5', '17179869184'], ['INCRBYFLOAT', 'fl:5', '0.1'],
      ['INCRBYFLOAT', 'fl:6', '.5'], ['INCRBYFLOAT', 'fl:6', '5.'], ['INCRBYFLOAT', 'fl:6', '+.25e1'], ['INCRBYFLOAT', 'fl:6', '0x10'],
      ['INCRBYFLOAT', 'fl:6', '0x1.8p1'], ['INCRBYFLOAT', 'fl:6', '1E+2'], ['INCRBYFLOAT', 'fl:6', '-1e-20'],
      ['INCRBYFLOAT', 'fl:7', '0.000000000000000015'], ['INCRBYFLOAT', 'fl:7', '0.000000000000000005'],
      ['INCRBYFLOAT', 'fl:8', '1e-4940'], ['INCRBYFLOAT', 'fl:8', '1e300'], ['SET', 'fl:9', '1e308'], ['INCRBYFLOAT', 'fl:9', '1e308'],
      ['INCRBYFLOAT', 'fl:1', 'abc'], ['INCRBYFLOAT', 'fl:1', ''], ['INCRBYFLOAT', 'fl:1', ' 1'], ['INCRBYFLOAT', 'fl:1', '1 '],
      ['INCRBYFLOAT', 'fl:1', '1e'], ['INCRBYFLOAT', 'fl:1', '1.5e'], ['INCRBYFLOAT', 'fl:1', 'e5'], ['INCRBYFLOAT', 'fl:1', '.'],
      ['INCRBYFLOAT', 'fl:1', 'nan'], ['INCRBYFLOAT', 'fl:1', 'NaN'], ['INCRBYFLOAT', 'fl:1', '1e5000'], ['INCRBYFLOAT', 'fl:1', '1e-5000'],
      ['INCRBYFLOAT', 'fl:1', 'inf'], ['INCRBYFLOAT', 'fl:1', '-Infinity'], ['INCRBYFLOAT', 'fl:1', '0x'], ['INCRBYFLOAT', 'fl:1', '1,5'],
      ['SET', 'fl:x', '1.1e4932'], ['INCRBYFLOAT', 'fl:x', '1e4932'], ['INCRBYFLOAT', 'fl:x', '0'],
      ['SET', 'fl:s', 'abc'], ['INCRBYFLOAT', 'fl:s', '1'], ['INCRBYFLOAT', 'fl:s', 'abc'], ['SET', 'fl:s', 'inf'], ['INCRBYFLOAT', 'fl:s', '1'],
      ['SET', 'fl:s', ''], ['INCRBYFLOAT', 'fl:s', '1'],
      ['SET', 'fl:t', '3', 'EX', '100'], ['INCRBYFLOAT', 'fl:t', '-3'], ['TTL', 'fl:t'], ['GET', 'fl:t'],
      ['INCR', 'fl:i'], ['INCRBYFLOAT', 'fl:i', '0.5'], ['INCR', 'fl:i'], ['INCRBYFLOAT', 'fl:i', '0.5'], ['INCR', 'fl:i'],
      ['INCRBYFLOAT', 'fl:1'], ['INCRBYFLOAT', 'fl:1', '1', '2'],
    ],
  },
];
