/**
 * Which errors of an ioredis call mean the server could not be reached or could not serve,
 * rather than that it answered: those become `LeaseStoreUnavailableError`, the rest (a Lua
 * error, a record another program wrote, an aborted call) pass through unchanged.
 */
import { connectionFailure, SteadyError } from '@steadyfn/handler/internal';
import { LeaseStoreUnavailableError } from '../errors.js';

/**
 * `error` as the store's caller should see it: a `LeaseStoreUnavailableError` (its `cause` the
 * driver's error) when the Redis server could not be reached or could not serve — any kind of
 * the shared classifier (`connectionFailure` in `@steadyfn/handler/internal`): a socket code,
 * ioredis' closed or unwritable connection, `MaxRetriesPerRequestError`, a Cluster not ready,
 * out of redirections or with no reachable node, `Command timed out`, or a `CLUSTERDOWN`,
 * `LOADING`, `MASTERDOWN` or `TRYAGAIN` reply; otherwise
 * `error` itself — including any `SteadyError` (already typed: e.g. a connection getter's
 * `CONNECTION_UNAVAILABLE`, a deadline).
 */
export function redisStoreError(error: unknown): unknown {
  return !(error instanceof SteadyError) && connectionFailure(error) !== undefined ? new LeaseStoreUnavailableError('redis', error) : error;
}
