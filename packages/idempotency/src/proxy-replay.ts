/**
 * A duplicate's answer under middy: there the function's HTTP result is its own value — a
 * Lambda proxy result (`{ statusCode, headers, multiValueHeaders, body }`) or a plain value the
 * middy adapter renders — stored as a plain value (a `v` record), not a rendered response, so
 * `replay` would send it back without `Idempotency-Replayed: true`. Marked here, at replay time:
 * records keep their format, and records written before the mark existed replay marked too.
 */
import { isRecord, renderResult, toRenderedResponse } from '@steadyfn/handler/internal';
import { REPLAYED_HEADER, replay, type StoredResult } from './record.js';
import type { IdempotencyState } from './state.js';

const MARK_NAME = REPLAYED_HEADER.toLowerCase();

/** A header map as a proxy result carries it: absent, or an object (not an array). */
function headerMap(value: unknown): value is Record<string, unknown> | undefined {
  return value === undefined || (isRecord(value) && !Array.isArray(value));
}

/**
 * A Lambda proxy result: a whole-number `statusCode`, `headers` and `multiValueHeaders` absent or
 * objects, `body` absent or a string (the HTTP result of API Gateway, function URLs, ALB, VPC Lattice).
 */
function isProxyResult(value: unknown): value is ProxyResult {
  return (
    isRecord(value) &&
    Number.isInteger(value.statusCode) &&
    headerMap(value.headers) &&
    headerMap(value.multiValueHeaders) &&
    (value.body === undefined || typeof value.body === 'string')
  );
}

type ProxyResult = Record<string, unknown> & { headers?: Record<string, unknown>; multiValueHeaders?: Record<string, unknown> };

/** A copy of `map` without any spelling of the replay header. */
function withoutMark(map: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(map ?? {})) if (name.toLowerCase() !== MARK_NAME) out[name] = value;
  return out;
}

/**
 * A proxy result marked as a replay: the header goes to `multiValueHeaders` when the response
 * uses them (ALB multi-value mode, where `headers` is ignored; API Gateway REST, which merges
 * both — so in one map only, never sent twice), else to `headers`. A copy: the stored value is
 * not changed.
 */
function markProxyResult(value: ProxyResult): ProxyResult {
  if (value.multiValueHeaders !== undefined) {
    const multiValueHeaders = { ...withoutMark(value.multiValueHeaders), [REPLAYED_HEADER]: ['true'] };
    return value.headers === undefined ? { ...value, multiValueHeaders } : { ...value, headers: withoutMark(value.headers), multiValueHeaders };
  }
  return { ...value, headers: { ...withoutMark(value.headers), [REPLAYED_HEADER]: 'true' } };
}

/** A plain value (not a proxy result) rendered as the middy adapter renders it, marked: the HTTP adapter maps it to the event's shape. */
function markPlainValue(value: unknown): unknown {
  const res = renderResult(value);
  return toRenderedResponse({ status: res.status, headers: { ...withoutMark(res.headers), [REPLAYED_HEADER]: 'true' } as Record<string, string | ReadonlyArray<string>>, cookies: res.cookies, body: res.body, isBase64: res.isBase64 });
}

/**
 * The answer a duplicate gets (`replay`); for an HTTP request under middy (`state.proxyReplay`),
 * a stored plain value marked `Idempotency-Replayed: true`: a Lambda proxy result with the
 * header added (`markProxyResult`), any other value rendered as the first answer was (200 JSON,
 * `text/plain` for a string, bytes as `application/octet-stream`) with the header. Left as
 * `replay` gives it: `undefined`, a value with a numeric `statusCode` whose header maps or
 * body are not a proxy result's (the middy adapter sends it as it is), and every other record —
 * a stored rendered response (already marked by `replay`), a non-middy invocation's.
 *
 * @throws SteadyError the stored error (`replay`), marked the same way.
 */
export function replayDuplicate(state: IdempotencyState, stored: StoredResult): unknown {
  const answer = replay(stored);
  if (stored.k !== 'v' || state.proxyReplay !== true || answer === undefined) return answer;
  if (isRecord(answer) && typeof answer.statusCode === 'number') return isProxyResult(answer) ? markProxyResult(answer) : answer;
  return markPlainValue(answer);
}
