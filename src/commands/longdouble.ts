/**
 * INCRBYFLOAT computes in C `long double`, which on x86-64 (where Redis runs) is the
 * x87 80-bit extended format: a 64-bit significand and exponents down to 2^-16445.
 * A JavaScript double would print `10.5 + 0.1` as 10.59999999999999964 where Redis
 * prints 10.6, so this module emulates that format exactly with BigInt arithmetic:
 *  - parseLongDouble: Redis's string2ld (strtold plus its rejections),
 *  - addLongDouble: one correctly rounded (ties-to-even) addition,
 *  - formatLongDouble: ld2string(LD_STR_HUMAN): "%.17Lf", trailing zeros trimmed.
 */

/** A finite value (-1)^neg * m * 2^e, or an infinity. */
export interface FiniteLongDouble {
  readonly neg: boolean;
  readonly m: bigint;
  readonly e: number;
}
export interface InfiniteLongDouble {
  readonly inf: true;
  readonly neg: boolean;
}
export type LongDouble = FiniteLongDouble | InfiniteLongDouble;

const MANTISSA_BITS = 64;
/** Exponent of the smallest subnormal: 2^-16445. */
const MIN_EXP = -16445;
/** Finite values are below 2^16384. */
const MAX_BINARY_EXP = 16384;
/** string2ld's buffer: MAX_LONG_DOUBLE_CHARS = 5k. */
const MAX_CHARS = 5 * 1024;

const isInf = (x: LongDouble): x is InfiniteLongDouble => 'inf' in x;

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** round(num / den) with ties to even; num >= 0, den > 0. */
function divRoundEven(num: bigint, den: bigint): bigint {
  const q = num / den;
  const r2 = (num % den) * 2n;
  if (r2 > den || (r2 === den && (q & 1n) === 1n)) return q + 1n;
  return q;
}

/** Rounds the exact positive rational num/den to the format; undefined exponent range checks are done here. */
function roundRational(neg: boolean, num: bigint, den: bigint): LongDouble {
  if (num === 0n) return { neg, m: 0n, e: 0 };
  // 2^(lb-1) <= num/den < 2^(lb+1) for lb = bitLength(num) - bitLength(den)
  let e = bitLength(num) - bitLength(den) - MANTISSA_BITS;
  // Make num/den / 2^e land in [2^63, 2^64).
  const scaled = (exp: number): [bigint, bigint] => (exp >= 0 ? [num, den << BigInt(exp)] : [num << BigInt(-exp), den]);
  let [n, d] = scaled(e);
  if (n / d >= 1n << BigInt(MANTISSA_BITS)) e++;
  else if (n / d < 1n << BigInt(MANTISSA_BITS - 1)) e--;
  if (e < MIN_EXP) e = MIN_EXP;
  [n, d] = scaled(e);
  let m = divRoundEven(n, d);
  if (m === 1n << BigInt(MANTISSA_BITS)) {
    m >>= 1n;
    e++;
  }
  if (m !== 0n && e + bitLength(m) > MAX_BINARY_EXP) return { inf: true, neg };
  return { neg, m, e };
}

const DECIMAL = /^([+-]?)(?:(\d+)(?:\.(\d*))?|\.(\d+))(?:[eE]([+-]?\d+))?$/;
const HEX = /^([+-]?)0[xX](?:([0-9a-fA-F]+)(?:\.([0-9a-fA-F]*))?|\.([0-9a-fA-F]+))(?:[pP]([+-]?\d+))?$/;
const INFINITY = /^([+-]?)(?:inf|infinity)$/i;

/** Clamps a huge decimal or binary exponent: beyond this, the value is certainly 0 or infinite. */
function exponent(text: string | undefined): number {
  if (!text) return 0;
  const v = BigInt(text);
  return v > 100000n ? 100000 : v < -100000n ? -100000 : Number(v);
}

/**
 * Redis's string2ld: the whole argument must be a strtold number (decimal, hex float,
 * inf/infinity; no leading space, no NaN); overflow and underflow to zero are rejected.
 */
export function parseLongDouble(arg: Buffer): LongDouble | null {
  if (arg.length === 0 || arg.length >= MAX_CHARS) return null;
  const s = arg.toString('latin1');
  let m = INFINITY.exec(s);
  if (m) return { inf: true, neg: m[1] === '-' };
  let neg: boolean;
  let num: bigint;
  let den = 1n;
  if ((m = DECIMAL.exec(s))) {
    neg = m[1] === '-';
    const int = m[2] ?? '';
    const frac = m[3] ?? m[4] ?? '';
    num = BigInt(int + frac || '0');
    const exp = exponent(m[5]) - frac.length;
    if (exp >= 0) num *= 10n ** BigInt(exp);
    else den = 10n ** BigInt(-exp);
  } else if ((m = HEX.exec(s))) {
    neg = m[1] === '-';
    const int = m[2] ?? '';
    const frac = m[3] ?? m[4] ?? '';
    num = BigInt('0x' + (int + frac || '0'));
    const exp = exponent(m[5]) - 4 * frac.length;
    if (exp >= 0) num <<= BigInt(exp);
    else den = 1n << BigInt(-exp);
  } else {
    return null;
  }
  const value = roundRational(neg, num, den);
  // ERANGE: overflow to HUGE_VAL, or a non-zero input that underflowed to zero.
  if (isInf(value) || (value.m === 0n && num !== 0n)) return null;
  return value;
}

/** a + b rounded once to the format; null for NaN (inf - inf). */
export function addLongDouble(a: LongDouble, b: LongDouble): LongDouble | null {
  if (isInf(a) || isInf(b)) {
    if (isInf(a) && isInf(b) && a.neg !== b.neg) return null;
    return isInf(a) ? a : b;
  }
  const e = Math.min(a.e, b.e);
  const sa = (a.neg ? -a.m : a.m) << BigInt(a.e - e);
  const sb = (b.neg ? -b.m : b.m) << BigInt(b.e - e);
  const sum = sa + sb;
  const neg = sum < 0n || (sum === 0n && a.neg && b.neg);
  const abs = sum < 0n ? -sum : sum;
  return e >= 0 ? roundRational(neg, abs << BigInt(e), 1n) : roundRational(neg, abs, 1n << BigInt(-e));
}

export const isFiniteLongDouble = (x: LongDouble): boolean => !isInf(x);

/** ld2string(LD_STR_HUMAN): "%.17Lf" (exact, ties to even), trailing zeros and dot removed, "-0" -> "0". */
export function formatLongDouble(x: LongDouble): string {
  if (isInf(x)) return x.neg ? '-inf' : 'inf';
  const scaled = x.m * 10n ** 17n;
  const n = x.e >= 0 ? scaled << BigInt(x.e) : divRoundEven(scaled, 1n << BigInt(-x.e));
  const digits = n.toString().padStart(18, '0');
  let text = `${digits.slice(0, -17)}.${digits.slice(-17)}`.replace(/0+$/, '').replace(/\.$/, '');
  if (x.neg) text = '-' + text;
  return text === '-0' ? '0' : text;
}
