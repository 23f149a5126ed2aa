/**
 * The few S3 calls the S3 store makes, over any client with the `send` of an `S3Client`:
 * a GET that also returns the server's clock (the `Date` header, also on a 404), a
 * conditional PUT (`If-None-Match: *` / `If-Match: <etag>`, 412 when it fails) and a DELETE.
 * `@aws-sdk/client-s3` is an optional peer: its commands are loaded on first use, so the
 * package (and its types) load without it.
 */
import { raceSignal, throwIfAborted } from '@steadyfn/handler/internal';

/**
 * The client the S3 store calls: an `S3Client` from `@aws-sdk/client-s3` satisfies it (or a
 * cached one from `@steadyfn/connections`). Structural, so the package's types import no SDK.
 */
export interface S3LeaseClient {
  send(command: any, options?: { abortSignal?: AbortSignal }): Promise<any>;
}

type Sdk = typeof import('@aws-sdk/client-s3');
let sdk: Promise<Sdk> | undefined;
const loadSdk = (): Promise<Sdk> => (sdk ??= import('@aws-sdk/client-s3'));

/** HTTP status of an SDK error, if it has one. */
export function statusOf(error: unknown): number | undefined {
  const status = (error as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

/** The object (or multipart upload) does not exist: 404, `NoSuchKey`, `NotFound`, `NoSuchUpload`. */
export function isNotFound(error: unknown): boolean {
  const name = (error as Error | null)?.name;
  return statusOf(error) === 404 || name === 'NoSuchKey' || name === 'NotFound' || name === 'NoSuchUpload';
}

/**
 * The object is absent — 404 for the key, not `NoSuchBucket`: a bucket that is gone (deleted,
 * misnamed) holds no lease to read as free and loses no race; its error passes through.
 */
function isMissingObject(error: unknown): boolean {
  return isNotFound(error) && (error as Error | null)?.name !== 'NoSuchBucket';
}

/** The condition of a conditional write failed: 412 `PreconditionFailed`. */
export function isPreconditionFailed(error: unknown): boolean {
  return statusOf(error) === 412 || (error as Error | null)?.name === 'PreconditionFailed';
}

/**
 * S3's 409 `ConditionalRequestConflict`: another conditional write to the key raced this one;
 * read again and retry (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html).
 */
export function isConditionalConflict(error: unknown): boolean {
  return statusOf(error) === 409 && (error as Error | null)?.name !== 'BucketAlreadyOwnedByYou';
}

/** What a read of the server's clock found: a `Date` header (1 s resolution) and when the request went out and came back (local ms). */
export interface ClockReading {
  /** The `Date` header, epoch ms, or undefined when the answer had none. */
  date: number | undefined;
  sentAt: number;
  receivedAt: number;
}

/** An object read whole: its text and ETag (undefined when absent), and the server's clock. */
export interface ReadResult {
  text: string | undefined;
  etag: string | undefined;
  clock: ClockReading;
}

function dateOf(headers: Record<string, string> | undefined): number | undefined {
  const parsed = headers?.date === undefined ? NaN : Date.parse(headers.date);
  return Number.isFinite(parsed) ? parsed : undefined;
}

/** GETs `key`, with the server's `Date` header read from the answer (a 404 carries one too). @throws the SDK's error for anything but a missing key (`NoSuchBucket` included). */
export async function readObject(client: S3LeaseClient, bucket: string, key: string, signal: AbortSignal | undefined): Promise<ReadResult> {
  throwIfAborted(signal);
  const { GetObjectCommand } = await raceSignal(loadSdk(), signal);
  const command = new GetObjectCommand({ Bucket: bucket, Key: key });
  let date: number | undefined;
  command.middlewareStack.add(
    (next) => async (args) => {
      try {
        const result = await next(args);
        date = dateOf((result.response as { headers?: Record<string, string> }).headers);
        return result;
      } catch (error) {
        date = dateOf((error as { $response?: { headers?: Record<string, string> } }).$response?.headers);
        throw error;
      }
    },
    { step: 'deserialize', name: 'steadyfnLeaseServerDate' },
  );
  const sentAt = Date.now();
  try {
    const out = (await client.send(command, signal ? { abortSignal: signal } : undefined)) as { Body?: { transformToString(): Promise<string> }; ETag?: string };
    const text = out.Body ? await out.Body.transformToString() : '';
    return { text, etag: out.ETag, clock: { date, sentAt, receivedAt: Date.now() } };
  } catch (error) {
    if (isMissingObject(error)) return { text: undefined, etag: undefined, clock: { date, sentAt, receivedAt: Date.now() } };
    throw error;
  }
}

/** The outcome of a conditional write: written, refused (412: the condition failed), or a conflict (409: a concurrent conditional write; read again). */
export type PutOutcome = 'written' | 'refused' | 'conflict';

/** PUTs `body` at `key` if it is absent (`etag` undefined) or still has this ETag. */
export async function putConditional(client: S3LeaseClient, bucket: string, key: string, etag: string | undefined, body: string, signal: AbortSignal | undefined): Promise<PutOutcome> {
  const result = await conditionalPut(client, { bucket, key, body, ...(etag === undefined ? { ifNoneMatch: '*' as const } : { ifMatch: etag }) }, signal);
  return result.outcome;
}

/** One PUT of `conditionalPut`: where, what, and the conditions (none: unconditional). */
export interface ConditionalPutRequest {
  bucket: string;
  key: string;
  body: Uint8Array | string;
  /** `'*'`: write only if no object exists at the key (`If-None-Match: *`). */
  ifNoneMatch?: '*';
  /** Write only if the current object's ETag is this one (`If-Match`). */
  ifMatch?: string;
  /** @default 'application/json' */
  contentType?: string;
  /** User metadata (`x-amz-meta-*`). */
  metadata?: Record<string, string>;
}

/**
 * What a conditional PUT did: `written` (with the new object's ETag); `refused` — the
 * condition failed (412, or 404 for `If-Match` on a missing key, which S3 answers where some
 * servers answer 412); `conflict` — S3's 409 `ConditionalRequestConflict` (a concurrent
 * conditional write: read again and retry), with the SDK's error for a caller that throws it.
 */
export type ConditionalPutResult = { outcome: 'written'; etag: string } | { outcome: 'refused' } | { outcome: 'conflict'; error: unknown };

/**
 * The conditional PUT every S3 writer of steadyfn uses (the lease store, backups): sends
 * `PutObject` with `If-None-Match` / `If-Match` (S3 conditional writes,
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-requests.html) and reads
 * the answer as written, refused or a conflict. `@aws-sdk/client-s3` is loaded on first use.
 * @throws the SDK's error for anything else (a missing bucket — `NoSuchBucket`, with `If-Match` too —, access denied, a network fault); the signal's reason when it aborts.
 */
export async function conditionalPut(client: S3LeaseClient, request: ConditionalPutRequest, signal: AbortSignal | undefined): Promise<ConditionalPutResult> {
  throwIfAborted(signal);
  try {
    const etag = await putObject(client, request.bucket, request.key, request.body, signal, request, request);
    return { outcome: 'written', etag };
  } catch (error) {
    if (isPreconditionFailed(error) || (request.ifMatch !== undefined && isMissingObject(error))) return { outcome: 'refused' };
    if (isConditionalConflict(error)) return { outcome: 'conflict', error };
    throw error;
  }
}

/** PUTs `body` at `key` (with the conditions given); resolves to its ETag. A failed condition rejects with the SDK's error. */
export async function putObject(
  client: S3LeaseClient,
  bucket: string,
  key: string,
  body: Uint8Array | string,
  signal: AbortSignal | undefined,
  condition: { ifNoneMatch?: '*'; ifMatch?: string } = {},
  options: { contentType?: string; metadata?: Record<string, string> } = {},
): Promise<string> {
  const { PutObjectCommand } = await raceSignal(loadSdk(), signal);
  const out = (await client.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: body,
      ContentType: options.contentType ?? 'application/json',
      ...(options.metadata ? { Metadata: options.metadata } : {}),
      ...(condition.ifNoneMatch ? { IfNoneMatch: '*' } : {}),
      ...(condition.ifMatch ? { IfMatch: condition.ifMatch } : {}),
    }),
    signal ? { abortSignal: signal } : undefined,
  )) as { ETag?: string };
  return out.ETag ?? '';
}

/** DELETEs `key` (absent is fine). */
export async function deleteObject(client: S3LeaseClient, bucket: string, key: string, signal: AbortSignal | undefined): Promise<void> {
  const { DeleteObjectCommand } = await raceSignal(loadSdk(), signal);
  await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }), signal ? { abortSignal: signal } : undefined);
}
