/**
 * What a hook or the function returned, as the answer the pipeline sends: an `{ answer }` told
 * apart from a plain value, and a result rendered (HTTP) or size-checked (other triggers) once.
 */
import type { HttpAnswer, Invocation } from './invoke.js';
import { InvalidHttpResultError, passedSizeCheck, renderResult, type HttpResponse } from './response.js';
import type { EarlyAnswer } from './types.js';

/** Whether `value` is a promise or promise-like (has a `then` method). */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** Whether a hook returned `{ answer }` (an early, replacing or recovering answer). */
export function isAnswer(value: unknown): value is EarlyAnswer {
  return typeof value === 'object' && value !== null && 'answer' in value;
}

/**
 * Renders an HTTP result and checks the provider can send it; throws INVALID_HTTP_RESULT
 * otherwise, or RESPONSE_TOO_LARGE when it is larger than the provider sends.
 */
function render(http: HttpAnswer, value: unknown): HttpResponse {
  const res = renderResult(value);
  const bad = http.unsendable?.(res);
  if (bad !== undefined) throw new InvalidHttpResultError(bad);
  if (http.tooLarge !== undefined) {
    const tooLarge = http.tooLarge(res);
    if (tooLarge !== undefined) throw tooLarge;
    // For a plugin that will send it again in another form (an idempotency replay's header).
    passedSizeCheck(res, http);
  }
  return res;
}

/**
 * The answer to send for a function result (or an early or replacing answer): the rendered
 * response on HTTP invocations, else the value, checked against the provider's size limit.
 */
export function answerOf(inv: Invocation, value: unknown): unknown {
  if (inv.http) return render(inv.http, value);
  const tooLarge = inv.result?.tooLarge?.(value);
  if (tooLarge !== undefined) throw tooLarge;
  return value;
}
