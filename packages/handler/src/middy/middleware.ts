/**
 * `toMiddy(plugin)`: a steadyfn plugin as a middy middleware, so a team on middy (and
 * Powertools) can adopt one steadyfn piece at a time. Hooks map onto middy's:
 *
 *   middy before   → the plugin's `state()`, `extend`, then `before` (its `{ answer }` is
 *                    middy's early return; the `after`s of the steadyfn plugins before it
 *                    and every `finally` run first, as in `handler()`)
 *   middy after    → `after` (its `{ answer }` replaces `request.response`); the outermost
 *                    steadyfn middleware then runs every `finally`
 *   middy onError  → `onError` (its `{ answer }` recovers: the `after`s of the steadyfn
 *                    plugins before it run with the answer — one that throws gets `onError`
 *                    for its plugin and those before it — then every `finally`, as in
 *                    `handler()`; then middy's early return, see recover.ts); else the
 *                    outermost steadyfn middleware runs every `finally`
 *   `wrap`         → run around the handler by `steadyHandler(fn)` (middy has no around
 *                    hook); without it the request fails with `MIDDY_WRAP_NOT_RUN`
 *
 * Errors are thrown as middy expects; a steadyfn error keeps its class and `code` (its `issues`,
 * once every steadyfn hook has run, without their messages: `{ field, expected }` each, as the
 * runtime logs what it is thrown).
 */
import { functionReturned, functionStarted, setFunctionReturned, setFunctionStarted, type InvocationContext } from '../context.js';
import { ConfigurationError, DeadlineExceededError, toSteadyError, type SteadyError } from '../errors.js';
import { defineHandler, type HandlerOptions } from '../define.js';
import { extendContext } from '../extend.js';
import { markRecovered } from '../recovered.js';
import { checkKnownKeys, keysOf } from '../internal/option-keys.js';
import { ownItemFailed } from '../internal/own-item-failed.js';
import type { Plugin } from '../types.js';
import {
  cutOffByMiddy,
  finish,
  inContext,
  isAnswer,
  openRequest,
  runAftersBefore,
  settle,
  steadyRequestOf,
  toMiddyResponse,
  type Entry,
  type MiddyRequestLike,
  type SteadyRequest,
} from './request.js';
import { onErrorOf, recoverOutward } from './recover.js';
import { withoutIssueMessages } from './public-error.js';

/**
 * Options of `toMiddy()`, the same as `handler()`'s for what they name. The first steadyfn
 * middleware of a chain builds the ctx with its options; the others' apply to nothing else,
 * so give them to the first (or the same to each).
 */
export type MiddyOptions = Pick<HandlerOptions<undefined, []>, 'name' | 'deadlineMarginMs' | 'apiGatewayTimeoutMs' | 'logSink' | 'logLevel' | 'body' | 'snsEnvelope' | 'eventBridgeEnvelope' | 'principal' | 'trustIdentityHeaders'>;

// keysOf: fails to compile when MiddyOptions gains an option this list lacks.
const MIDDY_OPTIONS = keysOf<MiddyOptions>({ name: true, deadlineMarginMs: true, apiGatewayTimeoutMs: true, logSink: true, logLevel: true, body: true, snsEnvelope: true, eventBridgeEnvelope: true, principal: true, trustIdentityHeaders: true });

/** A middy middleware object (`MiddlewareObj` of `@middy/core`), typed structurally. */
export interface MiddyMiddleware {
  name: string;
  before(request: MiddyRequestLike): Promise<unknown>;
  after(request: MiddyRequestLike): Promise<void>;
  onError(request: MiddyRequestLike): Promise<unknown>;
}

/** A `before` that let the request go on: whether middy then calls the handler is not known (a later middleware may throw). */
function notKnown(ctx: InvocationContext): undefined {
  setFunctionStarted(ctx, undefined);
  return undefined;
}

