/**
 * Start-up probe of what the S3 server really does, so that no backup depends on a feature a
 * server (MinIO, R2, moto, gofakes3, …) lacks: conditional writes on PutObject
 * (`If-None-Match: *`, `If-Match`) and on CompleteMultipartUpload, the SDK's default CRC
 * checksums (aws-chunked uploads and validated ranged reads), and server-side checksum checks.
 * It writes and removes a few tiny objects under `<prefix>/.probe/`, once per client, bucket
 * and prefix per instance (warm invocations reuse the result).
 *
 * Follows https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html and
 * https://docs.aws.amazon.com/sdkref/latest/guide/feature-dataintegrity.html.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { v7 as uuidv7 } from 'uuid';
import { SteadyError } from '@steadyfn/handler/internal';
import { StorageError, describeError } from '../errors.js';
import { toLocation } from '../target.js';
import { terminalAdvice } from './retryable.js';
import { confirmBucket, isNoSuchBucket, noSuchBucket, objectAbsent } from './missing-bucket.js';
import { deleteObject, getObject, isPreconditionFailed, joinKey, putObject, statusOf, withoutDefaultChecksums, type S3Location, type S3Sender } from './client.js';

/** What the probe found. */
export interface S3Capabilities {
  /** PutObject honours `If-None-Match: *` (412 when the key exists). */
  ifNoneMatch: boolean;
  /** PutObject honours `If-Match: <etag>` (412 on another ETag). */
  ifMatch: boolean;
  /** CompleteMultipartUpload honours `If-None-Match: *`. */
  multipartIfNoneMatch: boolean;
  /** The server rejects an upload whose `x-amz-checksum-crc32` is wrong, so sending our CRC32 per part adds a server-side check. */
  serverChecksums: boolean;
  /** The client given failed with the SDK's default checksums, so the package uses a copy of it with `WHEN_REQUIRED`. */
  defaultChecksumsBroken: boolean;
}

const cache = new WeakMap<object, Map<string, Promise<{ client: S3Sender; capabilities: S3Capabilities }>>>();

/**
 * Probes the server behind `loc` once per instance. Resolves to the client to use (the one
 * given, or a copy without default checksums) and the capabilities.
 *
 * @throws {ConfigurationError} (rejects with it) a location that is not `{ client, bucket, prefix? }`
 * @throws {StorageError} a basic write or read fails even without default checksums (permissions); `cause` is the SDK error. A bucket that does not exist — from the start, or deleted while the probe runs — is the permanent (`retryable: false`) one naming it (`"<bucket>" does not exist`), never a capability
 */
export function probeS3(location: S3Location, signal?: AbortSignal): Promise<{ client: S3Sender; capabilities: S3Capabilities }> {
  let loc: S3Location;
  try {
    // The callers checked the location for their use: the probe takes what they took.
    loc = toLocation('probeS3', location, 'target', 'read');
  } catch (error) {
    return Promise.reject(error);
  }
  let byBucket = cache.get(loc.client);
  if (!byBucket) cache.set(loc.client, (byBucket = new Map()));
  const id = `${loc.bucket}/${loc.prefix}`;
  let found = byBucket.get(id);
  if (!found) {
    const where = `s3://${loc.bucket}/${loc.prefix}`;
    found = runProbe(loc, signal).catch((error: unknown) => {
      // Typed, with the SDK error's class and status only (its message may carry request details).
      if (error instanceof SteadyError || signal?.aborted) throw error;
      throw new StorageError(`the S3 location ${where} cannot be used (${describeError(error)})${terminalAdvice(error)}`, error, { bucket: loc.bucket });
    });
    byBucket.set(id, found);
    found.catch(() => byBucket.delete(id));
  }
  return found;
}

/** A plain write and a ranged read back. @throws StorageError (`noSuchBucket`, not retryable) when the bucket does not exist */
async function basicRoundTrip(loc: S3Location, key: string, signal?: AbortSignal): Promise<void> {
  await putObject(loc, key, 'probe', { signal, contentType: 'text/plain' }).catch((error: unknown) => {
    throw isNoSuchBucket(error) ? noSuchBucket(loc, error) : error;
  });
  const back = await getObject(loc, key, { range: [0, 2], signal });
  if (back?.body.toString() !== 'pro') throw new Error('ranged read returned other bytes');
}

