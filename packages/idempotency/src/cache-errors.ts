/**
 * Which failures a record keeps (`cacheErrors`): a thrown error (`shouldCache`), and a returned
 * HTTP response that says "try again" — a 5xx, `429 Too Many Requests`, `408 Request Timeout` —
 * which is a retryable failure the function answered instead of throwing (`releasesResponse`).
 * Stored as the completed answer, such a response would be replayed to every retry until `ttlMs`
 * ends, the function never run again (LabsCrypt/remitlend#1329; the IETF `Idempotency-Key`
 * draft's discussion, ietf-wg-httpapi/idempotency#41): so it is released, as a thrown retryable
 * error is, unless a `cacheErrors` function opts in. Under middy, a partial batch response that
 * reports the invocation's own message failed is released too, always (`releasesResult`).
 */
import type { Context } from '@steadyfn/handler';
import { errorFacts, ownItemFailed, SteadyError } from '@steadyfn/handler/internal';
import type { Settings } from './options.js';
import type { StoredResult } from './record.js';

/** The code of the error a `cacheErrors` function is shown for such a response. */
export const RESPONSE_RETRYABLE = 'IDEMPOTENCY_RESPONSE_RETRYABLE';

/** Whether an HTTP status asks the client to retry: any 5xx (RFC 9110 §15.6), 429 (RFC 6585 §4) or 408 (RFC 9110 §15.5.9). */
export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

/**
 * The status of a result that is an HTTP response, else undefined: the response `handler()`
 * rendered (`k: 'h'`), or — for an HTTP invocation (`http`) — a Lambda proxy result as a middy
 * handler returns it (`{ statusCode: 503, … }`, which middy passes on unrendered, so it is stored
 * as a plain value).
 */
export function responseStatus(stored: StoredResult, http: boolean): number | undefined {
  if (stored.k === 'h') return stored.s;
  if (!http || stored.k !== 'v' || typeof stored.v !== 'object' || stored.v === null) return undefined;
  const status = (stored.v as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' ? status : undefined;
}

/**
 * Whether a result is a retryable HTTP response (`responseStatus`, `isRetryableStatus`) that is
 * not to be stored: true unless `cacheErrors` is a function that returns `true` when shown it as
 * a `SteadyError` with code `IDEMPOTENCY_RESPONSE_RETRYABLE`, the response's status and
 * `retryable: true` (never its body or headers). `cacheErrors: true` stores terminal errors only,
 * so never such a response. A function that throws or returns no boolean counts as `false`
 * (see `shouldCache`). Never throws.
 */
export function releasesResponse(s: Settings, ctx: Context, stored: StoredResult): boolean {
  const status = responseStatus(stored, ctx.trigger.kind === 'http');
  if (status === undefined || !isRetryableStatus(status)) return false;
  if (typeof s.cacheErrors !== 'function') return true;
  const shown = new SteadyError(RESPONSE_RETRYABLE, `The function answered HTTP ${status}, a status that asks the client to retry`, { status, retryable: true, expose: false });
  return !shouldCache(s, ctx, shown);
}

/**
 * Whether a result the function returned (`value`, stored as `stored`) is released rather than
 * stored: a retryable HTTP response (`releasesResponse`), or — under middy, for a Lambda event of
 * one SQS message or stream record — a partial batch response or `Promise.allSettled` array that
 * reports that message failed (`ownItemFailed` of `@steadyfn/handler/internal`). Lambda
 * redelivers such a message (retries such a record), and the redelivery must run the function:
 * stored, it would be answered with the failure until `ttlMs` ends and the message go to the DLQ
 * (or be dropped) without ever running again. So it is released whatever `cacheErrors` says (a
 * stored one could never be anything but that loop). Never throws.
 */
export function releasesResult(s: Settings, ctx: Context, value: unknown, stored: StoredResult): boolean {
  return ownItemFailed(ctx, value) || releasesResponse(s, ctx, stored);
}

/**
 * Whether a failure is stored and replayed (`cacheErrors`): retryable ones only when a function
 * says so. A `cacheErrors` function that throws, or returns anything but a boolean (a Promise
 * from an `async` one, which would otherwise count as `true` and store every error), counts as
 * `false` with a warning `IDEMPOTENCY_CACHE_ERRORS_FAILED` (the thrown value's class, never its
 * message): the record is released and the function's own error answered, rather than the hook
 * failing with the record left held — every retry a 409 until the lease ends — and the caller
 * told `500 INTERNAL`. Never throws, whatever the function throws or returns (a revoked Proxy,
 * an error whose `name` getter throws); a Promise it returns is given a no-op `catch`, so its
 * rejection (an `async` predicate reading a field the error lacks) is not an unhandled rejection,
 * which would end the process (Node's default `--unhandled-rejections=throw`, the Lambda runtime).
 * A function that returns no boolean is a configuration bug, the same on every call: said once
 * per plugin instance; one that throws is said each time (it may throw for some errors only).
 */
export function shouldCache(s: Settings, ctx: Context, error: SteadyError): boolean {
  if (typeof s.cacheErrors !== 'function') return s.cacheErrors && !error.retryable;
  let decided: unknown;
  try {
    decided = s.cacheErrors(error);
  } catch (thrown) {
    ctx.log.warn('idempotency cacheErrors function threw; the error is not stored and the record released', { code: 'IDEMPOTENCY_CACHE_ERRORS_FAILED', errorCode: error.code, cause: errorFacts(thrown).cause });
    return false;
  }
  if (decided === true || decided === false) return decided;
  const got = settledAside(decided) ? 'a Promise' : typeof decided;
  if (s.noted.cacheErrorsNotBoolean) return false;
  s.noted.cacheErrorsNotBoolean = true;
  ctx.log.warn(`idempotency cacheErrors function returned ${got}, not a boolean; no error is stored and records are released (said once)`, { code: 'IDEMPOTENCY_CACHE_ERRORS_FAILED', errorCode: error.code });
  return false;
}

/**
 * Whether `value` is a thenable (an `async` function's Promise); if so, its rejection is caught
 * and dropped. Never throws: reading `then` of a revoked Proxy, or a getter that throws, counts
 * as no thenable.
 */
function settledAside(value: unknown): boolean {
  try {
    if ((typeof value !== 'object' && typeof value !== 'function') || value === null || typeof (value as { then?: unknown }).then !== 'function') return false;
    // `Promise.resolve` of a native Promise is that Promise; of another thenable, a Promise that
    // calls its `then` later and rejects if that throws. Either way, the rejection is handled here.
    Promise.resolve(value as PromiseLike<unknown>).catch(() => undefined);
    return true;
  } catch {
    // A Proxy whose `then` or `constructor` read throws: nothing to catch.
    return false;
  }
}
