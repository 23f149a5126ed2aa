/**
 * Typed errors of `@steadyfn/backup`. Every failure a caller can act on has its own stable
 * `code`; messages name the backup, object or option at fault but never a document, a key's
 * value or a secret. Option mistakes are the handler's `ConfigurationError` (`CONFIG_INVALID`).
 */
// The package entry (index.ts) exports the error classes by name, not this module's helpers.
// From the internal entry: the root entry would load every provider adapter.
import { SteadyError, errorFacts } from '@steadyfn/handler/internal';
import { LeaseStoreUnavailableError } from '@steadyfn/lease';
import { statusOf } from './s3/client.js';
import { StorageError } from './errors-backup.js';
import { SourceReadError, SourceRefusedError } from './errors-source.js';
import { RestoreTargetRefusedError, RestoreTargetUnavailableError } from './errors-restore.js';

export { ConfigurationError } from '@steadyfn/handler/internal';
export * from './error-base.js';
export * from './errors-backup.js';
export * from './errors-source.js';
export * from './errors-restore.js';

/** A short, payload-free description of a driver or SDK error for logs: class, code and HTTP status, never the message. */
export function describeError(error: unknown): string {
  if (error instanceof SteadyError) return `${error.name} ${error.code}`;
  const facts = errorFacts(error);
  const status = statusOf(error);
  return [facts.cause, facts.causeCode === undefined ? '' : String(facts.causeCode), status === undefined ? '' : `HTTP ${String(status)}`].filter(Boolean).join(' ');
}

/**
 * Runs a public call; an AWS SDK error (it carries `$metadata`) that escaped as is becomes a
 * `StorageError` (class and HTTP status only: the SDK's message may carry request details)
 * naming `bucket` (see `storageErrorOf`). Typed errors, other errors and a call the signal ended
 * pass unchanged.
 */
export async function withStorageErrors<T>(what: string, work: () => Promise<T>, signal?: AbortSignal, bucket?: unknown): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw signal?.aborted ? error : storageErrorOf(error, what, bucket);
  }
}

/**
 * `error` as a `StorageError` when it is an AWS SDK error (see `withStorageErrors`), else
 * unchanged. `bucket`: the bucket the call addressed, as the caller's option gave it (a call
 * may fail before checking its options): when a string, the error names it (message and `bucket`).
 */
export function storageErrorOf(error: unknown, what: string, bucket?: unknown): unknown {
  if (error instanceof SteadyError || error === null || typeof error !== 'object' || !('$metadata' in error)) return error;
  if (typeof bucket !== 'string') return new StorageError(`${what} failed (${describeError(error)})`, error);
  return new StorageError(`${what} failed on bucket "${bucket}" (${describeError(error)})`, error, { bucket });
}

/** MongoDB codes of a refusal a retry does not change: Unauthorized, AuthenticationFailed. */
const MONGO_REFUSED_CODES = new Set([13, 18]);
/**
 * MongoDB server codes that pass (the driver's retryable set: host unreachable or not found,
 * network timeout, shutdown, step-down, not primary, time limit, socket exception).
 */
const MONGO_TRANSIENT_CODES = new Set([6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436]);
/** Redis reply prefixes of the same: a bad password or user, no AUTH given, an ACL denial. */
const REDIS_REFUSED = /^(?:WRONGPASS|NOAUTH|NOPERM)\b/;

/**
 * The code of an authentication or permission refusal a retry does not change (MongoDB code 13
 * or 18; the first word of a Redis `WRONGPASS`/`NOAUTH`/`NOPERM` reply), else undefined.
 */
function credentialRefusal(error: unknown): string | undefined {
  const e = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof e.code === 'number' && MONGO_REFUSED_CODES.has(e.code)) return String(e.code);
  return typeof e.message === 'string' ? REDIS_REFUSED.exec(e.message)?.[0] : undefined;
}

/**
 * A failure reading a source as a typed error: an authentication or permission refusal is a
 * terminal `SourceRefusedError`, anything else a retryable `SourceReadError` (class and code only).
 */
