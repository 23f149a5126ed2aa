/**
 * The few S3 calls the package makes, over any `S3Client`: objects read and written whole
 * (manifests, checkpoints, indexes), conditional writes and listing. Every call takes an
 * `AbortSignal`.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { confirmBucket, objectAbsent } from './missing-bucket.js';

/** Anything with the `send` of an `S3Client` (a client from `@steadyfn/connections` fits). */
export interface S3Sender {
  send(command: any, options?: { abortSignal?: AbortSignal }): Promise<any>;
}

/** Where a backup lives: a bucket, a key prefix, and the client to reach it. */
export interface S3Location {
  client: S3Sender;
  bucket: string;
  /** Key prefix without a trailing slash ('' for the bucket root). */
  prefix: string;
}

/** Conditions for a write (S3 conditional writes). */
export interface WriteCondition {
  /** `'*'`: write only if no object exists at the key. */
  ifNoneMatch?: '*';
  /** Write only if the current object's ETag is this one. */
  ifMatch?: string;
}

// One reading of S3's answers for every package (the lease store's and these writes alike).
export { isConditionalConflict, isNotFound, isPreconditionFailed, statusOf } from '@steadyfn/lease/internal-s3';

/** Joins a prefix and a relative key. */
export function joinKey(prefix: string, ...parts: string[]): string {
  return [prefix, ...parts].filter((p) => p !== '').join('/');
}

