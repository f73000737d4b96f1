import { expect } from 'chai';
import { RequestDecoder, splitInlineArgs, DEFAULT_LIMITS } from '../../src/protocol/decoder';

/** Feeds chunks to a decoder; returns the commands (as strings) and the error text if any. */
function decode(chunks: (string | Buffer)[], authenticated = true) {
  const commands: string[][] = [];
  let error: string | null = null;
  const d = new RequestDecoder(
    (argv) => commands.push(argv.map((a) => a.toString('latin1'))),
    (e) => (error = e.message),
    DEFAULT_LIMITS,
    () => authenticated,
  );
  for (const c of chunks) d.feed(typeof c === 'string' ? Buffer.from(c, 'latin1') : c);
  return { commands, error };
}

describe('protocol: request decoder', () => {
  it('decodes multibulk requests, several per chunk', () => {
    const r = decode(['*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n']);
    expect(r).to.deep.equal({ commands: [['PING'], ['GET', 'k']], error: null });
  });

  it('decodes a request split at every byte', () => {
    const bytes = '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nv\r\nxy\r\n';
    const r = decode(bytes.split(''));
    expect(r).to.deep.equal({ commands: [['SET', 'k', 'v\r\nxy']], error: null });
  });

  it('keeps bulk payloads binary-safe', () => {
    const payload = Buffer.from([0, 255, 13, 10, 42, 36]);
    const got: Buffer[][] = [];
    const d = new RequestDecoder(
      (argv) => got.push(argv),
      () => undefined,
    );
    d.feed(Buffer.concat([Buffer.from('*2\r\n$3\r\nset\r\n$6\r\n'), payload, Buffer.from('\r\n')]));
    expect(got[0][1].equals(payload)).to.equal(true);
  });

  it('decodes inline commands with quotes and escapes, and mixes them with multibulk', () => {
    const r = decode(['PING\r\nSET "a b" \'c\\\'d\' "\\x41\\n"\n*1\r\n$4\r\nPING\r\n  \r\n']);
    expect(r.commands).to.deep.equal([['PING'], ['SET', 'a b', "c'd", 'A\n'], ['PING']]);
    expect(r.error).to.equal(null);
  });

  it('skips empty multibulk requests (*0, *-1) as Redis does', () => {
    expect(decode(['*0\r\n*-1\r\n*1\r\n$1\r\nx\r\n']).commands).to.deep.equal([['x']]);
  });

  const errors: [string, string][] = [
    ['*1\r\n*1\r\n', "ERR Protocol error: expected '$', got '*'"],
    ['*1\r\n:1\r\n', "ERR Protocol error: expected '$', got ':'"],
    ['*x\r\n', 'ERR Protocol error: invalid multibulk length'],
    ['*1\r\n$-1\r\n', 'ERR Protocol error: invalid bulk length'],
    ['*1\r\n$abc\r\n', 'ERR Protocol error: invalid bulk length'],
    ['*1\r\n$536870913\r\n', 'ERR Protocol error: invalid bulk length'],
    ['SET "a\r\n', 'ERR Protocol error: unbalanced quotes in request'],
    ['SET "a"b\r\n', 'ERR Protocol error: unbalanced quotes in request'],
  ];
  for (const [input, message] of errors) {
    it(`rejects ${JSON.stringify(input)} with "${message}"`, () => {
      expect(decode([input]).error).to.equal(message);
    });
  }

  it('limits inline requests and count lines to 64 KiB', () => {
    expect(decode(['A'.repeat(70 * 1024)]).error).to.equal('ERR Protocol error: too big inline request');
    expect(decode(['*' + '1'.repeat(70 * 1024)]).error).to.equal('ERR Protocol error: too big mbulk count string');
  });

  it('applies the unauthenticated limits before AUTH', () => {
    expect(decode(['*11\r\n'], false).error).to.equal('ERR Protocol error: unauthenticated multibulk length');
    expect(decode(['*1\r\n$16385\r\n'], false).error).to.equal('ERR Protocol error: unauthenticated bulk length');
    expect(decode(['*11\r\n'], true).error).to.equal(null);
  });

  it('delivers nothing after a protocol error', () => {
    const r = decode(['*1\r\n*1\r\n', '*1\r\n$4\r\nPING\r\n']);
    expect(r.commands).to.deep.equal([]);
  });

  it('splits inline arguments like sdssplitargs', () => {
    const split = (s: string) => splitInlineArgs(Buffer.from(s))?.map((b) => b.toString('latin1')) ?? null;
    expect(split('  a   b  ')).to.deep.equal(['a', 'b']);
    expect(split('"\\t\\r\\\\"')).to.deep.equal(['\t\r\\']);
    expect(split("'unterminated")).to.equal(null);
    expect(split('""')).to.deep.equal(['']);
  });
});
