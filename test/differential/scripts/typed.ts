/**
 * The generic key commands on every type, and the type checks between them, as data (see
 * ../shapes.ts for how replies are compared). Scripts that look at the whole keyspace
 * (KEYS, SCAN, RANDOMKEY, DBSIZE, FLUSHDB) start with FLUSHALL.
 *
 * `encodingScripts` (OBJECT ENCODING) are kept apart: respql has no OBJECT command today;
 * whether it emulates Redis's encodings (listpack up to 512 entries (compiled-in default; redis.conf says 128) of at most 64 bytes,
 * then hashtable; intset for sets of integers up to 512, then hashtable) is the hashes
 * implementer's call, and these scripts show what emulating it means.
 */
import type { ShapedScript } from '../shapes';
import { fields } from './hashes';

const WRONGTYPE_ON_HASH: string[][] = [
  ['GET', 't:h'], ['APPEND', 't:h', 'x'], ['INCR', 't:h'], ['INCRBY', 't:h', '1'], ['DECR', 't:h'], ['INCRBYFLOAT', 't:h', '1'],
  ['STRLEN', 't:h'], ['GETRANGE', 't:h', '0', '1'], ['SETRANGE', 't:h', '0', 'x'], ['GETSET', 't:h', 'x'], ['GETDEL', 't:h'],
  ['GETEX', 't:h', 'EX', '10'], ['SUBSTR', 't:h', '0', '1'], ['MGET', 't:h', 't:s', 't:str'],
  ['SADD', 't:h', 'm'], ['SREM', 't:h', 'm'], ['SMEMBERS', 't:h'], ['SCARD', 't:h'], ['SISMEMBER', 't:h', 'a'], ['SMISMEMBER', 't:h', 'a'],
  ['SPOP', 't:h'], ['SRANDMEMBER', 't:h'], ['SINTER', 't:h'], ['SUNION', 't:h', 't:s'], ['SDIFF', 't:h'], ['SINTERCARD', '1', 't:h'],
  ['SSCAN', 't:h', '0'], ['SMOVE', 't:h', 't:s', 'a'], ['SMOVE', 't:s', 't:h', 'a'],
  // LPUSH/ZADD (WRONGTYPE on Redis) are left out: respql has no lists or sorted sets and answers the unknown-command
  // error, a documented difference that foundation.test.ts asserts.
];
const WRONGTYPE_ON_STRING: string[][] = [
  ['HSET', 't:str', 'f', 'v'], ['HSETNX', 't:str', 'f', 'v'], ['HMSET', 't:str', 'f', 'v'], ['HGET', 't:str', 'f'], ['HMGET', 't:str', 'f'],
  ['HGETALL', 't:str'], ['HDEL', 't:str', 'f'], ['HEXISTS', 't:str', 'f'], ['HLEN', 't:str'], ['HSTRLEN', 't:str', 'f'],
  ['HKEYS', 't:str'], ['HVALS', 't:str'], ['HINCRBY', 't:str', 'f', '1'], ['HINCRBYFLOAT', 't:str', 'f', '1'],
  ['HRANDFIELD', 't:str'], ['HRANDFIELD', 't:str', '2'], ['HSCAN', 't:str', '0'],
  ['SADD', 't:str', 'm'], ['SCARD', 't:str'], ['SPOP', 't:str', '2'],
];

