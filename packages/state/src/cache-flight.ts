/**
 * The shared load ("flight") of `defineState()`: one load or revalidation round that concurrent
 * `get` calls (cache.ts) share — started, held as long as the invocation waiting on it with the
 * most time wants it, stopped at its time limit, waited on within each invocation's own signal
 * and deadline —, with its timers and waiters, and what its outcome does to the cache: installed,
 * recorded as a failed reload, or the last good state served in its place. Apart from cache.ts so
 * that `get`'s staleness decisions read without the timer and waiter bookkeeping.
 */
import { DeadlineExceededError, type Logger, MAX_TIMER_MS, SteadyError } from '@steadyfn/handler/internal';
import type { Entry, roundRunner } from './cache-round.js';
import { warnServingStale, type CacheState } from './cache-state.js';
import type { StateCallContext } from './cache.js';
import { StateError, SourceError, describeFailure, failuresForLog } from './errors.js';

/** One shared load or revalidation round, joined by every `get` that needs it while it runs. */
export interface Flight {
  /** Its round: rounds are numbered in the order they start. */
  round: number;
  /** Its outcome: the state's value to serve (installed or the last good one), or the failure. */
  promise: Promise<unknown>;
  /** Stops its round (time limit, abandoned, invalidate()). */
  controller: AbortController;
  /** How many invocations wait on it now. */
  waiters: number;
  /** Its round has finished (its outcome is decided). */
  settled: boolean;
  /** Every invocation waiting for it gave up (its deadline or signal), so it was stopped. */
  abandoned: boolean;
  /** When it started (Date.now() epoch ms). */
  startedAt: number;
  /** When it is stopped: the latest limit among the invocations that waited on it (epoch ms; Infinity: none). */
  limitAt: number;
  /** `startedAt + timeoutMs`: no invocation holds it past this (Infinity: no bound). */
  capAt: number;
  /** Fires at `limitAt` (`expire`); undefined when that is past Node's longest timer. */
  timer: NodeJS.Timeout | undefined;
  /** The invocation whose limit is `limitAt`: the warning of a failed reload goes to its logger. */
  ctx: StateCallContext | undefined;
}

/** What `wait` answers when the round it waited for no longer stands (see `wait`). */
export const SUPERSEDED = Symbol('superseded');

/** What the shared load reads from its cache (cache.ts): its state, its round and its settings. */
export interface FlightDeps {
  cache: CacheState;
  /** Runs one round (cache-round.ts). */
  refresh: ReturnType<typeof roundRunner>;
  /** The longest a round runs, in ms (`timeoutMs`). */
  timeoutMs: number;
  /** `maxAgeMs`, for a warning's `staleForMs`. */
  maxAge: number;
  /** The cache's clock (epoch ms), for ages. */
  now: () => number;
  /** Whether `e` may stand in for a failed reload at `at` (within `maxAgeMs + staleIfErrorMs`). */
  withinStaleWindow: (e: Entry, at: number) => boolean;
  /** Where a warning for this call goes. */
  loggerFor: (ctx: StateCallContext | undefined) => Logger;
}

