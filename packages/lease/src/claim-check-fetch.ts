/**
 * Reading a claim-check object of a known size without ever holding more than that size: the
 * consumer (which verifies an object against its pointer) and the producer's retry (which adopts
 * an object it stored before) both know how many bytes the object must have, so an object that
 * is larger — swapped or forged, up to S3's 5 TB — must cost neither of them its memory.
 *
 * Three guards, so that no single lying answer is enough: the GET asks for the first `size`
 * bytes only (`Range: bytes=0-(size-1)`, RFC 9110 §14.1.2); the object's full size, read from
 * `Content-Range` (`bytes 0-99/5242880`) or, when the server ignored the range, from
 * `Content-Length`, is compared with `size` before any of the body is read; and the body is read
 * as a stream that stops at `size + 1` bytes, whatever the headers said.
 *
 * One reader for `@steadyfn/outbox` (its inbox and its sender's retry) and `@steadyfn/backup`'s
 * `sqsSource` (exported through `@steadyfn/lease/internal`). No `@aws-sdk/client-s3` import: the
 * client and the `GetObjectCommand` constructor are the caller's, so the entry stays free of it.
 */

/**
 * What the object is read with: an `S3Client` (typed structurally so that this package's types
 * do not require that optional peer).
 */
export interface SizedObjectSender {
  send(command: any, options?: { abortSignal?: AbortSignal }): Promise<any>;
}

/**
 * The object read: its bytes (exactly `size` of them, not yet hashed) with what a rewrite of
 * it keeps (`eTag`, `contentType`, `metadata`), or `ok: false` when its size is not `size`
 * (`bytes`: its size when the server said or it was read to its end; undefined when reading
 * stopped past `size`).
 */
export type SizedObject =
  | { ok: true; bytes: Uint8Array; eTag?: string; contentType?: string; metadata?: Record<string, string> }
  | { ok: false; bytes: number | undefined };

/**
 * GETs `bucket/key`, expecting `size` bytes (see the module comment for how more is refused).
 * @throws what the S3 client throws (a 404 for a missing object), except a 416 (the range starts
 *   past the end: the object is empty while `size` is not), which is a size mismatch.
 */
export async function readSizedObject(
  s3: SizedObjectSender,
  GetObjectCommand: new (input: any) => unknown,
  bucket: string,
  key: string,
  size: number,
  signal: AbortSignal | undefined,
): Promise<SizedObject> {
  let object: { Body?: unknown; ContentLength?: number; ContentRange?: string; ETag?: string; ContentType?: string; Metadata?: Record<string, string> };
  try {
    // `bytes=0--1` is no range: an empty object is asked for whole, and its length checked below.
    const range = size > 0 ? { Range: `bytes=0-${size - 1}` } : {};
    object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...range }), signal === undefined ? undefined : { abortSignal: signal });
  } catch (error) {
    if (httpStatus(error) === 416) return { ok: false, bytes: 0 };
    throw error;
  }
  const total = fullSize(object.ContentRange, object.ContentLength);
  if (total !== undefined && total !== size) {
    discard(object.Body);
    return { ok: false, bytes: total };
  }
  const bytes = await readAtMost(object.Body, size);
  if (bytes === undefined) return { ok: false, bytes: undefined };
  if (bytes.length !== size) return { ok: false, bytes: bytes.length };
  return { ok: true, bytes, eTag: object.ETag, contentType: object.ContentType, metadata: object.Metadata };
}

/** The HTTP status of an S3 client's error (`$metadata.httpStatusCode`), if it has one. */
function httpStatus(error: unknown): number | undefined {
  const status = (error as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

/** The object's full size: the total of `Content-Range` (`bytes a-b/total`), else `Content-Length`; undefined when neither says. */
function fullSize(contentRange: string | undefined, contentLength: number | undefined): number | undefined {
  if (typeof contentRange === 'string') {
    const total = /\/(\d+)\s*$/.exec(contentRange)?.[1];
    // `bytes a-b/*`: the total is unknown; the bounded read still guards.
    return total === undefined ? undefined : Number(total);
  }
  return typeof contentLength === 'number' ? contentLength : undefined;
}

/**
 * The body's bytes, or undefined as soon as more than `limit` arrived (the stream is then
 * destroyed: leaving a `for await` early closes a Node stream, and cancels a web one). A body
 * that is not a stream (a test double with only `transformToByteArray`) is read whole and
 * checked after.
 */
async function readAtMost(body: unknown, limit: number): Promise<Uint8Array | undefined> {
  if (body === undefined || body === null) return new Uint8Array(0);
  if (typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] !== 'function') {
    const whole = await (body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray();
    return whole.length > limit ? undefined : whole;
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    total += bytes.length;
    if (total > limit) return undefined;
    chunks.push(bytes);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
}

/** Drops a body that will not be read (its connection is freed instead of kept waiting). */
function discard(body: unknown): void {
  const stream = body as { destroy?: () => void; cancel?: () => Promise<void> } | null | undefined;
  if (typeof stream?.destroy === 'function') stream.destroy();
  else if (typeof stream?.cancel === 'function') stream.cancel().catch(() => undefined);
}
