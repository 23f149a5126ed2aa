/**
 * `defineClient`: one client per function instance, created on first use and kept in
 * module scope across warm invocations, with the failure modes of that pattern handled:
 * concurrent first uses share one connect, a failed connect is not cached, a client idle
 * past a threshold (likely frozen in between) is pinged before use and rebuilt if the
 * ping fails, an operation broken by a connection error is repeated once when that cannot
 * apply it twice, and every wait is bounded by the invocation's deadline. The client's life
 * is in `lifecycle.ts`; this module is the handle and its `run`.
 */
import { currentAbortable, onAbort, toAbortSignal, type Abortable } from '@steadyfn/handler/internal';
import { ConnectionLostError, ConnectionUnavailableError, isConnectionError, wasNotSent } from './errors.js';
import { closedErrorOf, type ClosedError, type DriverErrorOwner } from './closed.js';
import { ClientLifecycle } from './lifecycle.js';
import { CLOSED_ERROR, CUT_OFF, REUSE, RUN_WITH, noteReconnect, noteRetry, type RunWith } from './records.js';
import { hold, unregister } from './registry.js';
import type { ClientHandle, ClientSpec, ClientStats, Lease, RunOptions, WaitOptions } from './spec.js';
import { validateSpec } from './validate.js';
import { Waiting } from './waiting.js';
import type { GraceClock } from './unanswered.js';

export type { AcquireState, BudgetOptions, BudgetReading, ClientHandle, ClientSpec, ClientStats, CreateContext, Lease, RunOptions, WaitOptions } from './spec.js';

/**
 * Defines a cached client of any kind. The typed factories (`redis()`, `mongo()`, `s3()`,
 * `sqs()` in the subpath entries) are built on it.
 *
 * @throws ConfigurationError (`CONFIG_INVALID`) when `spec` has an invalid option.
 * @example
 * const db = defineClient({
 *   name: 'postgres',
 *   async create({ signal }) { const c = new pg.Client(); signal.addEventListener('abort', () => void c.end()); await c.connect(); return c; },
 *   ping: (c) => c.query('SELECT 1'),
 *   close: (c) => c.end(),
 * });
 */
export function defineClient<T>(spec: ClientSpec<T>): ClientHandle<T> {
  return makeHandle(spec, 'defineClient');
}

/**
 * When `fn` may run again after a connection error: `SAFE` always (`safe`), `ONE` when the error
 * proves its one operation unsent (`single`), `NEVER` otherwise (it may have sent several).
 */
type Repeat = 0 | 1 | 2;
const NEVER = 0;
const ONE = 1;
const SAFE = 2;

/** What a handle calls on its client: `fn(client, arg)`. */
type Send<T, A, R> = (client: T, arg: A) => R | Promise<R>;

/** `run(fn)` as a `Send`: `fn` is the argument. */
function callOn<T, R>(client: T, fn: (client: T) => R | Promise<R>): R | Promise<R> {
  return fn(client);
}

