/**
 * The shapes of `defineClient`: what a client kind must provide (`ClientSpec`) and what a
 * handle gives back (`ClientHandle`). Kept apart from the logic so the declarations read
 * in one place.
 */
import type { Logger } from '@steadyfn/handler';

/** How a client was obtained for a use: see `ClientHandle.acquire`. */
export type AcquireState = 'new' | 'reused' | 'revalidated' | 'reconnected';

/** Connections in use on the server and its limit, as read by a budget check (counts of connections). */
export interface BudgetReading {
  /** Connections open on the server now (Redis `connected_clients`, MongoDB `connections.current`). */
  used: number;
  /** The most the server accepts (Redis `maxclients`, MongoDB `current + available`). */
  limit: number;
}

/**
 * The connection budget check run after each connect, when `budget` is set. Ratios are
 * shares of the server's limit, from 0 to 1.
 *
 * @example
 * mongo({ budget: { warnRatio: 0.8, shedRatio: 0.95, backoffMs: 2_000 } });
 */
export interface BudgetOptions {
  /**
   * At this share of the server's limit: log a warning and wait a random 0…`backoffMs`
   * before later reconnects of this instance, so a fleet does not reconnect all at once.
   * @default 0.8
   */
  warnRatio?: number;
  /**
   * At this share: close the new client and fail with `CONNECTION_BUDGET_EXHAUSTED`
   * (503, retryable, `Retry-After` in whole seconds of `backoffMs`). Off when undefined.
   * @default undefined (never)
   */
  shedRatio?: number;
  /**
   * Upper bound, in milliseconds, of the random wait before a reconnect while the server
   * is near its limit; also the `Retry-After` given when shedding. At most 2147483647 (2^31−1, Node's longest timer), or `ConfigurationError`.
   * @default 1000
   */
  backoffMs?: number;
}

/** What `create` receives. */
export interface CreateContext {
  /**
   * Aborted when the connect must stop: `connectTimeoutMs` passed, or every invocation
   * waiting for this connect reached its deadline. Stop connecting and release what was
   * opened (a client resolved after the abort is closed with `close`).
   */
  signal: AbortSignal;
}

/**
 * A kind of client for `defineClient`: how to build one, check it and close it. Every
 * duration is in milliseconds.
 *
 * @typeParam T - The client value (`Redis`, `{ client, db }`, a `pg.Client`, …).
 */
