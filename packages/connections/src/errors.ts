/**
 * Which failures are about the connection rather than the operation, and which of those
 * prove the operation never reached the server (so even a write may be sent again).
 */
import { connectionFailure, SteadyError, wasNotSent as sharedWasNotSent, type ConnectionFailure } from '@steadyfn/handler/internal';

/**
 * The kinds of the shared classifier (`@steadyfn/handler/internal`) that mean the connection
 * failed. Not a Redis reply that the server cannot serve now (`LOADING`, `CLUSTERDOWN`): the
 * connection answered. A Cluster with no reachable node (`ClusterAllFailedError`, `None of
 * startup nodes is available`, `Cluster is ended.`) and an ioredis `commandTimeout` (`Command
 * timed out`) count: before, they reached the caller raw, an untyped 500
 * (test/review-connection-kinds.test.ts). Neither proves the command unsent — a timed-out
 * command was written and may have been applied, and `Cluster is ended.` can end a plain ioredis
 * Cluster's failover retry of a written one — so `wasNotSent` stays false for both: a write is
 * never sent again, a read is repeated once, as after any lost reply. (`redisCluster()` counts
 * `Cluster is ended.` as unsent, like `Cluster isn't ready`, a bare `Connection is closed.` and
 * `Too many Cluster redirections` whose last error is one of those or a redirection: its written
 * commands are split out as `ReplyLostError` — clusterNotReadyUnsent.)
 */
const CONNECTION_KINDS: readonly ConnectionFailure[] = ['socket', 'mongo-network', 'redis-connection', 'redis-cluster-down', 'redis-timeout'];

/**
 * True when `err` (or one of its first five causes) says the connection failed rather than
 * the operation: a socket code (`ECONNRESET`, `EPIPE`, `ECONNREFUSED`, `ETIMEDOUT`, …), a
 * MongoDB network, server selection or pool error, ioredis `Connection is closed`, `Stream isn't
 * writeable`, `Cluster isn't ready` or `Too many Cluster redirections` (a Cluster node down or
 * restarting), a Cluster with no reachable node (`ClusterAllFailedError`, `None of startup nodes
 * is available`, `Cluster is ended.`), or an ioredis `commandTimeout` (`Command timed out`).
 * @example
 * isConnectionError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })); // true
 */
export function isConnectionError(err: unknown): boolean {
  return connectionFailure(err, CONNECTION_KINDS) !== undefined;
}

/**
 * True when the error proves the operation was never written to the server, so sending
 * it again cannot apply it twice: a refused connect, a client with no open connection (ioredis
 * `Stream isn't writeable`), a MongoDB server selection or pool error. Not `Connection is closed`,
 * a Cluster's `Cluster isn't ready` or `Cluster is ended.`, `MaxRetriesPerRequestError` nor
 * `Command timed out`: each may follow a command that was written, and may have been applied.
 * (`redisCluster()` counts `Cluster isn't ready`, `Cluster is ended.`, a bare `Connection is
 * closed.` and `Too many Cluster redirections` ending in one of those or a redirection too: its
 * written commands never reach ioredis' failover retry — clients/cluster-replies.ts
 * `clusterNotReadyUnsent`.)
 * A MongoDB error proves it only where the driver does not retry writes (a standalone, or
 * `retryWrites=false`): on a replica set or sharded cluster the driver (mongodb 7) throws its
 * retry's error — a server selection timeout, a cleared pool — after a first attempt that may have
 * been applied; `mongo()` then counts no error as proof. The one rule, shared with
 * `@steadyfn/lease` (`wasNotSent` of `@steadyfn/handler/internal`).
 * @example
 * wasNotSent(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' })); // true
 */
export function wasNotSent(err: unknown): boolean {
  return sharedWasNotSent(err);
}

/**
 * Code of the `ConfigurationError` (terminal, HTTP 500) raised at first use when a client's
 * driver package is not installed; its message names the package to install.
 */
export const CONNECTION_DRIVER_MISSING = 'CONNECTION_DRIVER_MISSING';

/**
 * Code of the `ConfigurationError` (terminal, HTTP 500) raised at first use when a client's
 * driver is installed but cannot be loaded, e.g. `Dynamic require of "events" is not
 * supported` in an ESM bundle without `require`. Its message carries the loader's message.
 */
export const CONNECTION_DRIVER_LOAD_FAILED = 'CONNECTION_DRIVER_LOAD_FAILED';

/**
 * Code of the `ConfigurationError` (terminal, HTTP 500) raised when a Redis server refuses the
 * connection's credentials (`WRONGPASS`, `NOAUTH`, `ERR invalid password`), or a MongoDB server
 * (`AuthenticationFailed`, code 18): a wrong or missing
 * password or ACL user is the deployment's configuration; retrying cannot fix it. Its message and
 * log name the option (`field`) and the server's refusal in fixed words, never the password.
 */
export const CONNECTION_AUTH_FAILED = 'CONNECTION_AUTH_FAILED';

