/**
 * Which errors of an ioredis call mean the server could not be reached or could not serve,
 * rather than that it answered: those become `LeaseStoreUnavailableError`, the rest (a Lua
 * error, a record another program wrote, an aborted call) pass through unchanged.
 */
import { SteadyError } from '@steadyfn/handler/internal';
import { LeaseStoreUnavailableError } from '../errors.js';

/** Socket error codes: the connection was refused, broke or timed out. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ENOTCONN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EAI_AGAIN', 'ERR_SOCKET_CLOSED', 'ERR_STREAM_DESTROYED']);

/** ioredis error classes that mean it gave up on the connection. */
const DRIVER_NAMES = new Set(['MaxRetriesPerRequestError', 'ClusterAllFailedError']);

/**
 * ioredis messages for a call it could not send or complete (no open connection, no ready
 * Cluster, a Cluster that could not route it), and server replies that say it cannot serve now.
 */
const UNREACHABLE = [
  /^Connection is closed/,
  /^Stream isn't writeable/,
  /^Cluster isn't ready/,
  /^Too many Cluster redirections/,
  /^None of startup nodes is available/,
  /^Cluster is ended/,
  /^Failed to refresh slots cache/,
  /^Command timed out/,
  /^(?:CLUSTERDOWN|LOADING|MASTERDOWN|TRYAGAIN) /,
];

function unreachable(error: unknown): boolean {
  let current: unknown = error;
  // Drivers wrap a couple of times at most; a cycle must not loop.
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const e = current as { name?: unknown; code?: unknown; message?: unknown; cause?: unknown };
    if (typeof e.code === 'string' && SOCKET_CODES.has(e.code)) return true;
    if (typeof e.name === 'string' && DRIVER_NAMES.has(e.name)) return true;
    if (typeof e.message === 'string' && UNREACHABLE.some((re) => re.test(e.message as string))) return true;
    current = e.cause;
  }
  return false;
}

/**
 * `error` as the store's caller should see it: a `LeaseStoreUnavailableError` (its `cause` the
 * driver's error) when the Redis server could not be reached or could not serve; otherwise
 * `error` itself — including any `SteadyError` (already typed: e.g. a connection getter's
 * `CONNECTION_UNAVAILABLE`, a deadline).
 */
export function redisStoreError(error: unknown): unknown {
  return !(error instanceof SteadyError) && unreachable(error) ? new LeaseStoreUnavailableError('redis', error) : error;
}
