/**
 * What a completed record keeps, encoded as one JSON string: a plain result, the final HTTP
 * response (status, headers, body), or an error (with `cacheErrors`).
 */
import { SteadyError, httpResult, toHttpResponse, type FieldIssue, type HttpResponse, type Outcome } from '@steadyfn/handler';

export const REPLAYED_HEADER = 'Idempotency-Replayed';

export type StoredResult =
  /** A function's return value; `v` absent for `undefined`. */
  | { k: 'v'; v?: unknown }
  /** The HTTP response the first call sent. */
  | { k: 'h'; s: number; h: Record<string, string>; b: string; b64?: true }
  /** A cached error, for non-HTTP triggers. */
  | { k: 'e'; code: string; message: string; status: number; retryable: boolean; expose: boolean; issues?: FieldIssue[]; headers?: Record<string, string> };

export function httpStored(res: HttpResponse): StoredResult {
  const out: StoredResult = { k: 'h', s: res.status, h: res.headers, b: res.body };
  if (res.isBase64) out.b64 = true;
  return out;
}

export function valueStored(value: unknown): StoredResult {
  return value === undefined ? { k: 'v' } : { k: 'v', v: value };
}

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

export function decodeStored(text: string): StoredResult {
  const parsed = JSON.parse(text) as StoredResult;
  if (typeof parsed !== 'object' || parsed === null || (parsed.k !== 'v' && parsed.k !== 'h' && parsed.k !== 'e')) {
    throw new SteadyError('IDEMPOTENCY_RECORD_CORRUPT', 'A stored idempotency record could not be read', { status: 500, retryable: false });
  }
  return parsed;
}

/** The answer a duplicate gets: the stored value, the stored HTTP response marked as a replay, or the stored error thrown. */
export function replay(stored: StoredResult): unknown {
  switch (stored.k) {
    case 'v':
      return stored.v;
    case 'h': {
      const body = stored.b === '' ? undefined : stored.b64 ? Buffer.from(stored.b, 'base64') : stored.b;
      return httpResult({ status: stored.s, headers: { ...stored.h, [REPLAYED_HEADER]: 'true' }, body });
    }
    case 'e':
      throw new SteadyError(stored.code, stored.message, {
        status: stored.status,
        retryable: stored.retryable,
        expose: stored.expose,
        ...(stored.issues ? { issues: stored.issues } : {}),
        ...(stored.headers ? { headers: stored.headers } : {}),
      });
  }
}

/** The final HTTP response for an outcome, exactly as the provider adapter will send it. */
export function httpResponseOf(outcome: Outcome): HttpResponse {
  return toHttpResponse(outcome);
}
