/**
 * "The object is not there" versus "the bucket is not there". S3 answers both with a 404, and
 * the shared `isNotFound` (@steadyfn/lease/internal-s3) reads both as an absent object: a bucket
 * deleted or misspelt would read as "no checkpoint", "no backup", "already gone" and send a run
 * down the path of a fresh start. Here a missing bucket is the permanent `StorageError` naming it.
 */
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { isNotFound, statusOf } from '@steadyfn/lease/internal-s3';
import { StorageError } from '../errors-backup.js';
import type { S3Location } from './client.js';

/** S3's `NoSuchBucket` error code: the bucket a request addressed does not exist. */
export function isNoSuchBucket(error: unknown): boolean {
  return (error as Error | null)?.name === 'NoSuchBucket';
}

/** The permanent (`retryable: false`) `StorageError` for `loc.bucket` not existing, with `bucket` set. */
export function noSuchBucket(loc: Pick<S3Location, 'bucket'>, cause: unknown): StorageError {
  return new StorageError(
    `the S3 bucket "${loc.bucket}" does not exist (NoSuchBucket, HTTP 404); not retryable: it was deleted or its name is misspelt — create it or fix the bucket option`,
    cause,
    { bucket: loc.bucket },
  );
}

/**
 * For the `catch` of a request whose error answer has a body (every request but a HEAD): true
 * when `error` says the object or multipart upload is absent (`isNotFound`).
 *
 * @throws StorageError (`noSuchBucket`, not retryable) when `error` is S3's `NoSuchBucket`
 */
export function objectAbsent(loc: Pick<S3Location, 'bucket'>, error: unknown): boolean {
  if (isNoSuchBucket(error)) throw noSuchBucket(loc, error);
  return isNotFound(error);
}

/**
 * Locations whose bucket `HeadBucket` found (200; 403 for a principal without `s3:ListBucket`:
 * the bucket exists): not asked again. Keyed by the `S3Location` object, which each run builds
 * once (`{ ...given, client }` after the probe): a sweep or a restore meeting many absent objects
 * pays one `HeadBucket`, not one per object, and the next run asks again. A bucket deleted after
 * it was confirmed still surfaces within the run: a later write or listing (or any request but a
 * HEAD) names it in its own answer (`NoSuchBucket`).
 */
const confirmed = new WeakSet<S3Location>();

/**
 * After a HEAD's 404: a HEAD answer has no body, so its 404 (`NotFound`) is the same for a
 * missing object and a missing bucket. Asks `HeadBucket` once per `loc` (see `confirmed`);
 * resolves when the bucket answers anything but a 404 (200; 403 for a principal without
 * `s3:ListBucket`; a network failure or a 5xx, which confirms nothing and is asked again next
 * time): the HEAD's 404 then stands for the object.
 *
 * @throws StorageError (`noSuchBucket`, not retryable) when the bucket answers 404 too
 */
export async function confirmBucket(loc: S3Location, headError: unknown, signal?: AbortSignal): Promise<void> {
  if (confirmed.has(loc)) return;
  try {
    await loc.client.send(new HeadBucketCommand({ Bucket: loc.bucket }), signal ? { abortSignal: signal } : undefined);
    confirmed.add(loc);
  } catch (error) {
    if (signal?.aborted) throw error;
    if (statusOf(error) === 404 || isNoSuchBucket(error)) throw noSuchBucket(loc, headError);
    if (statusOf(error) === 403) confirmed.add(loc);
  }
}
