/**
 * Create-only and compare-and-swap writes. With a server that honours conditional writes they
 * are atomic; without (found by the probe) they fall back to a read before the write, which
 * leaves a race window that the job lease closes (documented in the README).
 * S3's 409 `ConditionalRequestConflict` is retried (p-retry), as AWS documents.
 */
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import pRetry, { AbortError } from 'p-retry';
import { conditionalPut, type ConditionalPutResult } from '@steadyfn/lease/internal-s3';
import { deleteObject, headObject, isConditionalConflict, isPreconditionFailed, statusOf, type S3Location } from './client.js';
import { isNoSuchBucket, noSuchBucket, objectAbsent } from './missing-bucket.js';
import type { S3Capabilities } from './probe.js';

/** The result of a conditional write: written with this ETag, or refused because the condition failed. */
export type ConditionalResult = { written: true; etag: string } | { written: false };

interface WriteOptions {
  contentType?: string;
  metadata?: Record<string, string>;
  signal?: AbortSignal;
}

function retryConflicts<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  return pRetry(
    async () => {
      try {
        return await work();
      } catch (error) {
        if (isConditionalConflict(error)) throw error;
        throw new AbortError(error as Error);
      }
    },
    { retries: 4, minTimeout: 50, maxTimeout: 800, ...(signal ? { signal } : {}) },
  );
}

/** The shared PUT's answer as this module's result; a 409 conflict is thrown, for `retryConflicts`. */
function resultOf(put: ConditionalPutResult): ConditionalResult {
  if (put.outcome === 'conflict') throw put.error;
  return put.outcome === 'written' ? { written: true, etag: put.etag } : { written: false };
}

/** The PUT request of `body` at `key` in `loc`, with the write options and these conditions. */
function putRequest(loc: S3Location, key: string, body: Uint8Array | string, options: WriteOptions, condition: { ifNoneMatch?: '*'; ifMatch?: string }) {
  return {
    bucket: loc.bucket,
    key,
    body,
    ...condition,
    ...(options.contentType === undefined ? {} : { contentType: options.contentType }),
    ...(options.metadata === undefined ? {} : { metadata: options.metadata }),
  };
}

/**
 * True when `key` exists: a HEAD, without `headObject`'s `HeadBucket` after a 404 — the PUT that
 * follows a 404 here names a missing bucket in its own body (`NoSuchBucket`), so confirming the
 * bucket would only add a request to every new object.
 */
async function exists(loc: S3Location, key: string, signal: AbortSignal | undefined): Promise<boolean> {
  try {
    await loc.client.send(new HeadObjectCommand({ Bucket: loc.bucket, Key: key }), signal ? { abortSignal: signal } : undefined);
    return true;
  } catch (error) {
    if (objectAbsent(loc, error)) return false;
    throw error;
  }
}

/**
 * Writes `body` at `key` only if nothing is there (`If-None-Match: *`; without it, a HEAD first).
 * @throws StorageError (`noSuchBucket`, not retryable) when the bucket does not exist
 */
export async function putIfAbsent(loc: S3Location, caps: Pick<S3Capabilities, 'ifNoneMatch'>, key: string, body: Uint8Array | string, options: WriteOptions = {}): Promise<ConditionalResult> {
  return retryConflicts(async () => {
    if (!caps.ifNoneMatch && (await exists(loc, key, options.signal))) return { written: false };
    try {
      return resultOf(await conditionalPut(loc.client, putRequest(loc, key, body, options, caps.ifNoneMatch ? { ifNoneMatch: '*' } : {}), options.signal));
    } catch (error) {
      if (isNoSuchBucket(error)) throw noSuchBucket(loc, error);
      throw error;
    }
  }, options.signal);
}

/** Replaces the object at `key` only if its ETag is still `etag` (`If-Match`). */
export async function putIfMatch(loc: S3Location, caps: Pick<S3Capabilities, 'ifMatch'>, key: string, etag: string, body: Uint8Array | string, options: WriteOptions = {}): Promise<ConditionalResult> {
  return retryConflicts(async () => {
    if (!caps.ifMatch) {
      const current = await headObject(loc, key, options.signal);
      if (current?.etag !== etag) return { written: false };
    }
    try {
      return resultOf(await conditionalPut(loc.client, putRequest(loc, key, body, options, caps.ifMatch ? { ifMatch: etag } : {}), options.signal));
    } catch (error) {
      // Without If-Match (a server without conditional writes) a 404 still reads as the object gone: refused.
      if (objectAbsent(loc, error)) return { written: false };
      throw error;
    }
  }, options.signal);
}

/** Creates (`etag` undefined) or replaces (`etag` given) an object conditionally. */
export function putConditional(loc: S3Location, caps: Pick<S3Capabilities, 'ifMatch' | 'ifNoneMatch'>, key: string, etag: string | undefined, body: Uint8Array | string, options: WriteOptions = {}): Promise<ConditionalResult> {
  return etag === undefined ? putIfAbsent(loc, caps, key, body, options) : putIfMatch(loc, caps, key, etag, body, options);
}

/**
 * Deletes `key` only if its ETag is still `etag`: a HEAD just before, and `If-Match` on the
 * DELETE where the server honours it (S3, moto). gofakes3 ignores `If-Match` on DELETE: there
 * only the moment between the HEAD and the DELETE is unguarded (callers close it with a lease).
 * Resolves to `deleted`, `changed` (another ETag: left alone) or `gone` (already absent); a
 * bucket that does not exist rejects with the permanent `StorageError` naming it.
 */
export async function deleteIfUnchanged(loc: S3Location, caps: Pick<S3Capabilities, 'ifMatch'>, key: string, etag: string, signal?: AbortSignal): Promise<'deleted' | 'changed' | 'gone'> {
  const stored = await headObject(loc, key, signal);
  if (!stored) return 'gone';
  if (stored.etag !== etag) return 'changed';
  try {
    await deleteObject(loc, key, signal, caps.ifMatch ? { ifMatch: stored.etag } : {});
  } catch (error) {
    if (isPreconditionFailed(error)) return 'changed';
    if (objectAbsent(loc, error)) return 'gone';
    // A server that refuses a conditional DELETE outright: the HEAD above is the check.
    if (!caps.ifMatch || (statusOf(error) !== 400 && statusOf(error) !== 501)) throw error;
    await deleteObject(loc, key, signal);
  }
  return 'deleted';
}