/** The shared load's operations, bound to one cache: `start`, `hold`, `expire`, `wait`. */
export function flights({ cache, refresh, timeoutMs, maxAge, now, withinStaleWindow, loggerFor }: FlightDeps) {
  /**
   * A shared load runs as long as the invocation waiting on it with the most time wants it —
   * never past `timeoutMs` from its start —, not as long as the one that happened to start it:
   * an invocation with almost no time left must not cut the load short for one that has plenty
   * (it leaves at its own limit, `wait`). Returns when this invocation stops waiting (epoch ms).
   */
  function hold(f: Flight, limit: number, ctx: StateCallContext | undefined): number {
    // Node fires a longer timer after 1 ms; a limit that long is no limit in practice.
    const leaveAt = Math.min(limit > MAX_TIMER_MS ? Number.POSITIVE_INFINITY : Date.now() + limit, f.capAt);
    if (leaveAt > f.limitAt && !f.settled) {
      f.limitAt = leaveAt;
      f.ctx = ctx;
      if (f.timer) clearTimeout(f.timer);
      f.timer = leaveAt - Date.now() > MAX_TIMER_MS ? undefined : setTimeout(() => expire(f), Math.max(0, leaveAt - Date.now()));
      // Ref'd while someone waits on the load (`hold` is always followed by `wait`): a caller
      // without a deadline still gets the load's time limit even when the load holds no socket
      // or timer. Cleared when the load settles; unref'd when its last waiter gives up (`wait`),
      // so a stopped load that ignores its signal does not keep an idle process alive.
    }
    return leaveAt;
  }

  /** Stops `f` at its time limit: a failed load (recorded; the last good state served within staleIfErrorMs). */
  function expire(f: Flight): void {
    if (f.settled || f.controller.signal.aborted) return;
    const limit = f.limitAt - f.startedAt;
    f.controller.abort(new SourceError(f.limitAt < f.capAt ? `no answer within ${limit} ms, half the remaining time of the invocation that waited longest` : `timed out after ${timeoutMs} ms`));
  }

  /** Starts a round on `prev` (the state to revalidate; undefined: a full load), settled into `cache` (see the module comment). */
  function startFlight(prev: Entry | undefined): Flight {
    const controller = new AbortController();
    const startedAt = Date.now();
    const capAt = timeoutMs > MAX_TIMER_MS ? Number.POSITIVE_INFINITY : startedAt + timeoutMs;
    const round = ++cache.rounds;
    const f: Flight = { round, promise: Promise.resolve(), controller, waiters: 0, settled: false, abandoned: false, startedAt, limitAt: Number.NEGATIVE_INFINITY, capAt, timer: undefined, ctx: undefined };
    f.promise = refresh(prev, controller.signal, round)
      .then(
        (next) => {
          if (round > cache.installed) {
            cache.installed = round;
            cache.entry = next;
            cache.unconfirmed.clear();
            cache.lastFailureAt = undefined;
            cache.lastError = undefined;
          }
          return next.value;
        },
        (thrown: unknown) => {
          const error = thrown instanceof SteadyError ? thrown : new StateError([{ source: '(state)', kind: 'load', field: '', message: describeFailure(thrown) }]);
          const at = now();
          // The load's own failure counts — a store's error, its time limit —, and so does a
          // revalidation every invocation gave up on (their signals): for retryAfterErrorMs the
          // last good state is served rather than another wait on a store that does not answer.
          // An invocation leaving at its own limit while another holds the load longer is no
          // failure (the load goes on: `hold`, `wait`). An abandoned first load leaves nothing
          // behind: there is no state to serve.
          if (round > cache.installed && (!f.abandoned || prev)) {
            cache.lastFailureAt = at;
            cache.lastError = error;
          }
          // Nobody is served this round's outcome: its waiters gave up, or moved on to a newer round.
          if (f.abandoned || round < cache.installed) throw error;
          if (prev && withinStaleWindow(prev, at)) {
            warnServingStale(loggerFor(f.ctx), prev, at, maxAge, {
              code: error.code,
              ...(error instanceof StateError ? failuresForLog(error.failures, (f) => ({ field: f.field, message: f.message })) : {}),
            });
            return prev.value;
          }
          throw error;
        },
      )
      .finally(() => {
        if (f.timer) clearTimeout(f.timer);
        f.settled = true;
        if (cache.flight === f) cache.flight = undefined;
      });
    // Waiters that gave up leave nobody to observe a late rejection.
    f.promise.catch(() => undefined);
    return f;
  }

  /**
   * Waits for `f` within this invocation's own signal and deadline. `fallback`: the last good
   * state, when it may stand in (within `staleIfErrorMs`). At `leaveAt`, this invocation's own
   * limit (`hold`), the load either reaches its time limit — no other invocation holds it longer:
   * it fails, and every waiter is served that state with the warning — or goes on for another
   * invocation with more time, and this one alone stops waiting and is served that state with the
   * warning (no failure is recorded: the load did not fail) — rather than waiting to its deadline
   * for `DEADLINE_EXCEEDED`. A state that has left `staleIfErrorMs` by then is not served: the
   * invocation waits on, as without one.
   * `SUPERSEDED`: a newer round's outcome stands — invalidate() was called (the waiter is told at
   * once), or a round started after `f` installed before this wait could return —: `get` serves
   * the caller again, from that newer round.
   */
  async function wait(f: Flight, ctx: StateCallContext | undefined, leaveAt: number, fallback?: Entry): Promise<{ value: unknown } | typeof SUPERSEDED> {
    const signal = ctx?.signal;
    const deadline = ctx?.deadline;
    // A deadline past Node's longest timer would fire after 1 ms: it is as good as none.
    const timed = typeof deadline === 'number' && Number.isFinite(deadline) && deadline - Date.now() <= MAX_TIMER_MS;
    f.waiters++;
    let timer: NodeJS.Timeout | undefined;
    let fallbackTimer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    let onSuperseded: (() => void) | undefined;
    try {
      const outcome = await new Promise<{ value: unknown } | { error: unknown } | typeof SUPERSEDED>((resolve, reject) => {
        onSuperseded = () => resolve(SUPERSEDED);
        cache.onInvalidate.add(onSuperseded);
        if (signal) {
          onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new DeadlineExceededError());
          if (signal.aborted) return onAbort();
          signal.addEventListener('abort', onAbort, { once: true });
        }
        if (timed) {
          // Ref'd, as is the fallback timer below, while this waiter waits (both are cleared when it
          // stops): a caller waiting on a load that holds no socket or timer (a `custom` source's
          // promise that never settles) gets DEADLINE_EXCEEDED at its deadline, not an event loop
          // that drains first and a process that exits with the call unanswered.
          timer = setTimeout(() => reject(new DeadlineExceededError()), Math.max(0, deadline - Date.now()));
          if (fallback && leaveAt - Date.now() <= MAX_TIMER_MS) {
            const started = Date.now();
            const limit = Math.max(0, leaveAt - started);
            fallbackTimer = setTimeout(() => {
              // Nobody holds the load longer: it has reached its time limit (its own timer may
              // fire just after this one) and fails — recorded, and served to every waiter.
              if (f.limitAt <= leaveAt) return expire(f);
              const at = now();
              // The state may stand in only while it is within staleIfErrorMs now, as the
              // starter checks when its reload fails; outside it, wait on as if there were none.
              if (!withinStaleWindow(fallback, at)) return;
              warnServingStale(loggerFor(ctx), fallback, at, maxAge, {
                code: 'STATE_UNAVAILABLE',
                failures: [{ field: '', message: `the shared reload had not finished within ${limit} ms, this invocation's own limit (half its remaining time, at most timeoutMs)` }],
                waitedMs: Date.now() - started,
              });
              resolve({ value: fallback.value });
            }, limit);
          }
        }
        f.promise.then(
          (value) => resolve({ value }),
          (error: unknown) => resolve({ error }),
        );
      });
      // A newer round stood by the time `f` settled and this line ran (an invalidate() in between).
      if (outcome === SUPERSEDED || f.round < cache.installed) return SUPERSEDED;
      if ('error' in outcome) throw outcome.error;
      return outcome;
    } finally {
      if (timer) clearTimeout(timer);
      if (fallbackTimer) clearTimeout(fallbackTimer);
      if (signal && onAbort) signal.removeEventListener('abort', onAbort);
      if (onSuperseded) cache.onInvalidate.delete(onSuperseded);
      f.waiters--;
      // Nobody waits any more: stop the load rather than leave it running after the response.
      if (f.waiters === 0 && !f.settled) {
        f.abandoned = true;
        f.timer?.unref?.();
        f.controller.abort(new SourceError('stopped: every invocation waiting for it gave up (deadline or signal)'));
        // The next invocation starts afresh instead of joining a load that is being stopped.
        if (cache.flight === f) cache.flight = undefined;
      }
    }
  }

  return { start: startFlight, hold, expire, wait };
}
