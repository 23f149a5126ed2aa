/**
 * Which S3 failures a later invocation may not meet again, as the AWS SDK's own retry strategy
 * reads them (`@smithy/core/retry`): throttling (`SlowDown`, 429), a transient failure (5xx
 * 500/502/503/504, `RequestTimeout`, a reset or refused connection, a timeout) or another 5xx.
 * Such a failure reaches us only once the SDK's own attempts are spent. Everything else is
 * terminal: a refusal (`AccessDenied`, `NoSuchBucket`, `NoSuchUpload`), a checksum the server
 * rejects (`BadDigest`, `InvalidPart`), an answer we could not use, our own typed errors.
 */
import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import { BackupError } from '../errors.js';

/**
 * True for an S3 call's failure that is worth retrying in a later invocation (see the file
 * comment); false for a terminal one, for our own `BackupError`s and for anything not an object.
 */
export function isRetryableS3Failure(error: unknown): boolean {
  if (typeof error !== 'object' || error === null || error instanceof BackupError) return false;
  const sdk = error as Parameters<typeof isTransientError>[0];
  return isThrottlingError(sdk) || isTransientError(sdk) || isServerError(sdk);
}
