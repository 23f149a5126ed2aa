/**
 * Reading an HTTP request body's bytes as text: the charset its `Content-Type` declares
 * (decoded strictly, never with U+FFFD in place of what was sent), the fields of a form
 * percent-decoded in that charset, and whether a `Content-Encoding` still applies to the bytes.
 * `httpInput` (http.ts) decides what the function receives from these answers.
 */
import { inflateRawSync } from 'node:zlib';
import { httpError, MalformedEventError, type SteadyError } from './errors.js';
import { parseMediaType } from './internal/media-type.js';
import type { BodyMode } from './message.js';
import { setOwn, getOwn } from './internal/record.js';

/** The charset a `Content-Type` declares. */
export interface DeclaredCharset {
  /**
   * The encoding's WHATWG Encoding Standard name (`windows-1252` for the label `iso-8859-1`,
   * `shift_jis`, `utf-8`), or undefined for a label this Node.js's TextDecoder cannot decode
   * (`x-unknown`, or one of the labels it maps to `replacement`, such as `iso-2022-kr`).
   */
  encoding: string | undefined;
}

/** The charset `contentType` declares; undefined without a `charset` parameter. */
export function declaredCharset(contentType: string): DeclaredCharset | undefined {
  const label = parseMediaType(contentType)?.charsetName;
  if (label === undefined) return undefined;
  try {
    return { encoding: new TextDecoder(label).encoding };
  } catch {
    return { encoding: undefined };
  }
}

/**
 * The text `bytes` are in `encoding` (a WHATWG encoding name), or undefined when they are not
 * valid in it (a fatal decoder: an invalid sequence is never replaced by U+FFFD). A leading
 * byte order mark is kept as the character U+FEFF.
 */
export function decodeStrict(bytes: Uint8Array, encoding: string): string | undefined {
  try {
    return new TextDecoder(encoding, { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * The encoding a byte order mark at the start of `bytes` names and the mark's length
 * (WHATWG Encoding Standard, "BOM sniff": `EF BB BF` UTF-8, `FE FF` UTF-16BE, `FF FE` UTF-16LE),
 * or undefined without one.
 */
export function sniffBom(bytes: Uint8Array): { encoding: string; length: number } | undefined {
  const [a, b, c] = bytes;
  if (a === 0xef && b === 0xbb && c === 0xbf) return { encoding: 'utf-8', length: 3 };
  if (a === 0xfe && b === 0xff) return { encoding: 'utf-16be', length: 2 };
  if (a === 0xff && b === 0xfe) return { encoding: 'utf-16le', length: 2 };
  return undefined;
}

/** The 415 for a charset Node's TextDecoder cannot decode. */
function unknownCharset(): SteadyError {
  return httpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Request body is in a charset this function cannot read', {
    issues: [{ field: 'headers.content-type.charset', message: 'Unknown charset', expected: 'a charset this Node.js can decode with TextDecoder (utf-8, iso-8859-1, shift_jis…)' }],
  });
}

/**
 * `bytes` as the text their declared `charset` names: undefined when no charset applies (none
 * declared, or UTF-8 without a byte order mark of another encoding: the caller reads UTF-8),
 * null under `'auto'` when they cannot be read in it (not valid in it, or a charset this
 * Node.js's TextDecoder cannot decode). A byte order mark decides and is removed, as the
 * WHATWG Encoding Standard's "decode" does (RFC 2781 §4.3: `charset=utf-16` with `FE FF` is
 * big-endian): a UTF-16 mark whatever the label, a UTF-8 mark under a label other than UTF-8
 * (under UTF-8 it stays, as the character U+FEFF, in the caller's text like any UTF-8 body's).
 *
 * @throws MalformedEventError (`MALFORMED_EVENT`, 400, field `body`) under `'text'` for bytes
 *   not valid in the charset
 * @throws SteadyError (`UNSUPPORTED_MEDIA_TYPE`, 415, field `headers.content-type.charset`)
 *   under `'text'` for a charset this Node.js cannot decode
 */
export function textInCharset(bytes: Buffer, charset: DeclaredCharset | undefined, mode: BodyMode): string | null | undefined {
  if (charset === undefined) return undefined;
  const bom = sniffBom(bytes);
  const byBom = bom !== undefined && (bom.encoding !== 'utf-8' || charset.encoding !== 'utf-8');
  const encoding = byBom ? bom.encoding : charset.encoding;
  if (encoding === 'utf-8' && !byBom) return undefined;
  if (encoding === undefined) {
    if (mode !== 'text') return null;
    throw unknownCharset();
  }
  const text = decodeStrict(byBom ? bytes.subarray(bom.length) : bytes, encoding);
  if (text !== undefined || mode !== 'text') return text ?? null;
  throw new MalformedEventError('Request body is not text in the charset it declares', [{ field: 'body', message: `Invalid ${encoding}`, expected: `${encoding} text` }]);
}

/**
 * Text in a declared charset other than UTF-8 that a provider already decoded as UTF-8 (U+FFFD
 * stands where its bytes were): the bytes are lost, so it cannot be read in its charset (415,
 * as for a charset this function cannot read).
 */
export function charsetBytesLost(): SteadyError {
  return httpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Request body is in a charset other than UTF-8 that was read as UTF-8 before the function ran: its bytes were lost', {
    issues: [{ field: 'headers.content-type.charset', message: 'Text bytes lost', expected: 'UTF-8 text, or a binary Content-Type (application/octet-stream) for text in another charset' }],
  });
}

