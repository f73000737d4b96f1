import { copy, exists, flushall, flushdb, keysCommand, rename, scan, type } from '../../src/commands/keys';
import { expire, expireat, persist, pexpire, ttl } from '../../src/commands/expire';
import { err, parseTable } from './parse-table';

const b = (s: string) => Buffer.from(s);
const NOT_INT = err('ERR value is not an integer or out of range');
const SYNTAX = err('ERR syntax error');
const CURSOR = err('ERR invalid cursor');

describe('key commands: parse', function () {
  parseTable(exists, [
    [['exists', 'a'], ['a']],
    [
      ['exists', 'a', 'a', 'b'],
      ['a', 'a', 'b'],
    ],
    [['exists', 'caf\u00e9'], ['caf\u00e9']],
  ]);
  parseTable(type, [[['type', 'k'], 'k']]);
  parseTable(keysCommand, [[['keys', 'user:*'], b('user:*')]]);

  parseTable(expire, [
    [['expire', 'k', '10'], { key: 'k', time: 10n, conditions: [] }],
    [['expire', 'k', '-10'], { key: 'k', time: -10n, conditions: [] }],
    [['expire', 'k', '10', 'nx'], { key: 'k', time: 10n, conditions: ['NX'] }],
    [['expire', 'k', '10', 'XX', 'gt'], { key: 'k', time: 10n, conditions: ['XX', 'GT'] }],
    [['expire', 'k', '10', 'LT', 'lt'], { key: 'k', time: 10n, conditions: ['LT'] }],
    [['expire', 'k', '9223372036854775807'], { key: 'k', time: 9223372036854775807n, conditions: [] }],
    [['expire', 'k', 'abc'], NOT_INT],
    [['expire', 'k', '1.5'], NOT_INT],
    [['expire', 'k', ''], NOT_INT],
    [['expire', 'k', '01'], NOT_INT],
    [['expire', 'k', '9223372036854775808'], NOT_INT],
    [['expire', 'k', '10', 'foo'], err('ERR Unsupported option foo')],
    [['expire', 'k', 'abc', 'foo'], err('ERR Unsupported option foo')],
    [['expire', 'k', '10', 'a\r\nb'], err('ERR Unsupported option a  b')],
    [['expire', 'k', '10', 'NX', 'XX'], err('ERR NX and XX, GT or LT options at the same time are not compatible')],
    [['expire', 'k', '10', 'NX', 'GT'], err('ERR NX and XX, GT or LT options at the same time are not compatible')],
    [['expire', 'k', '10', 'LT', 'NX'], err('ERR NX and XX, GT or LT options at the same time are not compatible')],
    [['expire', 'k', 'abc', 'GT', 'LT'], err('ERR GT and LT options at the same time are not compatible')],
  ]);
  parseTable(pexpire, [[['pexpire', 'k', '100'], { key: 'k', time: 100n, conditions: [] }]]);
  parseTable(expireat, [[['expireat', 'k', '-9223372036854775808'], { key: 'k', time: -9223372036854775808n, conditions: [] }]]);
  parseTable(ttl, [[['ttl', 'k'], 'k']]);
  parseTable(persist, [[['persist', 'k'], 'k']]);

  parseTable(scan, [
    [['scan', '0'], { cursor: 0n, count: 10, pattern: null, type: null }],
    [['scan', ''], { cursor: 0n, count: 10, pattern: null, type: null }],
    [['scan', '+42'], { cursor: 42n, count: 10, pattern: null, type: null }],
    [['scan', '-1'], { cursor: 18446744073709551615n, count: 10, pattern: null, type: null }],
    [['scan', '-0'], { cursor: 0n, count: 10, pattern: null, type: null }],
    [['scan', '007'], { cursor: 7n, count: 10, pattern: null, type: null }],
    [['scan', '18446744073709551615'], { cursor: 18446744073709551615n, count: 10, pattern: null, type: null }],
    [['scan', '0', 'MATCH', 'sess:*', 'COUNT', '100'], { cursor: 0n, count: 100, pattern: b('sess:*'), type: null }],
    [['scan', '0', 'match', '*'], { cursor: 0n, count: 10, pattern: null, type: null }],
    [['scan', '0', 'match', 'a', 'match', 'b*'], { cursor: 0n, count: 10, pattern: b('b*'), type: null }],
    [['scan', '0', 'type', 'STRING'], { cursor: 0n, count: 10, pattern: null, type: 'string' }],
    [['scan', '0', 'count', '9223372036854775807'], { cursor: 0n, count: Number.MAX_SAFE_INTEGER, pattern: null, type: null }],
    [['scan', 'abc'], CURSOR],
    [['scan', ' 0'], CURSOR],
    [['scan', '0 '], CURSOR],
    [['scan', '0x1'], CURSOR],
    [['scan', '-'], CURSOR],
    [['scan', '18446744073709551616'], CURSOR],
    [['scan', 'abc', 'count', '0'], CURSOR],
    [['scan', '0', 'count', '0'], SYNTAX],
    [['scan', '0', 'count', '-1'], SYNTAX],
    [['scan', '0', 'count', 'x'], NOT_INT],
    [['scan', '0', 'count'], SYNTAX],
    [['scan', '0', 'match'], SYNTAX],
    [['scan', '0', 'type'], SYNTAX],
    [['scan', '0', 'foo', 'bar'], SYNTAX],
  ]);

  parseTable(flushdb, [
    [['flushdb'], null],
    [['flushdb', 'async'], null],
    [['flushdb', 'SYNC'], null],
    [['flushdb', 'now'], SYNTAX],
    [['flushdb', 'sync', 'async'], SYNTAX],
  ]);
  parseTable(flushall, [
    [['flushall', 'ASYNC'], null],
    [['flushall', 'x'], SYNTAX],
  ]);
  parseTable(rename, [[['rename', 'a', 'b'], { from: 'a', to: 'b' }]]);

  parseTable(copy, [
    [['copy', 'a', 'b'], { from: 'a', to: 'b', replace: false, dbs: [] }],
    [['copy', 'a', 'b', 'replace'], { from: 'a', to: 'b', replace: true, dbs: [] }],
    [['copy', 'a', 'b', 'DB', '0', 'REPLACE'], { from: 'a', to: 'b', replace: true, dbs: [0] }],
    // The range of a DB option is the server's (checked at dispatch, before a later syntax error).
    [['copy', 'a', 'b', 'DB', '1'], { from: 'a', to: 'b', replace: false, dbs: [1] }],
    [['copy', 'a', 'b', 'DB', '-1'], { from: 'a', to: 'b', replace: false, dbs: [-1] }],
    [['copy', 'a', 'b', 'DB', '99', 'foo'], { from: 'a', to: 'b', replace: false, dbs: [99], syntaxError: true }],
    [['copy', 'a', 'b', 'DB', 'x'], NOT_INT],
    [['copy', 'a', 'b', 'DB', '2147483648'], err('ERR value is out of range, value must between -2147483648 and 2147483647')],
    [['copy', 'a', 'b', 'DB'], SYNTAX],
    [['copy', 'a', 'b', 'foo'], SYNTAX],
    [['copy', 'a', 'a'], err('ERR source and destination objects are the same')],
    [['copy', 'a', 'a', 'DB', '1'], { from: 'a', to: 'a', replace: false, dbs: [1] }],
  ]);
});