export function sourceErrorOf(error: unknown, what: string): SourceReadError | SourceRefusedError {
  const described = describeError(error) || 'an error';
  const refusal = credentialRefusal(error);
  if (refusal === undefined) return new SourceReadError(`${what} failed (${described})`, error);
  // Redis reply errors have no code: the reply's first word is its code, never the rest.
  const facts = described.includes(refusal) ? described : `${described} ${refusal}`;
  return new SourceRefusedError(`${what} failed: the source refused the credentials (${facts}); fix them or the user's permissions`, error);
}

/**
 * A driver error met before the target was written to, as a typed error: an answer the server
 * gave on purpose (authentication, permissions, another command error) is a
 * `RestoreTargetRefusedError`; anything else (refused connection, no server selected, a
 * timeout, a closed connection) a `RestoreTargetUnavailableError`. Typed errors pass unchanged.
 */
export function targetErrorOf(error: unknown, what: string): unknown {
  // The restore lock is a lease in the target (@steadyfn/lease): an unreachable target reaches us
  // as the lease store's LEASE_STORE_UNAVAILABLE, which backup does not export. It is the target's
  // unavailability (what MongoDB gives), its driver error kept as the cause for logs.
  if (error instanceof LeaseStoreUnavailableError) {
    const inner = error.cause ?? error;
    return new RestoreTargetUnavailableError(`${what}: the target could not be reached (${describeError(inner) || 'an error'}); nothing was written`, inner);
  }
  if (error instanceof SteadyError) return error;
  const e = (error ?? {}) as { name?: unknown; code?: unknown; message?: unknown; hasErrorLabel?: (label: string) => boolean };
  const label = (name: string): boolean => typeof e.hasErrorLabel === 'function' && e.hasErrorLabel(name);
  // A credential refusal (the same test as a source's), or any other answer the server gave on purpose.
  const refused =
    credentialRefusal(error) !== undefined ||
    (e.name === 'MongoServerError' && !label('RetryableWriteError') && !label('ResetPool') && !(typeof e.code === 'number' && MONGO_TRANSIENT_CODES.has(e.code))) ||
    (e.name === 'ReplyError' && typeof e.message === 'string' && !/^(?:LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN)\b/.test(e.message));
  const described = describeError(error) || 'an error';
  // Redis reply errors have no code: the reply's first word (e.g. WRONGPASS) is its code, never the rest.
  const replyCode = e.name === 'ReplyError' && typeof e.message === 'string' ? /^[A-Z]+\b/.exec(e.message)?.[0] : undefined;
  const facts = replyCode ? `${described} ${replyCode}` : described;
  return refused
    ? new RestoreTargetRefusedError(`${what}: the target refused it (${facts}); nothing was written`, error)
    : new RestoreTargetUnavailableError(`${what}: the target could not be reached (${facts}); nothing was written`, error);
}

/** Driver errors of a target that could not be reached (MongoDB: no connection, no server selected, a network timeout, a closed client). */
const UNREACHABLE_NAMES = /^Mongo(?:Network|NetworkTimeout|ServerSelection|TopologyClosed|PoolClosed)Error$/;

/**
 * Whether a restore failed because its target could not be reached: a
 * `RestoreTargetUnavailableError`, or a typed error (e.g. `RestoreApplyError`) whose cause is a
 * MongoDB driver error of no connection, no server selected, a network timeout or a closed
 * client. Any other error (a refusal, a server's answer, a Redis error) is false.
 */
export function targetUnreachable(error: unknown): boolean {
  for (let e = error, depth = 0; e !== null && typeof e === 'object' && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof RestoreTargetUnavailableError) return true;
    if (!(e instanceof SteadyError)) return typeof (e as { name?: unknown }).name === 'string' && UNREACHABLE_NAMES.test((e as { name: string }).name);
  }
  return false;
}

/** Runs target work that comes before any write; driver errors become `targetErrorOf`'s typed errors (a call the signal ended passes unchanged). */
export async function beforeWriting<T>(what: string, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw signal?.aborted ? error : targetErrorOf(error, what);
  }
}
