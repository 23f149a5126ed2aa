/**
 * A request body none of the Functions Framework's parsers read. The framework's body parsers
 * are chosen by content type, and a request without a `Content-Type` matches none: `req.body`
 * stays `{}`, there is no `rawBody`, and the bytes are still unread in the request stream
 * (functions-framework-nodejs#99). They are read here, so the function gets them.
 */
import type { Readable } from 'node:stream';
import { MalformedEventError } from '../errors.js';
import { isRecord as isRec, type Rec } from '../internal/record.js';

/**
 * The most bytes read from a body no parser took: 32 MiB, the HTTP request size Cloud Functions
 * and Cloud Run accept (the framework's parsers themselves allow up to 1024 MB, as the platform
 * limits requests before they arrive).
 */
export const UNREAD_BODY_LIMIT_BYTES = 32 * 1024 * 1024;

/**
 * The bytes of a request body no parser read, or `undefined` when a parser read it (`rawBody`,
 * or body-parser's `_body` mark), the stream was already consumed, or no body was announced
 * (no `Content-Length` above 0 and no `Transfer-Encoding`).
 * @throws MalformedEventError (400, field `body`) when the body exceeds `UNREAD_BODY_LIMIT_BYTES`.
 */
export async function readUnparsedBody(req: Rec): Promise<Buffer | undefined> {
  if (Buffer.isBuffer(req.rawBody) || req._body === true) return undefined;
  const stream = req as unknown as Partial<Readable>;
  if (typeof stream[Symbol.asyncIterator] !== 'function' || stream.readableEnded === true || stream.readable === false) return undefined;
  const headers = isRec(req.headers) ? req.headers : {};
  const length = typeof headers['content-length'] === 'string' ? Number(headers['content-length']) : undefined;
  if (headers['transfer-encoding'] === undefined && !(length !== undefined && length > 0)) return undefined;
  if (length !== undefined && length > UNREAD_BODY_LIMIT_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as Readable) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    size += bytes.length;
    if (size > UNREAD_BODY_LIMIT_BYTES) throw tooLarge();
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}

function tooLarge(): MalformedEventError {
  return new MalformedEventError('Request body too large', [{ field: 'body', message: 'Too large', expected: `at most ${UNREAD_BODY_LIMIT_BYTES} bytes` }]);
}
