/**
 * The fields of an `application/x-www-form-urlencoded` request body, percent-decoded in the
 * form's charset, strictly.
 */
import { setOwn, getOwn } from './internal/record.js';

/** One fatal decoder per encoding, reused: a decoder is not cheap to build (one per escape was 17× slower on a 1 MiB form). */
const decoders = new Map<string, InstanceType<typeof TextDecoder>>();

/** `bytes` as text in `encoding`, strictly (U+FFFD never stands in), with a reused decoder; undefined when invalid. */
function decodeReused(bytes: Uint8Array, encoding: string): string | undefined {
  let decoder = decoders.get(encoding);
  if (decoder === undefined) decoders.set(encoding, (decoder = new TextDecoder(encoding, { fatal: true, ignoreBOM: true })));
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined; // a fatal decode without `stream` leaves the decoder reset for the next call
  }
}

const isHex = (c: number): boolean => (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);

/**
 * Percent-decodes one form name or value (`+` already a space): its `%XX` escapes and the ASCII
 * characters around them are ONE byte sequence, decoded once in `encoding` — in Shift_JIS, GBK,
 * Big5 a character's second byte may be an unescaped ASCII letter (ア is `%83A`), and
 * ISO-2022-JP's escape sequences mix both. A `%` not followed by two hex digits stays a `%`
 * (WHATWG URL Standard, "percent-decode"). Characters beyond ASCII (a provider's text of raw
 * bytes) are kept as they are. Undefined when the bytes are not valid in `encoding`.
 */
function percentDecode(text: string, encoding: string): string | undefined {
  if (!text.includes('%')) return text;
  if (encoding === 'utf-8') {
    try {
      return decodeURIComponent(text); // native and strict: throws on invalid UTF-8 and on a stray `%`
    } catch {
      // a stray `%` (kept) or invalid UTF-8 (undefined): the byte path below decides
    }
  }
  const bytes = new Uint8Array(text.length);
  let length = 0;
  let out = '';
  for (let i = 0; i < text.length; ) {
    const c = text.charCodeAt(i);
    if (c === 0x25 && i + 2 < text.length && isHex(text.charCodeAt(i + 1)) && isHex(text.charCodeAt(i + 2))) {
      bytes[length++] = Number.parseInt(text.slice(i + 1, i + 3), 16);
      i += 3;
    } else if (c < 0x80) {
      bytes[length++] = c;
      i += 1;
    } else {
      const decoded = decodeReused(bytes.subarray(0, length), encoding);
      if (decoded === undefined) return undefined;
      let end = i + 1;
      while (end < text.length && text.charCodeAt(end) >= 0x80) end += 1;
      out += decoded + text.slice(i, end);
      length = 0;
      i = end;
    }
  }
  const decoded = decodeReused(bytes.subarray(0, length), encoding);
  return decoded === undefined ? undefined : out + decoded;
}

/** The name of the field an HTML form fills with its submission's encoding (HTML, "constructing the entry list"). */
const CHARSET_FIELD = '_charset_';

/**
 * Whether a raw (still escaped) field name is `_charset_`, ASCII case-insensitively as HTML
 * matches it (a form may name its hidden input `_CHARSET_`: whatwg/html#5914), sent as it is
 * (a browser never escapes `_`) or escaped.
 */
function isCharsetField(rawName: string): boolean {
  const name = rawName.includes('%') ? percentDecode(rawName, 'utf-8') : rawName;
  // ASCII only: toLowerCase() would also fold non-ASCII letters (U+212A KELVIN SIGN is `k`).
  return name !== undefined && name.length === CHARSET_FIELD.length && name.replace(/[A-Z]/g, (c) => c.toLowerCase()) === CHARSET_FIELD;
}

/**
 * Encodings a `_charset_` field may NOT choose: the body, not the client's `Content-Type`, names
 * it, so anything in front of the function (a WAF, a proxy's logs) reads the form as UTF-8 and
 * must see the same ASCII the function gets. ISO-2022-JP is stateful — its escape sequences
 * (`ESC ( B`) decode to nothing, so `<scr%1B%28Bipt>` that a WAF reads as harmless becomes
 * `<script>`; UTF-16 is not ASCII-compatible. Every other encoding TextDecoder knows (UTF-8, the
 * single-byte ones, Shift_JIS, EUC-JP, EUC-KR, GBK, gb18030, Big5) decodes ASCII bytes as that
 * ASCII and, strictly, never makes ASCII out of other bytes. (`replacement` and UTF-7 have no
 * TextDecoder.)
 */
