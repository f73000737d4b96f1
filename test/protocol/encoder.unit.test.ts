import { expect } from 'chai';
import { encode } from '../../src/protocol/encoder';
import { RespError } from '../../src/protocol/errors';
import { bulk, double, map, NULL_ARRAY, OK, verbatim, type Reply } from '../../src/protocol/reply';

const cases: [string, Reply, string, string][] = [
  ['simple', OK, '+OK\r\n', '+OK\r\n'],
  ['bulk', bulk('héllo'), '$6\r\nhéllo\r\n', '$6\r\nhéllo\r\n'],
  ['null', null, '$-1\r\n', '_\r\n'],
  ['null array', NULL_ARRAY, '*-1\r\n', '_\r\n'],
  ['integer', 42, ':42\r\n', ':42\r\n'],
  ['error', new RespError('ERR bad\r\nthing'), '-ERR bad  thing\r\n', '-ERR bad  thing\r\n'],
  ['array', [bulk('a'), 1, null], '*3\r\n$1\r\na\r\n:1\r\n$-1\r\n', '*3\r\n$1\r\na\r\n:1\r\n_\r\n'],
  ['map', map([[bulk('k'), 1]]), '*2\r\n$1\r\nk\r\n:1\r\n', '%1\r\n$1\r\nk\r\n:1\r\n'],
  ['double', double(1.5), '$3\r\n1.5\r\n', ',1.5\r\n'],
  ['verbatim', verbatim('hi'), '$2\r\nhi\r\n', '=6\r\ntxt:hi\r\n'],
  ['empty array', [], '*0\r\n', '*0\r\n'],
];

describe('protocol: reply encoder', () => {
  for (const [name, reply, resp2, resp3] of cases) {
    it(`encodes ${name} in RESP2 and RESP3`, () => {
      expect(encode(reply, 2).toString('utf8')).to.equal(resp2);
      expect(encode(reply, 3).toString('utf8')).to.equal(resp3);
    });
  }
  it('writes binary bulk payloads unchanged', () => {
    const payload = Buffer.from([0, 200, 13, 10]);
    expect(encode(payload).equals(Buffer.concat([Buffer.from('$4\r\n'), payload, Buffer.from('\r\n')]))).to.equal(true);
  });
});
