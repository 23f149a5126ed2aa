/**
 * S3 sources: a JSON or NDJSON object. Revalidation is a conditional GET on the ETag
 * (`If-None-Match`): 304 when unchanged, or the new object in the same round trip.
 */
import { awsClientOption, checkKnownKeys, ConfigurationError, isRecord, keysOf, stringOption } from '@steadyfn/handler/internal';
import { SourceError } from '../errors.js';
import type { ClientInput, Loaded, StateSource } from '../types.js';
import { booleanOption, bytesOption, functionOption } from '../options.js';
import { abortReason, decodeUtf8, parseJson, parseNdjson, resolveClient } from '../util.js';

/** An `S3Client` from `@aws-sdk/client-s3` fits. */
export interface S3Sender {
  /** Sends a `GetObjectCommand`; `abortSignal` stops the request. */
  send(command: any, options?: { abortSignal?: AbortSignal }): Promise<any>;
}

/** Options of `s3Object()`: the client, bucket and key, and how the body decodes. */
export interface S3ObjectOptions<T> {
  /**
   * An `S3Client`, or a function returning one. A client for another AWS service is refused up
   * front; what a function returns is checked at each load, and anything else (a Redis, a
   * MongoClient, an object without `send`) fails it with a terminal `ConfigurationError`.
   */
  client: ClientInput<S3Sender>;
  /** The bucket's name (non-empty). */
  bucket: string;
  /** The object's key (non-empty). */
  key: string;
  /** Turns the object's text into the value. */
  decode: (text: string) => T;
  /**
   * Objects larger than this many bytes fail to load (`SourceError`) instead of filling memory:
   * refused by their Content-Length before the body is read, or, when the answer has none
   * (chunked), as soon as the bytes read pass it (the rest is not read).
   * @default 67108864 (64 MiB)
   */
  maxBytes?: number;
  /**
   * A missing object gives `undefined` instead of a load failure. A missing bucket still fails
   * the load (`bucket … does not exist`): it is a misconfiguration, not an object not written yet.
   * @default false
   */
  optional?: boolean;
}

// Loaded on first use, so the package does not need the AWS SDK unless S3 sources are used.
let sdk: Promise<typeof import('@aws-sdk/client-s3')> | undefined;
function getObjectCommand(input: Record<string, unknown>): Promise<unknown> {
  sdk ??= import('@aws-sdk/client-s3');
  return sdk.then((m) => new m.GetObjectCommand(input as never));
}

interface GetObjectResult {
  ETag?: string;
  ContentLength?: number;
  Body?: { transformToString(encoding?: string): Promise<string>; transformToByteArray?: () => Promise<Uint8Array>; destroy?: () => void };
}

/**
 * The body as UTF-8 text, read chunk by chunk and abandoned (the stream destroyed) as soon as it
 * passes `maxBytes`, so a body without a Content-Length cannot fill memory before it is refused.
 * Bytes that are not UTF-8 fail it (`decodeUtf8`) rather than reading as U+FFFD.
 */
async function readText(body: NonNullable<GetObjectResult['Body']>, maxBytes: number): Promise<string> {
  const tooLarge = () => new SourceError(`object is larger than maxBytes (${maxBytes})`);
  if (typeof (body as Partial<AsyncIterable<Uint8Array>>)[Symbol.asyncIterator] !== 'function') {
    // A body of another SDK shape: its bytes when it gives them, else its text as it decodes it.
    const bytes = typeof body.transformToByteArray === 'function' ? await body.transformToByteArray() : undefined;
    if (bytes && bytes.byteLength > maxBytes) throw tooLarge();
    const text = bytes ? decodeUtf8(bytes, 'the object') : await body.transformToString('utf-8');
    if (Buffer.byteLength(text) > maxBytes) throw tooLarge();
    return text;
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array | string>) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    size += bytes.byteLength;
    if (size > maxBytes) {
      body.destroy?.();
      throw tooLarge();
    }
    chunks.push(bytes);
  }
  return decodeUtf8(Buffer.concat(chunks), 'the object');
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

/** The S3 error code of an SDK error (`NoSuchBucket`, `NoSuchKey`, …): its `name`, else its `Code`. */
function errorCode(error: unknown): string | undefined {
  const e = error as { name?: unknown; Code?: unknown } | null;
  return typeof e?.name === 'string' && e.name !== 'Error' && e.name !== 'S3ServiceException' ? e.name : typeof e?.Code === 'string' ? e.Code : undefined;
}

const CLIENT_EXPECTED = 'an S3Client from @aws-sdk/client-s3, or a function returning one';

/** What a client getter returned, in words for an error: its kind or class, never its contents. */
function kindOf(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (typeof value !== 'object') return `a ${typeof value}`;
  const record = value as Record<string, unknown>;
  // The likeliest mix-ups, by their methods: ioredis's classes name themselves EventEmitter.
  if (typeof record.hgetall === 'function') return 'a Redis client (it has no send method)';
  if (typeof record.db === 'function') return 'a MongoClient (it has no send method)';
  const name = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  return typeof name === 'string' && name !== '' && name !== 'Object' ? `an instance of ${name} without send` : 'an object without send';
}

/**
 * The client a getter returned, once it is known to be one for S3. A Redis or a MongoClient (a
 * handle mixed up) would otherwise fail every load with a retryable `TypeError`.
 * @throws ConfigurationError (`CONFIG_INVALID`, field `client`): terminal, a deploy fixes it.
 */
