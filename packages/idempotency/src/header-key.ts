/**
 * Reading a client's `Idempotency-Key` header: the bare form most clients send and the IETF
 * draft's structured-field String, and what makes a value no key (empty, too long, two keys).
 */
import { parseItem, parseList, type List } from 'structured-headers';

/** The request header a client sends its key in (lower case, as the handler normalises headers). */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
/** Longest key accepted from a client (as Stripe); keys are hashed, so this only bounds abuse. */
export const MAX_KEY_LENGTH = 255;

/** Longest `Idempotency-Key` field value read: a quoted key at its longest with every character escaped, and room for parameters. */
const MAX_HEADER_LENGTH = 1024;

/**
 * The result of reading an `Idempotency-Key` header: the key, or why it is not one.
 * `ambiguous` is set when the value holds more than one key (a repeated header, which
 * providers join as `a, b`, or a structured-field list).
 */
export type HeaderParse = { ok: true; key: string } | { ok: false; reason: string; ambiguous?: true };

/**
 * The IETF draft sends the key as a structured-field Item whose value is a String
 * (`"8e03…"`); Stripe and most clients send it bare. Both are accepted; anything else is a
 * typed 400. A value that starts with `"` is parsed as an RFC 9651 structured field by the
 * `structured-headers` package: its parameters (`"8e03…";v=1`, §3.1.2) are ignored — the key
 * is the string alone — and a malformed one is a 400. A bare key is taken whole, `;` included
 * (it is no structured field). A comma outside a quoted key separates two keys (RFC 9110 §5.3
 * joins repeated headers with `, `): ambiguous.
 *
 * @example
 * parseIdempotencyKeyHeader('"8e03978e"'); // { ok: true, key: '8e03978e' }
 * parseIdempotencyKeyHeader('"8e03978e";p=1'); // { ok: true, key: '8e03978e' }
 * parseIdempotencyKeyHeader('a, b');       // { ok: false, reason: 'More than one key', ambiguous: true }
 */
export function parseIdempotencyKeyHeader(raw: string): HeaderParse {
  const value = raw.replace(/^[ \t]+|[ \t]+$/g, '');
  if (value.length === 0) return { ok: false, reason: 'Empty' };
  if (value.length > MAX_HEADER_LENGTH) return { ok: false, reason: 'Too long' };
  let key = '';
  if (value.startsWith('"')) {
    const quoted = structuredKey(value);
    if (!quoted.ok) return quoted;
    key = quoted.key;
  } else {
    for (let i = 0; i < value.length; i++) {
      const c = value.charCodeAt(i);
      if (c < 0x20 || c > 0x7e) return { ok: false, reason: 'Not printable ASCII' };
      if (c === 0x2c) return { ok: false, reason: 'More than one key', ambiguous: true };
    }
    key = value;
  }
  if (key.length === 0) return { ok: false, reason: 'Empty' };
  if (key.length > MAX_KEY_LENGTH) return { ok: false, reason: 'Too long' };
  return { ok: true, key };
}

/**
 * A field value that starts with `"`, read as the draft's Item: parsed as a List so a second
 * key after a comma is seen as one (ambiguous); its one member must be a String, whose
 * parameters are ignored. A value that is no List but begins with a whole Item and a comma is
 * a quoted key joined with a key that is no structured field (`"k1", 8e03-…`): ambiguous too.
 * Reasons are fixed texts: the parser's messages can quote the value.
 */
function structuredKey(value: string): HeaderParse {
  let members: List;
  try {
    members = parseList(value);
  } catch {
    return startsWithItemAndComma(value) ? { ok: false, reason: 'More than one key', ambiguous: true } : { ok: false, reason: 'Not a structured-field String' };
  }
  if (members.length !== 1) return { ok: false, reason: 'More than one key', ambiguous: true };
  const bare = members[0]![0];
  if (typeof bare !== 'string') return { ok: false, reason: 'Not a structured-field String' };
  return { ok: true, key: bare };
}

/** Whether some text before a comma in `value` is a whole structured-field Item (parameters included). */
function startsWithItemAndComma(value: string): boolean {
  for (let comma = value.indexOf(','); comma >= 0; comma = value.indexOf(',', comma + 1)) {
    try {
      parseItem(value.slice(0, comma).replace(/[ \t]+$/, ''));
      return true;
    } catch {
      // Not an Item yet: the comma may sit inside a quoted parameter.
    }
  }
  return false;
}
