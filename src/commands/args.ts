/** Argument parsing shared by all commands, with Redis's rules and error texts. */
import { isUtf8 } from 'node:buffer';
import { Errors, RespError } from '../protocol/errors';

export const LLONG_MAX = 9223372036854775807n;
export const LLONG_MIN = -9223372036854775808n;

/** Upper-cased ASCII text of an option argument. */
export function word(arg: Buffer): string {
  return arg.toString('latin1').toUpperCase();
}

/** Redis's string2ll: optional '-', no '+', no spaces, no leading zeros, 64-bit range. */
export function parseInt64(arg: Buffer): bigint | null {
  const s = arg.toString('latin1');
  if (!/^(0|-?[1-9][0-9]{0,19})$/.test(s)) return null;
  const v = BigInt(s);
  return v > LLONG_MAX || v < LLONG_MIN ? null : v;
}

/** A 64-bit integer argument, or "value is not an integer or out of range". */
export function int64(arg: Buffer): bigint {
  const v = parseInt64(arg);
  if (v === null) throw Errors.notInteger();
  return v;
}

/** An integer argument that fits a JS number exactly. */
export function integer(arg: Buffer, error: () => RespError = Errors.notInteger): number {
  const v = parseInt64(arg);
  if (v === null || v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) throw error();
  return Number(v);
}

/** Keys live in a text column: they must be UTF-8 without NUL bytes. */
export function key(arg: Buffer): string {
  if (!isUtf8(arg) || arg.includes(0)) throw Errors.keyNotText();
  return arg.toString('utf8');
}

export const keys = (args: Buffer[]): string[] => args.map(key);

/** Expiry options as given: EX/PX relative, EXAT/PXAT absolute. */
export type ExpireUnit = 'EX' | 'PX' | 'EXAT' | 'PXAT';
export interface ExpireArg {
  unit: ExpireUnit;
  raw: Buffer;
}

/**
 * Turns an expiry option into absolute epoch ms at `now`, exactly as Redis's
 * getExpireMillisecondsOrReply: non-integer -> not an integer; <= 0, seconds overflow,
 * or an absolute time that overflows -> "invalid expire time in '<command>' command".
 */
export function absoluteExpiry(arg: ExpireArg, now: number, command: string): number {
  let ms = int64(arg.raw);
  const seconds = arg.unit === 'EX' || arg.unit === 'EXAT';
  if (ms <= 0n || (seconds && ms > LLONG_MAX / 1000n)) throw Errors.invalidExpire(command);
  if (seconds) ms *= 1000n;
  if (arg.unit === 'EX' || arg.unit === 'PX') ms += BigInt(now);
  if (ms > LLONG_MAX) throw Errors.invalidExpire(command);
  return Number(ms);
}