async function runProbe(given: S3Location, signal?: AbortSignal): Promise<{ client: S3Sender; capabilities: S3Capabilities }> {
  const base = joinKey(given.prefix, '.probe', uuidv7());
  let loc = given;
  let defaultChecksumsBroken = false;
  try {
    await basicRoundTrip(loc, `${base}-basic`, signal);
  } catch (error) {
    // No bucket (`noSuchBucket`): no client configuration makes one, the retry would only ask again.
    if (signal?.aborted || error instanceof SteadyError) throw error;
    // Retry once with checksums only when required: if that works, the defaults were the problem.
    const fallback = { ...given, client: withoutDefaultChecksums(given.client) };
    await basicRoundTrip(fallback, `${base}-basic`, signal);
    loc = fallback;
    defaultChecksumsBroken = true;
  }
  const keys = [`${base}-basic`, `${base}-cond`, `${base}-crc`, `${base}-mpu`];
  try {
    const etag = await putObject(loc, keys[1]!, 'a', { ifNoneMatch: '*', signal });
    const ifNoneMatch = await expectRefused(loc, () => putObject(loc, keys[1]!, 'b', { ifNoneMatch: '*', signal }), signal);
    const ifMatch =
      (await expectRefused(loc, () => putObject(loc, keys[1]!, 'c', { ifMatch: '"0123456789abcdef0123456789abcdef"', signal }), signal)) &&
      (await putObject(loc, keys[1]!, 'd', { ifMatch: etag, signal }).then(
        () => true,
        (error: unknown) => {
          if (isNoSuchBucket(error)) throw noSuchBucket(loc, error);
          return false;
        },
      ));
    const serverChecksums = await expectRefused(loc, () =>
      loc.client.send(new PutObjectCommand({ Bucket: loc.bucket, Key: keys[2]!, Body: 'hello', ChecksumCRC32: 'AAAAAA==' }), { abortSignal: signal }),
      signal,
    );
    const multipartIfNoneMatch = await probeMultipartCondition(loc, keys[3]!, signal);
    return { client: loc.client, capabilities: { ifNoneMatch, ifMatch, multipartIfNoneMatch, serverChecksums, defaultChecksumsBroken } };
  } finally {
    await Promise.all(keys.map((k) => deleteObject(loc, k).catch(() => undefined)));
  }
}

/**
 * True when `write` is refused (412, or a 400 for a checksum; a 404 for the object or upload),
 * false when it went through. A bucket gone meanwhile is no refusal of the condition: it rejects
 * with the permanent `StorageError` naming the bucket, as at the probe's start — named by the
 * answer (`NoSuchBucket`), or found by one `HeadBucket` after another 404 (gofakes3 answers
 * `NoSuchUpload` to a complete in a deleted bucket: it looks the upload up first).
 */
async function expectRefused(loc: S3Location, write: () => Promise<unknown>, signal: AbortSignal | undefined): Promise<boolean> {
  try {
    await write();
    return false;
  } catch (error) {
    if (isPreconditionFailed(error) || statusOf(error) === 400) return true;
    if (!objectAbsent(loc, error)) throw error;
    await confirmBucket(loc, error, signal);
    return true;
  }
}

async function probeMultipartCondition(loc: S3Location, key: string, signal?: AbortSignal): Promise<boolean> {
  await putObject(loc, key, 'exists', { signal });
  const created = (await loc.client.send(new CreateMultipartUploadCommand({ Bucket: loc.bucket, Key: key }), { abortSignal: signal })) as { UploadId?: string };
  const uploadId = created.UploadId!;
  try {
    const part = (await loc.client.send(new UploadPartCommand({ Bucket: loc.bucket, Key: key, UploadId: uploadId, PartNumber: 1, Body: 'x' }), { abortSignal: signal })) as {
      ETag?: string;
    };
    return await expectRefused(loc, () =>
      loc.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: loc.bucket,
          Key: key,
          UploadId: uploadId,
          IfNoneMatch: '*',
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
        }),
        { abortSignal: signal },
      ),
      signal,
    );
  } finally {
    await loc.client.send(new AbortMultipartUploadCommand({ Bucket: loc.bucket, Key: key, UploadId: uploadId })).catch(() => undefined);
  }
}