export interface ClientSpec<T> {
  /** Used in logs, errors and stats; the plugin refuses two clients with one name. A non-empty string. */
  name: string;
  /**
   * Builds a client and resolves once it is connected; rejects when it cannot connect.
   * A `ConfigurationError` (from `@steadyfn/handler`) thrown here is passed through as is
   * (terminal) and logged with its message; any other error becomes `CONNECTION_UNAVAILABLE`.
   */
  create(context: CreateContext): T | Promise<T>;
  /** One cheap round trip (`PING`, `{ ping: 1 }`), sent after the client idled past `idleThresholdMs`. Without it there is no thaw check. */
  ping?(client: T): Promise<unknown>;
  /**
   * The client's own view of its connection, without a round trip (ioredis `status === 'ready'`); `false` rebuilds it at once.
   * Return `false` as soon as the client is closed or closing, also when the function closed it itself (`quit()`, `end()`,
   * `close()`): without it such a client is found out only by the error of its next operation — a read is repeated on a
   * rebuilt client, a write fails once with `CONNECTION_LOST` (test/review-closed-by-function.test.ts).
   */
  isReady?(client: T): boolean;
  /** Releases the client's sockets; bounded by `closeTimeoutMs`. */
  close?(client: T): unknown;
  /**
   * Which errors mean the connection failed rather than the operation.
   * @default isConnectionError (socket codes, MongoDB network errors, ioredis' closed-connection messages, a Cluster with no reachable node, `commandTimeout`)
   */
  isConnectionError?(err: unknown): boolean;
  /**
   * Which connection errors prove the operation was never sent, so that even a write may be repeated.
   * @default wasNotSent (ECONNREFUSED, ioredis "Stream isn't writeable", MongoDB server selection and pool-cleared errors)
   */
  wasNotSent?(err: unknown): boolean;
  /**
   * A client unused for longer than this (ms) is pinged before its next use. 0 pings before every use.
   * @default 10000
   */
  idleThresholdMs?: number;
  /**
   * The thaw-check ping fails after this many ms and the client is rebuilt (`redis()`/`redisCluster()`: plus what is left of the timeouts of other callers' blocking commands it queues behind; `mongo()`: plus the driver's monitor wait when none of its servers can take the ping now (all `Unknown`, or no primary)). Also bounded by the invocation's deadline; across checks that deadlines cut off, it is the time those checks waited unanswered in all (not the time between them). At most 2147483647 (2^31−1, Node's longest timer), or `ConfigurationError`.
   * @default 1000
   */
  pingTimeoutMs?: number;
  /**
   * `create` fails after this many ms (`CONNECTION_UNAVAILABLE`). Also bounded by the deadline of the invocations waiting for it. At most 2147483647 (2^31−1, Node's longest timer), or `ConfigurationError`.
   * @default 10000
   */
  connectTimeoutMs?: number;
  /**
   * How long (ms) `close` waits for the client to close before dropping it. At most 2147483647 (2^31−1, Node's longest timer), or `ConfigurationError`.
   * @default 2000
   */
  closeTimeoutMs?: number;
  /** Reads the server's connection count and limit (Redis `INFO clients`, MongoDB `serverStatus`); `undefined` when it does not say. */
  readBudget?(client: T): Promise<BudgetReading | undefined>;
  /**
   * Checks the server's connection budget after each connect: `true` for the defaults, or the thresholds.
   * @default false
   */
  budget?: BudgetOptions | boolean;
  /**
   * Clock, in epoch ms (tests move it to simulate idling).
   * @default Date.now
   */
  now?: () => number;
  /**
   * Where warnings go when no invocation is running (inside one they go to `ctx.log`).
   * @default a JSON logger on stdout with `component: "connections"`
   */
  logger?: Logger;
}

/** Counters of one handle since it was defined. */
export interface ClientStats {
  /** Clients successfully created. */
  connects: number;
  /** Connects that failed (refused, timed out, shed, driver missing). */
  connectFailures: number;
  /** Thaw-check pings sent. */
  pings: number;
  /** Thaw-check pings that failed or timed out. */
  pingFailures: number;
  /** Clients rebuilt after a failed check or a broken connection. */
  reconnects: number;
  /** Operations repeated once after a connection error. */
  retries: number;
  /** Epoch ms of the last use; undefined before the first. */
  lastUsedAt: number | undefined;
  /** The last budget reading with `ratio = used / limit`, when budget checks are on. */
  budget: (BudgetReading & { ratio: number }) | undefined;
}

/** A client and how it was obtained. */
export interface Lease<T> {
  client: T;
  /** `new` (first client of this instance, even after connects that failed), `reused`, `revalidated` (idle past the threshold, ping answered) or `reconnected` (rebuilt). */
  state: AcquireState;
  /** Milliseconds since the client was last used; undefined for a client never used before. */
  idleMs: number | undefined;
}

/** Options of a call that waits for a client. */
export interface WaitOptions {
  /**
   * Give up when this aborts, rejecting with its `reason`. Inside an invocation the
   * default is `ctx.signal` (aborted `deadlineMarginMs` before the deadline, reason
   * `DEADLINE_EXCEEDED`); outside one, only the handle's own timeouts apply.
   */
  signal?: AbortSignal;
}

