/**
 * The charset of an HTTP request body: the one its `Content-Type` declares (a repeated, differing
 * `charset` refused), and its bytes read as text in it, strictly (never U+FFFD in place of what
 * was sent). `httpInput` (http.ts) decides what the function receives from these answers.
 */
import { httpError, MalformedEventError, type SteadyError } from './errors.js';
import { parseMediaType, repeatedCharsets } from './internal/media-type.js';
import type { BodyMode } from './message.js';

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

/**
 * Refuses a `Content-Type` whose `charset` is given more than once with different values
 * (`text/plain; charset=utf-8; charset=latin1`): readers in front of the function may take
 * either (see `repeatedCharsets` for why), so the body's text is ambiguous. The label is not
 * echoed.
 *
 * @throws SteadyError (`UNSUPPORTED_MEDIA_TYPE`, 415, field `headers.content-type.charset`)
 */
export function checkOneCharset(contentType: string): void {
  if (repeatedCharsets(contentType) === undefined) return;
  throw httpError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Request body declares more than one charset', {
    issues: [{ field: 'headers.content-type.charset', message: 'More than one charset', expected: 'one charset parameter' }],
  });
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
