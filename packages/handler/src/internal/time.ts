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
 * caller checks `signal.aborted`). The timer is unref'd: a sleep does not by itself keep the
 * process open. Its callers are backoffs in background work (`settleLater`, a relay's redrive
 * wait, a client's reconnect budget) that must not keep an idle process alive, or waits inside an
 * invocation, which the handler's deadline watch keeps the process open for (deadline.ts).
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

/** Options of `withTimeout`. */
export interface WithTimeoutOptions {
  /**
   * Unref the timer: the bound does not by itself keep the process open. For work nothing awaits
   * (a client closed in the background), which must not hold an idle process open until the bound.
   * @default false
   */
  unref?: boolean;
}

/**
 * Settles like `work`, or rejects with `onTimeout()` after `ms` milliseconds (no bound past
 * `MAX_TIMER_MS`). `onLate` receives
 * a value that arrives after the timeout (to close a client that connected too late).
 * While `work` is pending its timer keeps the process open (at most `ms`), so the bound is
 * reached even when nothing else holds the event loop — unless `options.unref`.
 *
 * @example
 * await withTimeout(client.quit(), 2_000, () => new TimeoutError('closing timed out'), undefined, { unref: true });
 */
export function withTimeout<V>(work: Promise<V>, ms: number, onTimeout: () => Error, onLate?: (value: V) => void, options: WithTimeoutOptions = {}): Promise<V> {
  return new Promise<V>((resolve, reject) => {
    let late = false;
    const timer = fitsTimer(ms)
      ? setTimeout(() => {
          late = true;
          reject(onTimeout());
        }, Math.max(0, ms))
      : undefined;
    // Ref'd by default: the work is awaited, so the process stays open until it settles or the
    // bound comes (the timer is cleared as soon as it settles, and holds nothing after). Unref'd,
    // a wait on work that holds no socket or timer of its own would end with the event loop,
    // unanswered — which is right only for work nothing awaits (`options.unref`).
    if (options.unref) timer?.unref?.();
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
