/** retryable.ts — which S3 failures keep a snapshot's upload for the next run (pure classification; the real servers' runs are in test/snapshot-upload-failure.test.ts). */
import { S3ServiceException } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { FencedError, LeaseHeldError, SourceReadError, StorageError } from '../errors.js';
import { isRetryableS3Failure, s3ErrorFacts, terminalAdvice } from './retryable.js';

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

describe('StorageError', () => {
  it.each([
    ['SlowDown (503)', true, s3Error('SlowDown', 503)],
    ['a reset connection', true, network('ECONNRESET')],
    ['a retryable typed cause', true, new LeaseHeldError('held')],
    ['no cause (a contention the thrower met)', true, undefined],
    ['ConditionalRequestConflict (409), its retries spent', true, s3Error('ConditionalRequestConflict', 409)],
    ['AccessDenied (403)', false, s3Error('AccessDenied', 403)],
    ['InvalidAccessKeyId (403)', false, s3Error('InvalidAccessKeyId', 403)],
    ['SignatureDoesNotMatch (403)', false, s3Error('SignatureDoesNotMatch', 403)],
    ['NoSuchBucket (404)', false, s3Error('NoSuchBucket', 404)],
    ['an answer we could not use', false, new Error('UploadPart returned no ETag')],
  ])('caused by %s: retryable %s', (_what, retryable, cause) => {
    const error = new StorageError('m', cause, { bucket: 'b' });
    expect(error).toMatchObject({ code: 'BACKUP_STORAGE_FAILED', retryable, status: retryable ? 503 : 500, bucket: 'b' });
    expect(terminalAdvice(cause) === '').toBe(retryable);
  });

  it('keeps the SDK error\'s name and status, nothing else of it', () => {
    const cause = Object.assign(s3Error('InvalidAccessKeyId', 403), { AWSAccessKeyId: 'AKIASECRET' });
    expect(s3ErrorFacts(cause)).toEqual({ name: 'InvalidAccessKeyId', status: 403 });
    expect(new StorageError('m', cause)).toMatchObject({ s3Error: 'InvalidAccessKeyId', httpStatus: 403 });
    expect(s3ErrorFacts(network('ECONNRESET'))).toBeUndefined();
  });
});
