/**
 * Apache OpenWhisk web actions: a rendered response as the web action result the controller
 * sends (`statusCode`, `headers`, `body`), and which bodies it cannot send as they are.
 */
import { declaredCharset, decodeStrict, sniffBom } from '../http-body.js';
import { parseMediaType } from '../internal/media-type.js';
import { setOwn } from '../internal/record.js';
import { sentResponse, type HttpResponse } from '../response.js';
import { isOpenWhiskBinaryMedia, isOpenWhiskJsonMedia as isJsonFamily } from './openwhisk-media.js';

/** What a web action returns to the OpenWhisk controller (`.http` extension). */
export interface OpenWhiskWebResult {
  statusCode: number;
  /** A list sends the header once per value (the controller's `headersFromJson`); `set-cookie` is always one line per cookie. */
  headers: Record<string, string | string[]>;
  /**
   * Text for textual media types (bytes the function returned are decoded with the type's
   * `charset`, UTF-8 by default: the controller sends this text as UTF-8, labelled so; bytes
   * not valid in it are answered `INVALID_HTTP_RESULT` instead, see `webBodyUnsendable`);
   * base64 for binary ones (the controller decodes it); a parsed JSON value for JSON media
   * types. Absent for an empty body.
   */
  body?: unknown;
}

function headerValue(headers: HttpResponse['headers'], name: string): string | undefined {
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return typeof v === 'string' ? v : v[0];
  return undefined;
}

/** Headers for the controller: repeated ones as lists, and every cookie its own `set-cookie` line. */
function webHeaders(res: HttpResponse): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(res.headers)) setOwn(headers, name, typeof value === 'string' ? value : [...value]);
  if (res.cookies.length > 0) headers['set-cookie'] = res.cookies.length === 1 ? res.cookies[0]! : [...res.cookies];
  return headers;
}

/**
 * The action result the controller sends for a rendered response to a `method` request: text,
 * base64 or a JSON value as its media type asks (see `OpenWhiskWebResult.body`). A response
 * `webBodyUnsendable` names is answered `INVALID_HTTP_RESULT` before it gets here; given one,
 * its bytes are read as UTF-8 with U+FFFD where they are not.
 */
export function toOpenWhiskWebResult(rendered: HttpResponse, method?: string): OpenWhiskWebResult {
  // A body with 204/304 makes the controller fail the response (akka-http: 500); 205 has none
  // either, nor does any answer to HEAD.
  const res = sentResponse(rendered, method);
  const result: OpenWhiskWebResult = { statusCode: res.status, headers: webHeaders(res) };
  if (res.body === '') return result;
  const mediaType = parseMediaType(headerValue(res.headers, 'content-type'));
  if (mediaType === undefined) {
    // The controller assumes text/html for a string body without a content type.
    result.body = res.isBase64 ? (textOf(res) ?? Buffer.from(res.body, 'base64').toString('utf8')) : res.body;
    return result;
  }
  if (isJsonFamily(mediaType)) {
    if (res.isBase64) {
      result.body = res.body;
      return result;
    }
    let value: unknown;
    try {
      value = JSON.parse(res.body);
    } catch {
      value = undefined;
    }
    // The controller re-serialises a JSON value: only hand it one that serialises back to the
    // same text (big integers, `1e400` or extra spaces would change); otherwise exact bytes.
    const asValue = ((typeof value === 'object' && value !== null) || typeof value === 'number' || typeof value === 'boolean') && JSON.stringify(value) === res.body;
    result.body = asValue ? value : Buffer.from(res.body, 'utf8').toString('base64');
    return result;
  }
  if (isOpenWhiskBinaryMedia(mediaType)) {
    result.body = res.isBase64 ? res.body : Buffer.from(res.body, 'utf8').toString('base64');
  } else {
    result.body = res.isBase64 ? (textOf(res) ?? Buffer.from(res.body, 'base64').toString('utf8')) : res.body;
  }
  return result;
}

/**
 * The text the bytes of a response (`isBase64`) stand for under a textual type or none, strictly
 * in its declared `charset` (UTF-8 without one or with one Node does not know); undefined when
 * they are not valid in it. Under a declared charset a byte order mark decides and is removed,
 * the rule request bodies follow (`textInCharset`; WHATWG Encoding Standard "decode", RFC 2781
 * §4.3): a UTF-16 mark whatever the label (`charset=utf-16` with `FE FF 00 68 00 69` is `hi`), a
 * UTF-8 mark under a label other than UTF-8 (under UTF-8 it stays, as U+FEFF). The controller
 * takes only a string there and sends it as UTF-8, labelled `charset=UTF-8`
 * (`interpretHttpResponse`: akka-http's `MediaType.parse` drops the charset, and
 * `ContentType(mediaType, () => UTF-8)` sets its own), so the client gets the same text in UTF-8.
 */
function textOf(res: HttpResponse): string | undefined {
  const bytes = Buffer.from(res.body, 'base64');
  const charset = declaredCharset(headerValue(res.headers, 'content-type') ?? '');
  const bom = charset === undefined ? undefined : sniffBom(bytes);
  if (bom !== undefined && (bom.encoding !== 'utf-8' || charset?.encoding !== 'utf-8')) return decodeStrict(bytes.subarray(bom.length), bom.encoding);
  return decodeStrict(bytes, charset?.encoding ?? 'utf-8');
}

/**
 * `'body'` when the controller could send a response's bytes only mangled: bytes under a textual
 * type (or none) that are not valid in its charset. There the controller takes only text, sends
 * it as UTF-8 and never decodes base64 (OpenWhisk web-action docs: a binary type's body is
 * base64, anything else is the text sent), so no result carries those bytes as they are, and
 * answering them under a binary type instead would change what the client is told it gets.
 * Answered `INVALID_HTTP_RESULT` (500): the function's error, not the client's.
 */
export function webBodyUnsendable(rendered: HttpResponse, method?: string): 'body' | undefined {
  const res = sentResponse(rendered, method);
  if (!res.isBase64 || res.body === '') return undefined;
  const mediaType = parseMediaType(headerValue(res.headers, 'content-type'));
  if (mediaType !== undefined && (isJsonFamily(mediaType) || isOpenWhiskBinaryMedia(mediaType))) return undefined;
  return textOf(res) === undefined ? 'body' : undefined;
}
