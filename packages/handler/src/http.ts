/**
 * HTTP request bodies: the two views of a body (its bytes and their text) every provider
 * adapter builds, and the function's `input` read from a request. Headers are normalised in
 * `http-headers.ts`, query parameters in `http-query.ts`, responses in `response.ts`.
 */
import { isUtf8 } from 'node:buffer';
import { MalformedEventError } from './errors.js';
import { decodeBase64Strict } from './internal/base64.js';
import { jsonTextTooDeep, parseJsonLossless, valueTooDeep, withoutBom, MAX_JSON_DEPTH } from './internal/json.js';
import { hasSeveralMediaTypes, isTextualContentType } from './internal/media-type.js';
import { charsetBytesLost, checkOneCharset, codedBodyLost, codingLikelyLeft, contentCodings, declaredCharset, formFieldsIn, stillContentCoded, textInCharset } from './http-body.js';
import { setOwn } from './internal/record.js';
import type { BodyMode } from './message.js';
import type { HttpRequest } from './types.js';

export { isTextualContentType };

/**
 * What the function receives as `input` for an HTTP request: the JSON body when there is
 * one, the form fields of a urlencoded body, the text of a textual body, the exact bytes (a
 * `Buffer`) of a binary one, and the query parameters when there is no body. Under `'auto'` a
 * body that cannot be read as text is its exact bytes whatever its type: one with a
 * `Content-Encoding` other than `identity`, one that is not valid in the charset it declares
 * (UTF-8 when it declares none), one in a charset this Node.js cannot decode (TextDecoder),
 * and a form whose percent-decoded bytes are not valid in its charset. A byte order mark
 * decides the encoding and is removed (see `textInCharset`). An unparseable JSON body, or one
 * that is not UTF-8 (RFC 8259 §8.1), is a typed 400; a leading byte order mark before JSON is
 * ignored.
 *
 * `textDecoded`: the provider has already decoded the body to text (the OpenWhisk controller
 * reads every textual body as UTF-8; Lambda's `isBase64Encoded: false` bodies from API Gateway,
 * ALB and Function URLs are text), so `rawBytes` are that text's UTF-8 and a declared
 * `charset` is not applied to them again (a form's percent-escapes are still decoded in it).
 * Such a text holding U+FFFD has lost its bytes when they were coded or in another charset.
 *
 * `codingUndone`: the provider has already undone the body's `Content-Encoding` and kept the
 * header (the Functions Framework's body parsers inflate gzip, deflate and br before the function
 * runs), so the bytes are never taken for still coded, whatever they look like.
 *
 * @throws MalformedEventError (`MALFORMED_EVENT`, 400) under `'text'` for a body not valid in
 *   its charset (field `body`), for JSON that does not parse or is not UTF-8, and for more than
 *   one Content-Type (field `headers.content-type`)
 * @throws SteadyError (`UNSUPPORTED_MEDIA_TYPE`, 415) under `'text'` for a charset this Node.js
 *   cannot decode (field `headers.content-type.charset`); in any mode but `'bytes'`, for a
 *   `charset` given more than once with different values (same field); in any mode, for `textDecoded` text
 *   holding U+FFFD under a declared charset other than UTF-8 (field
 *   `headers.content-type.charset`, its bytes lost) or under a `Content-Encoding` likely not
 *   undone (field `headers.content-encoding`)
 */
