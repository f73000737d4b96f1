/** The one expiry-option parser (src/commands/expiry-options.ts), as parse tables. */
import { expect } from 'chai';
import { RespError } from '../../src/protocol/errors';
import { MAX_EXPIRY_MS } from '../../src/commands/args';
import { absoluteExpiry, expiryMs, parseExpireConditions, parseExpiryOptions, type ExpireUnit } from '../../src/commands/expiry-options';
import { err } from './parse-table';

const b = (s: string) => Buffer.from(s);
const SYNTAX = err('ERR syntax error');
const NOT_INT = err('ERR value is not an integer or out of range');
const invalid = (command: string) => err(`ERR invalid expire time in '${command}' command`);

/** The result of `f`, or `{ error }` for a RespError. */
function outcome(f: () => unknown): unknown {
  try {
    return f();
  } catch (e) {
    if (!(e instanceof RespError)) throw e;
    return { error: e.message };
  }
}

function table<A>(title: string, f: (a: A) => unknown, rows: [A, unknown][]): void {
  describe(title, function () {
    for (const [args, expected] of rows) {
      it(`${JSON.stringify(args, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x))} -> ${JSON.stringify(expected, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x))}`, function () {
        expect(outcome(() => f(args))).to.deep.equal(expected);
      });
    }
  });
}

const none = { expire: null, keepTtl: false, persist: false };
const ex = (unit: ExpireUnit, raw: string) => ({ ...none, expire: { unit, raw: b(raw) } });

describe('expiry options: parse', function () {
  // SET's list: SET k v <options>; NX/XX/GET are SET's own words, taken by `other`.
  const setWords = new Set(['NX', 'XX', 'GET']);
  table(
    'SET options (KEEPTTL)',
    (words: string[]) => parseExpiryOptions(['set', 'k', 'v', ...words].map(b), 3, 'KEEPTTL', (w) => setWords.has(w)),
    [
      [[], none],
      [['ex', '10'], ex('EX', '10')],
      [['PX', '10', 'px', '20'], ex('PX', '20')],
      [['EXAT', 'abc'], ex('EXAT', 'abc')],
      [['pxat', '1', 'NX', 'GET'], ex('PXAT', '1')],
      [['keepttl'], { ...none, keepTtl: true }],
      [['KEEPTTL', 'KEEPTTL'], { ...none, keepTtl: true }],
      [['EX', '10', 'PX', '10'], SYNTAX],
      [['EX', '10', 'KEEPTTL'], SYNTAX],
      [['KEEPTTL', 'EX', '10'], SYNTAX],
      [['EX'], SYNTAX],
      [['PERSIST'], SYNTAX],
      [['FOO'], SYNTAX],
    ],
  );
  table('GETEX options (PERSIST)', (words: string[]) => parseExpiryOptions(['getex', 'k', ...words].map(b), 2, 'PERSIST'), [
    [[], none],
    [['persist', 'PERSIST'], { ...none, persist: true }],
    [['EX', '10', 'ex', '20'], ex('EX', '20')],
    [['EX', '10', 'PERSIST'], SYNTAX],
    [['PERSIST', 'PXAT', '10'], SYNTAX],
    [['KEEPTTL'], SYNTAX],
    [['NX'], SYNTAX],
    [['GET'], SYNTAX],
    [['PX'], SYNTAX],
  ]);
  table('EXPIRE conditions', (words: string[]) => parseExpireConditions(['expire', 'k', '10', ...words].map(b), 3), [
    [[], []],
    [['nx'], ['NX']],
    [
      ['XX', 'gt', 'xx'],
      ['XX', 'GT'],
    ],
    [['foo'], err('ERR Unsupported option foo')],
    [['NX', 'LT'], err('ERR NX and XX, GT or LT options at the same time are not compatible')],
    [['GT', 'LT'], err('ERR GT and LT options at the same time are not compatible')],
  ]);

  const NOW = 1_000_000;
  // [unit, time, positive (SET/GETEX) or not (EXPIRE family)]
  table('time -> absolute ms', ([unit, time, positive]: [ExpireUnit, bigint, boolean]) => expiryMs(unit, time, NOW, 'cmd', positive), [
    [['EX', 10n, true], 1_010_000n],
    [['PX', 10n, true], 1_000_010n],
    [['EXAT', 10n, true], 10_000n],
    [['PXAT', 10n, true], 10n],
    [['EX', 0n, true], invalid('cmd')],
    [['PX', -1n, true], invalid('cmd')],
    [['EX', -10n, false], 990_000n],
    [['EXAT', -10n, false], -10_000n],
    [['PXAT', -9223372036854775808n, false], -9223372036854775808n],
    [['EX', 9223372036854775n, false], invalid('cmd')],
    [['EXAT', 9223372036854775n, false], 9223372036854775000n],
    [['EXAT', 9223372036854776n, true], invalid('cmd')],
    [['EX', -9223372036854776n, false], invalid('cmd')],
    [['PX', 9223372036854775807n, false], invalid('cmd')],
    [['PXAT', 9223372036854775807n, true], 9223372036854775807n],
  ]);
  table('SET/GETEX expiry as stored', ([unit, raw]: [ExpireUnit, string]) => absoluteExpiry({ unit, raw: b(raw) }, NOW, 'set'), [
    [['EX', '1'], 1_001_000],
    [['PXAT', '5'], 5],
    [['PXAT', '9223372036854775807'], MAX_EXPIRY_MS],
    [['EX', 'abc'], NOT_INT],
    [['EX', '1.5'], NOT_INT],
    [['EX', '0'], invalid('set')],
    [['PX', '9223372036854775807'], invalid('set')],
  ]);
});
