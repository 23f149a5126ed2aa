/**
 * One S3 multipart upload, driven part by part so that a resume can continue it: create,
 * upload a part (re-uploading a part number replaces it), list the parts S3 holds (paginated:
 * 1,000 per page), complete with an explicit part list (parts not listed are discarded) and
 * abort. https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { type PageGate, type S3Location } from './client.js';
import { objectAbsent } from './missing-bucket.js';

/** A part as S3 holds it. */
export interface StoredPart {
  number: number;
  etag: string;
  /** Bytes. */
  size: number;
  /** The part's CRC32 (base64) when the upload carries checksums and the server lists them. */
  crc32?: string;
}

function opts(signal?: AbortSignal): { abortSignal: AbortSignal } | undefined {
  return signal ? { abortSignal: signal } : undefined;
}

/** Starts an upload; resolves to its upload id. With `checksums`, parts carry a CRC32 the server checks. */
export async function createUpload(loc: S3Location, key: string, options: { checksums: boolean; contentType?: string; signal?: AbortSignal }): Promise<string> {
  const out = (await loc.client.send(
    new CreateMultipartUploadCommand({
      Bucket: loc.bucket,
      Key: key,
      ContentType: options.contentType ?? 'application/gzip',
      ...(options.checksums ? { ChecksumAlgorithm: 'CRC32' } : {}),
    }),
    opts(options.signal),
  )) as { UploadId?: string };
  if (!out.UploadId) throw new Error('CreateMultipartUpload returned no UploadId');
  return out.UploadId;
}

/** Uploads (or replaces) part `number`; resolves to its ETag. */
export async function uploadPart(loc: S3Location, key: string, uploadId: string, number: number, body: Buffer, options: { crc32?: string; signal?: AbortSignal } = {}): Promise<string> {
  const out = (await loc.client.send(
    new UploadPartCommand({
      Bucket: loc.bucket,
      Key: key,
      UploadId: uploadId,
      PartNumber: number,
      Body: body,
      ContentLength: body.length,
      ...(options.crc32 ? { ChecksumCRC32: options.crc32 } : {}),
    }),
    opts(options.signal),
  )) as { ETag?: string };
  if (!out.ETag) throw new Error('UploadPart returned no ETag');
  return out.ETag;
}

/**
 * Every part S3 holds for the upload, in part order, or `undefined` when the upload no longer
 * exists (completed, aborted, or removed by a lifecycle rule). Pages are followed by the
 * highest part number seen (some servers' `NextPartNumberMarker` is off by one). A bucket that
 * does not exist rejects with the permanent `StorageError` naming it (missing-bucket.ts).
 */
export async function listParts(loc: S3Location, key: string, uploadId: string, signal?: AbortSignal): Promise<StoredPart[] | undefined> {
  const parts = new Map<number, StoredPart>();
  let marker: number | undefined;
  for (;;) {
    let out: { Parts?: Array<{ PartNumber?: number; ETag?: string; Size?: number; ChecksumCRC32?: string }>; IsTruncated?: boolean };
    try {
      out = (await loc.client.send(
        new ListPartsCommand({ Bucket: loc.bucket, Key: key, UploadId: uploadId, ...(marker === undefined ? {} : { PartNumberMarker: String(marker) }) }),
        opts(signal),
      )) as typeof out;
    } catch (error) {
      if (objectAbsent(loc, error)) return undefined;
      throw error;
    }
    let highest = marker ?? 0;
    for (const p of out.Parts ?? []) {
      if (p.PartNumber === undefined || !p.ETag) continue;
      parts.set(p.PartNumber, { number: p.PartNumber, etag: p.ETag, size: p.Size ?? 0, ...(p.ChecksumCRC32 ? { crc32: p.ChecksumCRC32 } : {}) });
      highest = Math.max(highest, p.PartNumber);
    }
    if (!out.IsTruncated || highest === (marker ?? 0)) break;
    marker = highest;
  }
  return [...parts.values()].sort((a, b) => a.number - b.number);
}

/** Completes the upload from exactly these parts. */
export async function completeUpload(
  loc: S3Location,
  key: string,
  uploadId: string,
  parts: ReadonlyArray<{ number: number; etag: string; crc32?: string }>,
  options: { ifNoneMatch?: boolean; signal?: AbortSignal } = {},
): Promise<string> {
  const out = (await loc.client.send(
    new CompleteMultipartUploadCommand({
      Bucket: loc.bucket,
      Key: key,
      UploadId: uploadId,
      ...(options.ifNoneMatch ? { IfNoneMatch: '*' } : {}),
      MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.number, ETag: p.etag, ...(p.crc32 ? { ChecksumCRC32: p.crc32 } : {}) })) },
    }),
    opts(options.signal),
  )) as { ETag?: string };
  return out.ETag ?? '';
}

