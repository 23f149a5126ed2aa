/**
 * Which S3 failures a later invocation may not meet again, as the AWS SDK's own retry strategy
 * reads them (`@smithy/core/retry`): throttling (`SlowDown`, 429), a transient failure (5xx
 * 500/502/503/504, `RequestTimeout`, a reset or refused connection, a timeout) or another 5xx.
 * Such a failure reaches us only once the SDK's own attempts are spent. Everything else is
 * terminal: a refusal (`AccessDenied`, `NoSuchBucket`, `NoSuchUpload`), a checksum the server
 * rejects (`BadDigest`, `InvalidPart`), an answer we could not use, our own typed errors.
 */
import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import { SteadyError } from '@steadyfn/handler/internal';
import { BackupError } from '../error-base.js';
import { isConditionalConflict } from '@steadyfn/lease/internal-s3';

/**
 * True for an S3 call's failure that is worth retrying in a later invocation (see the file
 * comment); false for a terminal one, for our own `BackupError`s and for anything not an object.
 */
export function isRetryableS3Failure(error: unknown): boolean {
  if (typeof error !== 'object' || error === null || error instanceof BackupError) return false;
  const sdk = error as Parameters<typeof isTransientError>[0];
  return isThrottlingError(sdk) || isTransientError(sdk) || isServerError(sdk);
}

/**
 * The AWS SDK error's own facts: its `name` (S3's error code, e.g. `AccessDenied`,
 * `NoSuchBucket`, `SlowDown`) and HTTP status (`$metadata.httpStatusCode`), when `error` is one
 * (it carries `$metadata`); `undefined` for anything else. Never the message (it may carry
 * request details) nor any other field (an `InvalidAccessKeyId` error carries the key id).
 */
export function s3ErrorFacts(error: unknown): { name: string; status?: number } | undefined {
  if (typeof error !== 'object' || error === null || !('$metadata' in error)) return undefined;
  const e = error as { name?: unknown; $metadata?: { httpStatusCode?: unknown } };
  const status = e.$metadata?.httpStatusCode;
  return { name: typeof e.name === 'string' ? e.name : 'Error', ...(typeof status === 'number' ? { status } : {}) };
}

/**
 * For a message: `''` when a storage failure caused by `error` is retryable (see
 * `isRetryableS3Failure`; a typed cause by its own `retryable`), else why it is not and what to
 * check — S3 refused the request, or gave an answer we could not use.
 */
export function terminalAdvice(error: unknown): string {
  if (isRetryableStorageFailure(error)) return '';
  const why = s3ErrorFacts(error) === undefined ? 'S3 gave an answer the job cannot use' : 'S3 refused the request';
  return `; not retryable: ${why}, and a retry as is meets the same (check the bucket, its permissions and the credentials)`;
}

/**
 * Whether a storage failure caused by `cause` is worth retrying (`StorageError`'s `retryable`):
 * an S3 failure as `isRetryableS3Failure` reads it or a 409 ConditionalRequestConflict, a typed
 * cause by its own `retryable`, and
 * no cause at all (a contention the thrower met) is.
 */
export function isRetryableStorageFailure(cause: unknown): boolean {
  if (cause === undefined) return true;
  if (cause instanceof SteadyError) return cause.retryable;
  // S3 documents its 409 ConditionalRequestConflict (a concurrent conditional write) as one to
  // retry; the SDK's classifier does not count a 409 as transient.
  if (isConditionalConflict(cause)) return true;
  return isRetryableS3Failure(cause);
}
