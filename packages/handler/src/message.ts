/**
 * Message payloads (queue, stream and notification bodies) as the function receives them,
 * chosen by the handler's `body` option:
 *
 * - `'auto'` (default): bytes that are not text stay a `Buffer` — not UTF-8, or UTF-8 with
 *   control characters no text carries (`CONTROL_BYTES`); text is parsed as JSON when
 *   the message says it is JSON, or when parsing loses nothing (every number keeps its exact
 *   value: `'89e7073266'` and `'12345678901234567890'` stay text); otherwise the text.
 *   A leading byte order mark before JSON is ignored (RFC 8259 §8.1), in `'json'` too.
 * - `'json'`: always parsed as JSON; a payload that is not JSON is a terminal `MALFORMED_EVENT`.
 * - `'text'`: the UTF-8 text; bytes that are not UTF-8 are a terminal `MALFORMED_EVENT` (an
 *   HTTP body in a declared charset other than UTF-8 is decoded with it instead: http.ts).
 * - `'bytes'`: the exact bytes as a `Buffer` (text is encoded as UTF-8).
 */
import { isUtf8 } from 'node:buffer';
import { MalformedEventError } from './errors.js';
import { decodeBase64Strict } from './internal/base64.js';
import { jsonTextTooDeep, looksLikeJson, parseJsonLossless, valueTooDeep, withoutBom, MAX_JSON_DEPTH } from './internal/json.js';

/** How message bodies reach the function (the handler's `body` option). */
export type BodyMode = 'auto' | 'json' | 'text' | 'bytes';

export const BODY_MODES: ReadonlyArray<BodyMode> = ['auto', 'json', 'text', 'bytes'];

export interface PayloadOptions {
  /** Field named in errors, e.g. `Records.0.body`. */
  field: string;
  /** The message itself says it is JSON (a JSON content type, an EventBridge `detail`). */
  declaredJson?: boolean;
}

function malformed(field: string, message: string, expected: string): MalformedEventError {
  return new MalformedEventError(message, [{ field, message, expected }]);
}

/** Parses JSON text (a leading byte order mark ignored), refusing documents nested deeper than MAX_JSON_DEPTH. */
export function parseJsonStrict(given: string, field: string): unknown {
  const text = withoutBom(given);
  if (jsonTextTooDeep(text)) throw malformed(field, `JSON nested deeper than ${MAX_JSON_DEPTH} levels`, `JSON at most ${MAX_JSON_DEPTH} levels deep`);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw malformed(field, 'Not valid JSON', 'a JSON document');
  }
}

/** A text payload under `mode`. */
export function textPayload(text: string, mode: BodyMode, options: PayloadOptions): unknown {
  switch (mode) {
    case 'text':
      return text;
    case 'bytes':
      return Buffer.from(text, 'utf8');
    case 'json':
      return parseJsonStrict(text, options.field);
    case 'auto': {
      if (options.declaredJson) {
        if (jsonTextTooDeep(text)) throw malformed(options.field, `JSON nested deeper than ${MAX_JSON_DEPTH} levels`, `JSON at most ${MAX_JSON_DEPTH} levels deep`);
        try {
          return JSON.parse(withoutBom(text)) as unknown;
        } catch {
          return text;
        }
      }
      if (!looksLikeJson(text)) return text;
      if (jsonTextTooDeep(text)) throw malformed(options.field, `JSON nested deeper than ${MAX_JSON_DEPTH} levels`, `JSON at most ${MAX_JSON_DEPTH} levels deep`);
      const parsed = parseJsonLossless(text);
      return parsed === undefined ? text : parsed.value;
    }
  }
}

/**
 * C0 control characters (and DEL) that text does not carry: all but tab, line feed, form feed,
 * carriage return and escape (terminal colours in log lines). Bytes such as Pub/Sub's published
 * `01 02 03 04` sample are valid UTF-8, but binary: `'auto'` keeps them as bytes.
 */
const CONTROL_BYTES = /[\x00-\x08\x0B\x0E-\x1A\x1C-\x1F\x7F]/;

/** A payload received as bytes under `mode`: in `'auto'`, bytes that are not text stay bytes. */
export function bytesPayload(bytes: Buffer, mode: BodyMode, options: PayloadOptions): unknown {
  if (mode === 'bytes') return bytes;
  if (!isUtf8(bytes)) {
    if (mode === 'auto') return bytes;
    throw malformed(options.field, 'Payload bytes are not UTF-8 text', 'UTF-8 text');
  }
  const text = bytes.toString('utf8');
  if (mode === 'auto' && CONTROL_BYTES.test(text)) return bytes;
  return textPayload(text, mode, options);
}

/** A payload handed over as base64 (Pub/Sub, Kinesis, Kafka), decoded strictly. */
export function base64Payload(data: string, mode: BodyMode, options: PayloadOptions): unknown {
  const bytes = decodeBase64Strict(data);
  if (bytes === undefined) throw malformed(options.field, 'Payload is not base64', 'base64 text');
  return bytesPayload(bytes, mode, options);
}

/**
 * A payload some runtime already turned into a value (the Azure worker parses JSON, the
 * OpenWhisk controller parses JSON bodies): bytes and text go through the mode; other values
 * are checked for depth, and for `'text'`/`'bytes'` serialised back.
 */
export function anyPayload(value: unknown, mode: BodyMode, options: PayloadOptions): unknown {
  if (typeof value === 'string') return textPayload(value, mode, options);
  if (Buffer.isBuffer(value)) return bytesPayload(value, mode, options);
  if (value instanceof Uint8Array) return bytesPayload(Buffer.from(value.buffer, value.byteOffset, value.byteLength), mode, options);
  if (valueTooDeep(value)) throw malformed(options.field, `JSON nested deeper than ${MAX_JSON_DEPTH} levels`, `JSON at most ${MAX_JSON_DEPTH} levels deep`);
  if (mode === 'text' || mode === 'bytes') {
    const text = value === undefined ? '' : JSON.stringify(value);
    return mode === 'text' ? text : Buffer.from(text, 'utf8');
  }
  return value;
}