/** Options of `run`. */
export interface RunOptions extends WaitOptions {
  /**
   * The operation may be sent twice without harm (a read, a SET to a fixed value). Only then
   * is it repeated after a connection error that may have happened after the server received it.
   * @default false
   */
  safe?: boolean;
  /**
   * `fn` sends one operation. Only then does an error proving that operation unsent (a refused
   * connect, ioredis `Stream isn't writeable`, a `redisCluster()`'s `Cluster isn't ready`, MongoDB
   * server selection on a standalone — where the driver retries writes itself, a replica set or a
   * sharded cluster, its error may be its retry's, so `mongo()` counts none there) let `fn` run
   * once more when it is not `safe`: the error says nothing of the
   * operations `fn` sent before the one that failed, and repeating `fn` would send those twice.
   * The command methods of `ctx.redis` set it (one command each).
   * @default false
   */
  single?: boolean;
}

/**
 * One client per function instance: created on first use, cached across warm invocations,
 * checked after idling, rebuilt when broken. Every waiting call gives up when its signal
 * (by default the running invocation's `ctx.signal`) aborts.
 *
 * @typeParam T - The client value.
 */
export interface ClientHandle<T> {
  readonly name: string;
  /**
   * A connected, checked client. The signal it is taken under (`options.signal`, by default the
   * running invocation's `ctx.signal`) is watched: if it aborts while the client has an operation
   * in flight (a command of the caller's own, given up on), the client is pinged before its next
   * use and rebuilt when the ping fails — it may be stuck on a silently dead socket. Only clients
   * that can tell (`redis()`, `mongo()`, `s3()`, `sqs()`; an AWS client's idle sockets are closed instead).
   * A `redis()` client is checked only when the oldest command in flight at the abort is not a
   * blocking one (another caller's `BLPOP`) and is still unanswered at the next use, with no reply since.
   * @throws ConnectionUnavailableError (`CONNECTION_UNAVAILABLE`, 503, retryable) when it cannot be connected.
   * @throws ConnectionBudgetError (`CONNECTION_BUDGET_EXHAUSTED`, 503, retryable) at `shedRatio`.
   * @throws ConfigurationError (terminal) when the driver is missing or cannot load, or an option read at connect time is invalid.
   * @throws the signal's reason (in an invocation `DEADLINE_EXCEEDED`) when the signal aborts first.
   */
  get(options?: WaitOptions): Promise<T>;
  /** Like `get`, and says how the client was obtained. Same errors as `get`. */
  acquire(options?: WaitOptions): Promise<Lease<T>>;
  /**
   * Runs `fn` with the client. On a connection error the client is repaired, and `fn` runs
   * once more if `safe` is set, or if `single` is set and the error proves that one operation
   * unsent. Other errors pass through unchanged.
   * @throws ConnectionLostError (`CONNECTION_LOST`, 503, retryable) after a connection error when repeating was not safe, or on the repeat.
   * @throws the signal's reason when the signal aborts before `fn` settles (the client is then checked before its next use).
   * @throws the errors of `get`.
   * @example
   * await cache.run((r) => r.set('k', 'v'), { safe: true }); // an idempotent write
   */
  run<R>(fn: (client: T) => R | Promise<R>, options?: RunOptions): Promise<R>;
  /** `run(fn, { safe: true })`: for reads. */
  read<R>(fn: (client: T) => R | Promise<R>, options?: WaitOptions): Promise<R>;
  /** The cached client, if there is one, without any check. */
  peek(): T | undefined;
  /** Marks the client as used now (resets the idle clock). */
  touch(): void;
  /**
   * Closes the client and forgets it; the next `get` creates a new one. Bounded by `closeTimeoutMs`.
   * Until it resolves, a use of the handle (`get`, `acquire`, `run`, a ctx command) that needs a
   * connect or a check is refused with `ConnectionUnavailableError` (`closedBy: 'connections'`,
   * nothing sent) instead of connecting a client the close would leave open.
   */
  close(): Promise<void>;
  /** A snapshot of the counters. */
  readonly stats: ClientStats;
}
