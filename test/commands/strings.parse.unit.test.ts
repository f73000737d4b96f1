import { append, getex, getrange, mset, msetnx, setex, setrange, psetex } from '../../src/commands/strings';
import { decrby, incrby, incrbyfloat } from '../../src/commands/counters';
import { err, parseTable } from './parse-table';

const b = (s: string) => Buffer.from(s);
const NOT_INT = err('ERR value is not an integer or out of range');
const SYNTAX = err('ERR syntax error');

describe('string commands: parse', function () {
  parseTable(mset, [
    [['mset', 'a', '1'], [['a', b('1')]]],
    [
      ['mset', 'a', '1', 'a', '2'],
      [
        ['a', b('1')],
        ['a', b('2')],
      ],
    ],
    [['mset', 'a', '1', 'b'], err("ERR wrong number of arguments for 'mset' command")],
  ]);
  parseTable(msetnx, [[['msetnx', 'a', '1', 'b'], err("ERR wrong number of arguments for 'msetnx' command")]]);
  parseTable(setex, [[['setex', 'k', '10', 'v'], { key: 'k', expire: { unit: 'EX', raw: b('10') }, value: b('v') }]]);
  parseTable(psetex, [[['psetex', 'k', '10', 'v'], { key: 'k', expire: { unit: 'PX', raw: b('10') }, value: b('v') }]]);
  parseTable(append, [[['append', 'k', 'v'], { key: 'k', value: b('v') }]]);

  parseTable(getex, [
    [['getex', 'k'], { key: 'k', expire: null, persist: false }],
    [['getex', 'k', 'persist'], { key: 'k', expire: null, persist: true }],
    [['getex', 'k', 'PERSIST', 'persist'], { key: 'k', expire: null, persist: true }],
    [['getex', 'k', 'ex', '10'], { key: 'k', expire: { unit: 'EX', raw: b('10') }, persist: false }],
    [['getex', 'k', 'EX', '10', 'ex', '20'], { key: 'k', expire: { unit: 'EX', raw: b('20') }, persist: false }],
    [['getex', 'k', 'PXAT', 'abc'], { key: 'k', expire: { unit: 'PXAT', raw: b('abc') }, persist: false }],
    [['getex', 'k', 'EX', '10', 'PX', '10'], SYNTAX],
    [['getex', 'k', 'EX', '10', 'PERSIST'], SYNTAX],
    [['getex', 'k', 'PERSIST', 'EXAT', '10'], SYNTAX],
    [['getex', 'k', 'EX'], SYNTAX],
    [['getex', 'k', 'NX'], SYNTAX],
    [['getex', 'k', 'KEEPTTL'], SYNTAX],
    [['getex', 'k', 'GET'], SYNTAX],
  ]);

  parseTable(getrange, [
    [['getrange', 'k', '0', '-1'], { key: 'k', start: 0n, end: -1n }],
    [
      ['getrange', 'k', '-9223372036854775808', '9223372036854775807'],
      { key: 'k', start: -9223372036854775808n, end: 9223372036854775807n },
    ],
    [['getrange', 'k', 'a', '1'], NOT_INT],
    [['getrange', 'k', '0', '9223372036854775808'], NOT_INT],
  ]);

  parseTable(setrange, [
    [['setrange', 'k', '5', 'v'], { key: 'k', offset: 5n, value: b('v') }],
    [['setrange', 'k', '5', ''], { key: 'k', offset: 5n, value: b('') }],
    [['setrange', 'k', '-1', ''], err('ERR offset is out of range')],
    [['setrange', 'k', 'x', 'v'], NOT_INT],
  ]);

  parseTable(incrby, [
    [['incrby', 'k', '-5'], { key: 'k', by: -5n }],
    [['incrby', 'k', '9223372036854775807'], { key: 'k', by: 9223372036854775807n }],
    [['incrby', 'k', '9223372036854775808'], NOT_INT],
    [['incrby', 'k', '+1'], NOT_INT],
    [['incrby', 'k', ' 1'], NOT_INT],
    [['incrby', 'k', '1.0'], NOT_INT],
  ]);
  parseTable(decrby, [
    [['decrby', 'k', '5'], { key: 'k', by: -5n }],
    [['decrby', 'k', '-9223372036854775807'], { key: 'k', by: 9223372036854775807n }],
    [['decrby', 'k', '-9223372036854775808'], err('ERR decrement would overflow')],
  ]);

  const FLOAT = err('ERR value is not a valid float');
  parseTable(incrbyfloat, [
    [['incrbyfloat', 'k', '1.5'], { key: 'k', by: { neg: false, m: 0xc000000000000000n, e: -63 } }],
    [['incrbyfloat', 'k', '-2'], { key: 'k', by: { neg: true, m: 0x8000000000000000n, e: -62 } }],
    [['incrbyfloat', 'k', '0'], { key: 'k', by: { neg: false, m: 0n, e: 0 } }],
    [['incrbyfloat', 'k', 'inf'], { key: 'k', by: { inf: true, neg: false } }],
    [['incrbyfloat', 'k', '-Infinity'], { key: 'k', by: { inf: true, neg: true } }],
    [['incrbyfloat', 'k', '0x1p0'], { key: 'k', by: { neg: false, m: 0x8000000000000000n, e: -63 } }],
    [['incrbyfloat', 'k', 'nan'], FLOAT],
    [['incrbyfloat', 'k', ''], FLOAT],
    [['incrbyfloat', 'k', ' 1'], FLOAT],
    [['incrbyfloat', 'k', '1 '], FLOAT],
    [['incrbyfloat', 'k', '1e'], FLOAT],
    [['incrbyfloat', 'k', '1e5000'], FLOAT],
    [['incrbyfloat', 'k', '1e-5000'], FLOAT],
    [['incrbyfloat', 'k', 'x'.repeat(5120)], FLOAT],
  ]);
});
