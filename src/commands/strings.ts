import { Errors } from '../protocol/errors';
import { OK, type Reply } from '../protocol/reply';
import { absoluteExpiry, key, word, type ExpireArg } from './args';
import { command } from './types';

interface SetArgs {
  key: string;
  value: Buffer;
  expire: ExpireArg | null;
  keepTtl: boolean;
  condition: 'NX' | 'XX' | undefined;
  get: boolean;
}

/**
 * SET's option grammar, as Redis 7's parseExtendedStringArgumentsOrReply: an option may
 * repeat (the last expiry wins) but may not conflict with another (NX/XX, KEEPTTL/EX...).
 */
function parseSet(argv: Buffer[]): SetArgs {
  const args: SetArgs = { key: key(argv[1]), value: argv[2], expire: null, keepTtl: false, condition: undefined, get: false };
  for (let i = 3; i < argv.length; i++) {
    const opt = word(argv[i]);
    const next = i + 1 < argv.length ? argv[i + 1] : undefined;
    if (opt === 'NX' && args.condition !== 'XX') args.condition = 'NX';
    else if (opt === 'XX' && args.condition !== 'NX') args.condition = 'XX';
    else if (opt === 'GET') args.get = true;
    else if (opt === 'KEEPTTL' && !args.expire) args.keepTtl = true;
    else if (
      (opt === 'EX' || opt === 'PX' || opt === 'EXAT' || opt === 'PXAT') &&
      !args.keepTtl && (!args.expire || args.expire.unit === opt) && next
    ) {
      args.expire = { unit: opt, raw: next };
      i++;
    } else throw Errors.syntax();
  }
  return args;
}

export const get = command<string>({
  name: 'get', arity: 2, flags: ['readonly', 'fast'], keys: [1, 1, 1], data: true,
  summary: 'Returns the string value of a key.', group: 'string', since: '1.0.0',
  parse: (argv) => key(argv[1]),
  run: (k, { store }) => store.get(k),
});

export const set = command<SetArgs>({
  name: 'set', arity: -3, flags: ['write', 'denyoom'], keys: [1, 1, 1], data: true,
  summary: 'Sets the string value of a key, ignoring its type. The key is created if it doesn\'t exist.',
  group: 'string', since: '1.0.0',
  parse: parseSet,
  async run(a, { store }): Promise<Reply> {
    const expiry = a.expire ? absoluteExpiry(a.expire, store.now, 'set') : null;
    const outcome = await store.set(a.key, a.value, {
      expiry, keepTtl: a.keepTtl, condition: a.condition, returnPrevious: a.get,
    });
    if (a.get) return outcome.previous ?? null;
    return outcome.written ? OK : null;
  },
});

export const stringCommands = [get, set];
