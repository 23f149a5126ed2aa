/**
 * Racing work against an AbortSignal: drivers (ioredis, the MongoDB driver for most calls)
 * cannot cancel a request already sent, so a call gives up on its promise instead and the
 * late result is observed and dropped.
 */

/** The reason a signal aborted with, or a DOMException `AbortError` when it gave none. */
export function abortReasonOf(signal: Abortable): unknown {
  return signal.reason ?? new DOMException('The operation was aborted', 'AbortError');
}

/** Throws the signal's reason when it has already aborted. */
export function throwIfAborted(signal: Abortable | undefined): void {
  if (signal?.aborted) throw abortReasonOf(signal);
}

/**
 * Settles like `work`, or rejects with the signal's reason as soon as `signal` aborts
 * (`onAbort` runs first, e.g. to abort shared work). Without a signal, `work` itself is
 * returned. A late rejection of `work` is observed, so it never becomes unhandled.
 */
export function raceSignal<V>(work: Promise<V>, signal: Abortable | undefined, onAbort?: () => void): Promise<V> {
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
type Tagged = Abortable & { [CALLBACKS]?: Set<() => void> };
const ignore = (): void => undefined;

/**
 * The callbacks run (once, then cleared) when `signal` aborts: add one for as long as a piece
 * of work waits, delete it when the work settles. A signal gets a single `abort` listener for
 * all of them — none at all for a `SignalSource`'s (`ctx.signal`), which runs them itself — so
 * racing a signal many times costs set insertions, not EventTarget bookkeeping.
 */
export function abortCallbacks(signal: Abortable): Set<() => void> {
  const tagged = signal as Tagged;
  let callbacks = tagged[CALLBACKS];
  if (callbacks === undefined) {
    // A source makes its set on first need and runs it itself: no listener.
    if (signal instanceof SignalSource) return signal.callbacks();
    const set = new Set<() => void>();
    callbacks = set;
    tagged[CALLBACKS] = set;
    (signal as AbortSignal).addEventListener('abort', () => runAll(set), { once: true });
  }
  return callbacks;
}

function runAll(callbacks: Set<() => void>): void {
  for (const callback of callbacks) callback();
  callbacks.clear();
}

/**
 * Adds `callback` to the callbacks run when `signal` aborts (`abortCallbacks`), for as long as
 * the signal lives: nothing when it is there already. On `ctx.signal`'s source, the first one
 * is kept without a set — a command through `ctx.redis` adds one per client — so an invocation
 * that races its signal only through such callbacks makes no set at all.
 */
export function onAbort(signal: Abortable, callback: () => void): void {
  if (signal instanceof SignalSource) signal.addCallback(callback);
  else abortCallbacks(signal).add(callback);
}

/**
 * What can be raced like a signal (`raceSignal`, `abortCallbacks`): an `AbortSignal`, or the
 * `SignalSource` behind `ctx.signal` itself, which has no `AbortSignal` until someone asks for one.
 */
export interface Abortable {
  readonly aborted: boolean;
  readonly reason: unknown;
}

/**
 * The abort state of `ctx.signal`, with its abort callbacks (`abortCallbacks`), which it runs
 * itself right after the signal's listeners. The `AbortSignal` (an AbortController, an
 * EventTarget) is made only when `signal` is read: work raced on the source itself (a
 * command through `ctx.redis`) needs none. The handler makes `ctx.signal` with it. Abort it
 * only through `abort`.
 */
export class SignalSource implements Abortable {
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown = undefined;
  /**
   * The first callback added through `onAbort` while there is no set. Invariant: a callback is
   * either here (and there is no set) or in the set, never both — the set, when made, takes it
   * in first — so each runs once, however it was added, and deleting it from the set removes it.
   */
  #first: (() => void) | undefined = undefined;
  /** Its abort callbacks (`abortCallbacks`), made on first need. */
  #callbacks: Set<() => void> | undefined = undefined;

  /** Its set of abort callbacks (what `abortCallbacks` gives for it and for its signal), made on first call. */
  callbacks(): Set<() => void> {
    return this.#callbacks ?? this.#makeCallbacks();
  }

  /** The set, made with the callback kept without one (if any) as its first member: same order, one place. */
  #makeCallbacks(): Set<() => void> {
    const set = new Set<() => void>();
    const first = this.#first;
    if (first !== undefined) {
      set.add(first);
      this.#first = undefined;
    }
    this.#callbacks = set;
    return set;
  }

  /** `onAbort` on this source: the first callback is kept without a set; later ones go in it (after the first). */
  addCallback(callback: () => void): void {
    if (this.#callbacks !== undefined) this.#callbacks.add(callback);
    else if (this.#first === undefined) this.#first = callback;
    else if (callback !== this.#first) this.#makeCallbacks().add(callback);
  }

  get aborted(): boolean {
    return this.#aborted;
  }

  /** The reason it aborted with; undefined until then. */
  get reason(): unknown {
    return this.#reason;
  }

  /** The AbortSignal, made on first read (already aborted, with the same reason, once the source is). */
  get signal(): AbortSignal {
    let controller = this.#controller;
    if (controller === undefined) {
      controller = new AbortController();
      this.#controller = controller;
      // Racing the signal uses the source's callbacks, which `abort` runs.
      (controller.signal as Tagged)[CALLBACKS] = this.callbacks();
      if (this.#aborted) controller.abort(this.#reason);
    }
    return controller.signal;
  }

  /** Aborts with `reason` (once): the signal's listeners, then the abort callbacks. */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
    // At most one of the two holds callbacks (see `#first`).
    const first = this.#first;
    this.#first = undefined;
    first?.();
    if (this.#callbacks !== undefined) runAll(this.#callbacks);
  }
}

/** `abortable` as an AbortSignal (for what needs a real one): a source's signal, made if need be. */
export function toAbortSignal(abortable: Abortable): AbortSignal {
  return abortable instanceof SignalSource ? abortable.signal : (abortable as AbortSignal);
}
