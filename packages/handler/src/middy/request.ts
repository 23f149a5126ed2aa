/**
 * What the steadyfn middlewares of one middy request share: one ctx (built by the first of
 * them from the Lambda event and context, exactly as `handler()` builds it), its deadline,
 * and each entered plugin with its own state — keyed by middy's request object (never its
 * `internal`, shared across requests by middy ≤ 6) and on the Lambda context.
 */
import { createContext, ended, runAs, takeColdStart, type InvocationContext } from '../context.js';
import { Deadline } from '../deadline.js';
import { HookTimeoutError } from '../deadline.js';
import { DeadlineExceededError, toSteadyError, type SteadyError } from '../errors.js';
import { MIDDY_REQUEST } from '../internal/middy-request.js';
import { isRecord } from '../internal/record.js';
import type { Definition } from '../invoke.js';
import { isThenable } from '../pipeline-answer.js';
import type { WrapLife } from '../pipeline-wrap.js';
import { hookTimedOut } from '../pipeline-recover.js';
import type { LambdaContext } from '../providers/lambda.js';
import { formatHttp } from '../providers/lambda-http.js';
import { lambdaRequest, type LambdaRequest } from '../providers/lambda-request.js';
import { isHttpResponse, renderResult } from '../response.js';
import type { Outcome, Plugin } from '../types.js';

/** The part of middy's `request` the adapter reads and writes (middy ≥ 5). */
export interface MiddyRequestLike {
  event: unknown;
  context: unknown;
  response: unknown;
  error: unknown;
  internal: unknown;
  earlyResponse?: unknown;
}

/** One steadyfn plugin entered for this request. */
export interface Entry {
  plugin: Plugin<any, any>;
  state: unknown;
  /** Its `after` ran (the outcome was a success when it did). */
  afterDone: boolean;
}

/** The steadyfn side of one middy request. */
export interface SteadyRequest {
  ctx: InvocationContext;
  deadline: Deadline;
  read: LambdaRequest;
  /** Plugins entered, outermost first. */
  entries: Entry[];
  /** Whether `ctx.input` has been read from the event. */
  inputRead: boolean;
  /** `steadyHandler()` ran the function (and so the `wrap` hooks). */
  wrapped: boolean;
  /** `steadyHandler()`'s promise has not settled: the function (or a wrap) still runs. */
  handlerRunning: boolean;
  /**
   * middy's early timeout fired for this request (seen by `middyPlugin()`'s `timeoutEarlyResponse`):
   * middy answers in place of a handler still running, a plain one too (see `cutOffByMiddy`).
   */
  earlyTimeout?: boolean;
  /** middy's early-timeout error (`thrown`) while the function ran, and what the steadyfn hooks get for it. */
  timedOut?: { thrown: unknown; error: SteadyError };
  /** `finally` hooks have run and the deadline is disposed: nothing more happens. */
  done: boolean;
  /**
   * Set when the invocation ends — `steadyHandler`'s promise settles, a steadyfn `after` or
   * `onError` runs (middy went on, even past a handler still running: its early timeout), or
   * `finally` hooks run: a `next()` a wrap kept is refused from then on (pipeline-wrap.ts).
   */
  life: WrapLife;
}

const REQUEST = MIDDY_REQUEST;

/**
 * Each request's steadyfn state, keyed by middy's request object (a new one per invocation).
 * Not kept in `request.internal`: middy ≤ 6 passes the same `internal` object (the plugin's
 * `internal` option) to every request, and the state of one would leak into the next.
 */
const REQUESTS = new WeakMap<object, SteadyRequest>();

/**
 * The requests a steadyfn middleware opened and steadyfn has not ended, each with when its Lambda
 * deadline falls (epoch ms, from the remaining time read when opened). Read by `middyPlugin()`:
 * middy 4–6 call `requestStart` without the request, so there its early timeout finds the request
 * here. Held weakly; pruned as requests open.
 */
const OPENED = new Map<WeakRef<MiddyRequestLike>, number | undefined>();

