/**
 * `onError` and recovery for the steadyfn plugins of a middy chain, with `handler()`'s onion
 * semantics (pipeline.ts `recover()`): middy itself ends its `onError` chain at the first
 * middleware that answers and runs no `after` then, so the adapter runs the steadyfn hooks the
 * answer must still pass through.
 */
import { toSteadyError, type SteadyError } from '../errors.js';
import { HookTimeoutError } from '../deadline.js';
import { hookTimedOut, onErrorReplaced } from '../pipeline-recover.js';
import { markRecovered } from '../recovered.js';
import { finish, inContext, isAnswer, settle, toMiddyResponse, type Entry, type SteadyRequest } from './request.js';

/**
 * What `entry`'s `onError` did with `error`: `answer` (as middy's response) when it recovered,
 * `replaced` (the value thrown, as thrown; logged as `handler()` logs it) when it threw, undefined
 * when it let the error pass or has no `onError`. Cut off at the cleanup bound; one cut off is
 * logged and passes.
 */
export async function onErrorOf(steady: SteadyRequest, entry: Entry, error: SteadyError): Promise<{ answer: unknown } | { replaced: unknown } | undefined> {
  const plugin = entry.plugin;
  if (!plugin.onError) return undefined;
  try {
    const recovered = await inContext(steady, () => settle(steady, plugin.onError!(steady.ctx, error, entry.state), true));
    return isAnswer(recovered) ? { answer: toMiddyResponse(steady, recovered.answer) } : undefined;
  } catch (hookError) {
    if (!(hookError instanceof HookTimeoutError)) {
      // Logged as under handler(); middy's chain goes on with it as `request.error`.
      onErrorReplaced(steady.ctx, plugin, error, hookError);
      return { replaced: hookError };
    }
    hookTimedOut(steady.ctx, plugin, 'onError');
    return undefined;
  }
}

/**
 * The `after` of `entries[0..upTo)` that have not run, in reverse, for a recovered answer (each
 * may replace it; cut off at the cleanup bound, one cut off logged and its answer not awaited).
 * `at` and `thrown` name the first that threw.
 */
async function aftersOfRecovered(steady: SteadyRequest, upTo: number, value: unknown): Promise<{ value: unknown } | { at: number; thrown: unknown }> {
  let response = value;
  for (let i = upTo - 1; i >= 0; i--) {
    const outer = steady.entries[i]!;
    if (!outer.plugin.after || outer.afterDone) continue;
    outer.afterDone = true;
    try {
      const replaced = await inContext(steady, () => settle(steady, outer.plugin.after!(steady.ctx, response, outer.state), true));
      if (isAnswer(replaced)) response = toMiddyResponse(steady, replaced.answer);
    } catch (hookError) {
      if (!(hookError instanceof HookTimeoutError)) return { at: i, thrown: hookError };
      hookTimedOut(steady.ctx, outer.plugin, 'after');
    }
  }
  return { value: response };
}

/**
 * `entry`'s `onError` recovered from `error` with `value`: as in `handler()`, the answer flows
 * outward through the `after` of the steadyfn plugins before it, `recoveredFrom(ctx)` naming the
 * error. An `after` that throws there fails the request again: `onError` runs for its plugin and
 * those before it (innermost first, with the error it threw — or the one an `onError` replaced it
 * with, as in middy's own chain), and one that answers recovers again, its answer flowing on
 * through the `after`s before it. Then every `finally` runs, with the final outcome.
 *
 * @returns `ok` with the answer (middy's early return: middy would run none of the hooks above),
 *   or `thrown`, the value that failed the request for good, as thrown (a steadyfn error keeps
 *   its class and `code`), for middy to throw on.
 */
export async function recoverOutward(steady: SteadyRequest, entry: Entry, error: SteadyError, value: unknown): Promise<{ ok: true; value: unknown } | { ok: false; thrown: unknown }> {
  let from = steady.entries.indexOf(entry);
  let recoveredFrom = error;
  let response = value;
  for (;;) {
    markRecovered(steady.ctx, recoveredFrom);
    const afters = await aftersOfRecovered(steady, from, response);
    if ('value' in afters) {
      await finish(steady, { ok: true, value: afters.value });
      return { ok: true, value: afters.value };
    }
    let thrown = afters.thrown;
    let answered: { at: number; value: unknown } | undefined;
    for (let i = afters.at; i >= 0 && answered === undefined; i--) {
      const got = await onErrorOf(steady, steady.entries[i]!, toSteadyError(thrown));
      if (got === undefined) continue;
      if ('answer' in got) answered = { at: i, value: got.answer };
      else thrown = got.replaced;
    }
    if (answered === undefined) {
      await finish(steady, { ok: false, error: toSteadyError(thrown) });
      return { ok: false, thrown };
    }
    recoveredFrom = toSteadyError(thrown);
    from = answered.at;
    response = answered.value;
  }
}
