import { expect } from 'chai';
import { addLongDouble, formatLongDouble, parseLongDouble } from '../../src/commands/longdouble';

/** Expected values from redis-server 7.0 on x86-64: SET k a; INCRBYFLOAT k b. */
const CASES: [string, string, string][] = [
  ['10.5', '0.1', '10.6'],
  ['0.1', '0.2', '0.3'],
  ['1.1', '2.2', '3.3'],
  ['-1.5', '1.5', '0'],
  ['0x1p3', '0.000001', '8.000001'],
  ['17179869184', '0.1', '17179869184.09999999962747097'],
  ['1e17', '0.3', '100000000000000000.296875'],
  ['123456789012345678', '1', '123456789012345679'],
  ['0.000000000000000015', '0', '0.00000000000000002'],
  ['0.000000000000000005', '0', '0'],
  ['-3', '1e-18', '-3'],
  ['.5', '5.', '5.5'],
  ['+3', '-.25e1', '0.5'],
];

describe('long double emulation (INCRBYFLOAT)', function () {
  for (const [a, b, expected] of CASES) {
    it(`${a} + ${b} = ${expected}`, function () {
      const sum = addLongDouble(parseLongDouble(Buffer.from(a))!, parseLongDouble(Buffer.from(b))!);
      expect(formatLongDouble(sum!)).to.equal(expected);
    });
  }
  it('prints every integer digit of large values', function () {
    const text = formatLongDouble(parseLongDouble(Buffer.from('1e300'))!);
    expect(text).to.have.length(301);
    expect(
      text.startsWith('1000000000000000000008997324079559193870523944273290747938260082321265646596180935755849152083750497'),
    ).to.equal(true);
  });
  it('overflows to infinity only beyond the long double range', function () {
    const big = parseLongDouble(Buffer.from('1e308'))!;
    expect(formatLongDouble(addLongDouble(big, big)!)).to.match(/^1999999999999999999933717593116912913211/);
    const huge = parseLongDouble(Buffer.from('1.1e4932'))!;
    expect(addLongDouble(huge, parseLongDouble(Buffer.from('1e4932'))!)).to.deep.equal({ inf: true, neg: false });
  });
  it('inf - inf is NaN (null)', function () {
    expect(addLongDouble(parseLongDouble(Buffer.from('inf'))!, parseLongDouble(Buffer.from('-inf'))!)).to.equal(null);
  });
});
