/**
 * `defineClient`: one client per function instance, created on first use and kept in
 * module scope across warm invocations, with the failure modes of that pattern handled:
 * concurrent first uses share one connect, a failed connect is not cached, a client idle
 * past a threshold (likely frozen in between) is pinged before use and rebuilt if the
 * ping fails, an operation broken by a connection error is repeated once when that cannot
 * apply it twice, and every wait is bounded by the invocation's deadline.
 */
import { ConfigurationError, SteadyError, createLogger, currentContext, type Logger } from '@steadyfn/handler';
import { sleep, withTimeout } from '@steadyfn/handler/internal';
import { BUDGET_DEFAULTS, judgeBudget, shedError } from './budget.js';
import { ConnectionLostError, ConnectionUnavailableError, isConnectionError, wasNotSent } from './errors.js';
import { Flight, bounded } from './flight.js';
import { REUSE, noteReconnect, noteRetry } from './records.js';
import { register, unregister } from './registry.js';
import type { ClientHandle, ClientSpec, ClientStats, Lease, RunOptions, WaitOptions } from './spec.js';
import { validateSpec } from './validate.js';

export type { AcquireState, BudgetOptions, BudgetReading, ClientHandle, ClientSpec, ClientStats, CreateContext, Lease, RunOptions, WaitOptions } from './spec.js';

class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

interface Entry<T> {
  client: T;
}

let fallbackLogger: Logger | undefined;

/** The running invocation's signal, unless the caller passed one. */
function signalOf(options: WaitOptions | undefined): AbortSignal | undefined {
  return options?.signal ?? currentContext()?.signal;
}

/**
 * Defines a cached client of any kind. The typed factories (`redis()`, `mongo()`, `s3()`,
 * `sqs()` in the subpath entries) are built on it.
 *
 * @throws ConfigurationError (`CONFIG_INVALID`) when `spec` has an invalid option.
 * @example
 * const db = defineClient({
 *   name: 'postgres',
 *   async create() { const c = new pg.Client(); await c.connect(); return c; },
 *   ping: (c) => c.query('SELECT 1'),
 *   close: (c) => c.end(),
 * });
 */
export function defineClient<T>(spec: ClientSpec<T>): ClientHandle<T> {
  return makeHandle(spec, 'defineClient');
}

