/**
 * `finally` of every plugin entered, in reverse, each cut off at the cleanup bound: run
 * synchronously while the hooks are, so sync hooks (or none) cost no turn of the microtask queue.
 */
import type { Deadline } from './deadline.js';
import { HookTimeoutError } from './deadline.js';
import { toSteadyError } from './errors.js';
import type { Definition } from './invoke.js';
import { isThenable } from './pipeline-answer.js';
import { hookTimedOut } from './pipeline-recover.js';
import type { Context, Outcome, Plugin } from './types.js';

/**
 * `finally` in reverse, each cut off at the cleanup bound. Runs synchronously while the hooks
 * do, and returns a promise only from the first hook that returns one.
 */
export function runFinally(def: Definition, ctx: Context, deadline: Deadline, states: unknown[], entered: number, outcome: Outcome): Promise<void> | undefined {
  for (let i = entered - 1; i >= 0; i--) {
    const plugin = def.use[i]!;
    if (!plugin.finally) continue;
    let result: unknown;
    try {
      result = plugin.finally(ctx, outcome, states[i]);
      // Inside the try: reading `then` can throw too (a getter, a strict proxy).
      if (!isThenable(result)) continue;
    } catch (hookError) {
      finallyFailed(ctx, plugin, hookError);
      continue;
    }
    return finishFinally(def, ctx, deadline, states, i, outcome, result);
  }
  return undefined;
}

/** Awaits the `finally` hook of plugin `i` (which returned `pending`), then runs those before it. */
async function finishFinally(def: Definition, ctx: Context, deadline: Deadline, states: unknown[], i: number, outcome: Outcome, pending: PromiseLike<unknown>): Promise<void> {
  try {
    await deadline.raceCleanup(Promise.resolve(pending));
  } catch (hookError) {
    finallyFailed(ctx, def.use[i]!, hookError);
  }
  const rest = runFinally(def, ctx, deadline, states, i, outcome);
  if (rest !== undefined) await rest;
}

function finallyFailed(ctx: Context, plugin: Plugin<any, any>, hookError: unknown): void {
  if (hookError instanceof HookTimeoutError) hookTimedOut(ctx, plugin, 'finally');
  else ctx.log.warn('plugin finally hook failed', { plugin: plugin.name, code: toSteadyError(hookError).code });
}
