/**
 * One classifier for "this driver error is about the connection or the server's availability,
 * not about the operation": socket codes, MongoDB network classes, ioredis' messages and
 * classes, and Redis replies that say the server cannot serve now. Each package decides which
 * kinds count for it (`@steadyfn/connections` retries or types a lost connection;
 * `@steadyfn/lease` types an unreachable store). And `wasNotSent`: which of them prove the
 * operation was never written (`@steadyfn/connections` may then send a write again;
 * `@steadyfn/lease` skips giving back a claim that cannot have been applied).
 */

/** Why an error counts as a connection failure. */
export type ConnectionFailure =
  /** A socket error code (`ECONNRESET`, `ECONNREFUSED`, `ETIMEDOUT`, …) or Node's `socket hang up`. */
  | 'socket'
  /** A MongoDB driver class for a network, server selection or pool failure. */
  | 'mongo-network'
  /** ioredis: a closed or unwritable connection, a Cluster not ready or out of redirections, retries per request spent. */
  | 'redis-connection'
  /** ioredis Cluster: none of its nodes could be reached (`ClusterAllFailedError`, no startup node), or it was ended. */
  | 'redis-cluster-down'
  /** ioredis `commandTimeout`: no answer in time. */
  | 'redis-timeout'
  /** A Redis reply that the server cannot serve now: `CLUSTERDOWN`, `LOADING`, `MASTERDOWN`, `TRYAGAIN`. */
  | 'redis-busy'
  /**
   * A MongoDB server reply that it cannot serve now: not (or no longer) the primary, shutting
   * down, interrupted by a replica-set state change, or a shard it could not reach (the
   * retryable-reads / retryable-writes specifications' codes), or any error the server or driver
   * labelled `RetryableWriteError`.
   */
  | 'mongo-busy';

/** Every kind, in the order `connectionFailure` checks them. */
export const CONNECTION_FAILURES: readonly ConnectionFailure[] = ['socket', 'mongo-network', 'redis-connection', 'redis-cluster-down', 'redis-timeout', 'redis-busy', 'mongo-busy'];