/** The remaining time middy reads for its early-timeout timer (ms), when the context has it. */
export function remainingMs(request: MiddyRequestLike): number | undefined {
  const context = request.context as { getRemainingTimeInMillis?: () => number; lambdaContext?: { getRemainingTimeInMillis?: () => number } } | undefined;
  const read = context?.getRemainingTimeInMillis ?? context?.lambdaContext?.getRemainingTimeInMillis;
  if (typeof read !== 'function') return undefined;
  try {
    const ms = read.call(context);
    return typeof ms === 'number' ? ms : undefined;
  } catch {
    return undefined;
  }
}

/** When the request's deadline falls (epoch ms), from its remaining time now. */
export function endsAtOf(request: MiddyRequestLike): number | undefined {
  const remaining = remainingMs(request);
  return remaining === undefined ? undefined : Date.now() + remaining;
}

/** The requests steadyfn opened and has not ended (see `OPENED`), with when each deadline falls. */
export function openedRequests(): Array<{ request: MiddyRequestLike; endsAt: number | undefined }> {
  const out: Array<{ request: MiddyRequestLike; endsAt: number | undefined }> = [];
  for (const [ref, endsAt] of OPENED) {
    const request = ref.deref();
    if (request === undefined || REQUESTS.get(request)?.done !== false) OPENED.delete(ref);
    else out.push({ request, endsAt });
  }
  return out;
}

function checkMiddy(request: MiddyRequestLike): void {
  if (!isRecord(request.internal)) throw new TypeError('toMiddy(): not a middy request (no `internal` object); @middy/core ≥ 5 is required');
}

/** The request's steadyfn state, when a steadyfn middleware has opened it. */
export function steadyRequestOf(request: MiddyRequestLike): SteadyRequest | undefined {
  checkMiddy(request);
  return REQUESTS.get(request);
}

/** The steadyfn state a Lambda context belongs to (for the handler, which sees no middy request). */
export function steadyRequestOfContext(context: unknown): SteadyRequest | undefined {
  return typeof context === 'object' && context !== null ? ((context as Record<symbol, unknown>)[REQUEST] as SteadyRequest | undefined) : undefined;
}

/**
 * Opens the request's steadyfn state: reads the event as `handler()` would and makes the ctx.
 *
 * @throws MalformedEventError when the event cannot be read.
 */
export function openRequest(request: MiddyRequestLike, def: Definition): SteadyRequest {
  const read = lambdaRequest(def, request.event, request.context as LambdaContext);
  const deadline = new Deadline(read.frame.deadline, def.deadlineMarginMs);
  const ctx = createContext(def, read.frame, read.invocation, deadline, takeColdStart());
  const steady: SteadyRequest = { ctx, deadline, read, entries: [], inputRead: false, wrapped: false, handlerRunning: false, done: false, life: { over: false, logged: false } };
  checkMiddy(request);
  REQUESTS.set(request, steady);
  openedRequests(); // prunes
  OPENED.set(new WeakRef(request), endsAtOf(request));
  // Not enumerable: loggers that print the Lambda context (Powertools) do not see it.
  Object.defineProperty(request.context, REQUEST, { value: steady, configurable: true, enumerable: false });
  return steady;
}

/** Runs `fn` with the invocation's ctx as `currentContext()`. */
export function inContext<T>(steady: SteadyRequest, fn: () => T): T {
  return runAs(steady.ctx, fn);
}

/** A hook's result, raced against the deadline (`cleanup`: against the cleanup cut-off). */
export function settle<T>(steady: SteadyRequest, result: T | PromiseLike<T>, cleanup = false): T | Promise<T> {
  if (!isThenable(result)) return result;
  return cleanup ? steady.deadline.raceCleanup(Promise.resolve(result)) : steady.deadline.race(Promise.resolve(result));
}

/** A Lambda proxy result (`{ statusCode, … }`): what middy handlers return for HTTP events. */
function isProxyResult(value: unknown): boolean {
  return isRecord(value) && typeof value.statusCode === 'number';
}