function returnedClient(owner: string, client: unknown): S3Sender {
  if (!isRecord(client) || typeof client.send !== 'function') {
    throw new ConfigurationError(`${owner}(): option "client" must be ${CLIENT_EXPECTED}; its function returned ${kindOf(client)}`, { field: 'client', expected: CLIENT_EXPECTED });
  }
  awsClientOption(owner, 'client', client, 'S3', CLIENT_EXPECTED);
  return client as unknown as S3Sender;
}

// Unknown keys are refused: a typo would leave the default in force without a word.
const SOURCE_KEYS = keysOf<S3SourceOptions>({ client: true, bucket: true, key: true, maxBytes: true, optional: true });
const OBJECT_KEYS = keysOf<S3ObjectOptions<unknown>>({ client: true, bucket: true, key: true, decode: true, maxBytes: true, optional: true });

/**
 * An S3 object, decoded by your function. Revalidation is one conditional `GetObject`
 * (`If-None-Match` with the ETag): 304 when unchanged, the new object otherwise.
 * @throws ConfigurationError (`CONFIG_INVALID`) naming the option: a client for another service,
 *   an empty `bucket`/`key`, a `decode` that is not a function, a `maxBytes` that is not a whole number ≥ 1, …
 */
export function s3Object<T>(options: S3ObjectOptions<T>): StateSource<T> {
  checkKnownKeys('s3Object', '', options, OBJECT_KEYS);
  return s3Source('s3Object', options);
}

/** `s3Object()` once its keys are checked, its option errors naming `owner` (the function called: `s3Json`, `s3Snapshot`, …). Internal. */
export function s3Source<T>(owner: string, options: S3ObjectOptions<T>): StateSource<T> {
  // A client given directly must be one for S3 (an SQSClient has a send too); what a getter returns is judged at each load.
  if (typeof options.client !== 'function') awsClientOption(owner, 'client', options.client, 'S3', CLIENT_EXPECTED);
  for (const field of ['bucket', 'key'] as const) {
    stringOption(owner, field, options[field]);
  }
  functionOption(owner, 'decode', options.decode, 'a function (text) => value', true);
  bytesOption(owner, 'maxBytes', options.maxBytes);
  booleanOption(owner, 'optional', options.optional);
  const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  const what = `s3://${options.bucket}/${options.key}`;

  const get = async (etag: string | undefined, signal: AbortSignal): Promise<Loaded<T> | 'unchanged'> => {
    const client = await resolveClient(options.client, (c) => returnedClient(owner, c));
    const input: Record<string, unknown> = { Bucket: options.bucket, Key: options.key };
    if (etag !== undefined) input.IfNoneMatch = etag;
    const command = await getObjectCommand(input);
    if (signal.aborted) throw abortReason(signal);
    let result: GetObjectResult;
    try {
      result = (await client.send(command, { abortSignal: signal })) as GetObjectResult;
    } catch (error) {
      const status = statusOf(error);
      if (etag !== undefined && (status === 304 || (error as Error | null)?.name === 'NotModified')) return 'unchanged';
      // A missing bucket (a typo, another account or region) is a 404 too: never "no object yet",
      // which an optional source would serve as undefined for ever.
      if (errorCode(error) === 'NoSuchBucket') throw new SourceError("bucket does not exist (or not for this client's account and region)");
      if (status === 404 || (error as Error | null)?.name === 'NoSuchKey') {
        if (options.optional) return { value: undefined as T, version: null };
        throw new SourceError('object does not exist');
      }
      throw error;
    }
    if (!result.Body) throw new SourceError('object has no body');
    if (typeof result.ContentLength === 'number' && result.ContentLength > maxBytes) {
      result.Body.destroy?.();
      throw new SourceError(`object is larger than maxBytes (${result.ContentLength} > ${maxBytes})`);
    }
    // Without a Content-Length (a chunked answer) the size is known only while reading: stop at maxBytes.
    const text = await readText(result.Body, maxBytes);
    const value = options.decode(text);
    return result.ETag ? { value, version: result.ETag } : { value };
  };

  return {
    description: what,
    load: async (signal) => (await get(undefined, signal)) as Loaded<T>,
    revalidate: async (known, signal) => {
      if (typeof known.version === 'string') return get(known.version, signal);
      // A missing optional object (version null): one plain GET; still missing is unchanged.
      const result = await get(undefined, signal);
      return result !== 'unchanged' && result.version === null ? 'unchanged' : result;
    },
  };
}

/** Options of `s3Json()` and `s3Ndjson()`: those of `s3Object()` without `decode`. */
export type S3SourceOptions = Omit<S3ObjectOptions<unknown>, 'decode'>;

/**
 * An S3 object holding one JSON document (options of `s3Object()` without `decode`).
 * @throws ConfigurationError (`CONFIG_INVALID`) as `s3Object()`.
 */
export function s3Json<T = unknown>(options: S3SourceOptions): StateSource<T> {
  checkKnownKeys('s3Json', '', options, SOURCE_KEYS);
  return s3Source<T>('s3Json', { ...options, decode: (text) => parseJson(text, 'the object') as T });
}

/**
 * An S3 object holding newline-delimited JSON: the value is the array of its lines.
 * @throws ConfigurationError (`CONFIG_INVALID`) as `s3Object()`.
 */
export function s3Ndjson<T = unknown>(options: S3SourceOptions): StateSource<T[]> {
  checkKnownKeys('s3Ndjson', '', options, SOURCE_KEYS);
  return s3Source<T[]>('s3Ndjson', { ...options, decode: (text) => parseNdjson(text, 'the object') as T[] });
}
