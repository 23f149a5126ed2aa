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
    work.catch(ignore);
    onAbort?.();
    return Promise.reject(abortReasonOf(signal));
  }
  const callbacks = abortCallbacks(signal);
  return new Promise<V>((resolve, reject) => {
    const abort = (): void => {
      work.catch(ignore);
      onAbort?.();
      reject(abortReasonOf(signal));
    };
    callbacks.add(abort);
    work.then(
      (value) => {
        callbacks.delete(abort);
        resolve(value);
      },
      (error: unknown) => {
        callbacks.delete(abort);
        reject(error);
      },
    );
  });
}

const CALLBACKS = Symbol('steadyfn.abortCallbacks');
type Tagged = AbortSignal & { [CALLBACKS]?: Set<() => void> };
const ignore = (): void => undefined;

/**
 * The callbacks run (once, then cleared) when `signal` aborts: add one for as long as a piece
 * of work waits, delete it when the work settles. A signal gets a single `abort` listener for
 * all of them — none at all for a `SignalSource`'s (`ctx.signal`), which runs them itself — so
 * racing a signal many times costs set insertions, not EventTarget bookkeeping.
 */
export function abortCallbacks(signal: AbortSignal): Set<() => void> {
  const tagged = signal as Tagged;
  let callbacks = tagged[CALLBACKS];
  if (callbacks === undefined) {
    const set = new Set<() => void>();
    callbacks = set;
    tagged[CALLBACKS] = set;
    signal.addEventListener('abort', () => runAll(set), { once: true });
  }
  return callbacks;
}

function runAll(callbacks: Set<() => void>): void {
  for (const callback of callbacks) callback();
  callbacks.clear();
}

/**
 * An AbortController whose abort callbacks (`abortCallbacks`) it runs itself, right after the
 * signal's listeners: the handler makes `ctx.signal` with it. Abort it only through `abort`.
 */
export class SignalSource {
  readonly #controller = new AbortController();
  readonly #callbacks = new Set<() => void>();

  constructor() {
    (this.#controller.signal as Tagged)[CALLBACKS] = this.#callbacks;
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Aborts the signal with `reason` (once): its listeners, then its abort callbacks. */
  abort(reason: unknown): void {
    if (this.#controller.signal.aborted) return;
    this.#controller.abort(reason);
    runAll(this.#callbacks);
  }
}
