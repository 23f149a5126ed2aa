/**
 * `defineState`: the whole state, loaded in one parallel round from its sources, validated by
 * one schema, frozen, and kept across warm invocations under a staleness contract:
 *
 * - younger than `maxAgeMs`: served as is, no store is asked;
 * - older: revalidated before this invocation goes on (one conditional round trip per source);
 *   unchanged sources are kept, changed ones replaced, and the result validated again;
 * - a failed reload: the last good state is served while it is younger than
 *   `maxAgeMs + staleIfErrorMs`, with a warning; after that the failure is thrown. A source
 *   whose reload failed is loaded in full next time, not revalidated by the version kept —
 *   until a reload succeeds as a whole (one that failed on another source or the schema does
 *   not count).
 *
 * Nothing runs in the background: a frozen instance would never finish it.
 */
import { createLogger, currentContext, DeadlineExceededError, type Logger, MAX_TIMER_MS, SteadyError } from '@steadyfn/handler/internal';
import type { ZodType } from 'zod';
import { resolveStateOptions, type SourceMap, type StateOf, type StateOptions } from './cache-options.js';
import { roundRunner, type Entry } from './cache-round.js';
import { StateError, SourceError, describeFailure, failuresForLog } from './errors.js';
import type { DeepReadonly } from './types.js';

export type { SourceMap, SourceValues, StateOf, StateOptions } from './cache-options.js';

/** What `get` uses from an invocation's context; the handler's `ctx` fits. */
export interface StateCallContext {
  /** Aborts the wait (and the load, when no other invocation waits on it). */
  signal?: AbortSignal;
  /** Epoch ms after which this invocation stops waiting. */
  deadline?: number;
  /** Where warnings go for this call (serving the last good state). */
  log?: Logger;
}

/** What `StateCache.status()` reports: for health checks and tests. */
export interface StateStatus {
  /** Whether a state has been loaded (and not invalidated). */
  loaded: boolean;
  /** When the current value's load started (epoch ms, per `now`). */
  loadedAt: number | undefined;
  /** When the stores last confirmed the current value: its load or its last successful revalidation. */
  confirmedAt: number | undefined;
  /** True while `0 ≤ now - confirmedAt < maxAgeMs`: `get` asks no store (a clock stepped back: false). */
  fresh: boolean;
  /** The failure of the last reload, while the last good state is served in its place. */
  lastError: StateError | SteadyError | undefined;
  /** Versions per source, as the sources reported them. */
  versions: Readonly<Record<string, unknown>>;
}

/** The state of one function instance, from `defineState()`: read it with `get`, or through the `state()` plugin. */
export interface StateCache<T> {
  /**
   * The current state: from memory while fresh, otherwise after a revalidation or load that
   * concurrent callers share. Rejects with a `StateError` naming each failed source and path,
   * or `DEADLINE_EXCEEDED` (or `ctx.signal`'s reason) when the invocation stops waiting. A call
   * whose signal or deadline has already ended starts no load, waits on none in flight (and
   * records no failed reload): a fresh state is served to it; a stale one, with the warning, only
   * past its deadline and within `staleIfErrorMs`; otherwise it rejects as above. A call still waiting when `invalidate()` is
   * called is served by a load started after it (see there).
   */
  get(ctx?: StateCallContext): Promise<DeepReadonly<T>>;
  /**
   * Drops the state; the next `get` loads every source in full (as on a cold start). Call it
   * after writing the stores yourself: every `get` that returns after it is served state loaded
   * after it, never a value read before it. A load or revalidation in flight is stopped and
   * nothing it read is installed or served — not its value, nor, when it fails, the last good
   * state from before the invalidate; the calls waiting on it move at once to one new full load,
   * shared with later calls. That load is bounded by `timeoutMs` like any other, and each call
   * still by its own `ctx.deadline` and `ctx.signal` (not restarted; a call whose deadline has
   * passed by then starts no new load). A call moved 8 times — invalidations faster than a load
   * finishes, or a source whose load calls `invalidate()` — gives up with `STATE_UNAVAILABLE`.
   */
  invalidate(): void;
  /** What is loaded, when it was confirmed, and the last reload's failure. */
  status(): StateStatus;
}

