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

/**
 * An int as Redis's getIntFromObjectOrReply reads it (a database index): not an integer, or out
 * of the 32-bit range, each with Redis's text; `error` replaces both (SWAPDB's own messages).
 */
export function int32(arg: Buffer, error?: () => RespError): number {
  const v = parseInt64(arg);
  if (v === null) throw (error ?? Errors.notInteger)();
  if (v > 2147483647n || v < -2147483648n) throw (error ?? Errors.intRange)();
  return Number(v);
}

/** Keys live in a text column: they must be UTF-8 without NUL bytes. */
export function key(arg: Buffer): string {
  if (!isUtf8(arg) || arg.includes(0)) throw Errors.keyNotText();
  return arg.toString('utf8');
}

export const keys = (args: Buffer[]): string[] => args.map(key);

/**
 * The latest expiry respql stores: 8.64e15 ms (year 275760, the end of JavaScript's Date
 * range), exact as a JS number and inside PostgreSQL's timestamptz range. Redis accepts
 * later times (up to 2^63-1 ms); respql keeps such keys until this date instead.
 */
export const MAX_EXPIRY_MS = 8_640_000_000_000_000;

export function storableExpiry(ms: bigint): number {
  return ms > BigInt(MAX_EXPIRY_MS) ? MAX_EXPIRY_MS : Number(ms);
}

/**
 * A SCAN cursor as Redis's parseScanCursorOrReply reads it with strtoul: optional sign
 * (a '-' wraps modulo 2^64), decimal digits, nothing else; no leading space; "" is 0;
 * beyond 2^64-1 -> "ERR invalid cursor".
 */
export function scanCursor(arg: Buffer): bigint {
  const s = arg.toString('latin1');
  if (s === '') return 0n;
  const m = /^([+-]?)([0-9]+)$/.exec(s);
  if (!m) throw Errors.invalidCursor();
  const v = BigInt(m[2]);
  if (v > ULONG_MAX) throw Errors.invalidCursor();
  return m[1] === '-' && v !== 0n ? ULONG_MAX + 1n - v : v;
}

export const ULONG_MAX = 18446744073709551615n;