/** Socket-level error codes: the connection broke, was refused or timed out. */
const SOCKET_CODES = new Set([
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

/**
 * Error classes (their `name`) the MongoDB driver raises for a connection that failed under an
 * operation or could not be made: a reset or closed socket, a socket timeout, no server
 * selectable, a pool cleared by a network error (`MongoPoolClearedError`) or after the server's
 * monitor timed out (`PoolClearedOnNetworkError`, mongodb 6.x/7.x `lib/cmap/errors.js`). Not the
 * closed-client errors (see `MONGO_NETWORK_NAMES`).
 */
export const MONGO_DRIVER_NETWORK_NAMES: ReadonlySet<string> = new Set([
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoServerSelectionError',
  'MongoPoolClearedError',
  'PoolClearedOnNetworkError',
]);

/** Error classes of the MongoDB driver that mean the network, not the query, failed: the above, and a closed client's. */
const MONGO_NETWORK_NAMES: ReadonlySet<string> = new Set([...MONGO_DRIVER_NETWORK_NAMES, 'MongoTopologyClosedError', 'MongoNotConnectedError']);

/**
 * MongoDB server error codes that say the server cannot serve now, not that the operation is
 * wrong: HostUnreachable 6, HostNotFound 7, NetworkTimeout 89, ShutdownInProgress 91,
 * PrimarySteppedDown 189, SocketException 9001, LegacyNotPrimary 10058, NotWritablePrimary 10107,
 * InterruptedAtShutdown 11600, InterruptedDueToReplStateChange 11602, NotPrimaryNoSecondaryOk
 * 13435, NotPrimaryOrSecondary 13436 — the retryable-writes specification's retryable codes
 * (github.com/mongodb/specifications, source/retryable-writes) and the SDAM "not writable
 * primary" / "node is recovering" codes, but not its ExceededTimeLimit 262 and
 * ReadConcernMajorityNotAvailableYet 134, which are about a time limit or a read concern more than
 * the server's availability. Never a duplicate key, a validation failure or a write conflict.
 * (The driver puts a write concern error's code on the error itself: `MongoWriteConcernError`,
 * `MongoBulkWriteError`.)
 */
const MONGO_BUSY_CODES = new Set([6, 7, 89, 91, 189, 9001, 10058, 10107, 11600, 11602, 13435, 13436]);

/** A MongoDB driver error (its class name starts with `Mongo`) with a busy code or a `RetryableWriteError` label. */
function isMongoBusy(e: Record<string, unknown>): boolean {
  if (!errorName(e).startsWith('Mongo')) return false;
  if (typeof e.code === 'number' && MONGO_BUSY_CODES.has(e.code)) return true;
  const hasLabel = e.hasErrorLabel;
  return typeof hasLabel === 'function' && (hasLabel as (label: string) => boolean).call(e, 'RetryableWriteError') === true;
}

/** What each kind matches: error class names and message patterns. */
const MATCHERS: Record<Exclude<ConnectionFailure, 'socket' | 'mongo-network' | 'mongo-busy'>, { names: ReadonlySet<string>; messages: readonly RegExp[] }> = {
  'redis-connection': {
    names: new Set(['MaxRetriesPerRequestError']),
    messages: [/Stream isn't writeable/i, /Cluster isn't ready/i, /Too many Cluster redirections/i, /Connection is closed/i, /max retries per request/i],
  },
  'redis-cluster-down': {
    names: new Set(['ClusterAllFailedError']),
    messages: [/^None of startup nodes is available/, /^Cluster is ended/, /^Failed to refresh slots cache/],
  },
  'redis-timeout': { names: new Set(), messages: [/^Command timed out/] },
  // A reply's message starts with its error code; anywhere else the word may be data.
  'redis-busy': { names: new Set(), messages: [/^(?:CLUSTERDOWN|LOADING|MASTERDOWN|TRYAGAIN) /] },
};

/**
 * `err` and its causes, at most five: drivers wrap a couple of times at most, and a cycle must
 * not loop. Only objects are yielded.
 */
export function* errorChain(err: unknown): Generator<Record<string, unknown>> {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    yield current as Record<string, unknown>;
    current = (current as { cause?: unknown }).cause;
  }
}

/** The error's class name: its `name`, or its constructor's name when `name` is the generic `Error`. */
export function errorName(e: Record<string, unknown>): string {
  const ctorName = (e.constructor as { name?: unknown } | undefined)?.name;
  return typeof e.name === 'string' && e.name !== 'Error' ? e.name : typeof ctorName === 'string' ? ctorName : '';
}

function isKind(e: Record<string, unknown>, kind: ConnectionFailure): boolean {
  const message = typeof e.message === 'string' ? e.message : '';
  if (kind === 'socket') return (typeof e.code === 'string' && SOCKET_CODES.has(e.code)) || /socket hang up/i.test(message);
  if (kind === 'mongo-network') return MONGO_NETWORK_NAMES.has(errorName(e));
  if (kind === 'mongo-busy') return isMongoBusy(e);
  const { names, messages } = MATCHERS[kind];
  return names.has(errorName(e)) || messages.some((re) => re.test(message));
}

/**
 * Which connection failure `err` (or one of its first five causes) is, among `kinds`: the
 * first of `kinds` found on the nearest error of the chain that has one; `undefined` when none
 * is (an application error, a reply such as `WRONGTYPE`, `NOSCRIPT` or a duplicate key).
 * @param kinds the kinds that count for the caller. @default every kind (`CONNECTION_FAILURES`)
 * @example
 * connectionFailure(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })); // 'socket'
 * connectionFailure(new Error('LOADING Redis is loading the dataset in memory'), ['socket']); // undefined
 */
export function connectionFailure(err: unknown, kinds: readonly ConnectionFailure[] = CONNECTION_FAILURES): ConnectionFailure | undefined {
  for (const e of errorChain(err)) {
    for (const kind of kinds) if (isKind(e, kind)) return kind;
  }
  return undefined;
}

/** MongoDB errors raised before any byte of the operation was written. */
const MONGO_NOT_SENT_NAMES = new Set(['MongoServerSelectionError', 'MongoPoolClearedError', 'MongoTopologyClosedError', 'MongoNotConnectedError']);

// ioredis raises "Stream isn't writeable" before writing anything. "Connection is closed" is
// also used to reject commands already written when a socket dies, so it proves nothing; so is a
// Cluster's "Cluster isn't ready": besides refusing a command that finds no node connection, a
// plain ioredis Cluster's failover retry (`retryDelayOnFailover`) rejects with it, 100 ms later, a
// command written on a connection that then closed — possibly applied
// (packages/connections/test/review-cluster-resend.test.ts; `redisCluster()` rejects those with
// `ReplyLostError` instead: packages/connections/src/clients/cluster-replies.ts).
// A Cluster that could not route a command (a node down or restarting: CLUSTERDOWN, MOVED while
// its slot map is refreshed) retries until `maxRedirections` and then rejects with a plain
// "Too many Cluster redirections. Last error: …"; its earlier tries may include one written on a
// connection that closed, so it proves nothing was sent no more than "Connection is closed".
// `MaxRetriesPerRequestError` neither: ioredis flushes with it the commands written on a
// connection that closed as well as those still waiting in its offline queue.
const REDIS_NOT_SENT = [/Stream isn't writeable/i];

/**
 * True when the error proves the operation was never written to the server, so sending
 * it again cannot apply it twice: a refused connect, a client with no open connection (ioredis
 * `Stream isn't writeable`). Not a Cluster's `Cluster isn't ready` or `Cluster is ended.`, which
 * may follow a send, nor `Command timed out`: the command was written, and may have been applied.
 * (`redisCluster()` of `@steadyfn/connections` counts `Cluster isn't ready` and `Cluster is ended.`
 * too: its written commands never reach ioredis' failover retry — `clusterNotReadyUnsent`.)
 * A MongoDB error proves it only where the driver does not retry writes (a standalone, or
 * `retryWrites=false`): on a replica set or sharded cluster the driver (mongodb 7) throws its
 * retry's error — a server selection timeout, a cleared pool — after a first attempt that may have
 * been applied; `mongo()` then counts no error as proof. Looks at `err` and its first causes.
 * @example
 * wasNotSent(new Error("Stream isn't writeable and enableOfflineQueue options is false")); // true
 * wasNotSent(new Error('Connection is closed.')); // false
 */
export function wasNotSent(err: unknown): boolean {
  for (const e of errorChain(err)) {
    if (e.code === 'ECONNREFUSED') return true;
    if (MONGO_NOT_SENT_NAMES.has(errorName(e))) return true;
    const message = typeof e.message === 'string' ? e.message : '';
    if (REDIS_NOT_SENT.some((re) => re.test(message))) return true;
  }
  return false;
}