/** middy's early-timeout error as the steadyfn one, its message kept, the original as `cause`. */
function cutOff(thrown: unknown): DeadlineExceededError {
  const error = new DeadlineExceededError('middy answered before the function (its early timeout)');
  Object.defineProperty(error, 'cause', { value: thrown, configurable: true, writable: true });
  return error;
}

/** What the steadyfn hooks are handed for `thrown`: DEADLINE_EXCEEDED for middy's early-timeout error. */
function errorOf(steady: SteadyRequest, thrown: unknown): SteadyError {
  return steady.timedOut !== undefined && steady.timedOut.thrown === thrown ? steady.timedOut.error : toSteadyError(thrown);
}

/** Middy's early return: set `earlyResponse` (even to undefined) and hand the value back. */
function answerEarly(request: MiddyRequestLike, value: unknown): unknown {
  request.earlyResponse = value;
  return value;
}

/**
 * A steadyfn plugin as a middy middleware. `ctx` (the same normalised trigger, `deliveryId`,
 * deadline and `signal`, `log`, `coldStart` and per-plugin state as under `handler()`) is
 * built from the Lambda event and context by the first steadyfn middleware; the function reads
 * it with `steadyContext(context)`, or receives it from `steadyHandler(fn)`.
 *
 * @throws ConfigurationError (`CONFIG_INVALID`) for an invalid plugin or option, as `handler()`
 *   does — also for a `handler()` option middy has its own way to do (`input`, `use`, `methods`,
 *   `timeoutMs`, …): under middy it would be ignored.
 * @example
 * import middy from '@middy/core';
 * export const main = middy()
 *   .use(toMiddy(connections({ redis: cache })))
 *   .use(toMiddy(idempotency({ store, ttlMs: 86_400_000 })))
 *   .handler(steadyHandler(async (event, context, ctx) => ({ statusCode: 200, body: 'ok' })));
 */
