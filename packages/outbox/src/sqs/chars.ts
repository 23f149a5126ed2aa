/**
 * The characters SQS accepts in a message body and in string attribute values: the XML 1.0
 * `Char` production, `#x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]`
 * (SQS API reference, SendMessage `MessageBody`). Anything else is answered with
 * `InvalidMessageContents` — or, as newer SDK docs warn, may be replaced with U+FFFD — so the
 * sender checks before it sends.
 */

/**
 * One character outside the allowed set. In `u` mode a lone surrogate (U+D800–U+DFFF not
 * paired) is its own code point and falls outside every range, so it is caught too.
 */
const INVALID = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
/**
 * Every code unit that can start a refused character or a surrogate pair: a string with none
 * of them is valid, and this test (no `u` flag, a positive class) scans 1.5–4× faster than
 * `INVALID`. Only a string that holds one — a control character, U+FFFE/U+FFFF or any
 * surrogate, paired or not — pays for the exact scan.
 */
const SUSPECT = /[\x00-\x08\x0B\x0C\x0E-\x1F\uD800-\uDFFF\uFFFE\uFFFF]/;
const LONE_SURROGATE = /\p{Surrogate}/u;

/** Where the first character SQS refuses sits in a string. */
export interface InvalidCharacter {
  /** UTF-16 index of the character in the string. */
  index: number;
  /** Its code point, e.g. `0x1` or `0xfffe` (never the text around it: that is payload). */
  codePoint: number;
  /** A lone surrogate cannot be encoded as UTF-8 at all, so not even base64 can carry it. */
  loneSurrogate: boolean;
}

/**
 * Finds the first character SQS would refuse, or `undefined` when every character is allowed.
 *
 * @example
 * findInvalidCharacter('ok\u0001') // { index: 2, codePoint: 1, loneSurrogate: false }
 */
export function findInvalidCharacter(text: string): InvalidCharacter | undefined {
  if (!SUSPECT.test(text)) return undefined;
  const match = INVALID.exec(text);
  if (match === null) return undefined;
  const codePoint = match[0].codePointAt(0)!;
  return { index: match.index, codePoint, loneSurrogate: codePoint >= 0xd800 && codePoint <= 0xdfff };
}

/** Whether `text` holds a surrogate that is not part of a pair (not well-formed UTF-16). */
export function hasLoneSurrogate(text: string): boolean {
  return LONE_SURROGATE.test(text);
}

/** `U+0001`-style label for messages (a code point, never the payload around it). */
export function codePointLabel(codePoint: number): string {
  return `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * Characters SQS refuses in a body that `JSON.stringify` leaves as they are (it escapes C0
 * controls and lone surrogates itself). Outside string literals JSON is ASCII, so each one
 * found is inside a string and its `\uXXXX` escape parses back to the same text.
 */
const SQS_REFUSED_IN_JSON = /[\uFFFE\uFFFF]/g;

/**
 * `JSON.stringify(value)` as a body SQS accepts as it is: U+FFFE and U+FFFF (allowed in
 * JavaScript strings, refused by SQS, left raw by `JSON.stringify`) written as `\ufffe` /
 * `\uffff` escapes, so `JSON.parse` gives back the same value. The one rule for every JSON
 * body the outbox sends: event envelopes (`serializeEvent`) and watchdog messages.
 *
 * @throws {TypeError} what `JSON.stringify` throws (a BigInt, a cycle).
 * @example
 * stringifyForSqs({ k: 'a\uFFFEb' }) // '{"k":"a\\ufffeb"}'
 */
export function stringifyForSqs(value: unknown): string {
  return JSON.stringify(value).replace(SQS_REFUSED_IN_JSON, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}
