/**
 * A failure after the function returned — a plugin after this one in `use` whose `after` (or
 * `wrap`) threw once the function's result was in, a result the provider cannot send
 * (`INVALID_HTTP_RESULT`) or whose replay would not fit (`RESPONSE_TOO_LARGE`): the function's
 * effects are done, so the record is completed rather than released, and a retry answers from it
 * instead of running the function again (aws-powertools/powertools-lambda-typescript#5675: the
 * success is saved as soon as the function returns). This invocation still answers its error.
 */
import type { Context, SteadyError } from '@steadyfn/handler';
import { effectsPending, type FunctionReturned } from '@steadyfn/handler/internal';
import { releasesResult } from './cache-errors.js';
import type { Settings } from './options.js';
import { encodeStored, errorStored, replayTooLarge, resultStored } from './record.js';
import { settle } from './settle.js';
import type { IdempotencyState } from './state.js';

/** The failures that are about the answer itself: stored as they are, the answer every retry gets. */
const ANSWER_REFUSED = new Set(['INVALID_HTTP_RESULT', 'RESPONSE_TOO_LARGE']);

/**
 * Whether the record is completed although the invocation failed: the function returned
 * (`functionReturned` of `@steadyfn/handler`), no plugin still holds its effects unwritten
 * (`effectsPending`: the outbox from its `before` until its write committed — a plugin listed
 * after the outbox that fails first leaves them unwritten), and no write took the completion to
 * carry it (`pendingCompletion`: that write failing means the effects were not written). Else
 * released: the retry runs the function and writes its effects once.
 */
export function completesReturned(ctx: Context, state: IdempotencyState, returned: FunctionReturned | undefined): returned is FunctionReturned {
  return returned !== undefined && state.offered !== true && !effectsPending(ctx);
}

/**
 * Completes the record of a function that returned `value` when `error` came after it:
 *   - the function's own result the provider refused (`INVALID_HTTP_RESULT`, `RESPONSE_TOO_LARGE`
 *     while rendering it: `returned.rendered` is `false`), and a response whose replay would be
 *     over the limit: that terminal error is stored, whatever `cacheErrors` says, so every retry
 *     gets the same 500 (marked `Idempotency-Replayed`) rather than running the function's
 *     effects again to be refused again. An answer a later plugin's `after` made and the provider
 *     refused is that plugin's failure, not the function's: its result is stored as below;
 *   - a retryable response (5xx, 429, 408), or a partial batch response reporting its own
 *     message failed (`releasesResult`): released, as in `after`;
 *   - else the result, as `after` would have stored it (a result JSON cannot hold, or larger than
 *     the store keeps, is released by `settle`): a retry replays it.
 * Never throws.
 */
export function settleReturned(s: Settings, ctx: Context, state: IdempotencyState, returned: FunctionReturned, error: SteadyError | undefined): Promise<void> {
  const value = returned.value;
  if (!returned.rendered && error !== undefined && !error.retryable && ANSWER_REFUSED.has(error.code)) return settle(s, ctx, state, errorStored(error));
  const stored = resultStored(value);
  if (releasesResult(s, ctx, value, stored)) return settle(s, ctx, state, undefined);
  let text: string | undefined;
  try {
    text = encodeStored(stored);
  } catch {
    // Not storable as JSON: `settle` releases the record and warns.
  }
  const tooLarge = text === undefined ? undefined : replayTooLarge(value, stored);
  if (tooLarge !== undefined) return settle(s, ctx, state, errorStored(tooLarge));
  return settle(s, ctx, state, text ?? stored);
}
