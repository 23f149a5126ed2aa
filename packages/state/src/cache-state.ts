/**
 * What one `defineState()` cache keeps between calls: the installed state, the shared load in
 * flight, the last reload's failure and the round bookkeeping that decides whose outcome stands.
 * One object, because `get`/`invalidate`/`status` (cache.ts) and the shared load (cache-flight.ts)
 * both read and write it.
 */
import type { Logger, SteadyError } from '@steadyfn/handler/internal';
import type { Entry } from './cache-round.js';
import type { StateError } from './errors.js';
import type { Flight } from './cache-flight.js';

/** The mutable state of one cache; `newCacheState()` makes an empty one (nothing loaded, round 0). */
export interface CacheState {
  /** The last good state, or undefined before the first load and after `invalidate()`. */
  entry: Entry | undefined;
  /** The load or revalidation that `get` calls join, while one runs. */
  flight: Flight | undefined;
  /** When the last reload failed (per `now`), until one succeeds or `invalidate()`. */
  lastFailureAt: number | undefined;
  /** That failure, for `status()`. */
  lastError: StateError | SteadyError | undefined;
  // Rounds numbered in the order they started, and the newest one whose outcome stands: the
  // last one installed, or the last invalidate() — which counts as a round that installed
  // nothing. Only a newer round installs, records its failure or touches `unconfirmed`: an
  // abandoned round that an abort could not stop (an async schema) must not replace what a later
  // round installed, nor a load started before invalidate() install its result after it.
  rounds: number;
  installed: number;
  // Sources whose last reload failed: the version kept with the last good state no longer
  // proves anything (a store that lost its data and was seeded again can hand the same
  // version back — `INCR` restarts at 1), so they are loaded in full until one succeeds.
  readonly unconfirmed: Set<string>;
  // Waiters to tell at once that invalidate() made the round they wait for an old one.
  readonly onInvalidate: Set<() => void>;
}

/** An empty cache: nothing loaded, no load in flight, no round started. */
export function newCacheState(): CacheState {
  return {
    entry: undefined,
    flight: undefined,
    lastFailureAt: undefined,
    lastError: undefined,
    rounds: 0,
    installed: 0,
    unconfirmed: new Set<string>(),
    onInvalidate: new Set<() => void>(),
  };
}

/**
 * Logs the one warning every path that serves the last good state in place of a reload gives
 * (a failed reload, a deadline passed before one could start, a shared reload that outlasted a
 * caller's own limit): the failure's code and fields, the state's age and how far past
 * `maxAgeMs` it is (ms). `detail` carries what differs per path — never state data.
 */
export function warnServingStale(log: Logger, served: Entry, at: number, maxAge: number, detail: Record<string, unknown>): void {
  log.warn('serving the last good state: reload failed', {
    ...detail,
    ageMs: at - served.confirmedAt,
    staleForMs: Math.max(0, at - served.confirmedAt - maxAge),
  });
}
