/**
 * Which failures are about the connection rather than the operation, and which of those
 * prove the operation never reached the server (so even a write may be sent again).
 */
import { SteadyError } from '@steadyfn/handler/internal';

/** Socket-level error codes: the connection broke, was refused or timed out. */
const CONNECTION_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ENOTCONN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ERR_SOCKET_CLOSED',
  'ERR_STREAM_DESTROYED',
]);

/** Error classes of the MongoDB driver that mean the network, not the query, failed. */
const MONGO_CONNECTION_NAMES = new Set([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongoPoolClearedError',
  'MongoTopologyClosedError',
  'MongoNotConnectedError',
]);

/** MongoDB errors raised before any byte of the operation was written. */
const MONGO_NOT_SENT_NAMES = new Set(['MongoServerSelectionError', 'MongoPoolClearedError', 'MongoTopologyClosedError', 'MongoNotConnectedError']);

// ioredis raises "Stream isn't writeable" before writing anything. "Connection is closed" is
// also used to reject commands already written when a socket dies, so it proves nothing; so is a
// Cluster's "Cluster isn't ready": besides refusing a command that finds no node connection, a
// plain ioredis Cluster's failover retry (`retryDelayOnFailover`) rejects with it, 100 ms later, a
// command written on a connection that then closed — possibly applied
// (test/review-cluster-resend.test.ts; `redisCluster()` rejects those with `ReplyLostError`,
// "Connection is closed after the command was written…", instead: clients/cluster-replies.ts).
// A Cluster that could not route a command (a node down or restarting: CLUSTERDOWN, MOVED while
// its slot map is refreshed) retries until `maxRedirections` and then rejects with a plain
// "Too many Cluster redirections. Last error: …"; its earlier tries may include one written on a
// connection that closed, so it proves nothing was sent no more than "Connection is closed".
const REDIS_NOT_SENT = [/Stream isn't writeable/i];
const REDIS_CONNECTION = [...REDIS_NOT_SENT, /Cluster isn't ready/i, /Too many Cluster redirections/i, /Connection is closed/i, /max retries per request/i, /socket hang up/i];

function* causes(err: unknown): Generator<Record<string, unknown>> {
  let current: unknown = err;
  // A short chain: drivers wrap at most a couple of times; a cycle must not loop.
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    yield current as Record<string, unknown>;
    current = (current as { cause?: unknown }).cause;
  }
}

function nameOf(e: Record<string, unknown>): string {
  const ctorName = (e.constructor as { name?: unknown } | undefined)?.name;
  return typeof e.name === 'string' && e.name !== 'Error' ? e.name : typeof ctorName === 'string' ? ctorName : '';
}

/**
 * True when `err` (or one of its first five causes) says the connection failed rather than
 * the operation: a socket code (`ECONNRESET`, `EPIPE`, `ECONNREFUSED`, `ETIMEDOUT`, …), a
 * MongoDB network, server selection or pool error, ioredis `Connection is closed`, `Stream isn't
 * writeable`, `Cluster isn't ready` or `Too many Cluster redirections` (a Cluster node down or
 * restarting).
 * @example
 * isConnectionError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })); // true
 */
export function isConnectionError(err: unknown): boolean {
  for (const e of causes(err)) {
    if (typeof e.code === 'string' && CONNECTION_CODES.has(e.code)) return true;
    if (MONGO_CONNECTION_NAMES.has(nameOf(e))) return true;
    const message = typeof e.message === 'string' ? e.message : '';
    if (REDIS_CONNECTION.some((re) => re.test(message))) return true;
  }
  return false;
}

/**
 * True when the error proves the operation was never written to the server, so sending
 * it again cannot apply it twice: a refused connect, a client with no open connection (ioredis
 * `Stream isn't writeable`). Not a Cluster's `Cluster isn't ready`, which may follow a send.
 */
export function wasNotSent(err: unknown): boolean {
  for (const e of causes(err)) {
    if (e.code === 'ECONNREFUSED') return true;
    if (MONGO_NOT_SENT_NAMES.has(nameOf(e))) return true;
    const message = typeof e.message === 'string' ? e.message : '';
    if (REDIS_NOT_SENT.some((re) => re.test(message))) return true;
  }
  return false;
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
 * The client could not be connected or rebuilt (refused, timed out after
 * `connectTimeoutMs`). Code `CONNECTION_UNAVAILABLE`, HTTP 503, retryable: a later attempt may
 * find the server back. The driver's error is the `cause`, logged by class and code only.
 */
export class ConnectionUnavailableError extends SteadyError {
  override readonly name = 'ConnectionUnavailableError';
  /** The handle's name. */
  readonly client: string;
  constructor(client: string, cause: unknown) {
    super('CONNECTION_UNAVAILABLE', `Could not connect the ${client} client`, { status: 503, retryable: true, expose: true, cause });
    this.client = client;
  }
}

/**
 * The connection broke during an operation that is not safe to send twice (a write the
 * caller did not mark `safe`), or during its one repeat. Code `CONNECTION_LOST`, HTTP 503,
 * retryable: it is not repeated here; the whole invocation may be.
 */
export class ConnectionLostError extends SteadyError {
  override readonly name = 'ConnectionLostError';
  /** The handle's name. */
  readonly client: string;
  constructor(client: string, cause: unknown) {
    super('CONNECTION_LOST', `The ${client} connection was lost during an operation that is not safe to repeat`, {
      status: 503,
      retryable: true,
      expose: true,
      cause,
    });
    this.client = client;
  }
}

/**
 * The server is so close to its connection limit (`shedRatio`) that this instance refuses to
 * add more. Code `CONNECTION_BUDGET_EXHAUSTED`, HTTP 503, retryable, with `Retry-After` in seconds.
 */
export class ConnectionBudgetError extends SteadyError {
  override readonly name = 'ConnectionBudgetError';
  /** The handle's name. */
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
