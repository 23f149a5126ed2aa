/**
 * Content-Type parsing (RFC 9110 §8.3.1): one reader for the request side, the response side
 * and every adapter.
 */

import { parse as parseContentType } from 'content-type';

/** A parsed `Content-Type`: `type/subtype` in lower case, its `charset`, and its other parameters. */
export interface MediaType {
  /** Top-level type, e.g. `application`. */
  type: string;
  /** Subtype with any suffix, e.g. `vnd.api+json`. */
  subtype: string;
  /** `type/subtype`, e.g. `application/vnd.api+json`. */
  essence: string;
  /** Whether a `charset=` parameter is present (any value). */
  charset: boolean;
  /**
   * The `charset` parameter's value, unquoted (`Shift_JIS`, `utf-8`); undefined without one. The
   * first of a repeated `charset` (WHATWG MIME Sniffing); a request body whose charset is
   * repeated with different values is refused before it is read (see `repeatedCharsets`).
   */
  charsetName?: string;
  /**
   * Every parameter other than `charset`, by lower-cased name, values unquoted (the first of a
   * repeated name); empty when there is none. `profile` of `application/ld+json; profile="…"`.
   */
  params: Readonly<Record<string, string>>;
}

/**
 * Parses a `Content-Type` value (RFC 9110 §8.3.1, with jshttp's `content-type` parser: a
 * quoted parameter value may hold `;`, `=` and escaped quotes); undefined when it is absent or
 * has no `type/subtype`. Lenient like the servers in front of a function: a parameter without
 * a value is skipped, never an error.
 *
 * @example
 * parseMediaType('Application/JSON; charset=utf-8'); // { type: 'application', subtype: 'json', essence: 'application/json', charset: true, charsetName: 'utf-8', params: {} }
 * parseMediaType('text/plain; x="a;charset=latin1"'); // charset: false, params: { x: 'a;charset=latin1' }
 */
export function parseMediaType(value: string | undefined): MediaType | undefined {
  if (!value) return undefined;
  const { type: essence, parameters } = parseContentType(value);
  const slash = essence.indexOf('/');
  if (slash <= 0 || slash === essence.length - 1) return undefined;
  const params: Record<string, string> = {};
  let charset = false;
  let charsetName: string | undefined;
  // `parameters` has no prototype: its keys are the header's own.
  for (const [name, v] of Object.entries(parameters)) {
    if (name === 'charset') {
      charset = true;
      charsetName = v.trim() || undefined;
    } else Object.defineProperty(params, name, { value: v, enumerable: true, writable: true, configurable: true });
  }
  const mt: MediaType = { type: essence.slice(0, slash), subtype: essence.slice(slash + 1), essence, charset, params };
  if (charsetName) mt.charsetName = charsetName;
  return mt;
}

/** `application/json` or any `+json` type (RFC 6839). */
export function isJsonMediaType(mt: MediaType | undefined): boolean {
  return mt !== undefined && (mt.essence === 'application/json' || mt.subtype.endsWith('+json'));
}

/** Whether the value names JSON anywhere in its essence (`application/json`, `+json`, `x-json-stream`…): read as JSON. */
export function namesJson(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const semi = contentType.indexOf(';');
  return (semi === -1 ? contentType : contentType.slice(0, semi)).toLowerCase().includes('json');
}

const TEXTUAL_SUBTYPE = /^x-www-form-urlencoded|javascript|ecmascript|graphql|yaml/;

/**
 * Whether a body of this content type is text, which the function receives as a string: text/*,
 * any JSON type (`json`, `+json`), XML (`xml`, `+xml`), forms, JavaScript/ECMAScript, GraphQL,
 * YAML, and any other type with a `charset` parameter — but never `multipart/*` (its parts may
 * be files, whatever charset it names) nor a type with `charset=binary` (`file -bi`'s word for
 * bytes). Anything else (images, PDFs, protobuf, octet-stream) is binary. A request without a
 * content type counts as text.
 */
export function isTextualContentType(contentType: string | undefined): boolean {
  const { type: essence, parameters } = parseContentType(contentType ?? '');
  if (essence === '') return true;
  // Anything naming JSON is parsed as JSON by `httpInput`, so it is text here too.
  if (essence.includes('json')) return true;
  const slash = essence.indexOf('/');
  const top = slash === -1 ? essence : essence.slice(0, slash);
  if (top === 'multipart') return false;
  if (parameters.charset !== undefined) return parameters.charset.trim().toLowerCase() !== 'binary';
  if (top === 'text') return true;
  const sub = essence.slice(slash + 1);
  // XML by whole name only: `vnd.openxmlformats-…` (docx, xlsx) are zip archives.
  if (sub === 'xml' || sub.endsWith('+xml') || sub.startsWith('xml-')) return true;
  return TEXTUAL_SUBTYPE.test(sub);
}

/**
 * Whether a `Content-Type` value holds more than one media type: a comma outside a quoted
 * parameter value, as a provider joins two header lines (`text/plain, application/json`). A
 * single media type has none (RFC 9110 §8.3.1: a comma can only be inside a quoted-string).
 *
 * @example
 * hasSeveralMediaTypes('text/plain, application/json'); // true
 * hasSeveralMediaTypes('multipart/form-data; boundary="a,b"'); // false
 */
export function hasSeveralMediaTypes(value: string | undefined): boolean {
  if (value === undefined || !value.includes(',')) return false;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (quoted && c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (c === ',' && !quoted) return true;
  }
  return false;
}

/**
 * The values of a `Content-Type`'s `charset` parameter when it is given more than once with
 * values that differ (compared case-insensitively, as charset names are: RFC 9110 §8.3.2),
 * unquoted and in order; undefined when it is given at most once, or repeated with one value.
 *
 * Why a request body under one is refused rather than read in the first value: RFC 9110 §8.3.1
 * defines a media type's parameters without saying which of a repeated name counts, and RFC 6838
 * §4.3 makes naming a parameter more than once an error. Parsers disagree: the WHATWG MIME
 * Sniffing "parse a MIME type" algorithm and jshttp's `content-type` keep the first, a parser
 * that fills a map as it reads keeps the last. A WAF or validator in front of the function may
 * thus read the body in one charset and this package in another — the same ambiguity as two
 * Content-Type headers, refused the same way (`httpInput`). A response's own Content-Type is
 * the function's and is read with the first value, as WHATWG says.
 *
 * @example
 * repeatedCharsets('text/plain; charset=utf-8; charset=latin1'); // ['utf-8', 'latin1']
 * repeatedCharsets('text/plain; charset=utf-8; charset="UTF-8"'); // undefined
 * repeatedCharsets('text/plain; note="charset=a;charset=b"; charset=utf-8'); // undefined
 */
export function repeatedCharsets(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const lower = value.toLowerCase();
  const first = lower.indexOf('charset');
  if (first === -1 || lower.indexOf('charset', first + 1) === -1) return undefined; // the common case: no scan
  const values: string[] = [];
  // Parameters split on `;` outside quoted values; each read by the same parser as the whole.
  let quoted = false;
  let start = 0;
  for (let i = 0; i <= value.length; i++) {
    const c = value[i];
    if (quoted && c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if ((c === ';' && !quoted) || i === value.length) {
      if (start > 0) {
        const charset = parseContentType(`x/x;${value.slice(start, i)}`).parameters.charset;
        if (charset !== undefined) values.push(charset.trim());
      }
      start = i + 1;
    }
  }
  return new Set(values.map((v) => v.toLowerCase())).size > 1 ? values : undefined;
}