interface Flight {
  /** Its round: rounds are numbered in the order they start. */
  round: number;
  promise: Promise<unknown>;
  controller: AbortController;
  waiters: number;
  settled: boolean;
  /** Every invocation waiting for it gave up (its deadline or signal), so it was stopped. */
  abandoned: boolean;
  /** When it started (Date.now() epoch ms). */
  startedAt: number;
  /** When it is stopped: the latest limit among the invocations that waited on it (epoch ms; Infinity: none). */
  limitAt: number;
  /** `startedAt + timeoutMs`: no invocation holds it past this (Infinity: no bound). */
  capAt: number;
  timer: NodeJS.Timeout | undefined;
  /** The invocation whose limit is `limitAt`: the warning of a failed reload goes to its logger. */
  ctx: StateCallContext | undefined;
}

/** What `wait` answers when the round it waited for no longer stands (see `wait`). */
const SUPERSEDED = Symbol('superseded');

/**
 * How many times `invalidate()` may move one `get()` to a newer load before it gives up
 * (`STATE_UNAVAILABLE`): invalidations coming faster than a load finishes, or a source whose
 * load calls `invalidate()` itself, would otherwise hold the call for good.
 */
const MAX_MOVES = 8;

/**
 * Defines the state a function loads from its sources in one parallel round, validates with
 * `schema`, freezes, and keeps across warm invocations for `maxAgeMs` (see the module comment
 * for the staleness contract). Nothing is loaded until the first `get`. Define it once, at
 * module scope.
 * @throws ConfigurationError (`CONFIG_INVALID`) when an option is invalid, at once — also a `schema` that is
 *   not zod, or an object schema with a key no source has.
 * @example
 * const appState = defineState({ sources: { env: envVars({ keys: ['REGION'] }) }, schema: z.object({ env: z.object({ REGION: z.string() }) }), maxAgeMs: 30_000 });
 * export const main = handler({ use: [state(appState)] }, async (_input, ctx) => ctx.state.env.REGION);
 */