/**
 * Who closed a client under an operation the function ran on it directly (on the ctx value, not
 * through `run`): `'function'` — its own `close()`, in this invocation or a concurrent one;
 * `'connections'` — this package (a rebuild after a failed check, `closeAll`, SIGTERM).
 */
export type ClosedBy = 'function' | 'connections';

const CLOSERS: Record<ClosedBy, string> = {
  function: 'the function (its own close(), in this or a concurrent invocation)',
  connections: '@steadyfn/connections (a rebuild, closeAll or SIGTERM)',
};

/**
 * The client could not be connected or rebuilt (refused, timed out after
 * `connectTimeoutMs`), or — with `closedBy` — it was closed before an operation the function
 * ran on it directly was sent, so nothing was sent (a `MongoClient` whose `close()` ended the
 * operation's session, or which was closed before the operation started). Code
 * `CONNECTION_UNAVAILABLE`, HTTP 503, retryable: a later attempt may find the server back, or
 * gets a rebuilt client. The driver's error is the `cause`, logged by class and code only.
 */
export class ConnectionUnavailableError extends SteadyError {
  override readonly name = 'ConnectionUnavailableError';
  /**
   * The handle's name; for a MongoDB driver error that names no server, from the function's own
   * call with several `mongo()` handles, every handle it may concern joined by " or ".
   */
  readonly client: string;
  /** Who closed the client, when it was closed under the operation; else undefined. */
  readonly closedBy: ClosedBy | undefined;
  /**
   * @param client - The handle's name.
   * @param cause - The driver's error (logged by class and code only).
   * @param closedBy - Who closed the client before the operation was sent.
   * @default closedBy undefined (a connect or rebuild failed)
   */
  constructor(client: string, cause: unknown, closedBy?: ClosedBy) {
    const detail =
      closedBy === undefined
        ? `Could not connect the ${client} client`
        : `The ${client} client was closed by ${CLOSERS[closedBy]} before this operation was sent: nothing was sent, and the next use gets a rebuilt client`;
    super('CONNECTION_UNAVAILABLE', detail, { status: 503, retryable: true, expose: true, cause });
    this.client = client;
    this.closedBy = closedBy;
  }
}

/**
 * The connection broke during an operation that is not safe to send twice (a write the
 * caller did not mark `safe`), or during its one repeat (`repeated`: the message says it was
 * repeated once and failed again), or — with `closedBy` — the client was closed while an
 * operation the function ran on it directly was in flight (it may have been applied), or — with
 * `direct` — the connection broke under an operation the function ran on the client directly
 * (`ctx.mongo.db…`, not through `run`; it is the function's code, not repeated here). Code
 * `CONNECTION_LOST`, HTTP 503, retryable: it is not repeated here; the whole invocation may be.
 */
export class ConnectionLostError extends SteadyError {
  override readonly name = 'ConnectionLostError';
  /**
   * The handle's name; for a MongoDB driver error that names no server, from the function's own
   * call with several `mongo()` handles, every handle it may concern joined by " or ".
   */
  readonly client: string;
  /** Who closed the client, when it was closed under the operation; else undefined. */
  readonly closedBy: ClosedBy | undefined;
  /**
   * @param client - The handle's name.
   * @param cause - The driver's error (logged by class and code only).
   * @param repeated - The operation had already been repeated once after a connection error.
   * @param closedBy - Who closed the client while the operation was in flight.
   * @param direct - The operation was the function's own, run on the client directly (not through `run`).
   * @default repeated false
   * @default closedBy undefined (the connection broke)
   * @default direct false
   */
  constructor(client: string, cause: unknown, repeated = false, closedBy?: ClosedBy, direct = false) {
    const detail =
      closedBy !== undefined
        ? `The ${client} client was closed by ${CLOSERS[closedBy]} while this operation was in flight: it may have been applied`
        : repeated
          ? `The ${client} connection was lost again when the operation was repeated once after a connection error`
          : direct
            ? `The ${client} connection was lost during an operation the function ran on the client directly: it may have been applied, and this package did not repeat it`
            : `The ${client} connection was lost during an operation that is not safe to repeat`;
    super('CONNECTION_LOST', detail, {
      status: 503,
      retryable: true,
      expose: true,
      cause,
    });
    this.client = client;
    this.closedBy = closedBy;
  }
}

/**
 * The server is so close to its connection limit (`shedRatio`) that this instance refuses to
 * add more. Code `CONNECTION_BUDGET_EXHAUSTED`, HTTP 503, retryable, with `Retry-After` in seconds.
 */
export class ConnectionBudgetError extends SteadyError {
  override readonly name = 'ConnectionBudgetError';
  /**
   * The handle's name; for a MongoDB driver error that names no server, from the function's own
   * call with several `mongo()` handles, every handle it may concern joined by " or ".
   */
  readonly client: string;
  constructor(client: string, used: number, limit: number, retryAfterSeconds: number) {
    super('CONNECTION_BUDGET_EXHAUSTED', `The ${client} server uses ${used} of ${limit} connections; not opening more`, {
      status: 503,
      retryable: true,
      expose: true,
      headers: { 'retry-after': String(retryAfterSeconds) },
    });
    this.client = client;
  }
}
