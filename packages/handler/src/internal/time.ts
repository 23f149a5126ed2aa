/**
 * Timers and abort signals: one copy of each helper for every package.
 */

/**
 * Node's longest timer, 2^31−1 ms (about 24.8 days): `setTimeout` fires a longer delay after
 * 1 ms (with a `TimeoutOverflowWarning`). A duration past it is treated as "no bound".
 */
export const MAX_TIMER_MS = 2_147_483_647;

/** Whether `ms` fits in one Node timer; a longer (or non-finite) wait is as good as none. */
export function fitsTimer(ms: number): boolean {
  return ms <= MAX_TIMER_MS;
}

/**
 * Resolves after `ms` milliseconds (never on its own past `MAX_TIMER_MS`), or as soon as `signal` aborts (it never rejects: the
 * caller checks `signal.aborted`). The timer is unref'd so a frozen instance is not kept alive.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    // Past the longest timer Node would fire at once: such a sleep ends only with `signal`.
    const timer = fitsTimer(ms) ? setTimeout(done, Math.max(0, ms)) : undefined;
    timer?.unref?.();
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Settles like `work`, or rejects with `onTimeout()` after `ms` milliseconds (no bound past
 * `MAX_TIMER_MS`). `onLate` receives
 * a value that arrives after the timeout (to close a client that connected too late).
 */
export function withTimeout<V>(work: Promise<V>, ms: number, onTimeout: () => Error, onLate?: (value: V) => void): Promise<V> {
  return new Promise<V>((resolve, reject) => {
    let late = false;
    const timer = fitsTimer(ms)
      ? setTimeout(() => {
          late = true;
          reject(onTimeout());
        }, Math.max(0, ms))
      : undefined;
    timer?.unref?.();
    work.then(
      (value) => {
        clearTimeout(timer);
        if (late) onLate?.(value);
        else resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        if (!late) reject(error);
      },
    );
  });
}
