/**
 * `defineClient`: one client per function instance, created on first use and kept in
 * module scope across warm invocations, with the failure modes of that pattern handled:
 * concurrent first uses share one connect, a failed connect is not cached, a client idle
 * past a threshold (likely frozen in between) is pinged before use and rebuilt if the
 * ping fails, and an operation broken by a connection error is repeated once when that
 * cannot apply it twice.
 */
import { createLogger, currentContext, type Logger } from '@steadyfn/handler';
import {
  ConnectionBudgetError,
  ConnectionLostError,
  ConnectionUnavailableError,
  isConnectionError as defaultIsConnectionError,
  wasNotSent as defaultWasNotSent,
} from './errors.js';
import { noteAcquire, noteRetry, type AcquireState } from './records.js';
import { register, unregister } from './registry.js';

export type { AcquireState } from './records.js';

/** Connections in use on the server and its limit, read by a budget check. */
export interface BudgetReading {
  used: number;
  limit: number;
}

export interface BudgetOptions {
  /** At this share of the server's limit: log a warning and spread later reconnects out. Default 0.8. */
  warnRatio?: number;
  /** At this share: close the new client and fail with CONNECTION_BUDGET_EXHAUSTED (retryable). Default: never. */
  shedRatio?: number;
  /** Upper bound of the random wait before a reconnect while the server is near its limit. Default 1000 ms. */
  backoffMs?: number;
}

export interface ClientSpec<T> {
  /** Used in logs, errors and as the default plugin member name. */
  name: string;
  /** Builds a client and resolves once it is connected (reject when it cannot connect). */
  create(): T | Promise<T>;
  /** One cheap round trip (PING, `{ ping: 1 }`). Without it there is no thaw check. */
  ping?(client: T): Promise<unknown>;
  /** The client's own view of its connection, without a round trip (ioredis `status === 'ready'`). */
  isReady?(client: T): boolean;
  /** Releases the client's sockets. */
  close?(client: T): unknown;
  /** Which errors mean the connection failed. Default: socket codes, driver network errors, ioredis' closed-connection messages. */
  isConnectionError?(err: unknown): boolean;
  /** Which connection errors prove the operation was never sent (so a write may be repeated). */
  wasNotSent?(err: unknown): boolean;
  /** A client unused for longer than this is pinged before its next use. Default 10 000 ms. */
  idleThresholdMs?: number;
  /** The thaw-check ping fails after this long and the client is rebuilt. Default 1 000 ms. */
  pingTimeoutMs?: number;
  /** `create` fails after this long. Default 10 000 ms. */
  connectTimeoutMs?: number;
  /** How long `close` waits for the client to close before dropping it. Default 2 000 ms. */
  closeTimeoutMs?: number;
  /** Reads the server's connection count and limit (Redis INFO clients, MongoDB serverStatus). */
  readBudget?(client: T): Promise<BudgetReading | undefined>;
  /** Checks the server's connection budget after each connect. Off unless set. */
  budget?: BudgetOptions | boolean;
  /** Clock, for tests. */
  now?: () => number;
  /** Where warnings go when no invocation is running. */
  logger?: Logger;
}

export interface ClientStats {
  /** Clients successfully created. */
  connects: number;
  connectFailures: number;
  /** Thaw-check pings sent, and how many of them failed. */
  pings: number;
  pingFailures: number;
  /** Clients rebuilt after a failed check or a broken connection. */
  reconnects: number;
  /** Operations repeated once after a connection error. */
  retries: number;
  /** Epoch ms of the last use. */
  lastUsedAt: number | undefined;
  /** The last budget reading, when budget checks are on. */
  budget: (BudgetReading & { ratio: number }) | undefined;
}

export interface Lease<T> {
  client: T;
  state: AcquireState;
  /** Milliseconds since the last use; undefined for a client never used before. */
  idleMs: number | undefined;
}

export interface RunOptions {
  /**
   * The operation may be sent twice without harm (a read, an idempotent write such as a
   * SET to a fixed value). Only then is it repeated after a connection error that may
   * have happened after the server received it.
   */
  safe?: boolean;
}

export interface ClientHandle<T> {
  readonly name: string;
  /** A connected client: created on first use, checked after idling, rebuilt when broken. */
  get(): Promise<T>;
  /** Like `get`, and says how the client was obtained. */
  acquire(): Promise<Lease<T>>;
  /**
   * Runs `fn` with the client. On a connection error the client is repaired, and `fn` runs
   * once more if it is `safe` or the error proves nothing was sent; otherwise the call fails
   * with CONNECTION_LOST (retryable). Other errors pass through unchanged.
   */
  run<R>(fn: (client: T) => R | Promise<R>, options?: RunOptions): Promise<R>;
  /** `run(fn, { safe: true })`: for reads. */
  read<R>(fn: (client: T) => R | Promise<R>): Promise<R>;
  /** The cached client, if there is one, without any check. */
  peek(): T | undefined;
  /** Marks the client as used now (resets the idle clock). */
  touch(): void;
  /** Closes the client and forgets it; the next `get` creates a new one. */
  close(): Promise<void>;
  /** A snapshot of the counters. */
  readonly stats: ClientStats;
}

