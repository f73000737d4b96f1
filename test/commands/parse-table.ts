/** Runs a parse table: each row is argv (strings) and the expected parse result, or an error text. */
import { expect } from 'chai';
import { RespError } from '../../src/protocol/errors';
import type { CommandSpec } from '../../src/commands/types';

export type ParseRow = [argv: string[], expected: unknown];

/** `{ error: text }` marks a row whose parse must throw that error text. */
export const err = (text: string) => ({ error: text });

export function parseTable(spec: CommandSpec, rows: ParseRow[]): void {
  describe(spec.name, function () {
    for (const [argv, expected] of rows) {
      it(`${argv.join(' ')} -> ${show(expected)}`, function () {
        const args = argv.map((a) => Buffer.from(a, 'utf8'));
        let actual: unknown;
        try {
          actual = spec.parse(args);
        } catch (e) {
          if (!(e instanceof RespError)) throw e;
          actual = { error: e.message };
        }
        expect(actual).to.deep.equal(expected);
      });
    }
  });
}

function show(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x && x.type === 'Buffer' ? Buffer.from(x.data).toString() : x));
}
