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
import { withoutIssueMessages } from './public-error.js';
import { cutOffByMiddy, endsAtOf, finish, handlerSettled, openedRequests, remainingMs, steadyRequestOf, stillRunning, type MiddyRequestLike } from './request.js';

/**
 * Middy's plugin object (`PluginObject` of `@middy/core`), typed structurally: its hooks and
 * options (`timeoutEarlyInMillis`, `timeoutEarlyResponse`, `internal`, `executionMode`, …) are
 * passed on to middy as they are.
 */
export interface MiddyPluginLike {
  /** Called by middy right before it answers (for a thrown error too in middy 7.9; 7.0 and earlier call it only when they answer). */
  requestEnd?: (request: any) => unknown;
  /**
   * Called by middy when a request starts; `middyPlugin()` notes the request, then calls yours.
   * middy 4–6 (non-streaming) call it with no request: the requests are then found as the
   * `toMiddy()` middlewares open them.
   */
  requestStart?: (request: any) => unknown;
  /**
   * Called by middy (no argument) when its early timeout fires: its value is middy's answer, a
   * throw is its error. `middyPlugin()` marks the request cut off, then calls yours (default:
   * middy's own, throwing its `TimeoutError`).
   */
  timeoutEarlyResponse?: () => unknown;
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
  const cut = cutOffByMiddy(steady) || (steady.deadline.cutOff && stillRunning(steady));
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
  // What middy throws on (the runtime logs it) carries no issue message.
  if (!outcome.ok) request.error = withoutIssueMessages(request.error);
}

/** DEADLINE_EXCEEDED for middy's early timeout, with what middy threw (if anything) as its cause. */
function deadlineError(thrown: unknown): DeadlineExceededError {
  const error = new DeadlineExceededError('middy answered before the function (its early timeout)');
  if (thrown !== undefined) Object.defineProperty(error, 'cause', { value: thrown, configurable: true, writable: true });
  return error;
}

/** middy's own `timeoutEarlyResponse` (@middy/core 7): it throws its `TimeoutError`. */
function middyTimeout(): never {
  const error = new Error('[AbortError]: The operation was aborted.', { cause: { package: '@middy/core' } });
  error.name = 'TimeoutError';
  throw error;
}

/**
 * The requests middy started under one `middyPlugin()` and steadyfn has not ended, to mark on
 * middy's early timeout. Held through `WeakRef`s: middy ≤ 7.0 calls `requestEnd` only when it
 * answers, so a request that failed elsewhere (a plain middleware threw, before or after a
 * steadyfn one entered it) is never ended — it goes once nothing else holds it, never kept by us.
 * A live request is never dropped: one still in a plain `before` (several run at once on a host
 * such as serverless-offline, or Lambda multi-concurrency) is marked when its own timeout fires.
 */
class OpenRequests {
  /** Each request, and when its deadline falls (epoch ms; from the remaining time at `requestStart`). */
  private readonly requests = new Map<WeakRef<MiddyRequestLike>, number | undefined>();
  /**
   * middy called `requestStart` without the request (middy 4–6, non-streaming): the requests are
   * then found among those a steadyfn middleware opened (`openedRequests`).
   */
  private withoutRequest = false;

  constructor(private readonly earlyMs: number) {}

  add(request: MiddyRequestLike): void {
    this.prune();
    if (request === undefined) this.withoutRequest = true;
    if (!isRecord(request)) return;
    this.requests.set(new WeakRef(request), endsAtOf(request));
  }

  delete(request: MiddyRequestLike): void {
    for (const ref of this.requests.keys()) if (ref.deref() === request) this.requests.delete(ref);
  }

