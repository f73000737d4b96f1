import { expect } from 'chai';
import { globMatch, globPrefix } from '../../src/commands/glob';
import { redisStringMatch } from '../security/glob-reference';
import { prng } from '../support/prng';

describe('glob', () => {
  it('globPrefix stops at the first glob metacharacter, so the prefix is always literal text', () => {
    expect(globPrefix(Buffer.from('sess:*'))).to.equal('sess:');
    expect(globPrefix(Buffer.from('a%b_c?d'))).to.equal('a%b_c');
    expect(globPrefix(Buffer.from('x\\*y'))).to.equal('x');
    expect(globPrefix(Buffer.from('[ab]c'))).to.equal('');
    expect(globPrefix(Buffer.from([0x61, 0xc3]))).to.equal('a');
  });

  it("globMatch agrees with a port of Redis's stringmatchlen on random patterns and keys", () => {
    const random = prng(20261129);
    const alphabet = ['a', 'b', 'c', '*', '?', '[', ']', '^', '-', '\\', ':'];
    const pick = (n: number) => Array.from({ length: n }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
    for (let i = 0; i < 20_000; i++) {
      const pattern = Buffer.from(pick(1 + Math.floor(random() * 8)));
      const key = Buffer.from(pick(Math.floor(random() * 8)));
      expect(globMatch(pattern, key), `${pattern.toString()} ~ ${key.toString()}`).to.equal(redisStringMatch(pattern, key));
    }
  });
});
