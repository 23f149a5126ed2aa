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
import { createLogger, currentContext, DeadlineExceededError, type Logger, type SteadyError } from '@steadyfn/handler/internal';
import type { ZodType } from 'zod';
import { resolveStateOptions, type SourceMap, type StateOf, type StateOptions } from './cache-options.js';
import { roundRunner, type Entry } from './cache-round.js';
import { flights, SUPERSEDED } from './cache-flight.js';
import { newCacheState, warnServingStale } from './cache-state.js';
import { StateError, SourceError } from './errors.js';
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

  const cache = newCacheState();

  // Ages on a wall clock: one that stepped back gives a negative age, which is an unknown age —
  // older than any bound — not a fresh state (it would be served for the whole step + maxAgeMs).
  const since = (from: number, at: number): number => (at >= from ? at - from : Number.POSITIVE_INFINITY);
  const isFresh = (e: Entry, at: number): boolean => since(e.confirmedAt, at) < maxAge;
  const withinStaleWindow = (e: Entry, at: number): boolean => since(e.confirmedAt, at) < maxAge + staleIfError;
  const refresh = roundRunner({ sources, names, schema, now, unconfirmed: cache.unconfirmed, installed: () => cache.installed });

  function loggerFor(ctx: StateCallContext | undefined): Logger {
    return logger ?? ctx?.log ?? currentContext()?.log ?? (fallbackLogger ??= createLogger({ component: 'steadyfn-state' }));
  }
  let fallbackLogger: Logger | undefined;
  const { start, hold, wait } = flights({ cache, refresh, timeoutMs, maxAge, now, withinStaleWindow, loggerFor });

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
        const current = cache.entry;
        if (current && isFresh(current, at)) return current.value as DeepReadonly<StateOf<S, Schema>>;
        // Right after a failed reload, serve the last good state without asking the stores yet.
        if (current && cache.lastFailureAt !== undefined && since(cache.lastFailureAt, at) < retryAfterError && withinStaleWindow(current, at)) {
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
            warnServingStale(loggerFor(ctx), current, at, maxAge, {
              code: 'STATE_UNAVAILABLE',
              failures: [{ field: '', message: "the invocation's deadline had passed before a reload could start" }],
            });
            return current.value as DeepReadonly<StateOf<S, Schema>>;
          }
          throw stop.error;
        }
        // Started here or joined: either way this invocation waits to its own limit, and holds
        // the shared load at least that long (never past timeoutMs from its start).
        const f = (cache.flight ??= start(current));
        const leaveAt = hold(f, loadLimit(current, ctx), ctx);
        const fallback = current && withinStaleWindow(current, at) ? current : undefined;
        const outcome = await wait(f, ctx, leaveAt, fallback);
        if (outcome !== SUPERSEDED) return outcome.value as DeepReadonly<StateOf<S, Schema>>;
      }
    },
    invalidate() {
      // A round of its own, newer than every round started so far: none of them installs now.
      cache.installed = ++cache.rounds;
      cache.entry = undefined;
      cache.unconfirmed.clear();
      cache.lastFailureAt = undefined;
      cache.lastError = undefined;
      // Its waiters move to a round started after this call; nobody is left to use its result.
      cache.flight?.controller.abort(new SourceError('stopped: invalidate() was called while it ran'));
      cache.flight = undefined;
      for (const wake of [...cache.onInvalidate]) wake();
    },
    status() {
      const at = now();
      return {
        loaded: cache.entry !== undefined,
        loadedAt: cache.entry?.loadedAt,
        confirmedAt: cache.entry?.confirmedAt,
        fresh: cache.entry !== undefined && isFresh(cache.entry, at),
        lastError: cache.lastError,
        versions: { ...cache.entry?.versions },
      };
    },
  };
}
