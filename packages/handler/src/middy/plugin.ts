/**
 * `middyPlugin()`: middy's plugin object (the second argument of `middy(handler, plugin)`) with a
 * `requestEnd` hook that ends the steadyfn side of a request whatever path middy took. A plain
 * middy middleware inside the `toMiddy()` ones can end a request where no steadyfn hook runs any
 * more — its `before` or `after` answers early (middy's early return skips every `after` left),
 * its `onError` recovers or throws before theirs — and then the steadyfn `finally` hooks would
 * never run (an idempotency claim left held until its lease ends) and the deadline watch would
 * hold the process until the deadline. `requestEnd` is the one hook middy runs on every path.
 */
import { ConfigurationError, DeadlineExceededError, toSteadyError } from '../errors.js';
import { isRecord } from '../internal/record.js';
import { markRecovered } from '../recovered.js';
import type { Outcome } from '../types.js';
import { cutOffByMiddy, finish, steadyRequestOf, type MiddyRequestLike } from './request.js';

/**
 * Middy's plugin object (`PluginObject` of `@middy/core`), typed structurally: its hooks and
 * options (`timeoutEarlyInMillis`, `timeoutEarlyResponse`, `internal`, `executionMode`, …) are
 * passed on to middy as they are.
 */
export interface MiddyPluginLike {
  /** Called by middy right before it answers (for a thrown error too in middy 7.9; 7.0 and earlier call it only when they answer). */
  requestEnd?: (request: any) => unknown;
  [option: string]: unknown;
}

/**
 * The steadyfn side of a request middy is done with: when no steadyfn `after` or `onError` ended
 * it (they end it on the usual paths, `done` then), every steadyfn `finally` runs now, once, with
 * the outcome middy answers with (DEADLINE_EXCEEDED when middy answered while `steadyHandler`'s
 * function still runs: its early timeout), and the deadline is released. The steadyfn `after` and
 * `onError` hooks middy skipped are not run: the answer is fixed by now, none could change it.
 */
async function endRequest(request: MiddyRequestLike): Promise<void> {
  if (!isRecord(request) || !isRecord(request.internal)) return;
  const steady = steadyRequestOf(request);
  if (steady === undefined || steady.done) return;
  // middy answers while steadyHandler's function still runs (its early timeout, answered or
  // recovered by a plain middleware inside the toMiddy ones): as at steadyfn's deadline — the
  // signal aborts and the hooks see DEADLINE_EXCEEDED, so idempotency leaves the record to its
  // lease rather than releasing it for a retry to run beside the function.
  const cut = cutOffByMiddy(steady) || (steady.deadline.cutOff && steady.handlerRunning);
  const errorOf = (thrown: unknown) =>
    steady.timedOut !== undefined && steady.timedOut.thrown === thrown ? steady.timedOut.error : cut ? deadlineError(thrown) : toSteadyError(thrown);
  let outcome: Outcome;
  if (request.error !== undefined && request.response === undefined) {
    // middy throws `request.error` (an onError inside the toMiddy ones threw, or none answered).
    outcome = { ok: false, error: errorOf(request.error) };
  } else {
    // A plain onError inside the toMiddy ones recovered (or a plain `after` answered for middy's
    // early timeout): say so, as for a steadyfn recovery.
    if (request.error !== undefined || cut) markRecovered(steady.ctx, request.error !== undefined ? errorOf(request.error) : deadlineError(undefined));
    outcome = { ok: true, value: request.response };
  }
  await finish(steady, outcome);
}

/** DEADLINE_EXCEEDED for middy's early timeout, with what middy threw (if anything) as its cause. */
function deadlineError(thrown: unknown): DeadlineExceededError {
  const error = new DeadlineExceededError('middy answered before the function (its early timeout)');
  if (thrown !== undefined) Object.defineProperty(error, 'cause', { value: thrown, configurable: true, writable: true });
  return error;
}

function checkHook(config: MiddyPluginLike, hook: string): void {
  if (config[hook] !== undefined && typeof config[hook] !== 'function') {
    throw new ConfigurationError(`middyPlugin(): "${hook}" must be a function`, { field: hook, expected: 'a function' });
  }
}

/**
 * Middy's plugin object, with a `requestEnd` hook that ends the steadyfn side of every request:
 * pass it to `middy(handler, middyPlugin())` (or `middy(middyPlugin())` with `.handler(…)` after)
 * whenever a plain middy middleware is listed after a `toMiddy()` one. Such a middleware can end
 * the request where no steadyfn hook runs: its `before` or `after` answers early (middy's early
 * return skips the handler and every `after` left), its `onError` recovers or throws before theirs.
 * With it, every steadyfn `finally` still runs, once, with the outcome middy answers with (ok with
 * the answer; a recovery also marks `recoveredFrom(ctx)`; failed with the error middy throws), and
 * the deadline watch is released (without it, the process stays held until the deadline). The
 * steadyfn `after`/`onError` hooks middy skipped do not run: the answer is fixed by then. So an
 * idempotency record claimed in `before` is released in its `finally` (logged
 * `IDEMPOTENCY_SETTLED_LATE`): never stored — the answer is another middleware's — and a retry runs
 * the function. On the usual paths the outermost steadyfn middleware ends the request, as without
 * the plugin; `finally` never runs twice.
 *
 * @param config - Your own middy plugin options and hooks, passed on (default `{}`); your
 *   `requestEnd` runs after steadyfn's.
 * @returns The plugin object for `middy()`.
 * @throws ConfigurationError (`CONFIG_INVALID`) when `config` is not an object or its
 *   `requestEnd` is not a function.
 * @example
 * import middy from '@middy/core';
 * const maintenance = { before: async () => (process.env.MAINTENANCE ? { statusCode: 503, body: 'later' } : undefined) };
 * export const main = middy(steadyHandler(async (event, context, ctx) => ({ statusCode: 201, body: ctx.requestId })), middyPlugin({ timeoutEarlyInMillis: 50 }))
 *   .use(toMiddy(idempotency({ store, ttlMs: 86_400_000 })))
 *   .use(maintenance); // its early 503 is never stored: the idempotency record is released
 */
export function middyPlugin<P extends MiddyPluginLike>(config?: P): P & { requestEnd: (request: any) => Promise<void> } {
  const own = (config ?? {}) as P;
  if (!isRecord(own)) throw new ConfigurationError('middyPlugin(): the middy plugin options must be an object', { field: 'config', expected: 'a middy plugin object' });
  checkHook(own, 'requestEnd');
  const theirs = own.requestEnd;
  return {
    ...own,
    async requestEnd(request: MiddyRequestLike): Promise<void> {
      await endRequest(request);
      if (theirs) await theirs(request);
    },
  };
}