export function toMiddy(plugin: Plugin<any, any>, options: MiddyOptions = {}): MiddyMiddleware {
  // An option of handler() that toMiddy does not take (from JavaScript) would be ignored without a word.
  checkKnownKeys('toMiddy', '', options, MIDDY_OPTIONS);
  // The same checks as handler(): a plugin without a name, a hook that is not a function, a bad option.
  const def = defineHandler({ ...options, use: [plugin] }, () => undefined);
  // This middleware's entry in each request, keyed by the request (not `request.internal`: middy ≤ 6 shares it).
  const own = new WeakMap<object, Entry>();
  const entryOf = (request: MiddyRequestLike): { steady: SteadyRequest; entry: Entry } | undefined => {
    const steady = steadyRequestOf(request);
    const entry = own.get(request);
    return steady && entry && !steady.done ? { steady, entry } : undefined;
  };

  return {
    name: `steadyfn:${plugin.name}`,

    async before(request) {
      const steady = steadyRequestOf(request) ?? openRequest(request, def);
      if (steady.read.acknowledged) {
        // Nothing to run (only S3 test events): answered as handler() answers it, without the
        // handler or any hook — middy skips the rest of the chain on an early answer.
        await finish(steady, { ok: true, value: steady.read.acknowledged.answer });
        return answerEarly(request, steady.read.acknowledged.answer);
      }
      const ctx = steady.ctx;
      // middy calls the handler only after every `before`: until this one returns, it has not
      // run (functionStarted: false if this hook throws or answers early); after, not known.
      setFunctionStarted(ctx, false);
      const entry: Entry = { plugin, state: undefined, afterDone: false };
      // Entered before its hooks run, so it gets onError/finally even when one of them throws.
      steady.entries.push(entry);
      own.set(request, entry);
      await inContext(steady, async () => {
        if (plugin.state) entry.state = plugin.state();
        if (plugin.extend) {
          steady.deadline.check();
          extendContext(ctx, await settle(steady, plugin.extend(ctx, entry.state)), plugin.name);
        }
      });
      if (!steady.inputRead) {
        steady.inputRead = true;
        ctx.input = steady.read.invocation.payload();
      }
      if (!plugin.before) return notKnown(ctx);
      steady.deadline.check();
      const early = await inContext(steady, () => settle(steady, plugin.before!(ctx, entry.state)));
      if (!isAnswer(early)) return notKnown(ctx);
      // middy now skips the handler and every `after`: run the steadyfn ones here, as handler() does.
      const value = await runAftersBefore(steady, steady.entries.length - 1, toMiddyResponse(steady, early.answer));
      await finish(steady, { ok: true, value });
      return answerEarly(request, value);
    },

    async after(request) {
      const found = entryOf(request);
      if (!found) return;
      const { steady, entry } = found;
      // middy went on: the invocation is over for the wraps, whatever they still hold.
      steady.life.over = true;
      // middy's early timeout answered (its `timeoutEarlyResponse` returned a value) while the
      // function still runs: not the function's result, but a recovery from the deadline — so
      // idempotency neither stores it nor releases the record for a retry to run alongside.
      if (cutOffByMiddy(steady)) markRecovered(steady.ctx, new DeadlineExceededError('middy answered before the function (its early timeout)'));
      // middy runs `after` only once the handler returned: the innermost steadyfn one records it
      // (functionReturned), unless a `wrap` answered without calling the function, or it reports
      // its own message failed (`ownItemFailed`: a failure, as in steadyHandler).
      else if (!steady.deadline.cutOff && functionStarted(steady.ctx) && functionReturned(steady.ctx) === undefined && !ownItemFailed(steady.ctx, request.response)) {
        setFunctionReturned(steady.ctx, request.response);
      }
      if (plugin.wrap && !steady.wrapped) {
        throw new ConfigurationError(
          `toMiddy(): plugin "${plugin.name}" has a wrap hook, which only runs when the handler is wrapped: middy(steadyHandler(fn)) or .handler(steadyHandler(fn))`,
          { field: 'handler', expected: 'a handler wrapped with steadyHandler()', code: 'MIDDY_WRAP_NOT_RUN' },
        );
      }
      if (plugin.after && !entry.afterDone) {
        entry.afterDone = true;
        const replaced = await inContext(steady, () => settle(steady, plugin.after!(steady.ctx, request.response, entry.state)));
        if (isAnswer(replaced)) request.response = toMiddyResponse(steady, replaced.answer);
      }
      if (steady.entries[0] === entry) await finish(steady, { ok: true, value: request.response });
    },

    async onError(request) {
      const found = entryOf(request);
      if (!found) return undefined;
      const { steady, entry } = found;
      // middy went on (the handler failed, or middy's early timeout answered while it runs).
      steady.life.over = true;
      // Its early timeout, the function still running: the steadyfn hooks see DEADLINE_EXCEEDED
      // (idempotency keeps the record for its lease); middy throws on its own error.
      if (cutOffByMiddy(steady)) steady.timedOut = { thrown: request.error, error: cutOff(request.error) };
      const error = errorOf(steady, request.error);
      const got = await onErrorOf(steady, entry, error);
      if (got !== undefined && 'answer' in got) {
        const end = await recoverOutward(steady, entry, error, got.answer);
        if (end.ok) return answerEarly(request, end.value);
        // Failed again after the recovery, every steadyfn onError and finally already run (the
        // outer steadyfn middlewares then find the request done): middy's chain goes on with it.
        request.error = withoutIssueMessages(end.thrown);
        return undefined;
      }
      // A throw here replaces the error, as in handler(); thrown on by middy at the end.
      if (got !== undefined) request.error = got.replaced;
      if (steady.entries[0] === entry) {
        await finish(steady, { ok: false, error: errorOf(steady, request.error) });
        // Every steadyfn hook has had it: what middy throws on (and the runtime logs) carries no issue message.
        request.error = withoutIssueMessages(request.error);
      }
      return undefined;
    },
  };
}