/**
 * A plugin's answer as middy's response: on HTTP events a rendered `HttpResponse` (an
 * idempotency replay) or a plain value (rendered as `handler()` renders results) becomes the
 * event source's result shape; a proxy result is kept as it is. Other events: as it is.
 */
export function toMiddyResponse(steady: SteadyRequest, answer: unknown): unknown {
  const http = steady.read.http;
  if (!http || isProxyResult(answer)) return answer;
  return formatHttp(http.kind, http.event, isHttpResponse(answer) ? answer : renderResult(answer));
}

/** `after` of `entries[0..upTo)` in reverse, for an early answer (middy runs no `after` then). */
export async function runAftersBefore(steady: SteadyRequest, upTo: number, response: unknown): Promise<unknown> {
  let value = response;
  for (let i = upTo - 1; i >= 0; i--) {
    const entry = steady.entries[i]!;
    if (!entry.plugin.after || entry.afterDone) continue;
    entry.afterDone = true;
    const replaced = await inContext(steady, () => settle(steady, entry.plugin.after!(steady.ctx, value, entry.state)));
    if (isAnswer(replaced)) value = toMiddyResponse(steady, replaced.answer);
  }
  return value;
}

/**
 * Whether middy went on (to its `after`s or `onError`s) while `steadyHandler`'s function still
 * runs, or once `middyPlugin()` saw middy's early timeout fire under any handler — middy's early timeout (`timeoutEarlyInMillis`) answered in its place. Then it is as at
 * steadyfn's deadline: `ctx.signal` aborts, the work may still run after the answer
 * (`ended`), and the hooks are told `DEADLINE_EXCEEDED`. Once per request (true the first time).
 */
export function cutOffByMiddy(steady: SteadyRequest): boolean {
  if (!stillRunning(steady) || steady.deadline.cutOff) return false;
  steady.deadline.cutOff = true;
  // Made now if nobody read it yet, so that a read from a hook finds it aborted too.
  void steady.deadline.abortable;
  steady.deadline.expireSignal();
  return true;
}

/**
 * Whether the handler may still run while middy goes on: `steadyHandler`'s function has not
 * settled, or middy's early timeout fired (`middyPlugin()` saw it; a plain handler too).
 */
export function stillRunning(steady: SteadyRequest): boolean {
  return steady.handlerRunning || steady.earlyTimeout === true;
}

/**
 * Whether the request's handler has settled (so middy's early timeout cannot be firing for it):
 * `steadyHandler`'s promise settled, or — a plain handler — middy wrote its result or error
 * (`request.response`/`request.error` stay undefined while the handler runs; a plain handler that
 * returned undefined cannot be told apart from one still running).
 */
export function handlerSettled(request: MiddyRequestLike, steady: SteadyRequest): boolean {
  if (steady.wrapped) return !steady.handlerRunning;
  return request.response !== undefined || request.error !== undefined;
}

export function isAnswer(value: unknown): value is { answer: unknown } {
  return typeof value === 'object' && value !== null && 'answer' in value;
}

/** `finally` of every entered plugin (reverse), once; then the deadline is released. */
export async function finish(steady: SteadyRequest, outcome: Outcome): Promise<void> {
  steady.life.over = true;
  if (steady.done) return;
  steady.done = true;
  for (let i = steady.entries.length - 1; i >= 0; i--) {
    const plugin = steady.entries[i]!.plugin;
    if (!plugin.finally) continue;
    try {
      await inContext(steady, () => settle(steady, plugin.finally!(steady.ctx, outcome, steady.entries[i]!.state), true));
    } catch (hookError) {
      if (hookError instanceof HookTimeoutError) hookTimedOut(steady.ctx, plugin, 'finally');
      else steady.ctx.log.warn('plugin finally hook failed', { plugin: plugin.name, code: toSteadyError(hookError).code });
    }
  }
  steady.deadline.dispose();
  // Cut-off work may still run even when an onError recovered from the deadline or replaced its error.
  ended(steady.ctx, steady.deadline.cutOff || (!outcome.ok && outcome.error instanceof DeadlineExceededError));
}