/** What a typed factory adds to its handle (`makeHandle`). */
export interface HandleExtras<T> {
  /**
   * Whether the client's own user closed it (e.g. `MongoClient#close()` was called), for the
   * message of a direct operation's error on it (`CLOSED_ERROR`).
   */
  closedByUser?: ((client: T) => boolean) | undefined;
  /**
   * For a client without a thaw check, what to do when an invocation that used it was cut off by
   * its deadline with an operation in flight (`CUT_OFF`; e.g. close the idle kept-alive sockets of
   * an AWS client, which may be as dead as the one its request hung on).
   */
  onCutOff?: ((client: T) => void) | undefined;
  /**
   * The typed error to reject an operation with in place of an error that is not a connection
   * error (e.g. a Redis `NOAUTH` reply as `CONNECTION_AUTH_FAILED`), or undefined to keep it.
   */
  operationError?: ((err: unknown) => Error | undefined) | undefined;
  /**
   * Whether `err` is a failed connection only this handle's driver raises (`mongo()`:
   * `MongoNetworkError`, …) that `client` may have raised: `'yes'` when it names one of the
   * client's servers, `'maybe'` when it names none (or an IP it cannot compare), false
   * otherwise. Typed as `run` would type it when the function's direct use of the client
   * raised it (`CLOSED_ERROR`).
   */
  isDriverNetworkErr?: ((err: unknown, client: T) => DriverErrorOwner) | undefined;
  /**
   * Whether the client has an operation in flight (written, no answer yet). At a deadline cut-off
   * a client without one is left as it is: nothing of it can hang on a dead socket, so no ping
   * and no closed sockets. Without it, every client is treated as having one.
   */
  inFlight?: ((client: T) => boolean) | undefined;
  /**
   * Finer than `inFlight`, for a client shared by callers whose commands may legitimately wait
   * (Redis: another caller's BLPOP): at a cut-off, false when nothing in flight can be hung on a
   * dead socket, else a test run at the client's next use — whether what was in flight then is
   * still unanswered with no reply since. The client is checked only when it says so. Used instead of `inFlight`.
   */
  stuck?: ((client: T) => false | (() => boolean)) | undefined;
  /**
   * How much longer than `pingTimeoutMs` (ms) a ping sent now may legitimately take: the ping waits
   * behind other callers' blocking commands on the same connection (Redis: a BLPOP with a timeout):
   * what is left of their timeouts from when they were written, not the whole of them. A failed
   * check then comes later, not instead of a live client's rebuild. Read as each ping is sent;
   * counted once per unanswered episode (checks that deadlines cut off, one after another): from
   * the episode's first ping whose grace is not 0 — its first cut-off ping, or a later check's
   * when that one had none — so later checks cannot move it later (see `UnansweredPings`).
   * Without it, 0.
   */
  pingGraceMs?: ((client: T) => number) | undefined;
  /**
   * The clock `pingGraceMs` runs out on: `elapsed` when the wait is the server's (a BLPOP's
   * timeout runs while the instance is frozen), `waited` when it is the client's own pacing
   * (MongoDB's monitor, frozen with the instance: only time the checks spent waiting counts, so a
   * freeze between checks does not use it up). See `GraceClock`.
   * @default 'elapsed'
   */
  pingGraceClock?: GraceClock | undefined;
}

