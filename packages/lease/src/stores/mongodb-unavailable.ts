/**
 * Which errors of a MongoDB driver call mean the server could not be reached, rather than that
 * it answered: those become `LeaseStoreUnavailableError`, the rest (a duplicate key, an
 * unsupported server, an unreadable record, the caller's abort) pass through unchanged.
 */
import { connectionFailure, SteadyError, type ConnectionFailure } from '@steadyfn/handler/internal';
import { LeaseStoreUnavailableError } from '../errors.js';

/** The kinds of the shared classifier that mean "unreachable" for a MongoDB store. */
const MONGO_UNAVAILABLE: readonly ConnectionFailure[] = ['mongo-network', 'socket'];

/**
 * `error` as the store's caller should see it: a `LeaseStoreUnavailableError` (its `cause` the
 * driver's error) when the server could not be reached — a MongoDB driver network, server
 * selection or pool failure (`MongoNetworkError`, `MongoNetworkTimeoutError`,
 * `MongoServerSelectionError`, `MongoPoolClearedError`, `MongoTopologyClosedError`,
 * `MongoNotConnectedError`) or a socket code (`ECONNREFUSED`, `ECONNRESET`, …), on the error
 * or its causes; otherwise `error` itself — including any `SteadyError` (already typed) and
 * any error once the caller's `signal` has aborted.
 */
export function mongoStoreError(error: unknown, signal?: AbortSignal): unknown {
  if (signal?.aborted || error instanceof SteadyError) return error;
  return connectionFailure(error, MONGO_UNAVAILABLE) !== undefined ? new LeaseStoreUnavailableError('mongodb', error) : error;
}

/** Runs `call`, rejecting with `mongoStoreError` of whatever it throws. */
export async function typedMongoCall<T>(signal: AbortSignal | undefined, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw mongoStoreError(error, signal);
  }
}
