/**
 * What Redis 7 takes as a sorted-set score (`ZADD`): `getDoubleFromObject`, which is C's
 * `strtod` over the whole argument, refusing an empty argument, leading white space, anything
 * left over, NaN, and a result out of range (overflow to ±HUGE_VAL, or a non-zero number that
 * rounds to zero). So `inf`, `+inf`, `-Infinity` (any case) and hexadecimal floats (`0x10`,
 * `0x1p-3`) are scores; ` 1`, `1 `, `nan`, `1.5e400` and `1e-400` are not. Checked against
 * the real server by `redis-score.fuzz.test.ts`.
 */

const INFINITY = /^[+-]?(inf|infinity)$/i;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const HEX = /^[+-]?0x([0-9a-f]+\.?[0-9a-f]*|\.[0-9a-f]+)(p[+-]?\d+)?$/i;

/** Largest binary exponent of a finite double's leading bit; smallest bit of a subnormal is 2^-1074. */
const MAX_EXPONENT = 1023;
const MIN_BIT = -1074;

/** Whether `text` is a score Redis 7 accepts (see the module comment). */
export function isRedisScore(text: string): boolean {
  if (INFINITY.test(text)) return true;
  const decimal = DECIMAL.exec(text);
  if (decimal) {
    const value = Number(text);
    // Non-zero digits that round to zero: strtod's underflow, refused like an overflow.
    return Number.isFinite(value) && (value !== 0 || !/[1-9]/.test(decimal[1]!));
  }
  const hex = HEX.exec(text);
  if (hex) return hexInRange(hex[1]!, hex[2] === undefined ? 0 : Number(hex[2].slice(1)));
  return false;
}

/**
 * Whether the hexadecimal float `digits` (with an optional point) × 2^`exponent`, rounded to a
 * double (to nearest, ties to even, as strtod does), is finite and — unless exactly zero — not
 * zero.
 */
function hexInRange(digits: string, exponent: number): boolean {
  const point = digits.indexOf('.');
  const fraction = point < 0 ? 0 : digits.length - point - 1;
  const mantissa = BigInt(`0x${digits.replace('.', '') || '0'}`);
  if (mantissa === 0n) return true;
  if (!Number.isSafeInteger(exponent)) return false;
  const bits = mantissa.toString(2).length;
  const lead = bits - 1 + exponent - 4 * fraction; // exponent of the leading bit
  if (lead > MAX_EXPONENT) return false;
  const precision = Math.min(53, lead - MIN_BIT + 1); // significant bits the double keeps
  if (precision < 0) return false;
  const shift = BigInt(bits - precision);
  if (shift <= 0n) return true;
  const kept = mantissa >> shift;
  const rest = mantissa & ((1n << shift) - 1n);
  const half = 1n << (shift - 1n);
  const rounded = rest > half || (rest === half && (kept & 1n) === 1n) ? kept + 1n : kept;
  if (rounded === 0n) return false;
  // Rounding up may carry into a new leading bit: past the largest exponent that is an overflow.
  return !(lead === MAX_EXPONENT && rounded.toString(2).length > precision);
}
