/**
 * The comparison shapes of ./shapes.ts can fail: unordered replies compare equal only when
 * they hold the same elements, pairs only when fields keep their values, picks only when
 * count, distinctness and membership agree. (Runs in `npm test`: no server needed.)
 */
import { expect } from 'chai';
import { decodeReply } from '../support/resp3';
import { canonical, picksHold, referenceProblems, type Shape } from './shapes';

const same = (shape: Shape, a: Parameters<typeof canonical>[1], b: Parameters<typeof canonical>[1]) =>
  JSON.stringify(canonical(shape, a)) === JSON.stringify(canonical(shape, b));

describe('differential comparison shapes', () => {
  it('set: order ignored, members and multiplicity not; RESP3 set differs from an array', () => {
    expect(same('set', ['a', 'b'], ['b', 'a'])).to.equal(true);
    expect(same('set', ['a', 'b'], ['a', 'c'])).to.equal(false);
    expect(same('set', ['a', 'a'], ['a'])).to.equal(false);
    expect(same('set', { set: ['a', 'b'] }, { set: ['b', 'a'] })).to.equal(true);
    expect(same('set', { set: ['a'] }, ['a'])).to.equal(false);
  });

  it('pairs: field order ignored, field/value pairing kept; a map differs from a flat array', () => {
    expect(same('pairs', ['a', '1', 'b', '2'], ['b', '2', 'a', '1'])).to.equal(true);
    expect(same('pairs', ['a', '1', 'b', '2'], ['a', '2', 'b', '1'])).to.equal(false);
    expect(
      same(
        'pairs',
        {
          map: [
            ['a', '1'],
            ['b', '2'],
          ],
        },
        {
          map: [
            ['b', '2'],
            ['a', '1'],
          ],
        },
      ),
    ).to.equal(true);
    expect(same('pairs', { map: [['a', '1']] }, ['a', '1'])).to.equal(false);
  });

  it('scan: the cursor is exact, the page a set', () => {
    expect(same('scan', ['0', ['a', 'b']], ['0', ['b', 'a']])).to.equal(true);
    expect(same('scan', ['0', ['a', 'b']], ['7', ['b', 'a']])).to.equal(false);
  });

  it('members / pairsFrom: count, distinctness and membership; errors and nulls exact', () => {
    const m: Shape = { members: ['a', 'b', 'c'] };
    expect(same(m, ['a', 'b'], ['c', 'a'])).to.equal(true);
    expect(same(m, ['a', 'b'], ['a', 'a'])).to.equal(false);
    expect(same(m, ['a', 'b'], ['a', 'z'])).to.equal(false);
    expect(same(m, ['a', 'b'], ['a'])).to.equal(false);
    expect(same(m, 'a', 'b')).to.equal(true);
    expect(same(m, 'a', 'z')).to.equal(false);
    expect(same(m, null, 'a')).to.equal(false);
    expect(same(m, { error: 'ERR x' }, { error: 'ERR y' })).to.equal(false);
    expect(picksHold(m, canonical(m, ['a', 'z']))).to.equal(false);
    const p: Shape = { pairsFrom: { a: '1', b: '2' } };
    expect(same(p, ['a', '1', 'b', '2'], ['b', '2', 'a', '1'])).to.equal(true);
    expect(same(p, ['a', '1'], ['a', '2'])).to.equal(false);
    expect(same(p, [['a', '1']], ['a', '1'])).to.equal(false);
  });

  it('the reference check flags unknown commands and picks Redis itself breaks', () => {
    const script = { name: 's', steps: [['HSETT', 'k'], { argv: ['SRANDMEMBER', 'k'], shape: { members: ['a'] } as Shape }] };
    expect(referenceProblems(script, [{ error: "ERR unknown command 'HSETT'" }, canonical({ members: ['a'] }, 'b')])).to.have.length(2);
  });

  it('decodes RESP3 maps, sets, doubles, nulls, booleans and verbatim strings', () => {
    const bytes = Buffer.from('*6\r\n%1\r\n+a\r\n:1\r\n~2\r\n$1\r\nx\r\n$1\r\ny\r\n,1.5\r\n_\r\n#t\r\n=7\r\ntxt:abc\r\n');
    expect(decodeReply(bytes)?.value).to.deep.equal([
      { map: [['a', 1]] },
      { set: ['x', 'y'] },
      { double: '1.5' },
      null,
      { bool: true },
      'abc',
    ]);
    expect(decodeReply(bytes.subarray(0, bytes.length - 3))).to.equal(undefined);
    expect(decodeReply(Buffer.from(':9223372036854775797\r\n'))?.value).to.deep.equal({ big: '9223372036854775797' });
    expect(decodeReply(Buffer.from(':-42\r\n'))?.value).to.equal(-42);
  });
});
