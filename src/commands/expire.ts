/** The expiry family: TTL, PTTL, EXPIRETIME, PEXPIRETIME, EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, PERSIST. */
import type { Reply } from '../protocol/reply';
import { int64, key, storableExpiry } from './args';
import { lookedUp } from './context';
import { expiryMs, parseExpireConditions, type ExpireCondition, type ExpireUnit } from './expiry-options';
import { command } from './types';

/**
 * TTL/PTTL/EXPIRETIME/PEXPIRETIME: -2 when absent, -1 without expiry; else the remaining
 * (or, `absolute`, the expiry) time, never below 0; seconds round to the nearest.
 */
function ttlCommand(name: string, ms: boolean, absolute: boolean, summary: string, since: string) {
  return command<string>({
    name,
    arity: 2,
    flags: ['readonly', 'fast'],
    keys: [1, 1, 1],
    data: true,
    summary,
    group: 'generic',
    since,
    parse: (argv) => key(argv[1]),
    async run(k, { store, lookups }) {
      const entry = await store.getEntry(k, false, true);
      lookedUp(lookups, entry !== null);
      if (!entry) return -2;
      if (entry.expiry === null) return -1;
      const t = Math.max(0, absolute ? entry.expiry : entry.expiry - store.now);
      return ms ? t : Math.floor((t + 500) / 1000);
    },
  });
}

export const ttl = ttlCommand('ttl', false, false, 'Returns the expiration time in seconds of a key.', '1.0.0');
export const pttl = ttlCommand('pttl', true, false, 'Returns the expiration time in milliseconds of a key.', '2.6.0');
export const expiretime = ttlCommand('expiretime', false, true, 'Returns the expiration time of a key as a Unix timestamp.', '7.0.0');
export const pexpiretime = ttlCommand(
  'pexpiretime',
  true,
  true,
  'Returns the expiration time of a key as a Unix milliseconds timestamp.',
  '7.0.0',
);

export type { ExpireCondition };

export interface ExpireArgs {
  key: string;
  /** The time argument as given (a 64-bit integer); made absolute when the command runs. */
  time: bigint;
  /** Conditions given (Redis allows XX with GT or LT). */
  conditions: ExpireCondition[];
}

/**
 * Redis 7.0's parseExtendedExpireArgumentsOrReply, then the time argument: an unknown
 * option and incompatible options are reported before a malformed number.
 */
export function parseExpire(argv: Buffer[]): ExpireArgs {
  const conditions = parseExpireConditions(argv, 3);
  return { key: key(argv[1]), time: int64(argv[2]), conditions };
}

/**
 * EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT, as Redis 7.0's expireGenericCommand: 0 when
 * the key is absent or a condition fails; a time not in the future deletes the key
 * (reply 1); otherwise the new expiry is set (reply 1). A key without TTL counts as an
 * infinite TTL for GT/LT.
 */
function expireCommand(name: string, unit: ExpireUnit, summary: string, since: string) {
  return command<ExpireArgs>({
    name,
    arity: -3,
    flags: ['write', 'fast'],
    keys: [1, 1, 1],
    data: true,
    summary,
    group: 'generic',
    since,
    parse: parseExpire,
    // Without conditions, a time in the future is one plain write (connect-redis's and phpredis's touch).
    plain(a, now) {
      if (a.conditions.length) return null;
      const when = expiryMs(unit, a.time, now, name, false);
      return when > BigInt(now) ? { kind: 'expire', key: a.key, expiry: storableExpiry(when) } : null;
    },
    async run(a, { store, notify }): Promise<Reply> {
      const when = expiryMs(unit, a.time, store.now, name, false);
      const past = when <= BigInt(store.now);
      // A time in the past deletes the key: a `del` event instead of `expire`.
      const done = (): 1 => (notify('generic', past ? 'del' : 'expire', a.key), 1);
      if (a.conditions.length === 0) {
        // One statement: the write itself tells whether the key was there.
        if (past) return (await store.delete([a.key])) ? done() : 0;
        return (await store.setExpiry(a.key, storableExpiry(when))) ? done() : 0;
      }
      const entry = await store.getEntry(a.key, true, true);
      if (!entry) return 0;
      const current = entry.expiry === null ? null : BigInt(entry.expiry);
      for (const c of a.conditions) {
        if (c === 'NX' && current !== null) return 0;
        if (c === 'XX' && current === null) return 0;
        if (c === 'GT' && (current === null || when <= current)) return 0;
        if (c === 'LT' && current !== null && when >= current) return 0;
      }
      if (past) await store.delete([a.key]);
      else await store.setExpiry(a.key, storableExpiry(when));
      return done();
    },
  });
}

export const expire = expireCommand('expire', 'EX', 'Sets the expiration time of a key in seconds.', '1.0.0');
export const pexpire = expireCommand('pexpire', 'PX', 'Sets the expiration time of a key in milliseconds.', '2.6.0');
export const expireat = expireCommand('expireat', 'EXAT', 'Sets the expiration time of a key to a Unix timestamp.', '1.2.0');
export const pexpireat = expireCommand('pexpireat', 'PXAT', 'Sets the expiration time of a key to a Unix milliseconds timestamp.', '2.6.0');

export const persist = command<string>({
  name: 'persist',
  arity: 2,
  flags: ['write', 'fast'],
  keys: [1, 1, 1],
  data: true,
  summary: 'Removes the expiration time of a key.',
  group: 'generic',
  since: '2.2.0',
  parse: (argv) => key(argv[1]),
  async run(k, { store, notify }) {
    if (!(await store.persist(k))) return 0;
    notify('generic', 'persist', k);
    return 1;
  },
});

export const expireCommands = [ttl, pttl, expiretime, pexpiretime, expire, pexpire, expireat, pexpireat, persist];
