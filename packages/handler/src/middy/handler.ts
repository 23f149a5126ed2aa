/**
 * The handler side of the middy adapter: `steadyHandler(fn)` runs the function as
 * `handler()` would inside the steadyfn middlewares' ctx — `currentContext()` set, raced
 * against the deadline, inside the plugins' `wrap` hooks (middy has no around hook) — and
 * hands it `ctx`; `steadyContext(context)` finds the ctx from a plain middy handler.
 */
import { functionReturned, functionStarted, setFunctionReturned, setFunctionStarted } from '../context.js';
import { ConfigurationError } from '../errors.js';
import { isThenable } from '../pipeline-answer.js';
import { nextAfterEnd } from '../pipeline-wrap.js';
import { ownItemFailed } from '../internal/own-item-failed.js';
import type { Context } from '../types.js';
import { inContext, steadyRequestOfContext, type SteadyRequest } from './request.js';

/** A middy handler: `(event, context, { signal })`. */
export type MiddyHandlerLike<E, R> = (event: E, context: any, opts?: { signal: AbortSignal }) => Promise<R>;

function noMiddleware(owner: string): ConfigurationError {
  return new ConfigurationError(`${owner}: no steadyfn middleware ran for this request: add toMiddy(plugin) to the middy chain`, {
    field: 'middlewares',
    expected: 'at least one toMiddy(plugin) in the chain',
    code: 'MIDDY_NO_CONTEXT',
  });
}

/**
 * The steadyfn ctx of the request a Lambda context belongs to (its `trigger`, `deliveryId`,
 * `signal`, `log`, `traceparent` and what plugins added), in a middy handler.
 *
 * @throws ConfigurationError (`MIDDY_NO_CONTEXT`) when no steadyfn middleware ran for it.
 * @example
 * const main = middy(async (event, context) => steadyContext<{ redis: Redis }>(context).redis.get('k')).use(toMiddy(connections({ redis })));
 */
export function steadyContext<Added extends object = {}>(context: unknown): Context<Added> {
  const steady = steadyRequestOfContext(context);
  if (!steady) throw noMiddleware('steadyContext()');
  return steady.ctx as unknown as Context<Added>;
}

function runWraps(steady: SteadyRequest, call: () => Promise<unknown>): Promise<unknown> {
  const wrappers = steady.entries.filter((entry) => entry.plugin.wrap);
  const dispatch = (k: number): Promise<unknown> => {
    if (k === wrappers.length) return call();
    const entry = wrappers[k]!;
    // A next() kept past its wrap, or past the invocation (`steady.life`), is refused and logged
    // once, as in handler() (pipeline-wrap.ts): the function must never run outside its invocation.
    let settled = false;
    const next = (): Promise<unknown> => (settled || steady.life.over ? nextAfterEnd(steady.ctx, steady.life, entry.plugin.name) : dispatch(k + 1));
    try {
      steady.deadline.check();
      let returned: unknown;
      try {
        returned = entry.plugin.wrap!(steady.ctx, next, entry.state);
      } finally {
        if (!isThenable(returned)) settled = true;
      }
      const own = Promise.resolve(returned);
      const done = (): void => {
        settled = true;
      };
      own.then(done, done);
      return steady.deadline.race(own);
    } catch (thrown) {
      return Promise.reject(thrown);
    }
  };
  return dispatch(0);
}

/**
 * Wraps a middy handler so it runs inside the steadyfn ctx: it receives `ctx` as its third
 * argument (typed with what the plugins add), `currentContext()` returns it, it is raced
 * against the deadline (`DEADLINE_EXCEEDED` instead of a Lambda timeout; `ctx.signal` aborts),
 * and plugins' `wrap` hooks run around it, outermost first. A wrap's `next()` kept and called
 * after that wrap settled or the invocation ended (this handler answered, or middy went on to
 * `after`/`onError`, e.g. on its early timeout) rejects with `WRAP_NEXT_AFTER_END`
 * (`ConfigurationError`, logged once per invocation) and the function does not run. middy's
 * early timeout (`timeoutEarlyInMillis`) answering while it still runs is, for the steadyfn
 * hooks, its deadline: `ctx.signal` aborts, `onError` gets `DEADLINE_EXCEEDED`, and an answer
 * from `timeoutEarlyResponse` is a recovery from it (`recoveredFrom`), not its result.
 *
 * For a Lambda event of one SQS message or one Kinesis, DynamoDB Streams or Kafka record, a
 * value that reports that message failed — `{ batchItemFailures: [...] }` with an entry, or the
 * `Promise.allSettled` array `@middy/sqs-partial-batch-failure` reads, its entry `rejected` — is
 * answered as it is, but is not the function's returned result for the plugins
 * (`functionReturned(ctx)` stays undefined, as after a throw): Lambda redelivers the message, so
 * idempotency releases its record and the inbox its claim, for the redelivery to run the function.
 *
 * @throws ConfigurationError (`MIDDY_NO_CONTEXT`) at run time when no steadyfn middleware ran.
 * @example
 * export const main = middy(steadyHandler<{ redis: Redis }>(async (event, context, ctx) => ctx.redis.get(event.key)))
 *   .use(toMiddy(connections({ redis })));
 */
export function steadyHandler<Added extends object = {}, E = any, R = any>(
  fn: (event: E, context: any, ctx: Context<Added>) => R | Promise<R>,
): MiddyHandlerLike<E, R> {
  if (typeof fn !== 'function') throw new ConfigurationError('steadyHandler(): the handler must be a function', { field: 'fn', expected: 'a function' });
  return (event, context) => {
    const steady = steadyRequestOfContext(context);
    if (!steady) return Promise.reject(noMiddleware('steadyHandler()'));
    steady.wrapped = true;
    const ctx = steady.ctx as unknown as Context<Added>;
    // A rejection, never a throw: a wrap's `next()` returns a promise (`next().finally(…)`).
    const call = (): Promise<unknown> => {
      try {
        steady.deadline.check();
        setFunctionStarted(steady.ctx, true);
        return steady.deadline.race(Promise.resolve(fn(event, context, ctx)));
      } catch (thrown) {
        return Promise.reject(thrown);
      }
    };
    // Not called until `call` runs: a `wrap` that answers without `next()`, or a deadline
    // check that throws first, leaves it false (the last `before` left it "not known").
    setFunctionStarted(steady.ctx, false);
    steady.handlerRunning = true;
    const running = inContext(steady, () => runWraps(steady, call));
    // Its answer ends the invocation for the wraps: one still running (an outer wrap answered
    // without waiting for it) cannot run the function any more. Settled before middy's own
    // reaction to it runs (registered first): middy going on before it means middy answered
    // in its place (its early timeout; cutOffByMiddy).
    const over = (): void => {
      steady.life.over = true;
      steady.handlerRunning = false;
    };
    // The function's result, recorded as it settles: a plain middy `after` inside the toMiddy ones
    // may replace (or answer for) it before the innermost steadyfn `after` records it, and then
    // idempotency's `finally` (middyPlugin()'s requestEnd) still completes the record with it.
    // Not a value that reports the invocation's own message failed (`ownItemFailed`): Lambda
    // redelivers that message, so for the plugins the function did not return (a failure).
    const returned = (value: unknown): void => {
      if (!steady.deadline.cutOff && functionStarted(steady.ctx) && functionReturned(steady.ctx) === undefined && !ownItemFailed(steady.ctx, value)) setFunctionReturned(steady.ctx, value);
      over();
    };
    running.then(returned, over);
    return running as Promise<R>;
  };
}
