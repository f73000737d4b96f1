/**
 * Edge cases of the hash commands, as data (see ../shapes.ts for how replies are compared).
 * Each script runs on a fresh connection against redis-server 7.0 and the target and uses its
 * own key prefix. Unordered replies (HGETALL, HKEYS, HVALS, HSCAN) are compared as sets;
 * random picks (HRANDFIELD) by shape: count, distinctness, and membership.
 */
import type { ShapedScript } from '../shapes';

/** HSET argv for `n` fields f0..f(n-1) with values v0..; `long` makes every value 65 bytes. */
export function fields(n: number, long = false): string[] {
  return Array.from({ length: n }, (_, i) => [`f${i}`, long ? `v${i}`.padEnd(65, '.') : `v${i}`]).flat();
}

const H3 = { a: '1', b: '2', c: '3' };

export const scripts: ShapedScript[] = [
  {
    name: 'HSET, HGET, HMSET, HSETNX: counts of new fields, overwrites, arity',
    steps: [
      ['HSET', 'h:1', 'a', '1'], ['HSET', 'h:1', 'a', '2'], ['HGET', 'h:1', 'a'],
      ['HSET', 'h:1', 'b', '1', 'c', '2', 'b', '3'], ['HGET', 'h:1', 'b'], ['HLEN', 'h:1'],
      ['HSET', 'h:1', 'a', 'x', 'd', 'y'], ['HGETALL', 'h:1'],
      ['HMSET', 'h:1', 'a', 'm', 'e', 'n'], ['HGET', 'h:1', 'a'], ['HMSET', 'h:new', 'k', 'v'], ['HGETALL', 'h:new'],
      ['HSETNX', 'h:1', 'a', 'no'], ['HGET', 'h:1', 'a'], ['HSETNX', 'h:1', 'z', 'yes'], ['HGET', 'h:1', 'z'],
      ['HSETNX', 'h:nx', 'f', 'v'], ['HGETALL', 'h:nx'],
      ['HSET', 'h:1', '', ''], ['HGET', 'h:1', ''], ['HEXISTS', 'h:1', ''], ['HSTRLEN', 'h:1', ''],
      ['HSET', 'h:1', 'ünï', 'çødé ☃'], ['HGET', 'h:1', 'ünï'], ['HSTRLEN', 'h:1', 'ünï'],
      ['HGET', 'h:1', 'nope'], ['HGET', 'h:none', 'a'],
      ['HSET'], ['HSET', 'h:1'], ['HSET', 'h:1', 'a'], ['HSET', 'h:1', 'a', '1', 'b'], ['HMSET', 'h:1', 'a'], ['HMSET', 'h:1', 'a', '1', 'b'],
      ['HSETNX', 'h:1', 'a'], ['HSETNX', 'h:1', 'a', 'b', 'c'], ['HGET', 'h:1'], ['HGET', 'h:1', 'a', 'b'],
      ['hset', 'h:1', 'lower', 'case'], ['HgEt', 'h:1', 'lower'],
      ['EXISTS', 'h:1'], ['TYPE', 'h:1'],
    ],
  },
  {
    name: 'HMGET keeps the request order, nulls for missing fields and keys',
    steps: [
      ['HSET', 'hm:1', 'a', '1', 'b', '2'],
      ['HMGET', 'hm:1', 'b', 'nope', 'a', 'a'], ['HMGET', 'hm:none', 'a', 'b'], ['HMGET', 'hm:1', 'a'],
      ['HMGET', 'hm:1'], ['HMGET'],
    ],
  },
  {
    name: 'HGETALL, HKEYS, HVALS, HLEN, HEXISTS, HSTRLEN on present and absent keys',
    steps: [
      ['HGETALL', 'ha:none'], ['HKEYS', 'ha:none'], ['HVALS', 'ha:none'], ['HLEN', 'ha:none'], ['HEXISTS', 'ha:none', 'a'], ['HSTRLEN', 'ha:none', 'a'],
      ['HSET', 'ha:1', 'a', '1', 'b', '', 'c', 'three'],
      ['HGETALL', 'ha:1'], ['HKEYS', 'ha:1'], ['HVALS', 'ha:1'], ['HLEN', 'ha:1'],
      ['HEXISTS', 'ha:1', 'b'], ['HEXISTS', 'ha:1', 'B'], ['HSTRLEN', 'ha:1', 'c'], ['HSTRLEN', 'ha:1', 'b'], ['HSTRLEN', 'ha:1', 'zz'],
      ['HSET', 'ha:int', 'n', '12345', 'neg', '-7', 'big', '9223372036854775807'], ['HSTRLEN', 'ha:int', 'n'], ['HSTRLEN', 'ha:int', 'neg'], ['HSTRLEN', 'ha:int', 'big'],
      ['HGETALL', 'ha:int'],
      ['HGETALL'], ['HGETALL', 'a', 'b'], ['HKEYS'], ['HVALS', 'a', 'b'], ['HLEN'], ['HEXISTS', 'ha:1'], ['HSTRLEN', 'ha:1'],
    ],
  },
  {
    name: 'HDEL counts removed fields; the last field removed deletes the key',
    steps: [
      ['HSET', 'hd:1', 'a', '1', 'b', '2', 'c', '3'], ['HDEL', 'hd:1', 'a', 'a', 'nope'], ['HLEN', 'hd:1'],
      ['HDEL', 'hd:1', 'nope'], ['HDEL', 'hd:none', 'a'],
      ['EXPIRE', 'hd:1', '100'], ['HDEL', 'hd:1', 'b', 'c'], ['EXISTS', 'hd:1'], ['TYPE', 'hd:1'], ['TTL', 'hd:1'], ['HGETALL', 'hd:1'],
      ['HSET', 'hd:1', 'x', 'y'], ['TTL', 'hd:1'],
      ['HDEL', 'hd:1'], ['HDEL'],
    ],
  },
  {
    name: 'HINCRBY: creation, negatives, overflow, non-integers',
    steps: [
      ['HINCRBY', 'hi:1', 'n', '5'], ['HINCRBY', 'hi:1', 'n', '-15'], ['HGET', 'hi:1', 'n'], ['HINCRBY', 'hi:1', 'n', '0'],
      ['HSET', 'hi:1', 'max', '9223372036854775806'], ['HINCRBY', 'hi:1', 'max', '1'], ['HINCRBY', 'hi:1', 'max', '1'], ['HGET', 'hi:1', 'max'],
      ['HSET', 'hi:1', 'min', '-9223372036854775807'], ['HINCRBY', 'hi:1', 'min', '-1'], ['HINCRBY', 'hi:1', 'min', '-1'],
      ['HINCRBY', 'hi:1', 'n', '9223372036854775807'], ['HINCRBY', 'hi:1', 'n', '9223372036854775808'], ['HINCRBY', 'hi:1', 'n', '-9223372036854775808'],
      ['HSET', 'hi:1', 's', 'abc', 'f', '1.5', 'sp', ' 1', 'e', '', 'plus', '+1', 'lead0', '007', 'neg0', '-0'],
      ['HINCRBY', 'hi:1', 's', '1'], ['HINCRBY', 'hi:1', 'f', '1'], ['HINCRBY', 'hi:1', 'sp', '1'], ['HINCRBY', 'hi:1', 'e', '1'],
      ['HINCRBY', 'hi:1', 'plus', '1'], ['HINCRBY', 'hi:1', 'lead0', '1'], ['HINCRBY', 'hi:1', 'neg0', '1'],
      ['HINCRBY', 'hi:1', 'n', 'abc'], ['HINCRBY', 'hi:1', 'n', '1.0'], ['HINCRBY', 'hi:1', 'n', ''], ['HINCRBY', 'hi:1', 'new', '99999999999999999999'],
      ['HEXISTS', 'hi:1', 'new'], ['HINCRBY', 'hi:none', 'n', 'x'], ['EXISTS', 'hi:none'],
      ['HINCRBY', 'hi:1', 'n'], ['HINCRBY', 'hi:1', 'n', '1', '2'],
    ],
  },
  {
    name: 'HINCRBYFLOAT: formatting, exponents, inf and NaN, not-a-number errors',
    steps: [
      ['HINCRBYFLOAT', 'hf:1', 'x', '10.5'], ['HINCRBYFLOAT', 'hf:1', 'x', '0.1'], ['HINCRBYFLOAT', 'hf:1', 'x', '-5'],
      ['HINCRBYFLOAT', 'hf:1', 'x', '-5.6'], ['HGET', 'hf:1', 'x'],
      ['HINCRBYFLOAT', 'hf:1', 'y', '5.0e3'], ['HINCRBYFLOAT', 'hf:1', 'y', '2.0e-3'], ['HINCRBYFLOAT', 'hf:1', 'y', '1E2'],
      ['HINCRBYFLOAT', 'hf:1', 'z', '3'], ['HINCRBYFLOAT', 'hf:1', 'z', '1.10'], ['HINCRBYFLOAT', 'hf:1', 'z', '.5'], ['HINCRBYFLOAT', 'hf:1', 'z', '-0'],
      ['HSET', 'hf:1', 'i', '17'], ['HINCRBYFLOAT', 'hf:1', 'i', '0.25'],
      ['HINCRBYFLOAT', 'hf:1', 'big', '1e20'], ['HINCRBYFLOAT', 'hf:1', 'small', '1e-20'], ['HINCRBYFLOAT', 'hf:1', 'third', '0.333333333333333333333'],
      ['HINCRBYFLOAT', 'hf:1', 'x', 'inf'], ['HINCRBYFLOAT', 'hf:1', 'x', '-inf'], ['HINCRBYFLOAT', 'hf:1', 'x', '+inf'], ['HINCRBYFLOAT', 'hf:1', 'x', 'nan'],
      ['HINCRBYFLOAT', 'hf:1', 'x', 'abc'], ['HINCRBYFLOAT', 'hf:1', 'x', ''], ['HINCRBYFLOAT', 'hf:1', 'x', ' 1'], ['HINCRBYFLOAT', 'hf:1', 'x', '1 '],
      ['HINCRBYFLOAT', 'hf:1', 'x', '0x10'], ['HINCRBYFLOAT', 'hf:1', 'x', '1e400'],
      ['HSET', 'hf:1', 'bad', 'abc', 'infv', 'inf', 'emp', ''], ['HINCRBYFLOAT', 'hf:1', 'bad', '1'], ['HINCRBYFLOAT', 'hf:1', 'infv', '1'], ['HINCRBYFLOAT', 'hf:1', 'emp', '1'],
      ['HSET', 'hf:1', 'huge', '1.7e308'], ['HINCRBYFLOAT', 'hf:1', 'huge', '1.7e308'],
      ['HINCRBYFLOAT', 'hf:none', 'x', 'inf'], ['EXISTS', 'hf:none'],
      ['HINCRBYFLOAT', 'hf:1', 'x'], ['HINCRBYFLOAT', 'hf:1', 'x', '1', '2'],
      ['HGETALL', 'hf:1'],
    ],
  },
  {
    name: 'HRANDFIELD: no count, positive, zero, negative, WITHVALUES, absent key',
    steps: [
      ['HRANDFIELD', 'hr:none'], ['HRANDFIELD', 'hr:none', '3'], ['HRANDFIELD', 'hr:none', '-3', 'WITHVALUES'],
      ['HSET', 'hr:1', 'a', '1', 'b', '2', 'c', '3'],
      { argv: ['HRANDFIELD', 'hr:1'], shape: { members: Object.keys(H3) } },
      { argv: ['HRANDFIELD', 'hr:1', '2'], shape: { members: Object.keys(H3) } },
      ['HRANDFIELD', 'hr:1', '3'], ['HRANDFIELD', 'hr:1', '10'], ['HRANDFIELD', 'hr:1', '0'], ['HRANDFIELD', 'hr:1', '0', 'WITHVALUES'],
      { argv: ['HRANDFIELD', 'hr:1', '-5'], shape: { members: Object.keys(H3) } },
      { argv: ['HRANDFIELD', 'hr:1', '-1'], shape: { members: Object.keys(H3) } },
      { argv: ['HRANDFIELD', 'hr:1', '2', 'WITHVALUES'], shape: { pairsFrom: H3 } },
      { argv: ['HRANDFIELD', 'hr:1', '10', 'withvalues'], shape: 'pairs' },
      { argv: ['HRANDFIELD', 'hr:1', '-6', 'WITHVALUES'], shape: { pairsFrom: H3 } },
      ['HRANDFIELD', 'hr:1', 'abc'], ['HRANDFIELD', 'hr:1', '1.5'], ['HRANDFIELD', 'hr:1', '2', 'FOO'], ['HRANDFIELD', 'hr:1', '2', 'WITHVALUES', 'x'],
      ['HRANDFIELD', 'hr:1', '-9223372036854775808'], ['HRANDFIELD', 'hr:1', '-9223372036854775807', 'WITHVALUES'],
      ['HRANDFIELD', 'hr:1', '9223372036854775807'],
      ['HRANDFIELD'],
    ],
  },
  {
    name: 'HRANDFIELD in RESP3: WITHVALUES answers [field, value] pairs',
    resp3: true,
    steps: [
      ['HSET', 'hr3:1', 'a', '1', 'b', '2', 'c', '3'],
      { argv: ['HRANDFIELD', 'hr3:1'], shape: { members: Object.keys(H3) } },
      { argv: ['HRANDFIELD', 'hr3:1', '2', 'WITHVALUES'], shape: { pairsFrom: H3 } },
      { argv: ['HRANDFIELD', 'hr3:1', '-4', 'WITHVALUES'], shape: { pairsFrom: H3 } },
      { argv: ['HRANDFIELD', 'hr3:1', '5', 'WITHVALUES'], shape: 'set' },
      ['HRANDFIELD', 'hr3:1', '0', 'WITHVALUES'], ['HRANDFIELD', 'hr3:none'], ['HRANDFIELD', 'hr3:none', '2', 'WITHVALUES'],
    ],
  },
  {
    name: 'HSCAN of a small hash: one page, MATCH, COUNT, errors',
    steps: [
      ['HSCAN', 'hs:none', '0'],
      ['HSET', 'hs:1', 'user:1', 'a', 'user:2', 'b', 'admin', 'c', 'user:10', 'd'],
      ['HSCAN', 'hs:1', '0'], ['HSCAN', 'hs:1', '0', 'COUNT', '1'], ['HSCAN', 'hs:1', '0', 'MATCH', 'user:*'], ['HSCAN', 'hs:1', '0', 'MATCH', 'user:?'],
      ['HSCAN', 'hs:1', '0', 'MATCH', 'nomatch*', 'COUNT', '100'], ['hscan', 'hs:1', '0', 'match', '*:1*', 'count', '2'],
      // NOVALUES (Redis 7.4; 7.0 says syntax error) is a deliberate difference: hashes.test.ts checks it on respql alone.
      ['HSCAN', 'hs:1', '0', 'COUNT', '0'], ['HSCAN', 'hs:1', '0', 'COUNT', '-1'], ['HSCAN', 'hs:1', '0', 'COUNT', 'x'],
      ['HSCAN', 'hs:1', 'abc'], ['HSCAN', 'hs:1', '-1'], ['HSCAN', 'hs:1', '0', 'MATCH'], ['HSCAN', 'hs:1', '0', 'TYPE', 'string'], ['HSCAN', 'hs:1', '0', 'FOO', 'bar'],
      ['HSCAN', 'hs:1'], ['HSCAN'],
    ],
  },
  {
    name: 'HGETALL in RESP3 is a map; HKEYS/HVALS arrays; HGET null; HINCRBYFLOAT a bulk string',
    resp3: true,
    steps: [
      ['HSET', 'h3:1', 'a', '1', 'b', '2'], ['HGETALL', 'h3:1'], ['HGETALL', 'h3:none'], ['HKEYS', 'h3:1'], ['HVALS', 'h3:1'],
      ['HGET', 'h3:1', 'nope'], ['HMGET', 'h3:1', 'a', 'nope'], ['HINCRBYFLOAT', 'h3:1', 'a', '0.5'], ['HINCRBY', 'h3:1', 'b', '1'],
      ['HEXISTS', 'h3:1', 'a'], ['HSCAN', 'h3:1', '0'], ['HSETNX', 'h3:1', 'a', 'x'], ['HSTRLEN', 'h3:1', 'a'],
    ],
  },
];
