/**
 * Every expiry option in one place, as Kvrocks's ParseTTL: SET's and GETEX's option lists
 * (EX/PX/EXAT/PXAT, KEEPTTL, PERSIST), the EXPIRE family's conditions (NX/XX/GT/LT), and
 * the one conversion of a time argument into absolute epoch ms. Replies and error texts
 * are Redis 7.0's (parseExtendedStringArgumentsOrReply, getExpireMillisecondsOrReply,
 * parseExtendedExpireArgumentsOrReply, expireGenericCommand).
 */
import { Errors } from '../protocol/errors';
import { LLONG_MAX, LLONG_MIN, int64, storableExpiry, word } from './args';

/** Expiry units: EX/PX relative to now, EXAT/PXAT absolute; EX/EXAT in seconds. */
export type ExpireUnit = 'EX' | 'PX' | 'EXAT' | 'PXAT';
const UNITS: Record<ExpireUnit, { seconds: boolean; relative: boolean }> = {
  EX: { seconds: true, relative: true },
  PX: { seconds: false, relative: true },
  EXAT: { seconds: true, relative: false },
  PXAT: { seconds: false, relative: false },
};
const isUnit = (opt: string): opt is ExpireUnit => Object.hasOwn(UNITS, opt);

/** An expiry option as given; its number is read when the command runs (GETEX checks it only for a present key). */
export interface ExpireArg {
  unit: ExpireUnit;
  raw: Buffer;
}

/**
 * `time` in `unit` as absolute epoch ms at `now` (a bigint: it may exceed 2^53).
 * `positive` (SET, GETEX, SETEX): a time <= 0 is refused, as getExpireMillisecondsOrReply;
 * the EXPIRE family takes any 64-bit time (a past one deletes the key). Either way seconds
 * that overflow on *1000, or a sum with now beyond 2^63-1 -> "invalid expire time in '<command>' command".
 */
export function expiryMs(unit: ExpireUnit, time: bigint, now: number, command: string, positive: boolean): bigint {
  const { seconds, relative } = UNITS[unit];
  if (positive && time <= 0n) throw Errors.invalidExpire(command);
  let when = time;
  if (seconds) {
    if (when > LLONG_MAX / 1000n || when < LLONG_MIN / 1000n) throw Errors.invalidExpire(command);
    when *= 1000n;
  }
  const base = relative ? BigInt(now) : 0n;
  if (when > LLONG_MAX - base) throw Errors.invalidExpire(command);
  return when + base;
}

/** SET's, SETEX's and GETEX's expiry as the stored absolute ms: not an integer, or invalid as expiryMs says, is an error. */
export function absoluteExpiry(arg: ExpireArg, now: number, command: string): number {
  return storableExpiry(expiryMs(arg.unit, int64(arg.raw), now, command, true));
}

export interface ExpiryOptions {
  expire: ExpireArg | null;
  /** SET KEEPTTL. */
  keepTtl: boolean;
  /** GETEX PERSIST. */
  persist: boolean;
}

/**
 * The option list from argv[from] on, as Redis 7.0's parseExtendedStringArgumentsOrReply:
 * an expiry may repeat in the same unit (the last wins) but not in another, nor with
 * `keep` (SET's KEEPTTL, GETEX's PERSIST); the command's other words (SET's NX/XX/GET) go
 * to `other`, which says whether it took the word. Anything else -> "syntax error".
 */
export function parseExpiryOptions(
  argv: Buffer[],
  from: number,
  keep: 'KEEPTTL' | 'PERSIST',
  other: (opt: string) => boolean = () => false,
): ExpiryOptions {
  const o: ExpiryOptions = { expire: null, keepTtl: false, persist: false };
  for (let i = from; i < argv.length; i++) {
    const opt = word(argv[i]);
    const kept = o.keepTtl || o.persist;
    if (opt === keep && !o.expire) {
      if (keep === 'KEEPTTL') o.keepTtl = true;
      else o.persist = true;
    } else if (isUnit(opt) && !kept && (!o.expire || o.expire.unit === opt) && i + 1 < argv.length) {
      o.expire = { unit: opt, raw: argv[++i] };
    } else if (!other(opt)) {
      throw Errors.syntax();
    }
  }
  return o;
}

/** The EXPIRE family's conditions (Redis allows XX with GT or LT). */
export type ExpireCondition = 'NX' | 'XX' | 'GT' | 'LT';

/**
 * EXPIRE's options from argv[from] on, as Redis 7.0's parseExtendedExpireArgumentsOrReply:
 * an unknown word, then incompatible conditions, are errors; repeats count once.
 */
export function parseExpireConditions(argv: Buffer[], from: number): ExpireCondition[] {
  const set = new Set<ExpireCondition>();
  for (let j = from; j < argv.length; j++) {
    const opt = word(argv[j]);
    if (opt === 'NX' || opt === 'XX' || opt === 'GT' || opt === 'LT') set.add(opt);
    else throw Errors.unsupportedOption(argv[j]);
  }
  if (set.has('NX') && (set.has('XX') || set.has('GT') || set.has('LT'))) throw Errors.nxWithOthers();
  if (set.has('GT') && set.has('LT')) throw Errors.gtAndLt();
  return [...set];
}
