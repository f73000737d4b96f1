/**
 * Edge cases of the set commands, as data (see ../shapes.ts for how replies are compared).
 * Member lists (SMEMBERS, SINTER, SUNION, SDIFF, SSCAN) are compared as sets; random picks
 * (SPOP, SRANDMEMBER) by count, distinctness and membership, or exactly where the pick is
 * forced (a count at least the set's size, a one-member set).
 */
import type { ShapedScript } from '../shapes';

const ABC = ['a', 'b', 'c'];

export const scripts: ShapedScript[] = [
  {
    name: 'SADD, SREM, SCARD, SISMEMBER, SMISMEMBER, SMEMBERS',
    steps: [
      ['SADD', 's:1', 'a', 'b', 'a'], ['SADD', 's:1', 'b', 'c'], ['SADD', 's:1', 'c'], ['SCARD', 's:1'], ['SMEMBERS', 's:1'],
      ['SISMEMBER', 's:1', 'a'], ['SISMEMBER', 's:1', 'z'], ['SISMEMBER', 's:none', 'a'],
      ['SMISMEMBER', 's:1', 'a', 'z', 'c', 'a'], ['SMISMEMBER', 's:none', 'a', 'b'],
      ['SREM', 's:1', 'a', 'a', 'z'], ['SREM', 's:1', 'z'], ['SREM', 's:none', 'a'], ['SCARD', 's:1'], ['SCARD', 's:none'], ['SMEMBERS', 's:none'],
      ['SADD', 's:1', '', 'ünï ☃'], ['SISMEMBER', 's:1', ''], ['SMEMBERS', 's:1'],
      ['SADD', 's:int', '3', '1', '2', '-5', '10', '007'], ['SMEMBERS', 's:int'], ['SISMEMBER', 's:int', '7'], ['SISMEMBER', 's:int', '007'],
      ['SADD', 's:1'], ['SADD'], ['SREM', 's:1'], ['SCARD'], ['SCARD', 'a', 'b'], ['SISMEMBER', 's:1'], ['SISMEMBER', 's:1', 'a', 'b'],
      ['SMISMEMBER', 's:1'], ['SMEMBERS'], ['SMEMBERS', 'a', 'b'],
      ['TYPE', 's:1'], ['EXISTS', 's:1'],
    ],
  },
  {
    name: 'the last member removed deletes the set, and its TTL',
    steps: [
      ['SADD', 'se:1', 'a', 'b'], ['EXPIRE', 'se:1', '100'], ['SREM', 'se:1', 'a', 'b'], ['EXISTS', 'se:1'], ['TTL', 'se:1'], ['TYPE', 'se:1'],
      ['SADD', 'se:1', 'c'], ['TTL', 'se:1'],
      ['SADD', 'se:2', 'only'], ['EXPIRE', 'se:2', '100'], ['SPOP', 'se:2'], ['EXISTS', 'se:2'],
      ['SADD', 'se:3', 'x'], ['SMOVE', 'se:3', 'se:4', 'x'], ['EXISTS', 'se:3'], ['SMEMBERS', 'se:4'],
    ],
  },
  {
    name: 'SPOP with and without count',
    steps: [
      ['SPOP', 'sp:none'], ['SPOP', 'sp:none', '2'], ['SPOP', 'sp:none', '0'],
      ['SADD', 'sp:1', 'a', 'b', 'c'],
      { argv: ['SPOP', 'sp:1'], shape: { members: ABC } }, ['SCARD', 'sp:1'],
      { argv: ['SPOP', 'sp:1', '1'], shape: { members: ABC } }, ['SCARD', 'sp:1'],
      ['SPOP', 'sp:1', '0'], ['SCARD', 'sp:1'],
      { argv: ['SPOP', 'sp:1', '5'], shape: { members: ABC } }, ['EXISTS', 'sp:1'],
      ['SADD', 'sp:2', 'x', 'y'], { argv: ['SPOP', 'sp:2', '2'], shape: 'set' }, ['EXISTS', 'sp:2'],
      ['SADD', 'sp:3', '1', '2', '3', '4'], { argv: ['SPOP', 'sp:3', '3'], shape: { members: ['1', '2', '3', '4'] } }, ['SCARD', 'sp:3'],
      ['SADD', 'sp:4', 'x'], ['SPOP', 'sp:4', '-1'], ['SPOP', 'sp:4', 'abc'], ['SPOP', 'sp:4', '1.5'], ['SPOP', 'sp:4', '1', '2'], ['SCARD', 'sp:4'],
      ['SPOP'],
    ],
  },
  {
    name: 'SRANDMEMBER: positive count distinct, negative count may repeat',
    steps: [
      ['SRANDMEMBER', 'sr:none'], ['SRANDMEMBER', 'sr:none', '3'], ['SRANDMEMBER', 'sr:none', '-3'],
      ['SADD', 'sr:1', 'a', 'b', 'c'],
      { argv: ['SRANDMEMBER', 'sr:1'], shape: { members: ABC } },
      { argv: ['SRANDMEMBER', 'sr:1', '2'], shape: { members: ABC } },
      // a count at least the size answers the whole set, in no defined order (shuffled in 7.0)
      { argv: ['SRANDMEMBER', 'sr:1', '3'], shape: 'set' }, { argv: ['SRANDMEMBER', 'sr:1', '10'], shape: 'set' }, ['SRANDMEMBER', 'sr:1', '0'],
      { argv: ['SRANDMEMBER', 'sr:1', '-7'], shape: { members: ABC } },
      ['SADD', 'sr:one', 'z'], ['SRANDMEMBER', 'sr:one', '-3'], ['SRANDMEMBER', 'sr:one'],
      ['SCARD', 'sr:1'],
      ['SRANDMEMBER', 'sr:1', 'abc'], ['SRANDMEMBER', 'sr:1', '1', '2'], ['SRANDMEMBER', 'sr:1', '-9223372036854775808'],
      ['SRANDMEMBER'],
    ],
  },
  {
    name: 'SMOVE between sets, onto itself, missing members and keys',
    steps: [
      ['SADD', 'sm:a', '1', '2', '3'], ['SADD', 'sm:b', '3', '4'],
      ['SMOVE', 'sm:a', 'sm:b', '1'], ['SMEMBERS', 'sm:a'], ['SMEMBERS', 'sm:b'],
      ['SMOVE', 'sm:a', 'sm:b', '3'], ['SMEMBERS', 'sm:a'], ['SMEMBERS', 'sm:b'],
      ['SMOVE', 'sm:a', 'sm:b', 'nope'], ['SMOVE', 'sm:none', 'sm:b', '1'], ['SMOVE', 'sm:a', 'sm:new', '2'], ['EXISTS', 'sm:a'], ['SMEMBERS', 'sm:new'],
      ['SMOVE', 'sm:b', 'sm:b', '4'], ['SMOVE', 'sm:b', 'sm:b', 'nope'], ['SMEMBERS', 'sm:b'],
      ['SET', 'sm:str', 'v'], ['SMOVE', 'sm:b', 'sm:str', '4'], ['SMOVE', 'sm:str', 'sm:b', '4'], ['SMOVE', 'sm:none', 'sm:str', '4'],
      ['SMOVE', 'sm:b', 'sm:str', 'nope'], ['SMEMBERS', 'sm:b'],
      ['SMOVE', 'sm:a', 'sm:b'], ['SMOVE'],
    ],
  },
  {
    name: 'SINTER, SUNION, SDIFF and their STORE forms',
    steps: [
      ['SADD', 'so:a', '1', '2', '3', 'x'], ['SADD', 'so:b', '2', '3', '4'], ['SADD', 'so:c', '3', 'x', 'y'],
      ['SINTER', 'so:a', 'so:b'], ['SINTER', 'so:a', 'so:b', 'so:c'], ['SINTER', 'so:a', 'so:none'], ['SINTER', 'so:a'], ['SINTER', 'so:none'],
      ['SUNION', 'so:a', 'so:b'], ['SUNION', 'so:a', 'so:none'], ['SUNION', 'so:none'], ['SUNION', 'so:a', 'so:a'],
      ['SDIFF', 'so:a', 'so:b'], ['SDIFF', 'so:a', 'so:b', 'so:c'], ['SDIFF', 'so:none', 'so:a'], ['SDIFF', 'so:a', 'so:none'], ['SDIFF', 'so:a', 'so:a'],
      ['SINTERSTORE', 'so:d', 'so:a', 'so:b'], ['SMEMBERS', 'so:d'], ['TYPE', 'so:d'],
      ['SET', 'so:s', 'str'], ['EXPIRE', 'so:d', '100'],
      ['SUNIONSTORE', 'so:d', 'so:b', 'so:c'], ['SMEMBERS', 'so:d'], ['TTL', 'so:d'],
      ['SDIFFSTORE', 'so:e', 'so:a', 'so:b'], ['SMEMBERS', 'so:e'],
      ['SINTERSTORE', 'so:d', 'so:a', 'so:none'], ['EXISTS', 'so:d'],
      ['SDIFFSTORE', 'so:s', 'so:a', 'so:a'], ['EXISTS', 'so:s'],
      ['SET', 'so:s', 'str'], ['SUNIONSTORE', 'so:s', 'so:a'], ['TYPE', 'so:s'], ['SCARD', 'so:s'],
      ['SINTERSTORE', 'so:a', 'so:a', 'so:b'], ['SMEMBERS', 'so:a'],
      ['SINTER', 'so:b', 'so:str'], ['SET', 'so:str', 'v'], ['SINTER', 'so:b', 'so:str'], ['SINTER', 'so:none', 'so:str'], ['SUNION', 'so:b', 'so:str'],
      ['SDIFF', 'so:none', 'so:str'], ['SDIFF', 'so:str', 'so:b'], ['SINTERSTORE', 'so:x', 'so:b', 'so:str'], ['EXISTS', 'so:x'],
      ['SINTER'], ['SUNIONSTORE', 'so:x'], ['SDIFFSTORE'],
    ],
  },
  {
    name: 'SINTERCARD with LIMIT, numkeys errors',
    steps: [
      ['SADD', 'sc:a', '1', '2', '3', '4'], ['SADD', 'sc:b', '2', '3', '4', '5'],
      ['SINTERCARD', '2', 'sc:a', 'sc:b'], ['SINTERCARD', '1', 'sc:a'], ['SINTERCARD', '2', 'sc:a', 'sc:none'],
      ['SINTERCARD', '2', 'sc:a', 'sc:b', 'LIMIT', '2'], ['SINTERCARD', '2', 'sc:a', 'sc:b', 'LIMIT', '0'], ['SINTERCARD', '2', 'sc:a', 'sc:b', 'limit', '10'],
      ['SINTERCARD', '2', 'sc:a', 'sc:b', 'LIMIT', '-1'], ['SINTERCARD', '2', 'sc:a', 'sc:b', 'LIMIT', 'x'], ['SINTERCARD', '2', 'sc:a', 'sc:b', 'LIMIT'],
      ['SINTERCARD', '2', 'sc:a', 'sc:b', 'FOO', '1'], ['SINTERCARD', '0', 'sc:a'], ['SINTERCARD', '3', 'sc:a', 'sc:b'], ['SINTERCARD', '-1', 'sc:a'],
      ['SINTERCARD', 'x', 'sc:a'], ['SINTERCARD', '1'], ['SINTERCARD'],
      ['SET', 'sc:s', 'v'], ['SINTERCARD', '2', 'sc:a', 'sc:s'], ['SINTERCARD', '2', 'sc:none', 'sc:s'],
    ],
  },
  {
    name: 'SSCAN of a small set: MATCH, COUNT, errors',
    steps: [
      ['SSCAN', 'ss:none', '0'],
      ['SADD', 'ss:1', 'user:1', 'user:2', 'admin', 'user:10'],
      // In 7.0 a small set of strings is a hashtable: SSCAN COUNT 1 pages it with cursors
      // of its own (compared in typed.pending.ts by iterating to the end, not here).
      ['SSCAN', 'ss:1', '0'], ['SSCAN', 'ss:1', '0', 'MATCH', 'user:?'], ['SSCAN', 'ss:1', '0', 'MATCH', 'x*'],
      ['SADD', 'ss:int', '1', '2', '3', '10'], ['SSCAN', 'ss:int', '0', 'MATCH', '1*', 'COUNT', '1'],
      ['SSCAN', 'ss:1', '0', 'COUNT', '0'], ['SSCAN', 'ss:1', 'x'], ['SSCAN', 'ss:1', '0', 'NOVALUES'], ['SSCAN', 'ss:1', '0', 'TYPE', 'set'],
      ['SSCAN', 'ss:1'], ['SSCAN'],
    ],
  },
  {
    name: 'sets in RESP3: SMEMBERS, SINTER, SUNION, SDIFF are set replies; SPOP/SRANDMEMBER with count arrays',
    resp3: true,
    steps: [
      ['SADD', 's3:a', 'a', 'b', 'c'], ['SADD', 's3:b', 'b', 'c', 'd'],
      ['SMEMBERS', 's3:a'], ['SMEMBERS', 's3:none'], ['SINTER', 's3:a', 's3:b'], ['SUNION', 's3:a', 's3:b'], ['SDIFF', 's3:a', 's3:b'],
      ['SISMEMBER', 's3:a', 'a'], ['SMISMEMBER', 's3:a', 'a', 'z'],
      { argv: ['SRANDMEMBER', 's3:a', '2'], shape: { members: ABC } }, ['SRANDMEMBER', 's3:none'], ['SRANDMEMBER', 's3:none', '2'],
      { argv: ['SPOP', 's3:b', '5'], shape: 'set' }, ['SPOP', 's3:b'], ['SPOP', 's3:b', '1'],
      ['SSCAN', 's3:a', '0'],
    ],
  },
];