/**
 * Whether a text a provider decoded as UTF-8 from a body under the codings `codings` names is
 * likely still coded: a gzip or deflate stream read as UTF-8 holds control characters (gzip's
 * first byte is 0x1F); a genuine U+FFFD in text a proxy already inflated has none. Codings with
 * no such trace (`br`, `zstd`…) count as still coded.
 */
export function codingLikelyLeft(text: string, codings: readonly string[]): boolean {
  const outer = codings[codings.length - 1];
  if (outer === undefined) return false;
  if (outer !== 'gzip' && outer !== 'x-gzip' && outer !== 'deflate') return true;
  return /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(text);
}

/** A coded body a provider read as UTF-8 text: its bytes are lost (RFC 9110 §15.5.16: 415 for a coding the server cannot take). */
export function codedBodyLost(): SteadyError {
  return httpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Request body has a Content-Encoding under a textual type: its bytes were read as text before the function ran', {
    headers: { 'accept-encoding': 'identity' },
    issues: [{ field: 'headers.content-encoding', message: 'Coded text body', expected: 'no Content-Encoding, or a binary Content-Type (application/octet-stream) for a coded body' }],
  });
}

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

/**
 * The fields of an `application/x-www-form-urlencoded` body, its text already read (`a=1&a=2&b=x+y`
 * → `{ a: ['1', '2'], b: 'x y' }`: a repeated name keeps every value, as an array), parsed as
 * the WHATWG URL Standard's urlencoded parser does — split on `&`, then the first `=`, `+` is a
 * space — except that percent-decoded bytes are text in the form's charset `encoding` (as a
 * browser encodes a form in its page's charset, and as body-parser's `charset` and servlet
 * containers read it: `name=Jos%E9` under `charset=ISO-8859-1` is `José`), UTF-8 when it
 * names none. UTF-16, which no browser sends a form in (the Encoding Standard's "output
 * encoding"), percent-decodes as UTF-8. Undefined when an escaped byte sequence is not valid in
 * that charset (`%E9` alone under UTF-8): never U+FFFD in place of what was sent.
 */
export function formFieldsIn(text: string, encoding = 'utf-8'): Record<string, string | string[]> | undefined {
  const bytesIn = encoding === 'utf-16le' || encoding === 'utf-16be' ? 'utf-8' : encoding;
  const all: Record<string, string[]> = {};
  for (const pair of text.split('&')) {
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

/** The codings a `Content-Encoding` value lists, lower-cased, `identity` left out (`'deflate, gzip'` → `['deflate', 'gzip']`). */
export function contentCodings(contentEncoding: string | undefined): string[] {
  return (contentEncoding ?? '').split(',').map((c) => c.trim().toLowerCase()).filter((c) => c !== '' && c !== 'identity');
}

/**
 * Whether `bytes` are still coded by the codings a `Content-Encoding` value names (RFC 9110
 * §8.4; `identity` is no coding): decided by the coding applied last, the last one listed —
 * `gzip`/`x-gzip` by gzip's magic bytes (RFC 1952 §2.3.1), `deflate` by a zlib header (RFC 1950
 * §2.2) or, without one, a raw deflate stream that inflates completely (RFC 9110 §8.4.1.2: clients
 * send raw deflate), any other (`br`, `zstd`…) has no sure signature and counts as still coded. Bytes a
 * gateway already decoded while leaving the header (API Gateway inflates gzip and deflate
 * request bodies when compression is on) lack the signature: false. No coding: false.
 */
export function stillContentCoded(contentEncoding: string | undefined, bytes: Uint8Array): boolean {
  const codings = contentCodings(contentEncoding);
  const outer = codings[codings.length - 1];
  if (outer === undefined) return false;
  const [a = -1, b = -1] = bytes;
  if (outer === 'gzip' || outer === 'x-gzip') return a === 0x1f && b === 0x8b;
  if (outer === 'deflate') return ((a & 0x0f) === 8 && ((a << 8) | b) % 31 === 0) || rawDeflateStream(bytes);
  return true;
}

/** Inflated at most this far to tell a raw deflate stream: past it the bytes are taken as coded. */
const RAW_DEFLATE_PROBE = 64 * 1024 * 1024;

/** Whether `bytes` are one whole raw deflate stream (RFC 1951): it inflates without error and uses every byte. */
function rawDeflateStream(bytes: Uint8Array): boolean {
  try {
    const { engine } = inflateRawSync(bytes, { info: true, maxOutputLength: RAW_DEFLATE_PROBE }) as unknown as { engine: { bytesWritten: number } };
    return engine.bytesWritten === bytes.length;
  } catch (error) {
    return error instanceof RangeError; // inflated past the probe: a stream, not text
  }
}