export const scripts: ShapedScript[] = [
  {
    name: 'TYPE, EXISTS, DEL, UNLINK over strings, hashes and sets',
    steps: [
      ['SET', 'g:str', 'v'], ['HSET', 'g:h', 'f', 'v'], ['SADD', 'g:s', 'm'],
      ['TYPE', 'g:str'], ['TYPE', 'g:h'], ['TYPE', 'g:s'], ['TYPE', 'g:none'],
      ['EXISTS', 'g:str', 'g:h', 'g:s', 'g:none', 'g:h'], ['DEL', 'g:h', 'g:none'], ['EXISTS', 'g:h'], ['UNLINK', 'g:s', 'g:str', 'g:s'],
      ['EXISTS', 'g:str', 'g:s'], ['HGETALL', 'g:h'], ['SMEMBERS', 'g:s'], ['TOUCH', 'g:h'],
    ],
  },
  {
    name: 'WRONGTYPE: string commands on a hash and a set; hash and set commands on a string',
    steps: [
      ['HSET', 't:h', 'a', '1'], ['SADD', 't:s', 'a'], ['SET', 't:str', 'v'],
      ...WRONGTYPE_ON_HASH,
      ...WRONGTYPE_ON_STRING,
      ['HSET', 't:s', 'f', 'v'], ['HGET', 't:s', 'f'], ['HLEN', 't:s'], ['GET', 't:s'], ['APPEND', 't:s', 'x'],
      ['HGETALL', 't:h'], ['SMEMBERS', 't:s'], ['GET', 't:str'], ['TYPE', 't:h'], ['TYPE', 't:s'],
    ],
  },
  {
    name: 'arity errors come before type errors; a missing key is empty for every type',
    steps: [
      ['SET', 'ar:str', 'v'], ['HGET', 'ar:str'], ['HSET', 'ar:str', 'f'], ['SADD', 'ar:str'], ['HINCRBY', 'ar:str', 'f', 'x'],
      ['HINCRBYFLOAT', 'ar:str', 'f', 'x'], ['HRANDFIELD', 'ar:str', 'x'], ['SPOP', 'ar:str', '-1'], ['SRANDMEMBER', 'ar:str', 'x'],
      ['HSCAN', 'ar:str', 'x'], ['SSCAN', 'ar:str', '0', 'COUNT', '0'], ['SINTERCARD', '2', 'ar:str', 'ar:none', 'LIMIT', '-1'],
      ['HLEN', 'ar:none'], ['SCARD', 'ar:none'], ['STRLEN', 'ar:none'], ['HGETALL', 'ar:none'], ['SMEMBERS', 'ar:none'], ['GET', 'ar:none'],
    ],
  },
  {
    name: 'SET, MSET, SETEX, GETSET replace a hash or a set; SETNX and SET NX do not',
    steps: [
      ['HSET', 'sr:h', 'f', 'v'], ['EXPIRE', 'sr:h', '100'], ['SET', 'sr:h', 'str'], ['TYPE', 'sr:h'], ['GET', 'sr:h'], ['TTL', 'sr:h'], ['HGET', 'sr:h', 'f'],
      ['SADD', 'sr:s', 'm'], ['MSET', 'sr:s', 'x', 'sr:o', 'y'], ['TYPE', 'sr:s'], ['GET', 'sr:s'],
      ['HSET', 'sr:h2', 'f', 'v'], ['SETEX', 'sr:h2', '100', 'v'], ['TYPE', 'sr:h2'],
      ['HSET', 'sr:h3', 'f', 'v'], ['SETNX', 'sr:h3', 'v'], ['SET', 'sr:h3', 'v', 'NX'], ['TYPE', 'sr:h3'], ['SET', 'sr:h3', 'v', 'XX'], ['TYPE', 'sr:h3'],
      ['HSET', 'sr:h4', 'f', 'v'], ['SET', 'sr:h4', 'v', 'GET'], ['TYPE', 'sr:h4'], ['HGET', 'sr:h4', 'f'],
      ['SADD', 'sr:s2', 'm'], ['SET', 'sr:s2', 'v', 'KEEPTTL'], ['TYPE', 'sr:s2'],
      ['HSET', 'sr:h5', 'f', 'v'], ['MSETNX', 'sr:h5', 'x', 'sr:new', 'y'], ['TYPE', 'sr:h5'], ['EXISTS', 'sr:new'],
      ['SET', 'sr:h6', 'v'], ['HSET', 'sr:h6', 'f', 'v'], ['TYPE', 'sr:h6'],
    ],
  },
  {
    name: 'expiry commands on hashes and sets',
    steps: [
      ['HSET', 'ex:h', 'f', 'v'], ['SADD', 'ex:s', 'm'],
      ['EXPIRE', 'ex:h', '100'], ['TTL', 'ex:h'], ['PTTL', 'ex:h'], ['PEXPIRE', 'ex:s', '100000'], ['TTL', 'ex:s'],
      ['HSET', 'ex:h', 'g', 'w'], ['TTL', 'ex:h'], ['HDEL', 'ex:h', 'g'], ['TTL', 'ex:h'], ['HINCRBY', 'ex:h', 'n', '1'], ['TTL', 'ex:h'],
      ['SADD', 'ex:s', 'n'], ['SREM', 'ex:s', 'n'], ['TTL', 'ex:s'],
      ['EXPIREAT', 'ex:h', '4102444800'], ['EXPIRETIME', 'ex:h'], ['PEXPIREAT', 'ex:s', '4102444800123'], ['PEXPIRETIME', 'ex:s'], ['EXPIRETIME', 'ex:s'],
      ['EXPIRE', 'ex:h', '50', 'GT'], ['EXPIRE', 'ex:h', '50', 'LT'], ['TTL', 'ex:h'], ['EXPIRE', 'ex:s', '10', 'NX'],
      ['PERSIST', 'ex:h'], ['TTL', 'ex:h'], ['PERSIST', 'ex:h'], ['EXPIRETIME', 'ex:h'],
      ['EXPIRE', 'ex:h', '0'], ['EXISTS', 'ex:h'], ['HGET', 'ex:h', 'f'], ['HLEN', 'ex:h'],
      ['PEXPIREAT', 'ex:s', '1'], ['SCARD', 'ex:s'], ['SADD', 'ex:s', 'fresh'], ['SMEMBERS', 'ex:s'], ['TTL', 'ex:s'],
      ['HSET', 'ex:past', 'f', 'v'], ['EXPIRE', 'ex:past', '-1'], ['TYPE', 'ex:past'],
    ],
  },
  {
    name: 'RENAME and RENAMENX across types carry the value, its type and TTL',
    steps: [
      ['HSET', 'rn:h', 'f', 'v'], ['EXPIRE', 'rn:h', '100'], ['SET', 'rn:str', 'x'],
      ['RENAME', 'rn:h', 'rn:str'], ['TYPE', 'rn:str'], ['HGETALL', 'rn:str'], ['TTL', 'rn:str'], ['EXISTS', 'rn:h'],
      ['SADD', 'rn:s', 'm'], ['RENAMENX', 'rn:s', 'rn:str'], ['TYPE', 'rn:s'], ['RENAMENX', 'rn:s', 'rn:s2'], ['SMEMBERS', 'rn:s2'], ['TYPE', 'rn:s'],
      ['SET', 'rn:plain', 'p'], ['RENAME', 'rn:plain', 'rn:s2'], ['TYPE', 'rn:s2'], ['GET', 'rn:s2'],
      ['RENAME', 'rn:str', 'rn:str'], ['HGETALL', 'rn:str'], ['RENAMENX', 'rn:str', 'rn:str'],
    ],
  },
  {
    name: 'COPY of hashes and sets is deep; REPLACE over another type; DB option',
    steps: [
      ['HSET', 'cp:h', 'a', '1', 'b', '2'], ['EXPIRE', 'cp:h', '100'], ['SADD', 'cp:s', 'x', 'y'], ['SET', 'cp:str', 'v'],
      ['COPY', 'cp:h', 'cp:h2'], ['HGETALL', 'cp:h2'], ['TTL', 'cp:h2'], ['TYPE', 'cp:h2'],
      ['HSET', 'cp:h2', 'c', '3'], ['HLEN', 'cp:h'], ['HDEL', 'cp:h', 'a'], ['HGETALL', 'cp:h2'],
      ['COPY', 'cp:s', 'cp:s2'], ['SADD', 'cp:s2', 'z'], ['SMEMBERS', 'cp:s'], ['SMEMBERS', 'cp:s2'],
      ['COPY', 'cp:s', 'cp:str'], ['TYPE', 'cp:str'], ['COPY', 'cp:s', 'cp:str', 'REPLACE'], ['TYPE', 'cp:str'], ['SMEMBERS', 'cp:str'],
      ['COPY', 'cp:str', 'cp:h2', 'replace'], ['TYPE', 'cp:h2'], ['TTL', 'cp:h2'],
      ['COPY', 'cp:none', 'cp:h'], ['COPY', 'cp:h', 'cp:h'], ['COPY', 'cp:h', 'cp:h', 'REPLACE'], ['COPY', 'cp:h', 'cp:x', 'DB', '0'],
    ],
  },
  {
    name: 'SCAN TYPE, KEYS, DBSIZE, RANDOMKEY, FLUSHDB over all types',
    steps: [
      ['FLUSHALL'], ['SET', 'ks:str', 'v'], ['HSET', 'ks:h', 'f', 'v'], ['HSET', 'ks:h2', 'f', 'v'], ['SADD', 'ks:s', 'm'],
      ['DBSIZE'], ['KEYS', '*'], ['KEYS', 'ks:h*'],
      ['SCAN', '0', 'COUNT', '100'], ['SCAN', '0', 'TYPE', 'hash', 'COUNT', '100'], ['SCAN', '0', 'TYPE', 'set', 'COUNT', '100'],
      ['SCAN', '0', 'TYPE', 'string', 'COUNT', '100'], ['SCAN', '0', 'TYPE', 'HASH', 'MATCH', '*2', 'COUNT', '100'], ['SCAN', '0', 'TYPE', 'list', 'COUNT', '100'],
      { argv: ['RANDOMKEY'], shape: { members: ['ks:str', 'ks:h', 'ks:h2', 'ks:s'] } },
      ['HDEL', 'ks:h2', 'f'], ['DBSIZE'], ['SCAN', '0', 'TYPE', 'hash', 'COUNT', '100'],
      ['FLUSHDB'], ['DBSIZE'], ['HGETALL', 'ks:h'], ['SMEMBERS', 'ks:s'], ['RANDOMKEY'],
    ],
  },
  {
    name: 'a hash or set emptied by any command disappears from every listing',
    steps: [
      ['FLUSHALL'], ['HSET', 'em:h', 'f', 'v'], ['SADD', 'em:s', 'a', 'b'], ['SADD', 'em:d', 'a'],
      ['HDEL', 'em:h', 'f'], ['SREM', 'em:s', 'a', 'b'], ['SMOVE', 'em:d', 'em:t', 'a'],
      ['DBSIZE'], ['KEYS', 'em:*'], ['SCAN', '0', 'COUNT', '100'], ['EXISTS', 'em:h', 'em:s', 'em:d'], ['TYPE', 'em:h'], ['RANDOMKEY'],
      ['SADD', 'em:p', 'x'], ['SPOP', 'em:p', '1'], ['EXISTS', 'em:p'],
      ['SADD', 'em:q', 'x'], ['SDIFFSTORE', 'em:q', 'em:q', 'em:q'], ['EXISTS', 'em:q'],
      ['HSET', 'em:r', 'f', 'v'], ['RENAME', 'em:r', 'em:r2'], ['HDEL', 'em:r2', 'f'], ['DBSIZE'],
    ],
  },
  {
    name: 'MULTI/EXEC with hashes and sets: run-time WRONGTYPE does not abort, queue-time errors do',
    steps: [
      ['MULTI'], ['HSET', 'mx:h', 'a', '1', 'b', '2'], ['HINCRBY', 'mx:h', 'a', '5'], ['HGETALL', 'mx:h'], ['SADD', 'mx:s', 'x', 'y'], ['SMEMBERS', 'mx:s'],
      ['GET', 'mx:h'], ['HGET', 'mx:s', 'x'], ['SCARD', 'mx:s'], ['HDEL', 'mx:h', 'a', 'b'], ['EXISTS', 'mx:h'], ['EXEC'],
      ['MULTI'], ['HSET', 'mx:h', 'a'], ['SADD', 'mx:s', 'z'], ['EXEC'], ['SCARD', 'mx:s'],
      ['MULTI'], ['HINCRBY', 'mx:h', 'n', 'x'], ['HSET', 'mx:h', 'n', '1'], ['EXEC'], ['HGETALL', 'mx:h'],
      // One member left first: EXEC's replies are compared exactly, and SPOP's order over two members is random.
      ['SREM', 'mx:s', 'y'], ['MULTI'], ['SPOP', 'mx:s', '5'], ['EXISTS', 'mx:s'], ['EXEC'],
      ['HSET', 'mx:w', 'f', '1'], ['WATCH', 'mx:w'], ['HSET', 'mx:w', 'f', '2'], ['MULTI'], ['HGET', 'mx:w', 'f'], ['EXEC'],
      ['WATCH', 'mx:w'], ['MULTI'], ['HGET', 'mx:w', 'f'], ['EXEC'],
    ],
  },
  {
    name: 'RESP3: EXEC nests the map and set replies; TYPE is a simple string',
    resp3: true,
    steps: [
      ['MULTI'], ['HSET', 'm3:h', 'a', '1'], ['HGETALL', 'm3:h'], ['SADD', 'm3:s', 'x'], ['SMEMBERS', 'm3:s'], ['HINCRBYFLOAT', 'm3:h', 'a', '1.5'],
      ['HGET', 'm3:h', 'none'], ['GET', 'm3:h'], ['EXEC'],
      ['TYPE', 'm3:h'], ['TYPE', 'm3:s'], ['TYPE', 'm3:none'], ['HRANDFIELD', 'm3:h', '1', 'WITHVALUES'],
    ],
  },
];

