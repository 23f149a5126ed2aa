/**
 * Timers and abort signals: one copy of each helper for every package.
 */

/**
 * Resolves after `ms` milliseconds, or as soon as `signal` aborts (it never rejects: the
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
    const timer = setTimeout(done, Math.max(0, ms));
    timer.unref?.();
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Settles like `work`, or rejects with `onTimeout()` after `ms` milliseconds. `onLate` receives
 * a value that arrives after the timeout (to close a client that connected too late).
 */
export function withTimeout<V>(work: Promise<V>, ms: number, onTimeout: () => Error, onLate?: (value: V) => void): Promise<V> {
  return new Promise<V>((resolve, reject) => {
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      reject(onTimeout());
    }, Math.max(0, ms));
    timer.unref?.();
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