const NOT_FROM_CHARSET_FIELD = new Set(['iso-2022-jp', 'utf-16be', 'utf-16le']);

/**
 * The encoding (WHATWG Encoding Standard name) the first `_charset_` field of a form's pairs
 * names: HTML fills a hidden input named `_charset_` with the encoding it submits the form in
 * (the page's: `windows-1252`, `Shift_JIS`), the one sign of it a form without a `charset`
 * parameter carries. As HTML's legacy urlencoded decoding, the first such field whose value is a
 * label of an encoding decides and later ones are ignored; a label TextDecoder cannot decode or
 * one `NOT_FROM_CHARSET_FIELD` names counts as none. Undefined without such a field (UTF-8).
 */
function charsetFieldEncoding(pairs: readonly string[]): string | undefined {
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq === -1 || !isCharsetField(pair.slice(0, eq))) continue;
    const label = percentDecode(pair.slice(eq + 1).replaceAll('+', ' '), 'utf-8');
    let encoding: string | undefined;
    try {
      encoding = label === undefined ? undefined : new TextDecoder(label).encoding;
    } catch {
      encoding = undefined; // a label TextDecoder cannot decode, or one of those it maps to `replacement`
    }
    if (encoding !== undefined && !NOT_FROM_CHARSET_FIELD.has(encoding)) return encoding;
  }
  return undefined;
}

/**
 * The fields of an `application/x-www-form-urlencoded` body, its text already read (`a=1&a=2&b=x+y`
 * → `{ a: ['1', '2'], b: 'x y' }`: a repeated name keeps every value, as an array), parsed as
 * the WHATWG URL Standard's urlencoded parser does — split on `&`, then the first `=`, `+` is a
 * space — except that percent-decoded bytes are text in the form's charset `encoding` (as a
 * browser encodes a form in its page's charset, and as body-parser's `charset` and servlet
 * containers read it: `name=Jos%E9` under `charset=ISO-8859-1` is `José`). Without an
 * `encoding` (the body's `Content-Type` names no charset), the one a `_charset_` field names
 * (`_charset_=Shift_JIS&q=%93%FA%96%7B` is `{ _charset_: 'Shift_JIS', q: '日本' }`: HTML's form
 * submission encodes in the page's encoding and fills that field with its name, while the WHATWG
 * URL Standard's parser reads UTF-8 only; the field's name matched ASCII case-insensitively, the
 * first one deciding; ISO-2022-JP and UTF-16 never taken from it, see `NOT_FROM_CHARSET_FIELD`),
 * else UTF-8. UTF-16, which no browser sends a form in
 * (the Encoding Standard's "output encoding"), percent-decodes as UTF-8. Undefined when an
 * escaped byte sequence is not valid in that charset (`%E9` alone under UTF-8): never U+FFFD in
 * place of what was sent.
 */
export function formFieldsIn(text: string, encoding?: string): Record<string, string | string[]> | undefined {
  const pairs = text.split('&');
  const named = encoding ?? charsetFieldEncoding(pairs) ?? 'utf-8';
  const bytesIn = named === 'utf-16le' || named === 'utf-16be' ? 'utf-8' : named;
  const all: Record<string, string[]> = {};
  for (const pair of pairs) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = percentDecode((eq === -1 ? pair : pair.slice(0, eq)).replaceAll('+', ' '), bytesIn);
    const value = percentDecode(eq === -1 ? '' : pair.slice(eq + 1).replaceAll('+', ' '), bytesIn);
    if (name === undefined || value === undefined) return undefined;
    const values = getOwn(all, name);
    if (values) values.push(value);
    else setOwn(all, name, [value]);
  }
  const fields: Record<string, string | string[]> = {};
  for (const [name, values] of Object.entries(all)) setOwn(fields, name, values.length === 1 ? values[0]! : values);
  return fields;
}
