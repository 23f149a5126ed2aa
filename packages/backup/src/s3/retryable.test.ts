/** retryable.ts — which S3 failures keep a snapshot's upload for the next run (pure classification; the real servers' runs are in test/snapshot-upload-failure.test.ts). */
import { S3ServiceException } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { FencedError, SourceReadError } from '../errors.js';
import { isRetryableS3Failure } from './retryable.js';

/** An S3 error as the SDK throws it once its retries are spent. */
function s3Error(name: string, status: number): Error {
  return new S3ServiceException({ name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status }, message: name });
}
const network = (code: string) => Object.assign(new Error(`socket: ${code}`), { code });

describe('isRetryableS3Failure', () => {
  it.each([
    ['SlowDown (503)', s3Error('SlowDown', 503)],
    ['InternalError (500)', s3Error('InternalError', 500)],
    ['ServiceUnavailable (503)', s3Error('ServiceUnavailable', 503)],
    ['429', s3Error('TooManyRequests', 429)],
    ['RequestTimeout (400)', s3Error('RequestTimeout', 400)],
    ['a reset connection', network('ECONNRESET')],
    ['a timed-out connection', network('ETIMEDOUT')],
  ])('%s is retryable', (_what, error) => {
    expect(isRetryableS3Failure(error)).toBe(true);
  });

  it.each([
    ['AccessDenied (403)', s3Error('AccessDenied', 403)],
    ['NoSuchBucket (404)', s3Error('NoSuchBucket', 404)],
    ['NoSuchUpload (404)', s3Error('NoSuchUpload', 404)],
    ['BadDigest (400)', s3Error('BadDigest', 400)],
    ['InvalidPart (400)', s3Error('InvalidPart', 400)],
    ['an answer we could not use', new Error('UploadPart returned no ETag')],
    ['the signal aborting a call', Object.assign(new Error('aborted'), { name: 'AbortError' })],
    ['our own refusal', new FencedError('replaced by another runner')],
    ['the source failing on a reset connection', new SourceReadError('reading items failed', network('ECONNRESET'))],
    ['not an error', 'SlowDown'],
  ])('%s is terminal', (_what, error) => {
    expect(isRetryableS3Failure(error)).toBe(false);
  });
});