/** Aborts the upload; an upload already gone is not an error, a bucket that does not exist is (the permanent `StorageError` naming it). */
export async function abortUpload(loc: S3Location, key: string, uploadId: string): Promise<void> {
  try {
    await loc.client.send(new AbortMultipartUploadCommand({ Bucket: loc.bucket, Key: key, UploadId: uploadId }));
  } catch (error) {
    if (!objectAbsent(loc, error)) throw error;
  }
}

/**
 * Sends a `ListMultipartUploads`. gofakes3 answers `NoSuchUpload` (404) for a bucket that never
 * held an upload: the request names no upload, so that can only mean none — an empty page.
 * Any other failure passes, `NoSuchBucket` (a bucket that is not there) included.
 */
async function sendListUploads(loc: S3Location, command: ListMultipartUploadsCommand, signal?: AbortSignal): Promise<unknown> {
  try {
    return await loc.client.send(command, opts(signal));
  } catch (error) {
    if ((error as { name?: unknown } | null)?.name === 'NoSuchUpload') return { Uploads: [], IsTruncated: false };
    throw error;
  }
}

/** An unfinished upload as `ListMultipartUploads` gives it. */
export interface OpenUpload {
  key: string;
  uploadId: string;
  /** When it was started (ms since the epoch; 0 when the server does not say). */
  initiated: number;
}

/**
 * Unfinished uploads under `prefix`, following the markers (1,000 per page). With a `gate`,
 * each page is asked for first: a refused page ends the listing with `complete: false`.
 */
export async function listUploads(loc: S3Location, prefix: string, options: { signal?: AbortSignal | undefined; gate?: PageGate } = {}): Promise<{ uploads: OpenUpload[]; complete: boolean }> {
  const out: OpenUpload[] = [];
  let marker: { KeyMarker: string; UploadIdMarker: string } | undefined;
  do {
    if (options.gate && !options.gate.allowsPage(prefix)) return { uploads: out, complete: false };
    const started = Date.now();
    const page = (await sendListUploads(loc, new ListMultipartUploadsCommand({ Bucket: loc.bucket, Prefix: prefix, ...(marker ?? {}) }), options.signal)) as {
      Uploads?: Array<{ Key?: string; UploadId?: string; Initiated?: Date }>;
      IsTruncated?: boolean;
      NextKeyMarker?: string;
      NextUploadIdMarker?: string;
    };
    options.gate?.pageTook(Date.now() - started);
    for (const u of page.Uploads ?? []) if (u.Key && u.UploadId) out.push({ key: u.Key, uploadId: u.UploadId, initiated: u.Initiated?.getTime() ?? 0 });
    marker = page.IsTruncated && page.NextKeyMarker ? { KeyMarker: page.NextKeyMarker, UploadIdMarker: page.NextUploadIdMarker ?? '' } : undefined;
  } while (marker);
  return { uploads: out, complete: true };
}

/**
 * One page of unfinished uploads under `prefix` (up to 1,000; `MaxUploads`), those whose key
 * sorts after `after` (`KeyMarker`). The keys are filtered here too: gofakes3 includes the
 * marker's own key and moto ignores `KeyMarker` (and `MaxUploads`) altogether. `more`: the
 * server said more follow.
 */
export async function listUploadsPage(loc: S3Location, prefix: string, after: string | undefined, signal?: AbortSignal): Promise<{ uploads: OpenUpload[]; more: boolean }> {
  const page = (await sendListUploads(loc, new ListMultipartUploadsCommand({ Bucket: loc.bucket, Prefix: prefix, ...(after ? { KeyMarker: after } : {}) }), signal)) as {
    Uploads?: Array<{ Key?: string; UploadId?: string; Initiated?: Date }>;
    IsTruncated?: boolean;
  };
  const uploads: OpenUpload[] = [];
  for (const u of page.Uploads ?? []) if (u.Key && u.UploadId && (after === undefined || u.Key > after)) uploads.push({ key: u.Key, uploadId: u.UploadId, initiated: u.Initiated?.getTime() ?? 0 });
  return { uploads, more: page.IsTruncated === true };
}
