/**
 * Waiting under a deadline. A connect or a thaw check is shared by every invocation that
 * needs the client at that moment (single flight), but each of them waits only as long as
 * its own deadline allows; when the last one gives up the shared work is aborted, so no
 * connect outlives the invocations that asked for it.
 */
import { fitsTimer, raceSignal } from '@steadyfn/handler/internal';

export { raceSignal };

/**
 * Runs `work` with a signal that aborts after `ms` (with `onTimeout()`) or when `outer`
 * aborts (with its reason), and settles with whichever comes first. A value that `work`
 * produces after that goes to `onLate` (to close a client that connected too late).
 */
export function bounded<V>(
  work: (signal: AbortSignal) => V | Promise<V>,
  ms: number,
  onTimeout: () => Error,
  outer: AbortSignal | undefined,
  onLate?: (value: V) => void,
): Promise<V> {
  const controller = new AbortController();
  // Past Node's longest timer (a far deadline) a timer would fire after 1 ms: no bound then.
  const timer = fitsTimer(ms) ? setTimeout(() => controller.abort(onTimeout()), ms) : undefined;
  // A frozen or finishing instance must not be kept alive by this timer.
  timer?.unref?.();
  const follow = (): void => controller.abort(outer!.reason);
  if (outer?.aborted) follow();
  else outer?.addEventListener('abort', follow, { once: true });
  const running = Promise.resolve().then(() => work(controller.signal));
  running.then(
    (value) => {
      if (controller.signal.aborted) onLate?.(value);
    },
    () => undefined,
  );
  return raceSignal(running, controller.signal).finally(() => {
    clearTimeout(timer);
    outer?.removeEventListener('abort', follow);
  });
}

/**
 * Shared work with many waiters, each bounded by its own signal. Waiters without a signal
 * pin the work: it then runs until it settles or its own bound fires.
 */
export class Flight<V> {
  readonly promise: Promise<V>;
  readonly #controller = new AbortController();
  #waiters = 0;
  #pinned = false;

  constructor(work: (signal: AbortSignal) => Promise<V>) {
    this.promise = work(this.#controller.signal);
    // Nobody may be waiting when it fails (every waiter gave up): not an unhandled rejection.
    this.promise.catch(() => undefined);
  }

  /**
   * Whether every waiter gave up and the work was aborted: it may take a few microtasks more to
   * settle, but it can only fail with a previous waiter's reason, so it must not be joined.
   */
  get aborted(): boolean {
    return this.#controller.signal.aborted;
  }

  /** Waits for the work; with `signal`, gives up (rejecting with its reason) when it aborts. */
  wait(signal: AbortSignal | undefined): Promise<V> {
    if (!signal) {
      this.#pinned = true;
      return this.promise;
    }
    this.#waiters++;
    let left = false;
    const leave = (): void => {
      if (left) return;
      left = true;
      this.#waiters--;
    };
    return raceSignal(this.promise, signal, () => {
      leave();
      if (this.#waiters === 0 && !this.#pinned) this.#controller.abort(signal.reason);
    }).finally(leave);
  }
}
