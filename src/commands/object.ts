/**
 * OBJECT ENCODING and OBJECT HELP: the encoding Redis 7.0 would use for the key's present
 * contents (respql keeps no encoding of its own). Redis never converts a hashtable back to a
 * listpack, nor a raw string to embstr; respql answers from the contents alone.
 */
import { bulk, type Reply } from '../protocol/reply';
import { key } from './args';
import { hashIsListpack } from './hashes';
import { isIntset } from './sets';
import { command } from './types';

/** Redis's OBJ_ENCODING_EMBSTR_SIZE_LIMIT. */
const EMBSTR_SIZE_LIMIT = 44;

/** tryObjectEncoding on a string value: an integer in canonical form (at most 20 bytes) is int. */
function stringEncoding(value: Buffer): string {
  if (value.length <= 20 && /^(0|-?[1-9][0-9]*)$/.test(value.toString('latin1'))) {
    const n = BigInt(value.toString('latin1'));
    if (n >= -9223372036854775808n && n <= 9223372036854775807n) return 'int';
  }
  return value.length <= EMBSTR_SIZE_LIMIT ? 'embstr' : 'raw';
}

const encoding = command<string>({
  name: 'object|encoding',
  arity: 3,
  flags: ['readonly'],
  keys: [2, 2, 1],
  data: true,
  summary: 'Returns the internal encoding of a Redis object.',
  group: 'generic',
  since: '2.2.3',
  parse: (argv) => key(argv[2]),
  async run(k, { store }): Promise<Reply> {
    const entry = await store.getEntry(k, false, true);
    if (!entry) return null;
    if (entry.type === 'hash') return bulk(hashIsListpack(await store.typed.stats(k, 'hash')) ? 'listpack' : 'hashtable');
    if (entry.type === 'set') {
      const stats = await store.typed.stats(k, 'set');
      return bulk(stats.count <= 512 && isIntset((await store.typed.setAll(k)) ?? []) ? 'intset' : 'hashtable');
    }
    return bulk(stringEncoding(entry.value));
  },
});

const HELP = [
  'OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'ENCODING <key>',
  '    Return the kind of internal representation used in order to store the value',
  '    associated with a <key>.',
  'FREQ <key>',
  '    Return the access frequency index of the <key>. The returned integer is',
  '    proportional to the logarithm of the recent access frequency of the key.',
  'IDLETIME <key>',
  '    Return the idle time of the <key>, that is the approximated number of',
  '    seconds elapsed since the last access to the key.',
  'REFCOUNT <key>',
  '    Return the number of references of the value associated with the specified',
  '    <key>.',
  'HELP',
  '    Prints this help.',
];

const help = command<null>({
  name: 'object|help',
  arity: 2,
  flags: ['loading', 'stale'],
  keys: [0, 0, 0],
  data: false,
  summary: 'Returns helpful text about the different subcommands.',
  group: 'generic',
  since: '6.2.0',
  parse: () => null,
  run: () => HELP.map((line) => ({ kind: 'simple', value: line }) as const),
});

export const object = command<null>({
  name: 'object',
  arity: -2,
  flags: [],
  keys: [0, 0, 0],
  data: false,
  summary: 'A container for object introspection commands.',
  group: 'generic',
  since: '2.2.3',
  parse: () => null,
  run: () => null,
  subcommands: { encoding, help },
});