export function defineState<S extends SourceMap, Schema extends ZodType | undefined = undefined>(
  options: StateOptions<S, Schema>,
): StateCache<StateOf<S, Schema>> {
  const { sources, names, schema, maxAge, staleIfError, retryAfterError, timeoutMs, logger, now } = resolveStateOptions(
    options as unknown as StateOptions<SourceMap, ZodType | undefined>,
  );

  let entry: Entry | undefined;
  let flight: Flight | undefined;
  let lastFailureAt: number | undefined;
  let lastError: StateError | SteadyError | undefined;
  // Rounds numbered in the order they started, and the newest one whose outcome stands: the
  // last one installed, or the last invalidate() — which counts as a round that installed
  // nothing. Only a newer round installs, records its failure or touches `unconfirmed`: an
  // abandoned round that an abort could not stop (an async schema) must not replace what a later
  // round installed, nor a load started before invalidate() install its result after it.
  let rounds = 0;
  let installed = 0;
  // Waiters to tell at once that invalidate() made the round they wait for an old one.
  const onInvalidate = new Set<() => void>();

  // Ages on a wall clock: one that stepped back gives a negative age, which is an unknown age —
  // older than any bound — not a fresh state (it would be served for the whole step + maxAgeMs).
  const since = (from: number, at: number): number => (at >= from ? at - from : Number.POSITIVE_INFINITY);
  const isFresh = (e: Entry, at: number): boolean => since(e.confirmedAt, at) < maxAge;
  const withinStaleWindow = (e: Entry, at: number): boolean => since(e.confirmedAt, at) < maxAge + staleIfError;
  // Sources whose last reload failed: the version kept with the last good state no longer
  // proves anything (a store that lost its data and was seeded again can hand the same
  // version back — `INCR` restarts at 1), so they are loaded in full until one succeeds.
  const unconfirmed = new Set<string>();
  const refresh = roundRunner({ sources, names, schema, now, unconfirmed, installed: () => installed });

  function loggerFor(ctx: StateCallContext | undefined): Logger {
    return logger ?? ctx?.log ?? currentContext()?.log ?? (fallbackLogger ??= createLogger({ component: 'steadyfn-state' }));
  }
  let fallbackLogger: Logger | undefined;

  /**
   * How long an invocation waits for a load, in ms: `timeoutMs` — but for a revalidation that the
   * last good state can stand in for, at most half the time the invocation has left, so a store
   * that hangs fails it while there is still time to serve that state (otherwise every invocation
   * would wait for the store until its own deadline when `timeoutMs` is longer than the function's).
   */
  function loadLimit(prev: Entry | undefined, ctx: StateCallContext | undefined): number {
    const deadline = ctx?.deadline;
    if (!prev || !withinStaleWindow(prev, now()) || typeof deadline !== 'number' || !Number.isFinite(deadline)) return timeoutMs;
    return Math.max(1, Math.min(timeoutMs, Math.floor((deadline - Date.now()) / 2)));
  }

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
      // A frozen instance must not be kept alive by this timer; it is cleared when the load settles.
      f.timer?.unref?.();
    }
    return leaveAt;
  }

  /** Stops `f` at its time limit: a failed load (recorded; the last good state served within staleIfErrorMs). */
  function expire(f: Flight): void {
    if (f.settled || f.controller.signal.aborted) return;
    const limit = f.limitAt - f.startedAt;
    f.controller.abort(new SourceError(f.limitAt < f.capAt ? `no answer within ${limit} ms, half the remaining time of the invocation that waited longest` : `timed out after ${timeoutMs} ms`));
  }

  function startFlight(prev: Entry | undefined): Flight {
    const controller = new AbortController();
    const startedAt = Date.now();
    const capAt = timeoutMs > MAX_TIMER_MS ? Number.POSITIVE_INFINITY : startedAt + timeoutMs;
    const round = ++rounds;
    const f: Flight = { round, promise: Promise.resolve(), controller, waiters: 0, settled: false, abandoned: false, startedAt, limitAt: Number.NEGATIVE_INFINITY, capAt, timer: undefined, ctx: undefined };
    f.promise = refresh(prev, controller.signal, round)
      .then(
        (next) => {
          if (round > installed) {
            installed = round;
            entry = next;
            unconfirmed.clear();
            lastFailureAt = undefined;
            lastError = undefined;
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
          if (round > installed && (!f.abandoned || prev)) {
            lastFailureAt = at;
            lastError = error;
          }
          // Nobody is served this round's outcome: its waiters gave up, or moved on to a newer round.
          if (f.abandoned || round < installed) throw error;
          if (prev && withinStaleWindow(prev, at)) {
            loggerFor(f.ctx).warn('serving the last good state: reload failed', {
              code: error.code,
              ...(error instanceof StateError ? failuresForLog(error.failures, (f) => ({ field: f.field, message: f.message })) : {}),
              ageMs: at - prev.confirmedAt,
              staleForMs: Math.max(0, at - prev.confirmedAt - maxAge),
            });
            return prev.value;
          }
          throw error;
        },
      )
      .finally(() => {
        if (f.timer) clearTimeout(f.timer);
        f.settled = true;
        if (flight === f) flight = undefined;
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
        onInvalidate.add(onSuperseded);
        if (signal) {
          onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new DeadlineExceededError());
          if (signal.aborted) return onAbort();
          signal.addEventListener('abort', onAbort, { once: true });
        }
        if (timed) {
          timer = setTimeout(() => reject(new DeadlineExceededError()), Math.max(0, deadline - Date.now()));
          timer.unref?.();
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
              loggerFor(ctx).warn('serving the last good state: reload failed', {
                code: 'STATE_UNAVAILABLE',
                failures: [{ field: '', message: `the shared reload had not finished within ${limit} ms, this invocation's own limit (half its remaining time, at most timeoutMs)` }],
                waitedMs: Date.now() - started,
                ageMs: at - fallback.confirmedAt,
                staleForMs: Math.max(0, at - fallback.confirmedAt - maxAge),
              });
              resolve({ value: fallback.value });
            }, limit);
            fallbackTimer.unref?.();
          }
        }
        f.promise.then(
          (value) => resolve({ value }),
          (error: unknown) => resolve({ error }),
        );
      });
      // A newer round stood by the time `f` settled and this line ran (an invalidate() in between).
      if (outcome === SUPERSEDED || f.round < installed) return SUPERSEDED;
      if ('error' in outcome) throw outcome.error;
      return outcome;
    } finally {
      if (timer) clearTimeout(timer);
      if (fallbackTimer) clearTimeout(fallbackTimer);
      if (signal && onAbort) signal.removeEventListener('abort', onAbort);
      if (onSuperseded) onInvalidate.delete(onSuperseded);
      f.waiters--;
      // Nobody waits any more: stop the load rather than leave it running after the response.
      if (f.waiters === 0 && !f.settled) {
        f.abandoned = true;
        f.controller.abort(new SourceError('stopped: every invocation waiting for it gave up (deadline or signal)'));
        // The next invocation starts afresh instead of joining a load that is being stopped.
        if (flight === f) flight = undefined;
      }
    }
  }

  /**
   * Why a caller has stopped waiting by now — its signal aborted (its reason), or its deadline
   * passed (`DEADLINE_EXCEEDED`) — or undefined while it still has time.
   */
  function ended(ctx: StateCallContext | undefined): { by: 'signal' | 'deadline'; error: unknown } | undefined {
    if (ctx?.signal?.aborted) return { by: 'signal', error: ctx.signal.reason instanceof Error ? ctx.signal.reason : new DeadlineExceededError() };
    if (ctx?.deadline !== undefined && ctx.deadline <= Date.now()) return { by: 'deadline', error: new DeadlineExceededError() };
    return undefined;
  }

  return {
    async get(ctx) {
      // Again after an invalidate() that came while waiting: served from a round started after it.
      for (let moves = 0; ; moves++) {
        if (moves > 0) {
          if (moves >= MAX_MOVES) {
            const message = `invalidate() was called ${moves} times while this call waited; no load could finish`;
            throw new StateError(names.map((name) => ({ source: name, kind: 'load' as const, field: name, message })));
          }
          // A caller whose signal or deadline has ended by now starts no other load (`stop`
          // below), but is still served a state that is fresh by now.
        }
        const at = now();
        const current = entry;
        if (current && isFresh(current, at)) return current.value as DeepReadonly<StateOf<S, Schema>>;
        // Right after a failed reload, serve the last good state without asking the stores yet.
        if (current && lastFailureAt !== undefined && since(lastFailureAt, at) < retryAfterError && withinStaleWindow(current, at)) {
          return current.value as DeepReadonly<StateOf<S, Schema>>;
        }
        // A caller whose signal or deadline has ended starts no load: it would be stopped at once
        // and count as a failed reload, and `retryAfterErrorMs` would then keep every other caller
        // on the last good state. Nor does it join one in flight (it would stop waiting at once).
        // It is answered as if a reload had failed on its time: past its deadline, the last good
        // state within staleIfErrorMs — whether or not another caller's load is in flight.
        const stop = ended(ctx);
        if (stop) {
          if (stop.by === 'deadline' && current && withinStaleWindow(current, at)) {
            loggerFor(ctx).warn('serving the last good state: reload failed', {
              code: 'STATE_UNAVAILABLE',
              failures: [{ field: '', message: "the invocation's deadline had passed before a reload could start" }],
              ageMs: at - current.confirmedAt,
              staleForMs: Math.max(0, at - current.confirmedAt - maxAge),
            });
            return current.value as DeepReadonly<StateOf<S, Schema>>;
          }
          throw stop.error;
        }
        // Started here or joined: either way this invocation waits to its own limit, and holds
        // the shared load at least that long (never past timeoutMs from its start).
        const f = (flight ??= startFlight(current));
        const leaveAt = hold(f, loadLimit(current, ctx), ctx);
        const fallback = current && withinStaleWindow(current, at) ? current : undefined;
        const outcome = await wait(f, ctx, leaveAt, fallback);
        if (outcome !== SUPERSEDED) return outcome.value as DeepReadonly<StateOf<S, Schema>>;
      }
    },
    invalidate() {
      // A round of its own, newer than every round started so far: none of them installs now.
      installed = ++rounds;
      entry = undefined;
      unconfirmed.clear();
      lastFailureAt = undefined;
      lastError = undefined;
      // Its waiters move to a round started after this call; nobody is left to use its result.
      flight?.controller.abort(new SourceError('stopped: invalidate() was called while it ran'));
      flight = undefined;
      for (const wake of [...onInvalidate]) wake();
    },
    status() {
      const at = now();
      return {
        loaded: entry !== undefined,
        loadedAt: entry?.loadedAt,
        confirmedAt: entry?.confirmedAt,
        fresh: entry !== undefined && isFresh(entry, at),
        lastError,
        versions: { ...entry?.versions },
      };
    },
  };
}
