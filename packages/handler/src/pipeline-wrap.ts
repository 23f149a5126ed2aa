/**
 * The `wrap` layers of the onion and the function inside them. A `next()` a wrap kept and
 * called after that wrap settled, or after the invocation ended, is refused: the function
 * must never run outside its invocation (after its answer, `finally` and deadline).
 */
import type { InvocationContext } from './context.js';
import { setFunctionReturned, setFunctionStarted } from './effects.js';
import type { Deadline } from './deadline.js';
import { ConfigurationError } from './errors.js';
import type { Definition, Invocation } from './invoke.js';
import { answerOf, isThenable } from './pipeline-answer.js';
import { isHttpResponse } from './response.js';

/** Whether the invocation that owns a set of `next()` functions has ended; set by the pipeline when it answers. */
export interface WrapLife {
  /** The invocation has ended: no `next()` of it may run the function any more. */
  over: boolean;
  /** The refusal was logged (once per invocation). */
  logged: boolean;
}

/**
 * `WRAP_NEXT_AFTER_END` (a `ConfigurationError`, status 500): a `next()` was called after the
 * `wrap` that received it settled, or after its invocation ended. Logged once per invocation
 * (code and plugin only); the function does not run. Also the middy adapter's (middy/handler.ts).
 */
export function nextAfterEnd(ctx: InvocationContext, life: WrapLife, plugin: string): Promise<never> {
  const error = wrapNextAfterEndError(plugin);
  if (!life.logged) {
    life.logged = true;
    ctx.log.error('wrap next() refused', { code: error.code, plugin });
  }
  return Promise.reject(error);
}

/** The `WRAP_NEXT_AFTER_END` error for `plugin`. */
export function wrapNextAfterEndError(plugin: string): ConfigurationError {
  return new ConfigurationError(`wrap of plugin "${plugin}": next() called after the wrap settled or the invocation ended`, {
    field: 'wrap',
    expected: 'next() called while the wrap that received it runs',
    code: 'WRAP_NEXT_AFTER_END',
  });
}

/** The function alone, under the deadline, rendered for HTTP: the innermost layer of the onion. */
async function callFunction(def: Definition, ctx: InvocationContext, input: unknown, inv: Invocation, deadline: Deadline): Promise<unknown> {
  deadline.check();
  setFunctionStarted(ctx, true);
  const result = def.fn(input, ctx);
  const value = isThenable(result) ? await deadline.race(Promise.resolve(result)) : result;
  // Returned (functionReturned): unrendered until it renders, so a failure to render it is seen as after the return.
  setFunctionReturned(ctx, value, false);
  const answer = answerOf(inv, value);
  setFunctionReturned(ctx, answer);
  return answer;
}

/**
 * `wrap` hooks (at least one) around the function, outermost first; each `next()` runs the rest
 * again while the wrap that received it runs, and is refused (`WRAP_NEXT_AFTER_END`) once it
 * settled or `life.over` is set.
 */
export function runWrapped(def: Definition, ctx: InvocationContext, input: unknown, inv: Invocation, deadline: Deadline, states: unknown[], life: WrapLife): Promise<unknown> {
  const wrappers = def.wrappers;
  const dispatch = (k: number): Promise<unknown> => {
    if (k === wrappers.length) return callFunction(def, ctx, input, inv, deadline);
    const index = wrappers[k]!;
    const plugin = def.use[index]!;
    let settled = false;
    const next = (): Promise<unknown> => (settled || life.over ? nextAfterEnd(ctx, life, plugin.name) : dispatch(k + 1));
    try {
      deadline.check();
      let returned: unknown;
      try {
        returned = plugin.wrap!(ctx, next, states[index]);
      } catch (thrown) {
        settled = true;
        throw thrown;
      }
      const own = Promise.resolve(returned);
      if (isThenable(returned)) {
        const done = (): void => {
          settled = true;
        };
        own.then(done, done);
      } else settled = true;
      const pending = deadline.race(own);
      // An outer wrap's next() resolves to the rendered response too when this wrap replaced
      // the result (the outermost one's is rendered, and checked, below).
      return k === 0 || !inv.http ? pending : pending.then((value) => (isHttpResponse(value) ? value : answerOf(inv, value)));
    } catch (thrown) {
      return Promise.reject(thrown);
    }
  };
  return dispatch(0).then((value) => answerOf(inv, value));
}