/**
 * OBJECT ENCODING through Redis 7.0's thresholds. Note: redis-server started without a config
 * file (as in these tests) uses the compiled-in hash-max-listpack-entries 512, not the 128 of
 * the shipped redis.conf; hash-max-listpack-value 64 and set-max-intset-entries 512.
 */
export const encodingScripts: ShapedScript[] = [
  {
    name: 'OBJECT ENCODING: hashes listpack -> hashtable past 512 fields (compiled-in default) or a 65-byte value; sets intset -> hashtable',
    steps: [
      ['HSET', 'oe:h', ...fields(512)], ['OBJECT', 'ENCODING', 'oe:h'], ['HSET', 'oe:h', 'f512', 'v'], ['OBJECT', 'ENCODING', 'oe:h'],
      // No OBJECT ENCODING after shrinking (HDEL back to 511 fields): Redis never converts back, respql answers from the
      // present contents (README "Differences from Redis"). So COPY copies oe:v, a hashtable by its 65-byte value.
      ['HDEL', 'oe:h', 'f0', 'f1'], ['HLEN', 'oe:h'],
      ['HSET', 'oe:v', 'f', ''.padEnd(64, 'x')], ['OBJECT', 'ENCODING', 'oe:v'], ['HSET', 'oe:v', 'g', ''.padEnd(65, 'x')], ['OBJECT', 'ENCODING', 'oe:v'],
      ['HSET', 'oe:k', ''.padEnd(65, 'k'), 'v'], ['OBJECT', 'ENCODING', 'oe:k'],
      ['HSET', 'oe:l', ...fields(3, true)], ['OBJECT', 'ENCODING', 'oe:l'],
      ['SADD', 'oe:i', '1', '2', '-3'], ['OBJECT', 'ENCODING', 'oe:i'], ['SADD', 'oe:i', 'x'], ['OBJECT', 'ENCODING', 'oe:i'],
      ['SADD', 'oe:j', ...Array.from({ length: 512 }, (_, i) => String(i))], ['OBJECT', 'ENCODING', 'oe:j'], ['SADD', 'oe:j', '512'], ['OBJECT', 'ENCODING', 'oe:j'],
      ['SADD', 'oe:t', 'a', 'b'], ['OBJECT', 'ENCODING', 'oe:t'],
      ['SADD', 'oe:big', '9223372036854775807'], ['OBJECT', 'ENCODING', 'oe:big'], ['SADD', 'oe:big', '9223372036854775808'], ['OBJECT', 'ENCODING', 'oe:big'],
      ['SADD', 'oe:z', '007'], ['OBJECT', 'ENCODING', 'oe:z'],
      ['COPY', 'oe:v', 'oe:h2'], ['OBJECT', 'ENCODING', 'oe:h2'], ['OBJECT', 'ENCODING', 'oe:none'],
    ],
  },
];