export function httpInput(request: HttpRequest, mode: BodyMode = 'auto', textDecoded = false, codingUndone = false): unknown {
  const body = request.rawBody;
  if (body === undefined || body === '') {
    // Bytes with no text (a hand-built request with rawBytes alone) are still a binary body.
    const bytes = request.rawBytes;
    if (bytes !== undefined && (mode === 'bytes' || !isTextualContentType(request.headers['content-type']))) return bytes;
    if (mode === 'bytes' || mode === 'text' || mode === 'json') return mode === 'bytes' ? Buffer.alloc(0) : mode === 'text' ? '' : undefined;
    return fieldsOf(request.multiQuery, request.query);
  }
  const type = (request.headers['content-type'] ?? '').toLowerCase();
  const semi = type.indexOf(';');
  const essence = (semi === -1 ? type : type.slice(0, semi)).trim();
  const json = essence.includes('json');
  // Text in a declared charset other than UTF-8 (RFC 9110 §8.3.2) is the text that charset names
  // (JSON is UTF-8 only: RFC 8259 §8.1). Decoded only where a text is answered.
  const charset = json ? undefined : declaredCharset(type);
  if (textDecoded && body.includes('\uFFFD')) {
    // U+FFFD in a text the provider decoded as UTF-8: where the bytes were coded or in another
    // charset, they were lost. A genuine U+FFFD in UTF-8 text a proxy already inflated is kept.
    const nonUtf8 = charset !== undefined && charset.encoding !== 'utf-8';
    const codings = codingUndone ? [] : contentCodings(request.headers['content-encoding']);
    if (codings.length > 0 && (nonUtf8 || codingLikelyLeft(body, codings))) throw codedBodyLost();
    if (nonUtf8) throw charsetBytesLost();
  }
  if (mode === 'bytes') return request.rawBytes ?? Buffer.from(body, 'utf8');
  // Content-Type is one value (RFC 9110 §8.3): with two (two lines, or one a provider joined with
  // `,`), what the body is depends on who reads which — a WAF or validator in front the first,
  // this parse the one naming JSON. Refused rather than guessed.
  if ((request.multiHeaders?.['content-type']?.length ?? 0) > 1 || hasSeveralMediaTypes(type)) {
    throw new MalformedEventError('Request has more than one Content-Type', [{ field: 'headers.content-type', message: 'More than one media type', expected: 'one media type' }]);
  }
  checkOneCharset(type); // a charset given twice, differently, is as ambiguous: 415
  const bytes = request.rawBytes;
  const inCharset = (): string | null | undefined => (bytes === undefined || textDecoded ? undefined : textInCharset(bytes, charset, mode));
  if (mode === 'text') return inCharset() ?? checkedText(request, body);
  if (mode === 'json' || json) return parseJsonBody(checkedText(request, body));
  // Under 'auto' a body is never garbled nor refused for its encoding: one that cannot be read as
  // text is its exact bytes (a Buffer), whatever its type says. A body still coded by its
  // `Content-Encoding` is bytes whatever they look like (see `stillContentCoded`).
  if (bytes !== undefined && !codingUndone && stillContentCoded(request.headers['content-encoding'], bytes)) return bytes;
  // Without a content type, JSON is taken only when nothing is lost; anything else stays text —
  // but bytes that are not UTF-8 are no text (a gzip body, a file).
  if (type === '') {
    if (bytes !== undefined && !textDecoded && !isUtf8(bytes)) return bytes;
    return /^\s*[[{]/.test(body) ? (parseJsonLossless(body)?.value ?? body) : body;
  }
  // A request built by hand may lack the bytes; its text is all there is.
  const exact = (): Buffer => bytes ?? Buffer.from(body, 'utf8');
  if (!isTextualContentType(type)) return exact();
  // Text in its declared charset, else UTF-8 text; bytes that are neither (Latin-1 or UTF-16 sent
  // without a charset, XML whose declaration names its encoding, bytes invalid in the charset
  // declared or in one nobody knows) are handed over as they came.
  const declared = inCharset();
  const text = declared === null ? undefined : (declared ?? (bytes === undefined || textDecoded || isUtf8(bytes) ? body : undefined));
  if (text === undefined) return exact();
  if (essence !== 'application/x-www-form-urlencoded') return text;
  // A form's percent-escapes are bytes in its charset, even where the provider decoded the text.
  if (charset !== undefined && charset.encoding === undefined) return exact();
  return formFieldsIn(text, charset?.encoding) ?? exact();
}

/** A body that must be text: bytes that are not UTF-8 (JSON must be, RFC 8259 §8.1) are a 400. */
function checkedText(request: HttpRequest, body: string): string {
  if (request.rawBytes !== undefined && !isUtf8(request.rawBytes)) {
    throw new MalformedEventError('Request body is not UTF-8 text', [{ field: 'body', message: 'Invalid UTF-8', expected: 'UTF-8 text' }]);
  }
  return body;
}

/** Form fields or query parameters as `input`: a repeated name keeps every value, as an array. */
function fieldsOf(multi: Record<string, string[]>, single: Record<string, string>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [key, value] of Object.entries(single)) setOwn(out, key, value);
  for (const [key, values] of Object.entries(multi)) if (values.length > 1) setOwn(out, key, [...values]);
  return out;
}

/**
 * A JSON request body's value; a leading byte order mark is ignored (RFC 8259 §8.1).
 * @throws MalformedEventError (`MALFORMED_EVENT`, 400) for text that is not JSON or nests deeper than `MAX_JSON_DEPTH`
 */
export function parseJsonBody(given: string): unknown {
  const body = withoutBom(given);
  if (jsonTextTooDeep(body)) {
    throw new MalformedEventError(`Request body is JSON nested deeper than ${MAX_JSON_DEPTH} levels`, [{ field: 'body', message: 'Nested too deep', expected: `JSON at most ${MAX_JSON_DEPTH} levels deep` }]);
  }
  try {
    return JSON.parse(body);
  } catch {
    throw new MalformedEventError('Request body is not valid JSON', [{ field: 'body', message: 'Invalid JSON', expected: 'a JSON document' }]);
  }
}

/** The two views of a request body: its exact bytes and their UTF-8 text. */
export interface RequestBody {
  rawBody: string | undefined;
  rawBytes: Buffer | undefined;
}

/** A body received as bytes; the text is decoded from them, so there is one read and no copy. */
export function bodyFromBytes(bytes: Buffer): RequestBody {
  return bytes.length === 0 ? { rawBody: undefined, rawBytes: undefined } : { rawBody: bytes.toString('utf8'), rawBytes: bytes };
}

/**
 * A body a provider handed over as text, or as base64 when `isBase64`. A value some provider
 * already parsed is re-serialised as JSON text, so input parsing is uniform; it has no exact
 * bytes. An empty string stays an empty `rawBody`, without bytes.
 */
export function decodeBody(body: unknown, isBase64: boolean): RequestBody {
  if (body === undefined || body === null) return { rawBody: undefined, rawBytes: undefined };
  if (typeof body !== 'string') {
    if (valueTooDeep(body)) throw new MalformedEventError(`Request body is JSON nested deeper than ${MAX_JSON_DEPTH} levels`, [{ field: 'body', message: 'Nested too deep', expected: `JSON at most ${MAX_JSON_DEPTH} levels deep` }]);
    return { rawBody: JSON.stringify(body), rawBytes: undefined };
  }
  if (body === '') return { rawBody: '', rawBytes: undefined };
  if (!isBase64) return { rawBody: body, rawBytes: Buffer.from(body, 'utf8') };
  // Node's decoder skips characters that are not base64: junk would become other bytes.
  const bytes = decodeBase64Strict(body);
  if (bytes === undefined) throw new MalformedEventError('Request body is marked base64 but is not base64', [{ field: 'body', message: 'Not base64', expected: 'base64 text (isBase64Encoded)' }]);
  return { rawBody: bytes.toString('utf8'), rawBytes: bytes.length === 0 ? undefined : bytes };
}
