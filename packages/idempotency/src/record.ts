/**
 * What a completed record keeps, encoded as one JSON string: a plain result, the rendered HTTP
 * response exactly as the provider sent it (status, headers, cookies, body), or an error
 * (with `cacheErrors`).
 */
import type { FieldIssue, HttpResponse } from '@steadyfn/handler';
import { SteadyError, isHttpResponse, toRenderedResponse, tooLargeWithHeaders } from '@steadyfn/handler/internal';
import { IdempotencyRecordCorruptError } from './errors.js';

/** The header marking a replayed HTTP response (and a replayed error), value `true`. */
export const REPLAYED_HEADER = 'Idempotency-Replayed';

/** What `replay` adds to a stored HTTP response's headers (and what the first answer is judged with). */
const REPLAY_MARK: Readonly<Record<string, string>> = { [REPLAYED_HEADER]: 'true' };

/** A completed record's result, as encoded in the store (short field names: records are read on every duplicate). */
export type StoredResult =
  /**
   * A function's return value; `v` absent for `undefined`. `b64`: the value was bytes (a
   * `Buffer`, another typed array, an `ArrayBuffer`) and `v` is their base64; replayed as a `Buffer`.
   */
  | { k: 'v'; v?: unknown; b64?: true }
  /** The HTTP response the first call sent (`c`: its cookies; absent in records written before cookies existed). */
  | { k: 'h'; s: number; h: Record<string, string | ReadonlyArray<string>>; c?: ReadonlyArray<string>; b: string; b64?: true }
  /** A cached error. */
  | { k: 'e'; code: string; message: string; status: number; retryable: boolean; expose: boolean; issues?: FieldIssue[]; headers?: Record<string, string> };

/** The rendered response as stored: its body is already text (or base64), so it is not serialised twice. */
export function httpStored(res: HttpResponse): StoredResult {
  const out: StoredResult = { k: 'h', s: res.status, h: res.headers, b: res.body };
  if (res.cookies.length > 0) out.c = res.cookies;
  if (res.isBase64) out.b64 = true;
  return out;
}

/**
 * A result as stored: the rendered response of an HTTP invocation, bytes as base64 (the Azure
 * worker sends a returned `Buffer`, typed array or `ArrayBuffer` to its output binding as bytes,
 * which their JSON form would not be), else the value.
 */
export function resultStored(value: unknown): StoredResult {
  if (isHttpResponse(value)) return httpStored(value);
  if (ArrayBuffer.isView(value)) return { k: 'v', v: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64'), b64: true };
  if (value instanceof ArrayBuffer) return { k: 'v', v: Buffer.from(value).toString('base64'), b64: true };
  return value === undefined ? { k: 'v' } : { k: 'v', v: value };
}

/** A cached error as stored: only what a caller would see (code, public message, status), never a stack. */
export function errorStored(error: SteadyError): StoredResult {
  const out: StoredResult = {
    k: 'e',
    code: error.code,
    // An unexposed message may hold details no caller should see; keep what a caller would see.
    message: error.expose ? error.message : 'Internal error',
    status: error.status,
    retryable: error.retryable,
    expose: error.expose,
  };
  if (error.issues && error.issues.length > 0) out.issues = error.issues;
  if (error.headers) out.headers = error.headers;
  return out;
}

/** Throws when the value cannot be stored as JSON (BigInt, a cycle); the caller releases instead. */
export function encodeStored(stored: StoredResult): string {
  return JSON.stringify(stored);
}

/** @throws IdempotencyRecordCorruptError when the text is not a record this plugin wrote. */
export function decodeStored(text: string): StoredResult {
  let parsed: StoredResult;
  try {
    parsed = JSON.parse(text) as StoredResult;
  } catch {
    throw new IdempotencyRecordCorruptError();
  }
  if (typeof parsed !== 'object' || parsed === null || (parsed.k !== 'v' && parsed.k !== 'h' && parsed.k !== 'e')) throw new IdempotencyRecordCorruptError();
  return parsed;
}

/**
 * The answer a duplicate gets: the stored value; the stored HTTP response, already rendered,
 * marked `Idempotency-Replayed: true`; or the stored error thrown, marked the same way.
 */
export function replay(stored: StoredResult): unknown {
  switch (stored.k) {
    case 'v':
      return stored.b64 === true && typeof stored.v === 'string' ? Buffer.from(stored.v, 'base64') : stored.v;
    case 'h':
      return toRenderedResponse({
        status: stored.s,
        headers: { ...stored.h, ...REPLAY_MARK },
        cookies: stored.c ?? [],
        body: stored.b,
        isBase64: stored.b64 === true,
      });
    case 'e':
      throw new SteadyError(stored.code, stored.message, {
        status: stored.status,
        retryable: stored.retryable,
        expose: stored.expose,
        headers: { ...(stored.headers ?? {}), [REPLAYED_HEADER]: 'true' },
        ...(stored.issues ? { issues: stored.issues } : {}),
      });
  }
}

/**
 * The first answer's `RESPONSE_TOO_LARGE` when its replay would not fit: an HTTP response the
 * provider's size limit passed, which replayed with `Idempotency-Replayed: true` added (about
 * 30 bytes) would be over it. Such a response is refused the first time too — its record
 * released (or, with `cacheErrors`, keeping the error) — so a response that was sent always
 * replays, marked as a replay. Undefined for everything else (other results are answered the
 * first time in their replayed form, and checked as such).
 */
export function replayTooLarge(result: unknown, stored: StoredResult): SteadyError | undefined {
  // `replay` sends the stored response (these same fields) with REPLAY_MARK added.
  return stored.k === 'h' && isHttpResponse(result) ? tooLargeWithHeaders(result, REPLAY_MARK) : undefined;
}