/** `defineClient` with the factory's name in configuration errors. */
export function makeHandle<T>(spec: ClientSpec<T>, owner: string): ClientHandle<T> {
  const { name, idleThresholdMs, pingTimeoutMs, connectTimeoutMs, closeTimeoutMs, budget } = validateSpec(owner, spec as ClientSpec<unknown>);
  const isConnErr = spec.isConnectionError ?? isConnectionError;
  const notSent = spec.wasNotSent ?? wasNotSent;
  const now = spec.now ?? Date.now;

  let current: Entry<T> | undefined;
  let connecting: Flight<Entry<T>> | undefined;
  let checking: Flight<Lease<T>> | undefined;
  let lastUsedAt: number | undefined;
  // A client that saw a connection error (or a command cut off by a deadline) is checked before its next use.
  let suspect = false;
  // Set once a budget reading reached warnRatio: reconnects then wait a random while.
  let nearLimit = false;
  const closing = new Set<Promise<unknown>>();
  const stats: ClientStats = { connects: 0, connectFailures: 0, pings: 0, pingFailures: 0, reconnects: 0, retries: 0, lastUsedAt: undefined, budget: undefined };

  const log = (): Logger => currentContext()?.log ?? spec.logger ?? (fallbackLogger ??= createLogger({ component: 'connections' }));

  function touch(): void {
    lastUsedAt = now();
  }

  function closeClient(client: T): void {
    if (!spec.close) return;
    const closed = withTimeout(
      Promise.resolve().then(() => spec.close!(client)),
      closeTimeoutMs,
      () => new TimeoutError(`closing ${name} timed out`),
    ).catch(() => undefined);
    closing.add(closed);
    void closed.then(() => closing.delete(closed));
  }

  /** Forgets `entry` (if it is still the cached one) and closes it in the background. */
  function discard(entry: Entry<T>): void {
    if (current === entry) current = undefined;
    closeClient(entry.client);
  }

  async function create(signal: AbortSignal): Promise<T> {
    try {
      return await bounded((s) => spec.create({ signal: s }), connectTimeoutMs, () => new TimeoutError(`connecting ${name} timed out after ${connectTimeoutMs} ms`), signal, closeClient);
    } catch (err) {
      stats.connectFailures++;
      // Every waiter gave up: nobody reads this error.
      if (signal.aborted && err === signal.reason) throw err;
      if (err instanceof ConfigurationError) {
        // A missing driver, a bundle that cannot load it, a bad URI: say what, once per failure. Our own message, no values.
        log().error('connections: client cannot be created', { client: name, code: err.code, reason: err.message });
        throw err;
      }
      // The user's own typed terminal errors stay as they are; anything else is a connect failure.
      if (err instanceof SteadyError && !err.retryable) throw err;
      throw new ConnectionUnavailableError(name, err);
    }
  }

  /** Single flight: every caller during one connect gets the same client or the same error. */
  function connect(reconnect: boolean): Flight<Entry<T>> {
    if (connecting) return connecting;
    const flight = new Flight<Entry<T>>(async (signal) => {
      if (reconnect && nearLimit) {
        // Many instances reconnecting at once is how a connection storm starts: spread them.
        await sleep(Math.random() * (budget?.backoffMs ?? BUDGET_DEFAULTS.backoffMs), signal);
        if (signal.aborted) throw signal.reason;
      }
      const client = await create(signal);
      if (budget && spec.readBudget) {
        const verdict = await judgeBudget(name, budget, () => spec.readBudget!(client), pingTimeoutMs, signal, log).catch((err: unknown) => {
          closeClient(client);
          throw err;
        });
        if (verdict) {
          stats.budget = verdict.reading;
          nearLimit = verdict.nearLimit;
          if (verdict.shed) {
            stats.connectFailures++;
            closeClient(client);
            throw shedError(name, budget, verdict.reading);
          }
        }
      }
      stats.connects++;
      const entry = { client };
      current = entry;
      suspect = false;
      return entry;
    });
    connecting = flight;
    // Whatever the outcome, the next caller starts afresh: a failure is never cached.
    const clear = (): void => {
      if (connecting === flight) connecting = undefined;
    };
    flight.promise.then(clear, clear);
    return flight;
  }

  function lease(client: T, state: Lease<T>['state'], idleMs: number | undefined): Lease<T> {
    touch();
    return { client, state, idleMs };
  }

  /** Pings `entry`; on failure builds a new client. Concurrent callers share one check. */
  function revalidate(entry: Entry<T>, idleMs: number | undefined): Flight<Lease<T>> {
    if (checking) return checking;
    const flight = new Flight<Lease<T>>(async (signal) => {
      if (spec.ping) {
        stats.pings++;
        try {
          await bounded(() => spec.ping!(entry.client), pingTimeoutMs, () => new TimeoutError(`${name} ping timed out after ${pingTimeoutMs} ms`), signal);
          suspect = false;
          return lease(entry.client, 'revalidated', idleMs);
        } catch (err) {
          // Cut off by the deadline: no verdict on the client, so it is checked again next time.
          if (signal.aborted && err === signal.reason) throw err;
          stats.pingFailures++;
        }
      }
      discard(entry);
      stats.reconnects++;
      const fresh = await connect(true).wait(signal);
      return lease(fresh.client, 'reconnected', idleMs);
    });
    checking = flight;
    const clear = (): void => {
      if (checking === flight) checking = undefined;
    };
    flight.promise.then(clear, clear);
    return flight;
  }

  /** The cached client when it needs no check and no connect: the warm path, without a promise. */
  function reuse(): Lease<T> | undefined {
    const entry = current;
    if (!entry || suspect || checking || (spec.isReady && !spec.isReady(entry.client))) return undefined;
    const at = now();
    const idleMs = lastUsedAt === undefined ? undefined : at - lastUsedAt;
    if (spec.ping && idleMs !== undefined && idleMs > idleThresholdMs) return undefined;
    lastUsedAt = at;
    return { client: entry.client, state: 'reused', idleMs };
  }

  async function obtain(signal: AbortSignal | undefined): Promise<Lease<T>> {
    if (signal?.aborted) throw signal.reason;
    if (checking) return checking.wait(signal);
    const entry = current;
    const idleMs = lastUsedAt === undefined ? undefined : now() - lastUsedAt;
    if (!entry) {
      const joined = connecting !== undefined;
      const wasUsed = lastUsedAt !== undefined;
      const fresh = await connect(wasUsed).wait(signal);
      if (!joined && wasUsed) stats.reconnects++;
      return lease(fresh.client, wasUsed ? 'reconnected' : 'new', idleMs);
    }
    if (spec.isReady && !spec.isReady(entry.client)) {
      // The client already knows its socket is gone: no ping needed to decide.
      discard(entry);
      stats.reconnects++;
      const fresh = await connect(true).wait(signal);
      return lease(fresh.client, 'reconnected', idleMs);
    }
    if (suspect || (spec.ping && idleMs !== undefined && idleMs > idleThresholdMs)) return revalidate(entry, idleMs).wait(signal);
    return lease(entry.client, 'reused', idleMs);
  }

  /** `obtain`, counting a rebuild in the caller's invocation record: per caller, not per shared check. */
  async function leaseFor(signal: AbortSignal | undefined): Promise<Lease<T>> {
    const got = await obtain(signal);
    if (got.state === 'reconnected') noteReconnect(name);
    return got;
  }

  function acquire(options?: WaitOptions): Promise<Lease<T>> {
    const got = reuse();
    return got ? Promise.resolve(got) : leaseFor(signalOf(options));
  }

  const afterUse = <R>(value: R): R => {
    touch();
    return value;
  };

  /** After a connection error: repeat once when that cannot apply `fn` twice, else CONNECTION_LOST. */
  async function retry<R>(err: unknown, fn: (client: T) => R | Promise<R>, client: T, signal: AbortSignal | undefined, safe: boolean): Promise<R> {
    // Whatever happens next, this client must prove itself before anyone uses it again.
    if (current?.client === client) suspect = true;
    if (!safe && !notSent(err)) throw new ConnectionLostError(name, err);
    stats.retries++;
    noteRetry(name);
    const second = await leaseFor(signal);
    return attempt(fn, second.client, signal, safe, true);
  }

  function failed<R>(err: unknown, fn: (client: T) => R | Promise<R>, client: T, signal: AbortSignal | undefined, safe: boolean, repeated: boolean): Promise<R> {
    if (!isConnErr(err)) return Promise.reject(err as Error);
    if (!repeated) return retry(err, fn, client, signal, safe);
    if (current?.client === client) suspect = true;
    return Promise.reject(new ConnectionLostError(name, err));
  }

  /**
   * One attempt of `fn` on `client` (the warm path of every command: one promise), bounded by
   * `signal`. A call cut off by the signal leaves the client suspect: it may hang on a dead socket.
   */
  function attempt<R>(fn: (client: T) => R | Promise<R>, client: T, signal: AbortSignal | undefined, safe: boolean, repeated: boolean): Promise<R> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    let result: R | Promise<R>;
    try {
      result = fn(client);
    } catch (err) {
      return failed(err, fn, client, signal, safe, repeated);
    }
    if (!(result instanceof Promise)) return Promise.resolve(afterUse(result));
    if (!signal) return result.then(afterUse, (err: unknown) => failed(err, fn, client, signal, safe, repeated));
    const pending = result;
    return new Promise<R>((resolve, reject) => {
      const abort = (): void => {
        if (current?.client === client) suspect = true;
        reject(signal.reason as Error);
      };
      signal.addEventListener('abort', abort);
      pending.then(
        (value) => {
          signal.removeEventListener('abort', abort);
          resolve(afterUse(value));
        },
        (err: unknown) => {
          signal.removeEventListener('abort', abort);
          failed(err, fn, client, signal, safe, repeated).then(resolve, reject);
        },
      );
    });
  }

  function run<R>(fn: (client: T) => R | Promise<R>, options?: RunOptions): Promise<R> {
    const signal = options?.signal ?? currentContext()?.signal;
    const safe = options?.safe === true;
    const first = reuse();
    if (first) return attempt(fn, first.client, signal, safe, false);
    return leaseFor(signal).then((lease) => attempt(fn, lease.client, signal, safe, false));
  }

  const handle: ClientHandle<T> & { [REUSE]: () => Lease<T> | undefined } = {
    name,
    get: async (options) => (await acquire(options)).client,
    acquire,
    run,
    read: (fn, options) => run(fn, options?.signal ? { safe: true, signal: options.signal } : { safe: true }),
    peek: () => current?.client,
    touch,
    async close() {
      const pending = connecting;
      if (pending) await pending.promise.then(discard, () => undefined);
      if (current) discard(current);
      lastUsedAt = undefined;
      suspect = false;
      await Promise.all([...closing]);
    },
    get stats() {
      return { ...stats, lastUsedAt, budget: stats.budget && { ...stats.budget } };
    },
    [REUSE]: reuse,
  };
  register(handle);
  return handle;
}

/** Stops tracking a handle for `closeAll` (it stays usable). */
export function forget(handle: ClientHandle<unknown>): void {
  unregister(handle);
}
