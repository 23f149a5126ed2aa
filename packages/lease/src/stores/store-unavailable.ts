/**
 * Which errors of a MongoDB or S3 driver call mean the server could not be reached, rather than
 * that it answered: those become `LeaseStoreUnavailableError`, the rest (a duplicate key, a
 * conditional-write conflict, an unsupported server, an unreadable record, the caller's abort)
 * pass through unchanged. (The Redis store's rule: `redis-unavailable.ts`.)
 */
import { abortReasonOf, connectionFailure, errorChain, errorName, SteadyError, type ConnectionFailure } from '@steadyfn/handler/internal';
import { LeaseStoreUnavailableError } from '../errors.js';
import type { CallOptions, LeaseStore } from '../types.js';

/** The kinds of the shared classifier (`connectionFailure`) that mean "unreachable", per store. */
const UNREACHABLE: Record<'mongodb' | 's3', readonly ConnectionFailure[]> = {
  // A driver network, server selection or pool failure (`MongoNetworkError`, `MongoNetworkTimeoutError`,
  // `MongoServerSelectionError`, `MongoPoolClearedError`, `MongoTopologyClosedError`, `MongoNotConnectedError`), a socket code,
  // or a server reply that it cannot serve now (`NotWritablePrimary`, `PrimarySteppedDown`, `ShutdownInProgress`,
  // `InterruptedDueToReplStateChange`, …: a replica-set election or a restart), as a Redis `LOADING` or `MASTERDOWN` is for the Redis store.
  mongodb: ['mongo-network', 'socket', 'mongo-busy'],
  // A socket code of the SDK's HTTP handler (`ECONNREFUSED`, `ECONNRESET`, …) or `socket hang up`.
  // (Its connect and socket-inactivity timeouts carry no code: see `timedOut`.)
  s3: ['socket'],
};

/**
 * A timeout with no socket code: `@smithy/node-http-handler` rejects its `connectionTimeout`
 * and `socketTimeout` (no byte for that long) with an error named `TimeoutError`, and the S3
 * store's probe bound (`s3-probe.ts`) with `AbortSignal.timeout`'s `TimeoutError` — both mean
 * the endpoint did not answer.
 */
function timedOut(error: unknown): boolean {
  for (const e of errorChain(error)) if (e.name === 'TimeoutError') return true;
  return false;
}

/**
 * The labels with which the MongoDB driver's `withTransaction` runs its callback or commit again
 * (mongodb `sessions.js`): only on a `MongoError` carrying one — so an error inside a transaction
 * (an election, a lost connection: the server or driver labels them) must reach it as it is.
 */
const TRANSACTION_RETRY_LABELS = ['TransientTransactionError', 'UnknownTransactionCommitResult'];

/** `error` or one of its first causes carries a label with which `withTransaction` retries. */
function retriedByTransaction(error: unknown): boolean {
  for (const e of errorChain(error)) {
    const has = e.hasErrorLabel;
    if (typeof has === 'function' && TRANSACTION_RETRY_LABELS.some((label) => (has as (l: string) => unknown).call(e, label) === true)) return true;
  }
  return false;
}

/**
 * `error` as the caller of a `store` store should see it: a `LeaseStoreUnavailableError` (its
 * `cause` the driver's error) when the error or one of its causes is of that store's
 * unreachable kinds (for S3, also an HTTP handler's `TimeoutError`); for S3 once the caller's
 * `signal` has aborted, the signal's reason (not the SDK's own `AbortError`); otherwise `error`
 * itself — any error once the signal has aborted (MongoDB) — including any `SteadyError` (already typed) and a MongoDB error labelled
 * `TransientTransactionError` or `UnknownTransactionCommitResult` (a call in a transaction: the
 * driver's `withTransaction` retries only on the driver's own error with that label).
 */
export function storeError(store: 'mongodb' | 's3', error: unknown, signal?: AbortSignal): unknown {
  if (error instanceof SteadyError) return error;
  // The SDK rejects a request aborted mid-flight with its own `AbortError: Request aborted`;
  // the MongoDB store races its signal (`raceSignal`), so its errors after an abort are the reason already.
  if (signal?.aborted) return store === 's3' ? abortReasonOf(signal) : error;
  if (store === 'mongodb' && retriedByTransaction(error)) return error;
  const unreachable = store === 'mongodb' ? unreachableMongo(error) : connectionFailure(error, UNREACHABLE.s3) !== undefined || timedOut(error);
  return unreachable ? new LeaseStoreUnavailableError(store, error) : error;
}

/**
 * The MongoDB driver could not reach the server: `error` or one of its causes is of the
 * unreachable kinds, or it is a `MongoBulkWriteError` the driver wrapped around such an error
 * (it keeps the network error as `errorResponse`, not as `cause`, and lists no write errors).
 */
export function unreachableMongo(error: unknown): boolean {
  if (connectionFailure(error, UNREACHABLE.mongodb) !== undefined) return true;
  const wrapped = (error as { errorResponse?: unknown } | null)?.errorResponse;
  return wrapped instanceof Error && connectionFailure(wrapped, UNREACHABLE.mongodb) !== undefined;
}

/** Runs `call`, rejecting with `storeError(store, …)` of whatever it throws. */
export async function typedCall<T>(store: 'mongodb' | 's3', signal: AbortSignal | undefined, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw storeError(store, error, signal);
  }
}

/**
 * The six operations of `store`, each rejecting with `storeError(name, …)`: what the MongoDB and
 * S3 stores hand out (each adds its own extra calls, wrapped with `typedCall`).
 */
export function typedOperations<Options extends CallOptions>(name: 'mongodb' | 's3', store: LeaseStore<Options>): LeaseStore<Options> {
  return {
    claim: (request, callOptions) => typedCall(name, callOptions?.signal, () => store.claim(request, callOptions)),
    claimMany: (requests, callOptions) => typedCall(name, callOptions?.signal, () => store.claimMany(requests, callOptions)),
    settle: (request, callOptions) => typedCall(name, callOptions?.signal, () => store.settle(request, callOptions)),
    settleMany: (requests, callOptions) => typedCall(name, callOptions?.signal, () => store.settleMany(requests, callOptions)),
    renew: (request, callOptions) => typedCall(name, callOptions?.signal, () => store.renew(request, callOptions)),
    get: (key, callOptions) => typedCall(name, callOptions?.signal, () => store.get(key, callOptions)),
  };
}

/**
 * A network failure of a claim that sent no insert, worth one more try (`claimBatch`): the
 * driver's network errors (`mongo-network`, a socket code), but not a server selection that timed
 * out — the server was not found for that long, and a second wait would only double the first.
 */
export function resendable(error: unknown): boolean {
  if (connectionFailure(error, ['mongo-network', 'socket']) === undefined) return false;
  for (const e of errorChain(error)) if (errorName(e) === 'MongoServerSelectionError') return false;
  return true;
}
