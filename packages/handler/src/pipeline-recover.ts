/**
 * The failure path of the onion: `onError` in reverse from the innermost plugin entered, and a
 * recovery's answer flowing outward through the `after` of the plugins before the one that
 * recovered. Every hook here is cut off at the cleanup bound.
 */
import { trackConcurrently } from './context.js';
import { HookTimeoutError, type Deadline } from './deadline.js';
import { toSteadyError, type SteadyError } from './errors.js';
import type { Definition, Invocation } from './invoke.js';
import { answerOf, isAnswer, isThenable } from './pipeline-answer.js';
import { markRecovered } from './recovered.js';
import type { Context, Outcome, Plugin } from './types.js';

/**
 * `onError` in reverse, from the innermost plugin entered. The first `{ answer }` (from plugin
 * `i`) recovers, and the answer flows outward, onion-style, through the `after` of plugins
 * `i-1 … 0` that passed their `before` (`afterUpTo`) and have not run it: they see, and may
 * replace, the recovered answer, with `recoveredFrom(ctx)` naming the error that `onError`
 * received (an inner `onError`'s replacement when one threw). An `after` that
 * throws there fails the invocation again: `onError` runs for it and the plugins before it (which
 * may recover again). Not for a message that may not recover (`recoverable` false: one an ordered
 * batch did not run), where every hook still runs and neither an answer nor a thrown replacement
 * changes its `NOT_PROCESSED`. Every hook here is cut off at the cleanup bound.
 */
export async function recover(
  def: Definition,
  ctx: Context,
  inv: Invocation,
  deadline: Deadline,
  states: unknown[],
  entered: number,
  afterUpTo: number,
  error: SteadyError,
  recoverable: boolean,
): Promise<Outcome> {
  for (;;) {
    const { outcome, at, from } = await runOnError(def, ctx, inv, deadline, states, entered, error, recoverable);
    if (!outcome.ok) return outcome;
    markRecovered(ctx, from);
    const failed = await aftersOfRecovered(def, ctx, inv, deadline, states, Math.min(at, afterUpTo), outcome);
    if (failed === undefined) return outcome;
    // `after` of plugin `failed.at` threw: it and the plugins before it get `onError` (never `after` again).
    entered = failed.at + 1;
    afterUpTo = failed.at;
    error = failed.error;
  }
}

/**
 * The `after` hooks of plugins `[0, upTo)` in reverse, for an answer an `onError` recovered
 * with (`outcome.value`, replaced in place when one answers). Each is cut off at the cleanup
 * bound (the deadline may have been what failed); one cut off is logged and its answer not awaited.
 */
async function aftersOfRecovered(def: Definition, ctx: Context, inv: Invocation, deadline: Deadline, states: unknown[], upTo: number, outcome: { ok: true; value: unknown }): Promise<{ at: number; error: SteadyError } | undefined> {
  for (let i = upTo - 1; i >= 0; i--) {
    const plugin = def.use[i]!;
    if (!plugin.after) continue;
    try {
      const returned = plugin.after(ctx, outcome.value, states[i]);
      const replaced = isThenable(returned) ? await deadline.raceCleanup(Promise.resolve(returned)) : returned;
      if (isAnswer(replaced)) outcome.value = answerOf(inv, replaced.answer);
    } catch (hookError) {
      if (hookError instanceof HookTimeoutError) hookTimedOut(ctx, plugin, 'after');
      else return { at: i, error: toSteadyError(hookError) };
    }
  }
  return undefined;
}

/**
 * `onError` of plugins `[0, entered)` in reverse; stops at the first `{ answer }` when
 * `recoverable` (`at`: that plugin's index; `from`: the error it received). A throw replaces
 * the error, as in an onion (Hono's and Koa's compose, middy's `request.error`): the hooks
 * before it receive the replacement, and the invocation ends with it unless one recovers.
 */
async function runOnError(
  def: Definition,
  ctx: Context,
  inv: Invocation,
  deadline: Deadline,
  states: unknown[],
  entered: number,
  error: SteadyError,
  recoverable: boolean,
): Promise<{ outcome: Outcome; at: number; from: SteadyError }> {
  let current = error;
  for (let i = entered - 1; i >= 0; i--) {
    const plugin = def.use[i]!;
    if (!plugin.onError) continue;
    try {
      const result = plugin.onError(ctx, current, states[i]);
      const recovered = isThenable(result) ? await deadline.raceCleanup(Promise.resolve(result)) : result;
      if (isAnswer(recovered) && recoverable) return { outcome: { ok: true, value: answerOf(inv, recovered.answer) }, at: i, from: current };
    } catch (hookError) {
      if (hookError instanceof HookTimeoutError) hookTimedOut(ctx, plugin, 'onError');
      else if (!recoverable) {
        // A message the batch never ran stays NOT_PROCESSED: a terminal replacement would
        // have it acknowledged (`terminalErrors: 'ack'`) and deleted unrun.
        ctx.log.warn('plugin onError hook failed: the message was not run and stays NOT_PROCESSED', { plugin: plugin.name, code: toSteadyError(hookError).code });
      } else current = onErrorReplaced(ctx, plugin, current, hookError);
    }
  }
  return { outcome: { ok: false, error: current }, at: -1, from: current };
}

/**
 * Logs an `onError` that threw in place of `error` (`warn`, `plugin onError hook replaced the
 * error`, with the plugin and both codes) and returns the replacement as a `SteadyError`. Only
 * codes: the replaced error may be a 400 that a bug in the hook turned into a retryable 500, and
 * without this line nothing would show what it was; never a message, a stack or the payload.
 * `handler()` and `toMiddy()` both log through here.
 */
export function onErrorReplaced(ctx: Context, plugin: Plugin<any, any>, error: SteadyError, thrown: unknown): SteadyError {
  const replacement = toSteadyError(thrown);
  ctx.log.warn('plugin onError hook replaced the error', { plugin: plugin.name, code: replacement.code, replaced: error.code });
  return replacement;
}

/** Logs a hook cut off at the deadline (`PLUGIN_HOOK_TIMEOUT`) and keeps its late work from seeing a later invocation as its own. */
export function hookTimedOut(ctx: Context, plugin: Plugin<any, any>, hook: string): void {
  // The hook goes on running after the invocation ends: it must not see a later one as its own.
  trackConcurrently();
  ctx.log.warn('plugin hook cut off at the deadline', { plugin: plugin.name, hook, code: 'PLUGIN_HOOK_TIMEOUT' });
}
