/**
 * The mark of a middy request: `toMiddy()` keeps the request's steadyfn state under this symbol
 * on the Lambda context (not enumerable), which `ctx.raw.context` is. `Symbol.for`: every copy of
 * the package (ESM and CommonJS) reads the same mark.
 */
import { isRecord } from './record.js';

/** The key of a middy request's steadyfn state, on middy's `request.internal` and the Lambda context. */
export const MIDDY_REQUEST = Symbol.for('steadyfn.middy.request');

/**
 * Whether the invocation runs under middy (`toMiddy()`), where an HTTP result is the handler's
 * own Lambda proxy result (`{ statusCode, headers, body }`) rather than a rendered `HttpResponse`.
 *
 * @param ctx - The invocation's `ctx`, as a hook receives it.
 * @returns `true` when a `toMiddy()` middleware opened the invocation.
 */
export function isMiddyInvocation(ctx: { raw?: unknown }): boolean {
  const raw = ctx.raw;
  return isRecord(raw) && isRecord(raw.context) && (raw.context as Record<symbol, unknown>)[MIDDY_REQUEST] !== undefined;
}