/** Writes a whole object; resolves to its ETag. A failed condition rejects with the SDK's 412 error (see `isPreconditionFailed`). */
export async function putObject(
  loc: S3Location,
  key: string,
  body: Uint8Array | string,
  options: WriteCondition & { contentType?: string; metadata?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<string> {
  const command = new PutObjectCommand({
    Bucket: loc.bucket,
    Key: key,
    Body: body,
    ContentType: options.contentType ?? 'application/json',
    ...(options.metadata ? { Metadata: options.metadata } : {}),
    ...(options.ifNoneMatch ? { IfNoneMatch: options.ifNoneMatch } : {}),
    ...(options.ifMatch ? { IfMatch: options.ifMatch } : {}),
  });
  const out = (await loc.client.send(command, options.signal ? { abortSignal: options.signal } : undefined)) as { ETag?: string };
  return out.ETag ?? '';
}

/** An object read whole: its bytes, ETag and metadata (and its version id in a versioned bucket). */
export interface FetchedObject {
  body: Buffer;
  etag: string;
  metadata: Record<string, string>;
  versionId?: string;
}

/** Which object a read must return: the one with this ETag (`If-Match`), this version (`VersionId`). */
export interface ReadPin {
  ifMatch?: string;
  versionId?: string;
}

/**
 * Reads a whole object (or the byte range `[start, end]` inclusive); `undefined` when it does
 * not exist. With `ifMatch`, a changed object rejects with the SDK's 412 error (S3, moto;
 * gofakes3 ignores the header: callers compare the returned `etag` too). A bucket that does not
 * exist rejects with the permanent `StorageError` naming it (missing-bucket.ts).
 */
export async function getObject(loc: S3Location, key: string, options: { range?: [number, number]; signal?: AbortSignal } & ReadPin = {}): Promise<FetchedObject | undefined> {
  const command = new GetObjectCommand({
    Bucket: loc.bucket,
    Key: key,
    ...(options.range ? { Range: `bytes=${options.range[0]}-${options.range[1]}` } : {}),
    ...(options.ifMatch ? { IfMatch: options.ifMatch } : {}),
    ...(options.versionId ? { VersionId: options.versionId } : {}),
  });
  try {
    const output = (await loc.client.send(command, options.signal ? { abortSignal: options.signal } : undefined)) as {
      Body?: { transformToByteArray(): Promise<Uint8Array> };
      ETag?: string;
      Metadata?: Record<string, string>;
      VersionId?: string;
    };
    const bytes = output.Body ? await output.Body.transformToByteArray() : new Uint8Array();
    return {
      body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength),
      etag: output.ETag ?? '',
      metadata: output.Metadata ?? {},
      ...(output.VersionId && output.VersionId !== 'null' ? { versionId: output.VersionId } : {}),
    };
  } catch (error) {
    if (objectAbsent(loc, error)) return undefined;
    throw error;
  }
}

/**
 * Size, ETag (and version id in a versioned bucket) of an object; `undefined` when it does not
 * exist. A 404 is checked against the bucket (`confirmBucket`: one `HeadBucket` per `loc`, the
 * first time an object is absent — a run builds its `loc` once, so N absent objects cost N HEADs
 * and one `HeadBucket`): a bucket that does not exist rejects with the permanent `StorageError`
 * naming it. Once `loc`'s bucket is confirmed, a 404 reads as the object absent (a bucket deleted
 * later in the run surfaces at its next write or listing).
 */
export async function headObject(loc: S3Location, key: string, signal?: AbortSignal): Promise<{ size: number; etag: string; metadata: Record<string, string>; versionId?: string } | undefined> {
  try {
    const out = (await loc.client.send(new HeadObjectCommand({ Bucket: loc.bucket, Key: key }), signal ? { abortSignal: signal } : undefined)) as {
      ContentLength?: number;
      ETag?: string;
      Metadata?: Record<string, string>;
      VersionId?: string;
    };
    return { size: out.ContentLength ?? 0, etag: out.ETag ?? '', metadata: out.Metadata ?? {}, ...(out.VersionId && out.VersionId !== 'null' ? { versionId: out.VersionId } : {}) };
  } catch (error) {
    if (!objectAbsent(loc, error)) throw error;
    await confirmBucket(loc, error, signal);
    return undefined;
  }
}

/** Deletes one object. A missing object is not an error (S3 answers 204 either way). */
export async function deleteObject(loc: S3Location, key: string, signal?: AbortSignal, options: { ifMatch?: string } = {}): Promise<void> {
  await loc.client.send(new DeleteObjectCommand({ Bucket: loc.bucket, Key: key, ...(options.ifMatch ? { IfMatch: options.ifMatch } : {}) }), signal ? { abortSignal: signal } : undefined);
}

/** A listed object: its key, size (bytes) and last-modified time (ms, when the server gives one). */
export interface ListedKey {
  key: string;
  size: number;
  lastModified?: number;
}

/**
 * Asked before each page of a listing (the deadline rule of a long run): a refusal ends the
 * listing there, incomplete. `prefix` says which listing is asking.
 */
export interface PageGate {
  allowsPage(prefix: string): boolean;
  /** How long the page just listed took (ms): the next page is expected to take as long. */
  pageTook(ms: number): void;
}

/** One page of a listing (up to 1,000 keys): `next` is the continuation token, when more follow. */
export async function listPage(
  loc: S3Location,
  prefix: string,
  options: { delimiter?: string; startAfter?: string; token?: string; signal?: AbortSignal } = {},
): Promise<{ keys: ListedKey[]; prefixes: string[]; next?: string }> {
  const out = (await loc.client.send(
    new ListObjectsV2Command({
      Bucket: loc.bucket,
      Prefix: prefix,
      ...(options.delimiter ? { Delimiter: options.delimiter } : {}),
      ...(options.token ? { ContinuationToken: options.token } : options.startAfter ? { StartAfter: options.startAfter } : {}),
    }),
    options.signal ? { abortSignal: options.signal } : undefined,
  )) as {
    Contents?: Array<{ Key?: string; Size?: number; LastModified?: Date }>;
    CommonPrefixes?: Array<{ Prefix?: string }>;
    IsTruncated?: boolean;
    NextContinuationToken?: string;
  };
  const keys: ListedKey[] = [];
  for (const c of out.Contents ?? []) if (c.Key) keys.push({ key: c.Key, size: c.Size ?? 0, ...(c.LastModified ? { lastModified: c.LastModified.getTime() } : {}) });
  const prefixes = (out.CommonPrefixes ?? []).flatMap((p) => (p.Prefix ? [p.Prefix] : []));
  return { keys, prefixes, ...(out.IsTruncated && out.NextContinuationToken ? { next: out.NextContinuationToken } : {}) };
}

/**
 * Lists keys (with size and last-modified time, ms) and, with a delimiter, common prefixes (each
 * once, in the order first listed) under `prefix`, following continuation tokens. With a `gate`, each page is asked for first: a
 * refused page ends the listing with `complete: false` (what was listed so far is returned).
 */
export async function listKeys(
  loc: S3Location,
  prefix: string,
  options: { delimiter?: string; signal?: AbortSignal; gate?: PageGate } = {},
): Promise<{ keys: ListedKey[]; prefixes: string[]; complete: boolean }> {
  const keys: ListedKey[] = [];
  // A common prefix once: gofakes3 lists one again on the next page when a page ended inside it.
  const prefixes = new Set<string>();
  let token: string | undefined;
  do {
    if (options.gate && !options.gate.allowsPage(prefix)) return { keys, prefixes: [...prefixes], complete: false };
    const started = Date.now();
    const page = await listPage(loc, prefix, { ...options, ...(token ? { token } : {}) });
    options.gate?.pageTook(Date.now() - started);
    keys.push(...page.keys);
    for (const p of page.prefixes) prefixes.add(p);
    token = page.next;
  } while (token);
  return { keys, prefixes: [...prefixes], complete: true };
}

/**
 * A client built with the SDK's flexible checksums turned off (`WHEN_REQUIRED`), from the
 * configuration of `client`: used when the probe finds that the server breaks on the default
 * CRC checksums (aws-chunked uploads, checksum validation of ranged reads).
 */
export function withoutDefaultChecksums(client: S3Sender): S3Sender {
  const config = (client as { config?: Record<string, unknown> }).config;
  if (!config) return client;
  const pick: Record<string, unknown> = {};
  for (const field of ['region', 'credentials', 'endpoint', 'forcePathStyle', 'maxAttempts', 'retryMode', 'requestHandler', 'logger']) {
    if (config[field] !== undefined) pick[field] = config[field];
  }
  // A custom endpoint resolved by the SDK is kept by `endpoint`; without one, the default resolver applies.
  if ((config as { isCustomEndpoint?: boolean }).isCustomEndpoint === false) delete pick.endpoint;
  return new S3Client({ ...pick, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
}
