/**
 * Content-Type parsing (RFC 9110 §8.3.1): one reader for the request side, the response side
 * and every adapter.
 */

/** A parsed `Content-Type`: `type/subtype` in lower case, and whether a `charset` parameter is given. */
export interface MediaType {
  /** Top-level type, e.g. `application`. */
  type: string;
  /** Subtype with any suffix, e.g. `vnd.api+json`. */
  subtype: string;
  /** `type/subtype`, e.g. `application/vnd.api+json`. */
  essence: string;
  /** Whether a `charset=` parameter is present (any value). */
  charset: boolean;
  /** The `charset` parameter's value, unquoted (`Shift_JIS`, `utf-8`); undefined without one. */
  charsetName?: string;
}

/**
 * Parses a `Content-Type` value; undefined when it is absent or has no `type/subtype`.
 *
 * @example
 * parseMediaType('Application/JSON; charset=utf-8'); // { type: 'application', subtype: 'json', essence: 'application/json', charset: true }
 */
export function parseMediaType(value: string | undefined): MediaType | undefined {
  if (!value) return undefined;
  const semi = value.indexOf(';');
  const essence = (semi === -1 ? value : value.slice(0, semi)).trim().toLowerCase();
  const slash = essence.indexOf('/');
  if (slash <= 0 || slash === essence.length - 1) return undefined;
  let charsetName: string | undefined;
  let charset = false;
  if (semi !== -1) {
    for (const param of value.slice(semi + 1).split(';')) {
      const p = param.trim();
      if (!p.toLowerCase().startsWith('charset=')) continue;
      charset = true;
      charsetName ??= p.slice('charset='.length).trim().replace(/^"(.*)"$/, '$1');
    }
  }
  const mt: MediaType = { type: essence.slice(0, slash), subtype: essence.slice(slash + 1), essence, charset };
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
 * YAML, and any type with a `charset` parameter. Anything else (images, PDFs, protobuf,
 * octet-stream, multipart) is binary. A request without a content type counts as text.
 */
export function isTextualContentType(contentType: string | undefined): boolean {
  const value = (contentType ?? '').toLowerCase();
  const semi = value.indexOf(';');
  const essence = (semi === -1 ? value : value.slice(0, semi)).trim();
  if (essence === '') return true;
  if (semi !== -1 && value.slice(semi + 1).split(';').some((p) => p.trim().startsWith('charset='))) return true;
  // Anything naming JSON is parsed as JSON by `httpInput`, so it is text here too.
  if (essence.includes('json')) return true;
  const slash = essence.indexOf('/');
  if (slash !== -1 && essence.slice(0, slash) === 'text') return true;
  const sub = essence.slice(slash + 1);
  // XML by whole name only: `vnd.openxmlformats-…` (docx, xlsx) are zip archives.
  if (sub === 'xml' || sub.endsWith('+xml') || sub.startsWith('xml-')) return true;
  return TEXTUAL_SUBTYPE.test(sub);
}