  /**
   * middy calls `timeoutEarlyResponse` with no argument: the requests it may fire for are those
   * whose remaining time is within `timeoutEarlyInMillis` (as middy's timer reads it; 1 ms of
   * slack for timer rounding) — or, for a context whose clock does not move (a test's), whose
   * timer set from the remaining time first read is due — and whose handler has not settled
   * (middy cleared its timer then: one sitting in an `after` is never cut off). Never "the only
   * one open": another may be the one timing out. Marked for `cutOffByMiddy`.
   */
  markEarlyTimeout(): void {
    this.prune();
    const candidates: Array<{ request: MiddyRequestLike | undefined; endsAt: number | undefined }> = [];
    for (const [ref, endsAt] of this.requests) candidates.push({ request: ref.deref(), endsAt });
    if (this.withoutRequest) candidates.push(...openedRequests());
    const now = Date.now();
    for (const { request, endsAt } of candidates) {
      if (request === undefined || !isRecord(request) || !isRecord(request.internal)) continue;
      const remaining = remainingMs(request);
      const due = (remaining !== undefined && remaining <= this.earlyMs + 1) || (endsAt !== undefined && endsAt - this.earlyMs <= now + 1);
      const steady = steadyRequestOf(request);
      if (due && steady !== undefined && !steady.done && !handlerSettled(request, steady)) steady.earlyTimeout = true;
    }
  }

  /** Drops the requests collected, and those steadyfn has ended. */
  private prune(): void {
    for (const ref of this.requests.keys()) {
      const request = ref.deref();
      const steady = request !== undefined && isRecord(request) && isRecord(request.internal) ? steadyRequestOf(request) : undefined;
      if (request === undefined || steady?.done === true) this.requests.delete(ref);
    }
  }
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
 * It also wraps `timeoutEarlyResponse` (yours, or middy's own that throws its `TimeoutError`) to
 * know when middy's early timeout fires: middy then answers while the handler — a plain one too,
 * not only `steadyHandler(fn)` — still runs, so it is taken as steadyfn's deadline (`ctx.signal`
 * aborts, the hooks get `DEADLINE_EXCEEDED`, an answer is a recovery from it): idempotency leaves
 * the record to its lease, neither storing middy's answer nor letting a retry run beside the
 * function. With several requests in flight in one process (serverless-offline, Lambda
 * multi-concurrency), only the one whose remaining time is within `timeoutEarlyInMillis` is
 * taken as timed out, never another. Your `requestStart` and `timeoutEarlyResponse` are called as
 * before. Requests are held weakly: one middy never ends (a plain middleware threw; middy ≤ 7.0
 * skips `requestEnd` then) is not kept.
 *
 * @param config - Your own middy plugin options and hooks, passed on (default `{}`); your
 *   `requestEnd` runs after steadyfn's.
 * @returns The plugin object for `middy()`.
 * @throws ConfigurationError (`CONFIG_INVALID`) when `config` is not an object or its
 *   `requestStart`, `requestEnd` or `timeoutEarlyResponse` is not a function.
 * @example
 * import middy from '@middy/core';
 * const maintenance = { before: async () => (process.env.MAINTENANCE ? { statusCode: 503, body: 'later' } : undefined) };
 * export const main = middy(steadyHandler(async (event, context, ctx) => ({ statusCode: 201, body: ctx.requestId })), middyPlugin({ timeoutEarlyInMillis: 50 }))
 *   .use(toMiddy(idempotency({ store, ttlMs: 86_400_000 })))
 *   .use(maintenance); // its early 503 is never stored: the idempotency record is released
 */
export function middyPlugin<P extends MiddyPluginLike>(config?: P): P & { requestStart: (request: any) => unknown; requestEnd: (request: any) => Promise<void>; timeoutEarlyResponse: () => unknown } {
  const own = (config ?? {}) as P;
  if (!isRecord(own)) throw new ConfigurationError('middyPlugin(): the middy plugin options must be an object', { field: 'config', expected: 'a middy plugin object' });
  for (const hook of ['requestStart', 'requestEnd', 'timeoutEarlyResponse']) checkHook(own, hook);
  const theirs = own.requestEnd;
  const theirStart = own.requestStart;
  const theirTimeout = own.timeoutEarlyResponse ?? middyTimeout;
  const earlyMs = typeof own.timeoutEarlyInMillis === 'number' ? own.timeoutEarlyInMillis : 5;
  const open = new OpenRequests(earlyMs);
  return {
    ...own,
    requestStart(request: MiddyRequestLike): unknown {
      open.add(request);
      return theirStart ? theirStart(request) : undefined;
    },
    timeoutEarlyResponse(): unknown {
      open.markEarlyTimeout();
      return theirTimeout();
    },
    async requestEnd(request: MiddyRequestLike): Promise<void> {
      open.delete(request);
      await endRequest(request);
      if (theirs) await theirs(request);
    },
  };
}
