/** INCR, DECR, INCRBY, DECRBY, INCRBYFLOAT: read-modify-write of a number kept as text; the TTL is kept. */
import { bulk } from '../protocol/reply';
import { Errors } from '../protocol/errors';
import { int64, key, LLONG_MAX, LLONG_MIN, parseInt64 } from './args';
import { addLongDouble, formatLongDouble, isFiniteLongDouble, parseLongDouble, type LongDouble } from './longdouble';
import { command } from './types';

interface IncrArgs {
  key: string;
  by: bigint;
}

/** Redis's incrDecrCommand: the stored value must be a 64-bit integer, and so must the result. */
function incrCommand(name: string, summary: string, since: string, parseBy: (argv: Buffer[]) => bigint, arity: number) {
  return command<IncrArgs>({
    name,
    arity,
    flags: ['write', 'denyoom', 'fast'],
    keys: [1, 1, 1],
    data: true,
    summary,
    group: 'string',
    since,
    parse: (argv) => ({ key: key(argv[1]), by: parseBy(argv) }),
    async run(a, { store, notify }) {
      const entry = await store.getEntry(a.key, true);
      const old = entry ? parseInt64(entry.value) : 0n;
      if (old === null) throw Errors.notInteger();
      if ((a.by < 0n && old < 0n && a.by < LLONG_MIN - old) || (a.by > 0n && old > 0n && a.by > LLONG_MAX - old)) {
        throw Errors.overflow();
      }
      const value = old + a.by;
      await store.put(a.key, Buffer.from(value.toString()), entry?.expiry ?? null);
      if (!entry) notify('new', 'new', a.key);
      notify('string', 'incrby', a.key);
      return value;
    },
  });
}

export const incr = incrCommand(
  'incr',
  "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
  '1.0.0',
  () => 1n,
  2,
);
export const decr = incrCommand(
  'decr',
  "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
  '1.0.0',
  () => -1n,
  2,
);
export const incrby = incrCommand(
  'incrby',
  "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
  '1.0.0',
  (argv) => int64(argv[2]),
  3,
);
export const decrby = incrCommand(
  'decrby',
  "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.",
  '1.0.0',
  (argv) => {
    const by = int64(argv[2]);
    // Negating LLONG_MIN would overflow.
    if (by === LLONG_MIN) throw Errors.decrementOverflow();
    return -by;
  },
  3,
);

interface IncrFloatArgs {
  key: string;
  by: LongDouble;
}

const ZERO: LongDouble = { neg: false, m: 0n, e: 0 };

/**
 * INCRBYFLOAT computes in x87 long double and stores the result as "%.17Lf" with
 * trailing zeros removed, exactly as Redis on x86-64 (see longdouble.ts).
 */
export const incrbyfloat = command<IncrFloatArgs>({
  name: 'incrbyfloat',
  arity: 3,
  flags: ['write', 'denyoom', 'fast'],
  keys: [1, 1, 1],
  data: true,
  summary: "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
  group: 'string',
  since: '2.6.0',
  parse(argv) {
    const by = parseLongDouble(argv[2]);
    if (!by) throw Errors.notFloat();
    return { key: key(argv[1]), by };
  },
  async run(a, { store, notify }) {
    const entry = await store.getEntry(a.key, true);
    const old = entry ? parseLongDouble(entry.value) : ZERO;
    if (!old) throw Errors.notFloat();
    const sum = addLongDouble(old, a.by);
    if (!sum || !isFiniteLongDouble(sum)) throw Errors.nanOrInfinity();
    const text = formatLongDouble(sum);
    await store.put(a.key, Buffer.from(text), entry?.expiry ?? null);
    if (!entry) notify('new', 'new', a.key);
    notify('string', 'incrbyfloat', a.key);
    return bulk(text);
  },
});

export const counterCommands = [incr, decr, incrby, decrby, incrbyfloat];
