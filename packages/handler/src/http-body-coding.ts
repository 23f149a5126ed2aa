/**
 * Whether a `Content-Encoding` still applies to a request body's bytes, and the 415 for a coded
 * body a provider already read as text.
 */
import { isUtf8 } from 'node:buffer';
import { httpError, type SteadyError } from './errors.js';
import { builtinModule } from './internal/builtin.js';

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

/** The codings a `Content-Encoding` value lists, lower-cased, `identity` left out (`'deflate, gzip'` → `['deflate', 'gzip']`). */
export function contentCodings(contentEncoding: string | undefined): string[] {
  return (contentEncoding ?? '').split(',').map((c) => c.trim().toLowerCase()).filter((c) => c !== '' && c !== 'identity');
}

/**
 * Whether `bytes` are still coded by the codings a `Content-Encoding` value names (RFC 9110
 * §8.4; `identity` is no coding): decided by the coding applied last, the last one listed —
 * `gzip`/`x-gzip` by gzip's magic bytes (RFC 1952 §2.3.1), `deflate` by a zlib stream (RFC 1950:
 * a header, then data that inflates to the end of a stream — bytes after it, such as a trailing
 * CRLF or a second stream, are allowed — or, cut short, inflates without error to the end of the
 * input, yields at least one byte and cannot be plain text: not valid UTF-8, or holding a control
 * byte other than tab, CR and LF) or a whole raw deflate stream (RFC 9110 §8.4.1.2: clients send
 * raw deflate; it must use every byte), any other (`br`, `zstd`…) has no sure signature and
 * counts as still coded. Bytes a gateway already decoded while leaving the header (API Gateway
 * inflates gzip and deflate request bodies when compression is on) lack the signature: false —
 * also text whose first two bytes happen to make a zlib header (`x = 1`, `x y`, `x^2+1`,
 * `HKSAR`, `(Skip)`): printable UTF-8 counts as a zlib stream only when it reaches a stream's
 * end, never cut short. A zlib header with the preset-dictionary bit (FDICT, RFC 1950 §2.2) set
 * is not taken as a zlib stream: it cannot be inflated without the dictionary, and text starting
 * `x ` sets it. No coding: false.
 *
 * @param contentEncoding - the request's `Content-Encoding` header value, as sent
 * @param bytes - the body's bytes as the function received them
 * @returns true when `bytes` still carry the last coding listed
 * @example
 * ```ts
 * stillContentCoded('deflate', deflateSync('hello')); // true
 * stillContentCoded('deflate', Buffer.from('x^2+1')); // false: inflated text, header left on
 * ```
 */
export function stillContentCoded(contentEncoding: string | undefined, bytes: Uint8Array): boolean {
  const codings = contentCodings(contentEncoding);
  const outer = codings[codings.length - 1];
  if (outer === undefined) return false;
  const [a = -1, b = -1] = bytes;
  if (outer === 'gzip' || outer === 'x-gzip') return a === 0x1f && b === 0x8b;
  if (outer === 'deflate') return ((a & 0x0f) === 8 && ((a << 8) | b) % 31 === 0 && zlibStream(bytes)) || wholeRawStream(bytes);
  return true;
}

/** Inflated at most this far to tell a deflate stream: past it the bytes are taken as coded. */
const DEFLATE_PROBE = 64 * 1024 * 1024;

/** zlib, loaded on the first deflate body: not by every cold start. */
function zlib(): typeof import('node:zlib') {
  return builtinModule<typeof import('node:zlib')>('node:zlib');
}

/**
 * Whether `bytes`, which start with a zlib header, are zlib-coded (RFC 1950): they inflate to the
 * end of a stream (bytes after it are left alone), or are cut short — inflate without error to the
 * end of the input (`Z_BUF_ERROR`) — yield at least one byte and cannot be plain text (text such as
 * `x^2+1` or `HKSAR` inflates a few bytes cleanly). A header with FDICT set: false.
 */
function zlibStream(bytes: Uint8Array): boolean {
  if (((bytes[1] ?? 0) & 0x20) !== 0) return false; // preset dictionary: none to inflate with
  const { inflateSync, constants } = zlib();
  try {
    inflateSync(bytes, { maxOutputLength: DEFLATE_PROBE });
    return true; // reached the end of a stream
  } catch (error) {
    if (error instanceof RangeError) return true; // inflated past the probe: a stream, not text
    if ((error as { code?: unknown }).code !== 'Z_BUF_ERROR') return false;
  }
  if (plainText(bytes)) return false; // cut short, yet readable text: inflated text, header left on
  try {
    return inflateSync(bytes, { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: DEFLATE_PROBE }).length > 0; // truncated
  } catch (error) {
    return error instanceof RangeError;
  }
}

/** Whether `bytes` could be plain text: valid UTF-8 with no control byte but tab, CR and LF. */
function plainText(bytes: Uint8Array): boolean {
  return isUtf8(bytes) && !bytes.some((c) => (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || c === 0x7f);
}

/** Whether `bytes` are one whole raw deflate stream (RFC 1951): it inflates without error and uses every byte. */
function wholeRawStream(bytes: Uint8Array): boolean {
  try {
    const { engine } = zlib().inflateRawSync(bytes, { info: true, maxOutputLength: DEFLATE_PROBE }) as unknown as { engine: { bytesWritten: number } };
    return engine.bytesWritten === bytes.length;
  } catch (error) {
    return error instanceof RangeError; // inflated past the probe: a stream, not text
  }
}
