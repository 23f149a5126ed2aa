/**
 * JSON read from outside input: bounded in depth (a document nested 100k deep must be a clear
 * 400, not a stack overflow in a later `JSON.stringify` or schema walk), and parsed without
 * silent loss when the sender did not say it is JSON.
 */

/**
 * The deepest nesting of arrays and objects accepted from outside input. Deeper documents are
 * refused as malformed on every provider.
 * @default 512
 */
export const MAX_JSON_DEPTH = 512;

/** Whether JSON text nests arrays/objects deeper than `max` (strings are skipped; invalid text is not judged). */
export function jsonTextTooDeep(text: string, max = MAX_JSON_DEPTH): boolean {
  // Cheap exit: a document cannot nest deeper than it has brackets.
  if (text.length <= max) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** Whether an already-parsed value nests arrays/objects deeper than `max`; iterative, so any depth is safe to ask about. */
export function valueTooDeep(value: unknown, max = MAX_JSON_DEPTH): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const stack: Array<[object, number]> = [[value, 1]];
  const seen = new Set<object>();
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (depth > max) return true;
    if (seen.has(node)) continue;
    seen.add(node);
    // Bytes are a leaf, not a container of numbers.
    if (ArrayBuffer.isView(node)) continue;
    for (const child of Object.values(node)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}

/**
 * Sign-free decimal digits and exponent of a number literal, trailing zeros dropped: `1.50` and
 * `15e-1` give the same. The exponent is a BigInt: JSON puts no bound on it, and as a `Number`
 * `1e9007199254740993` and `1e9007199254740992` would be one value.
 */
function decimal(literal: string): string {
  const text = literal.trim().replace(/^[-+]/, '').toLowerCase();
  const e = text.indexOf('e');
  const coefficient = e === -1 ? text : text.slice(0, e);
  let exponent = e === -1 ? 0n : BigInt(text.slice(e + 1));
  const dot = coefficient.indexOf('.');
  let digits = dot === -1 ? coefficient : coefficient.slice(0, dot) + coefficient.slice(dot + 1);
  if (dot !== -1) exponent -= BigInt(coefficient.length - dot - 1);
  digits = digits.replace(/^0+/, '');
  if (digits === '') return '0';
  const trimmed = digits.replace(/0+$/, '');
  exponent += BigInt(digits.length - trimmed.length);
  return `${trimmed}e${exponent}`;
}

/** Whether a JSON number literal keeps its value as a JavaScript number (`12345678901234567890` and `89e7073266` do not). */
export function isLosslessNumber(literal: string, value: number): boolean {
  if (!Number.isFinite(value)) return false;
  const negative = literal.trimStart().startsWith('-');
  if (value === 0) return decimal(literal) === '0';
  return negative === value < 0 && decimal(literal) === decimal(String(value));
}

/**
 * Number literals that might not survive: 16+ digits, a decimal point among them or not
 * (`123456789012345.67890123` rounds as surely as `12345678901234567890`), or an exponent.
 * Others always do: a double keeps any 15 significant digits.
 */
const MAYBE_LOSSY = /(?:\d\.?){16}|\d[eE]/;

/**
 * `text` without a leading byte order mark (U+FEFF, the bytes `EF BB BF` decoded as UTF-8).
 * RFC 8259 §8.1 lets a JSON parser ignore one and WHATWG's UTF-8 decode (`response.json()`)
 * drops it; Windows clients (PowerShell 5.1, .NET `Encoding.UTF8`) send one. `JSON.parse`
 * refuses it, so every JSON read of outside text goes through here first.
 */
export function withoutBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

type SourceReviver = (this: unknown, key: string, value: unknown, context: { source?: string }) => unknown;

class LossyNumber extends Error {}

const checkNumbers: SourceReviver = (_key, value, context) => {
  if (typeof value === 'number' && context.source !== undefined && !isLosslessNumber(context.source, value)) throw new LossyNumber();
  return value;
};

/**
 * Parses JSON text only when nothing is lost: every number keeps its exact decimal value (a
 * leading byte order mark is ignored).
 * `undefined` when the text is not JSON, is nested deeper than `MAX_JSON_DEPTH`, or a number
 * would change (`'12345678901234567890'`, `'89e7073266'`), so the caller keeps the text.
 */
export function parseJsonLossless(given: string): { value: unknown } | undefined {
  const text = withoutBom(given);
  if (jsonTextTooDeep(text)) return undefined;
  try {
    if (!MAYBE_LOSSY.test(text)) return { value: JSON.parse(text) as unknown };
    return { value: JSON.parse(text, checkNumbers as Parameters<typeof JSON.parse>[1]) as unknown };
  } catch {
    return undefined;
  }
}

/**
 * A JSON text's value with every number `JSON.parse` would change in exact form,
 * `{ exactNumber: '<sign><digits>e<exponent>' }` (`12345678901234567891` — a plain parse gives
 * `12345678901234567000` — is `{ exactNumber: '12345678901234567891e0' }`), the same for one
 * value however it is written (`12345678901234567891.0`, `1.2345678901234567891e19`).
 * `undefined` when every number survives a plain parse (the usual case), the text is not JSON,
 * or it nests deeper than `MAX_JSON_DEPTH`. For code that must tell apart two bodies a plain
 * parse makes equal (idempotency keys and fingerprints).
 */
export function jsonExactNumbers(given: string): unknown {
  const text = withoutBom(given);
  if (!MAYBE_LOSSY.test(text) || jsonTextTooDeep(text)) return undefined;
  let lossy = false;
  const exact: SourceReviver = (_key, value, context) => {
    const source = context.source;
    if (typeof value !== 'number' || source === undefined || isLosslessNumber(source, value)) return value;
    lossy = true;
    const literal = source.trim();
    // By value, not by how it is written: `12345678901234567891`, `12345678901234567891.0` and
    // `1.2345678901234567891e19` are one number, so one form — and a compact one: as digits an
    // integer such as `1e999` would be a thousand characters to hash for five in the body.
    return { exactNumber: `${literal.startsWith('-') ? '-' : ''}${decimal(literal)}` };
  };
  try {
    const value: unknown = JSON.parse(text, exact as Parameters<typeof JSON.parse>[1]);
    return lossy ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Whether text could be a JSON document at all (so plain words are not even tried). */
export function looksLikeJson(text: string): boolean {
  const trimmed = text.trim();
  if (trimmed === '') return false;
  const first = trimmed.charCodeAt(0);
  // { [ " - 0-9, or a literal
  return first === 0x7b || first === 0x5b || first === 0x22 || first === 0x2d || (first >= 0x30 && first <= 0x39) || trimmed === 'true' || trimmed === 'false' || trimmed === 'null';
}
