/**
 * A fake clock for deadline tests, so they do not depend on how fast a (loaded) machine is: a
 * deadline is met when the test moves the clock, and a promise settled at fake time `t` is seen
 * settled at exactly `t`.
 *
 * Only `setTimeout`, `clearTimeout` and `Date` are faked (vitest fake timers): promises,
 * `process.nextTick`, `setImmediate` and real I/O (a test server's sockets) run as usual, and
 * `advanceTimersByTimeAsync` lets the promise jobs of each timer it fires run before the next.
 *
 * The fake clock starts at a fixed instant in the past (2025-01-01). The deadline watch is one
 * timer per process (src/deadline.ts), and an earlier real-time test of the same file may have
 * left it armed on the real clock: every fake deadline falls before that, so the watch re-arms on
 * the fake clock. `useRealClock` fires what the fake clock still holds before going back, so the
 * watch is left disarmed, not waiting on a fake timer that would never fire, for the real-time
 * tests after it.
 */
import { vi } from 'vitest';

/** Where the fake clock starts: before any real clock that runs these tests. */
export const FAKE_EPOCH = Date.UTC(2025, 0, 1);

/** Fakes `setTimeout`, `clearTimeout` and `Date`, starting at {@link FAKE_EPOCH}. */
export function useFakeClock(): void {
  vi.useFakeTimers({ now: FAKE_EPOCH, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
}

/** Fires every timer left on the fake clock, then restores the real ones. */
export async function useRealClock(): Promise<void> {
  await vi.runAllTimersAsync();
  vi.useRealTimers();
}

/** A promise watched from the side: whether it settled, how, and at what (fake) time. */
export interface Watched<T> {
  readonly settled: boolean;
  /** `Date.now()` when it settled. */
  readonly at: number | undefined;
  readonly value: T | undefined;
  readonly error: unknown;
  /** Resolves when it has settled (never rejects). */
  readonly done: Promise<void>;
}

/** Watches `promise` without changing it (its rejection is recorded, not thrown). */
export function watch<T>(promise: Promise<T>): Watched<T> {
  const state: { settled: boolean; at: number | undefined; value: T | undefined; error: unknown; done: Promise<void> } = {
    settled: false,
    at: undefined,
    value: undefined,
    error: undefined,
    done: undefined!,
  };
  state.done = promise.then(
    (value) => {
      Object.assign(state, { settled: true, at: Date.now(), value });
    },
    (error: unknown) => {
      Object.assign(state, { settled: true, at: Date.now(), error });
    },
  );
  return state;
}

/** Lets every pending promise job (and `nextTick`) run: one real turn of the event loop. */
export function drain(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Moves the fake clock forward by `ms`, then lets what that settled run to its end. */
export async function advance(ms: number): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
  await drain();
}

/** Waits (on real event-loop turns, not on the clock) until `condition()` holds. */
export async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await drain();
}
