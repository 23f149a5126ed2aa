/**
 * Racing work against an AbortSignal: drivers (ioredis, the MongoDB driver for most calls)
 * cannot cancel a request already sent, so a call gives up on its promise instead and the
 * late result is observed and dropped.
 */

/** The reason a signal aborted with, or a DOMException `AbortError` when it gave none. */
export function abortReasonOf(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

/** Throws the signal's reason when it has already aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortReasonOf(signal);
}

/**
 * Settles like `work`, or rejects with the signal's reason as soon as `signal` aborts
 * (`onAbort` runs first, e.g. to abort shared work). Without a signal, `work` itself is
 * returned. A late rejection of `work` is observed, so it never becomes unhandled.
 */
export function raceSignal<V>(work: Promise<V>, signal: AbortSignal | undefined, onAbort?: () => void): Promise<V> {
  if (!signal) return work;
  if (signal.aborted) {
    work.catch(() => undefined);
    onAbort?.();
    return Promise.reject(abortReasonOf(signal));
  }
  return new Promise<V>((resolve, reject) => {
    const abort = (): void => {
      work.catch(() => undefined);
      onAbort?.();
      reject(abortReasonOf(signal));
    };
    signal.addEventListener('abort', abort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', abort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(error);
      },
    );
  });
}