/** `defineClient` with the factory's name in configuration errors (for the typed factories), and their `extras`. */
export function makeHandle<T>(spec: ClientSpec<T>, owner: string, extras: HandleExtras<T> = {}): ClientHandle<T> {
  const { closedByUser, onCutOff, operationError, isDriverNetworkErr, inFlight, stuck, pingGraceMs, pingGraceClock } = extras;
  const settings = validateSpec(owner, spec as ClientSpec<unknown>);
  const { name } = settings;
  // In the closeAll()/SIGTERM set while it has a client or a connect under way (`handle` is set below, before any connect).
  const life = new ClientLifecycle(spec, settings, (held) => hold(handle, held), pingGraceMs, pingGraceClock);
  const isConnErr = spec.isConnectionError ?? isConnectionError;
  const notSent = spec.wasNotSent ?? wasNotSent;
  // Commands racing their signals; one cut off by its signal leaves its client suspect: it may hang on a dead socket.
  const waiting = new Waiting((client) => life.distrust(client as T));
  const { wallClock } = life;

  /** `obtain`, counting a rebuild in the caller's invocation record: per caller, not per shared check. */
  async function leaseFor(signal: AbortSignal | undefined): Promise<Lease<T>> {
    const got = await life.obtain(signal);
    if (got.state === 'reconnected') noteReconnect(name);
    return got;
  }

  /**
   * An operation of the caller's own on a client handed out by `get`/`acquire` (a state source's
   * `HGETALL`, a pipeline) is not raced here: when the caller gave up on it, its signal aborted,
   * and the client may be stuck on a silently dead socket that no later use within the idle
   * threshold would check. So each signal a client was handed out under is watched (one callback
   * per signal and handle, for every client handed out under it): when it aborts, the handle's
   * cached client, if it was handed out under it and has an operation in flight, is treated as cut
   * off (checked before its next use), as the plugin does at a deadline. A client the handle has
   * dropped since (rebuilt, closed) is nobody's to check: the watch holds its clients weakly, so a
   * long-lived signal shared by many callers (a worker's shutdown signal) does not keep every
   * client ever handed out under it alive.
   * Only clients that can tell (`inFlight`): suspecting the others at every aborted signal (a
   * caller's `AbortSignal.timeout` firing long after its command answered) would ping blindly.
   */
  const handedOut = new WeakMap<Abortable, WeakSet<object>>();
  function watch(signal: Abortable | undefined, client: T): void {
    if (signal === undefined || signal.aborted || (inFlight === undefined && stuck === undefined)) return;
    if (typeof client !== 'object' || client === null) return;
    let clients = handedOut.get(signal);
    if (clients === undefined) {
      const watched = new WeakSet<object>();
      handedOut.set(signal, (clients = watched));
      onAbort(signal, () => {
        const current = life.current?.client;
        if (current !== undefined && watched.has(current as object)) cutOff(current);
      });
    }
    clients.add(client);
  }

  function acquire(options?: WaitOptions): Promise<Lease<T>> {
    const signal = options?.signal ?? currentAbortable();
    const got = life.reuse();
    if (got) {
      watch(signal, got.client);
      return Promise.resolve(got);
    }
    return leaseFor(signal && toAbortSignal(signal)).then((lease) => {
      watch(signal, lease.client);
      return lease;
    });
  }

  /**
   * A client cut off with an operation in flight: a client with a thaw check is checked before its
   * next use (with `stuck`, only if what was in flight then is still unanswered at that use, with no
   * reply since: a cut-off caller's signal says nothing of another caller's commands); others as their factory says.
   */
  function cutOff(client: T): void {
    if (stuck !== undefined) {
      const test = stuck(client);
      if (test === false) return;
      if (spec.ping) life.distrust(client, test);
      else onCutOff?.(client);
      return;
    }
    if (inFlight !== undefined && !inFlight(client)) return;
    if (spec.ping) life.distrust(client);
    else onCutOff?.(client);
  }

  /**
   * After a connection error: repeat once when that cannot apply `fn` twice, else CONNECTION_LOST.
   * An error proving the failing operation unsent counts only when `fn` sends one (`ONE`).
   */
  async function retry<A, R>(err: unknown, fn: Send<T, A, R>, arg: A, client: T, signal: Abortable | undefined, safe: Repeat): Promise<R> {
    // Whatever happens next, this client must prove itself before anyone uses it again.
    life.distrust(client);
    if (safe !== SAFE && !(safe === ONE && notSent(err))) throw new ConnectionLostError(name, err);
    life.stats.retries++;
    noteRetry(name);
    const second = await leaseFor(signal && toAbortSignal(signal));
    return attempt(fn, arg, second.client, signal, safe, true);
  }

  function failed<A, R>(err: unknown, fn: Send<T, A, R>, arg: A, client: T, signal: Abortable | undefined, safe: Repeat, repeated: boolean): Promise<R> {
    if (!isConnErr(err)) return Promise.reject(operationError?.(err) ?? (err as Error));
    if (!repeated) return retry(err, fn, arg, client, signal, safe);
    life.distrust(client);
    // Repeated only because the first attempt proved unsent (`ONE`): this one unsent too, nothing was applied.
    if (safe === ONE && notSent(err)) return Promise.reject(new ConnectionUnavailableError(name, err));
    return Promise.reject(new ConnectionLostError(name, err, true));
  }

  /**
   * One attempt of `fn(client, arg)` (the warm path of every command: one promise), bounded by
   * `signal`. A call cut off by the signal leaves the client suspect: it may hang on a dead socket.
   */
  function attempt<A, R>(fn: Send<T, A, R>, arg: A, client: T, signal: Abortable | undefined, safe: Repeat, repeated: boolean): Promise<R> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    let result: R | Promise<R>;
    try {
      result = fn(client, arg);
    } catch (err) {
      return failed(err, fn, arg, client, signal, safe, repeated);
    }
    // The idle clock was reset when the call started (`reusable`/`obtain`); a long call only makes the next check likelier.
    if (!(result instanceof Promise)) return Promise.resolve(result);
    if (!signal) return result.catch((err: unknown) => failed(err, fn, arg, client, signal, safe, repeated));
    const waiter = waiting.add<R>(signal, client);
    result.then(
      (value) => waiter.settle(value),
      (err: unknown) => {
        // Cut off by its signal already: nothing awaits it any more, and its client was distrusted
        // then. Handling the late error (a retry, CONNECTION_LOST) would only leave a rejection
        // nobody handles — an unhandled rejection, which ends a Node process.
        if (waiter.waiting) waiter.settle(failed(err, fn, arg, client, signal, safe, repeated));
      },
    );
    return waiter.promise;
  }

  /** `run`, calling `fn(client, arg)`: the command view passes its arguments as `arg` instead of a closure per call. */
  function runWith<A, R>(fn: Send<T, A, R>, arg: A, options: RunOptions | undefined): Promise<R> {
    // One clock read for both the answer bound of ctx.signal and the idle check, when the idle clock is the wall clock.
    const at = wallClock ? Date.now() : undefined;
    // The running invocation's ctx.signal, raced without making its AbortSignal (same abort, same reason).
    const signal = options?.signal ?? currentAbortable(at);
    const safe: Repeat = options?.safe === true ? SAFE : options?.single === true ? ONE : NEVER;
    const client = life.reusable(at);
    if (client !== undefined) return attempt(fn, arg, client, signal, safe, false);
    return leaseFor(signal && toAbortSignal(signal)).then((lease) => attempt(fn, arg, lease.client, signal, safe, false));
  }

  function run<R>(fn: (client: T) => R | Promise<R>, options?: RunOptions): Promise<R> {
    return runWith(callOn, fn, options);
  }

  const handle: ClientHandle<T> & { [REUSE]: (at?: number) => Lease<T> | undefined; [RUN_WITH]: RunWith<T>; [CLOSED_ERROR]: ClosedError<T>; [CUT_OFF]: (client: T) => void } = {
    name,
    get: async (options) => (await acquire(options)).client,
    acquire,
    run,
    read: (fn, options) => run(fn, options?.signal ? { safe: true, signal: options.signal } : { safe: true }),
    peek: () => life.current?.client,
    touch: () => life.touch(),
    close: () => life.close(),
    [REUSE]: (at) => life.reuse(at),
    [RUN_WITH]: runWith,
    [CLOSED_ERROR]: closedErrorOf(name, life, isConnErr, notSent, closedByUser, isDriverNetworkErr),
    // The function's own driver call (ctx.mongo, not through `run`) may have hung on a dead
    // socket until the deadline: nothing else would check the client before the next use within
    // the idle threshold, and every invocation would hang on it again. Only a client with a thaw
    // check: without one, suspecting it would mean rebuilding it blindly; its factory may say what to do instead.
    // A client with nothing in flight (the function hung elsewhere) cannot hang on a socket: left as it is.
    [CUT_OFF]: cutOff,
  } as typeof handle;
  // Defined after the literal: V8 makes an object literal with a getter a dictionary (a hash lookup
  // for each member read: `[REUSE]` and `touch` on every warm invocation); this keeps it fast.
  Object.defineProperty(handle, 'stats', {
    enumerable: true,
    configurable: true,
    get: (): ClientStats => {
      const { stats } = life;
      return { ...stats, lastUsedAt: life.lastUsedAt, budget: stats.budget && { ...stats.budget } };
    },
  });
  return handle;
}

/**
 * Stops tracking a handle for `closeAll` and `closeOnSigterm`, also after it connects again (it
 * stays usable; close it yourself). A handle is tracked only while it has a client or a connect
 * under way, so a handle closed with `close()` needs no `forget` to be let go.
 */
export function forget(handle: ClientHandle<unknown>): void {
  unregister(handle);
}