const DEFAULTS = {
  idleThresholdMs: 10_000,
  pingTimeoutMs: 1_000,
  connectTimeoutMs: 10_000,
  closeTimeoutMs: 2_000,
  warnRatio: 0.8,
  backoffMs: 1_000,
};

class TimeoutError extends Error {
  override readonly name = 'TimeoutError';
}

/** Settles with `work`, or rejects after `ms`; a late result is handed to `onLate` (to close it). */
function withTimeout<V>(work: Promise<V>, ms: number, what: string, onLate?: (value: V) => void): Promise<V> {
  return new Promise<V>((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      reject(new TimeoutError(`${what} timed out after ${ms} ms`));
    }, ms);
    // A frozen or finishing instance must not be kept alive by this timer.
    timer.unref?.();
    work.then(
      (value) => {
        if (done) return onLate?.(value);
        done = true;
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

interface Entry<T> {
  client: T;
}

let fallbackLogger: Logger | undefined;

export function defineClient<T>(spec: ClientSpec<T>): ClientHandle<T> {
  const name = spec.name;
  const idleThresholdMs = spec.idleThresholdMs ?? DEFAULTS.idleThresholdMs;
  const pingTimeoutMs = spec.pingTimeoutMs ?? DEFAULTS.pingTimeoutMs;
  const connectTimeoutMs = spec.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs;
  const closeTimeoutMs = spec.closeTimeoutMs ?? DEFAULTS.closeTimeoutMs;
  const isConnErr = spec.isConnectionError ?? defaultIsConnectionError;
  const notSent = spec.wasNotSent ?? defaultWasNotSent;
  const now = spec.now ?? Date.now;
  const budget = spec.budget === true ? {} : spec.budget === false ? undefined : spec.budget;

  let current: Entry<T> | undefined;
  let connecting: Promise<Entry<T>> | undefined;
  let checking: Promise<Lease<T>> | undefined;
  let lastUsedAt: number | undefined;
  // A client that saw a connection error is checked before its next use, idle or not.
  let suspect = false;
  // Set once a budget reading reached warnRatio: reconnects then wait a random while.
  let nearLimit = false;
  const closing = new Set<Promise<unknown>>();

  const stats: ClientStats = {
    connects: 0,
    connectFailures: 0,
    pings: 0,
    pingFailures: 0,
    reconnects: 0,
    retries: 0,
    lastUsedAt: undefined,
    budget: undefined,
  };

  const log = (): Logger => currentContext()?.log ?? spec.logger ?? (fallbackLogger ??= createLogger({ component: 'connections' }));

  function touch(): void {
    lastUsedAt = now();
  }

  function closeClient(client: T): void {
    if (!spec.close) return;
    const closed = withTimeout(Promise.resolve().then(() => spec.close!(client)), closeTimeoutMs, `closing ${name}`).catch(() => undefined);
    closing.add(closed);
    void closed.then(() => closing.delete(closed));
  }

  /** Forgets `entry` (if it is still the cached one) and closes it in the background. */
  function discard(entry: Entry<T>): void {
    if (current === entry) current = undefined;
    closeClient(entry.client);
  }

  async function checkBudget(client: T): Promise<void> {
    if (!budget || !spec.readBudget) return;
    let reading: BudgetReading | undefined;
    try {
      reading = await withTimeout(spec.readBudget(client), pingTimeoutMs, `${name} budget check`);
    } catch (err) {
      // Not allowed (managed servers often forbid INFO/serverStatus) or slow: no verdict.
      log().debug('connection budget check failed', { client: name, error: err instanceof Error ? err.name : 'unknown' });
      return;
    }
    if (!reading || !(reading.limit > 0)) return;
    const ratio = reading.used / reading.limit;
    stats.budget = { ...reading, ratio };
    const warnRatio = budget.warnRatio ?? DEFAULTS.warnRatio;
    nearLimit = ratio >= warnRatio;
    if (budget.shedRatio !== undefined && ratio >= budget.shedRatio) {
      const backoffMs = budget.backoffMs ?? DEFAULTS.backoffMs;
      log().warn('connection budget exhausted; closing the new client', { client: name, used: reading.used, limit: reading.limit });
      closeClient(client);
      throw new ConnectionBudgetError(name, reading.used, reading.limit, Math.max(1, Math.ceil(backoffMs / 1000)));
    }
    if (nearLimit) log().warn('connection budget nearly used', { client: name, used: reading.used, limit: reading.limit, ratio });
  }

  /** Single-flight: every caller during one connect gets the same client or the same error. */
  function connect(reconnect: boolean): Promise<Entry<T>> {
    if (connecting) return connecting;
    const attempt = (async (): Promise<Entry<T>> => {
      if (reconnect && nearLimit) {
        // Many instances reconnecting at once is how a connection storm starts: spread them.
        const wait = Math.random() * (budget?.backoffMs ?? DEFAULTS.backoffMs);
        // Not unref'd: nothing else may be keeping the process alive while we wait.
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
      let client: T;
      try {
        client = await withTimeout(Promise.resolve().then(spec.create), connectTimeoutMs, `connecting ${name}`, (late) => closeClient(late));
      } catch (err) {
        stats.connectFailures++;
        throw new ConnectionUnavailableError(name, err);
      }
      await checkBudget(client);
      stats.connects++;
      const entry = { client };
      current = entry;
      suspect = false;
      return entry;
    })();
    connecting = attempt;
    // Whatever the outcome, the next caller starts afresh: a failure is never cached.
    const clear = (): void => {
      if (connecting === attempt) connecting = undefined;
    };
    attempt.then(clear, clear);
    return attempt;
  }

  async function rebuild(entry: Entry<T> | undefined): Promise<Entry<T>> {
    if (entry) discard(entry);
    stats.reconnects++;
    return connect(true);
  }

  function lease(client: T, state: AcquireState, idleMs: number | undefined): Lease<T> {
    touch();
    return { client, state, idleMs };
  }

  /** Pings `entry`; on failure builds a new client. Concurrent callers share one check. */
  function revalidate(entry: Entry<T>, idleMs: number | undefined): Promise<Lease<T>> {
    if (checking) return checking;
    const check = (async (): Promise<Lease<T>> => {
      if (spec.ping) {
        stats.pings++;
        try {
          await withTimeout(Promise.resolve().then(() => spec.ping!(entry.client)), pingTimeoutMs, `${name} ping`);
          suspect = false;
          return lease(entry.client, 'revalidated', idleMs);
        } catch {
          stats.pingFailures++;
        }
      }
      const fresh = await rebuild(entry);
      return lease(fresh.client, 'reconnected', idleMs);
    })();
    checking = check;
    const clear = (): void => {
      if (checking === check) checking = undefined;
    };
    check.then(clear, clear);
    return check;
  }

  async function acquire(): Promise<Lease<T>> {
    const got = await obtain();
    // Per caller, not per shared check: each invocation that joined it gets its record.
    noteAcquire(name, got.state, got.idleMs);
    return got;
  }

  async function obtain(): Promise<Lease<T>> {
    if (checking) return checking;
    const entry = current;
    if (!entry) {
      const joined = connecting !== undefined;
      const wasUsed = lastUsedAt !== undefined;
      const idleMs = wasUsed ? now() - lastUsedAt! : undefined;
      const fresh = await connect(wasUsed);
      if (!joined && wasUsed) stats.reconnects++;
      return lease(fresh.client, wasUsed ? 'reconnected' : 'new', idleMs);
    }
    const idleMs = lastUsedAt === undefined ? undefined : now() - lastUsedAt;
    if (spec.isReady && !spec.isReady(entry.client)) {
      // The client already knows its socket is gone: no ping needed to decide.
      const fresh = await rebuild(entry);
      return lease(fresh.client, 'reconnected', idleMs);
    }
    if (suspect || (spec.ping && idleMs !== undefined && idleMs > idleThresholdMs)) return revalidate(entry, idleMs);
    return lease(entry.client, 'reused', idleMs);
  }

  async function run<R>(fn: (client: T) => R | Promise<R>, options?: RunOptions): Promise<R> {
    const first = await acquire();
    try {
      const result = await fn(first.client);
      touch();
      return result;
    } catch (err) {
      if (!isConnErr(err)) throw err;
      // Whatever happens next, this client must prove itself before anyone uses it again.
      if (current?.client === first.client) suspect = true;
      if (!options?.safe && !notSent(err)) throw new ConnectionLostError(name, err);
      stats.retries++;
      noteRetry(name);
      const second = await acquire();
      try {
        const result = await fn(second.client);
        touch();
        return result;
      } catch (again) {
        if (!isConnErr(again)) throw again;
        if (current?.client === second.client) suspect = true;
        throw new ConnectionLostError(name, again);
      }
    }
  }

  const handle: ClientHandle<T> = {
    name,
    get: async () => (await acquire()).client,
    acquire,
    run,
    read: (fn) => run(fn, { safe: true }),
    peek: () => current?.client,
    touch,
    async close() {
      const pending = connecting;
      if (pending) await pending.then(discard, () => undefined);
      if (current) discard(current);
      lastUsedAt = undefined;
      suspect = false;
      await Promise.all([...closing]);
    },
    get stats() {
      return { ...stats, lastUsedAt, budget: stats.budget && { ...stats.budget } };
    },
  };
  register(handle);
  return handle;
}

/** Stops tracking a handle for `closeAll` (it stays usable). */
export function forget(handle: ClientHandle<unknown>): void {
  unregister(handle);
}
