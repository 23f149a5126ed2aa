/**
 * The consumer side of the claim check: a received message's original body — the S3 object a
 * pointer names (read bounded by the pointer's size, then its size and SHA-256 verified), a
 * base64 body decoded, or the body as received. Used by `resolveClaimCheck` (`@steadyfn/outbox/s3`)
 * and the inbox.
 */
import { ClaimCheckError } from './errors.js';
import { errorCode, httpStatus } from './classify.js';
import type { ClaimCheckPointer, ClaimCheckReader } from './claim-check.js';
import { CLAIM_CHECK_ATTRIBUTE, CONTENT_ENCODING_ATTRIBUTE, decodeSqsBody, readClaimCheckPointer, readSizedObject, sha256Hex } from '@steadyfn/lease/internal';

/** A received message in any of the shapes steadyfn sees one in. */
export type ReceivedMessage =
  /** `@steadyfn/handler`'s queue input: attributes as strings; `body` may already be parsed JSON. */
  | { body: unknown; attributes?: Readonly<Record<string, string>> }
  /** An `@aws-sdk/client-sqs` `ReceiveMessage` result entry. */
  | { Body?: string; MessageAttributes?: Readonly<Record<string, { StringValue?: string }>> }
  /** A record of a Lambda SQS event. */
  | { body: string; messageAttributes?: Readonly<Record<string, { stringValue?: string }>> };

/** The message attributes of `message`, in whichever shape it came (a Lambda record's `attributes` are system attributes, so `messageAttributes` is read first). */
function attributesOf(message: ReceivedMessage): Readonly<Record<string, unknown>> | undefined {
  if ('MessageAttributes' in message && message.MessageAttributes) return message.MessageAttributes;
  if ('messageAttributes' in message && message.messageAttributes) return message.messageAttributes;
  if ('attributes' in message && message.attributes) return message.attributes;
  return undefined;
}

function attributeOf(message: ReceivedMessage, name: string): string | undefined {
  const value = attributesOf(message)?.[name];
  if (typeof value === 'string') return value;
  const wrapped = value as { StringValue?: string; stringValue?: string } | undefined;
  return wrapped?.StringValue ?? wrapped?.stringValue;
}

function bodyOf(message: ReceivedMessage): unknown {
  return 'Body' in message ? message.Body : 'body' in message ? message.body : undefined;
}

/**
 * Reads a pointer body (a JSON string or, from the handler, the parsed object).
 * @throws {ClaimCheckError} `OUTBOX_SQS_CLAIM_CHECK_INVALID`: not JSON, or not a version-1 pointer
 */
export function parsePointer(body: unknown): ClaimCheckPointer {
  const read = readClaimCheckPointer(body);
  if (read.ok) return read.pointer;
  if (read.problem === 'not-json') throw new ClaimCheckError('OUTBOX_SQS_CLAIM_CHECK_INVALID', 'claim check: the pointer body is not JSON', 'pointer');
  throw new ClaimCheckError('OUTBOX_SQS_CLAIM_CHECK_INVALID', 'claim check: the pointer needs claimCheck 1, bucket, key, size (bytes) and sha256 (64 hex digits)', 'pointer');
}

/**
 * A claim-checked message read without a claim check: `OUTBOX_SQS_CLAIM_CHECK_NO_READER`, its own
 * code (the deployment is to be fixed and the dead-letter queue redriven — a malformed pointer,
 * `OUTBOX_SQS_CLAIM_CHECK_INVALID`, is the message's own fault), naming the reader's own option
 * (`field`: `s3` for `resolveClaimCheck`, `claimCheck` for the inbox) in the message and the log.
 */
export function missingClaimCheck(owner: string, field: string, wanted: string): ClaimCheckError {
  return new ClaimCheckError(
    'OUTBOX_SQS_CLAIM_CHECK_NO_READER',
    `${owner}(): option "${field}" is required for a claim-checked message (attribute ${CLAIM_CHECK_ATTRIBUTE}): ${wanted}`,
    'reader',
    { logFields: { field } },
  );
}

/** What a consumer's `ReceiveMessage` must ask for so that a claim-checked or base64 body can be told (the refusal's "expected"). */
export const RECEIVE_ATTRIBUTES = `MessageAttributeNames: ['${CLAIM_CHECK_ATTRIBUTE}', '${CONTENT_ENCODING_ATTRIBUTE}'] (or ['All'])`;

/**
 * A body that is a version-1 claim-check pointer on a message received with no message
 * attributes at all — what `ReceiveMessage` gives when it is not asked for any (the SDK's
 * default): `OUTBOX_SQS_CLAIM_CHECK_ATTRIBUTES_MISSING` (`kind: 'reader'`, 500 — the consumer's
 * receive is to be fixed, the message is sound), naming the attributes to ask for. Without them
 * the pointer would pass for the body, and a base64-encoded body would too.
 */
export function attributesNotReceived(): ClaimCheckError {
  return new ClaimCheckError(
    'OUTBOX_SQS_CLAIM_CHECK_ATTRIBUTES_MISSING',
    `claim check: the body is a claim-check pointer, but the message came without its attributes (attribute ${CLAIM_CHECK_ATTRIBUTE}); receive with ${RECEIVE_ATTRIBUTES}`,
    'reader',
    { logFields: { expected: RECEIVE_ATTRIBUTES } },
  );
}

/** Whether `body` is a pointer received with no message attributes at all (see {@link attributesNotReceived}). */
export function pointerWithoutAttributes(message: ReceivedMessage): boolean {
  const attributes = attributesOf(message);
  if (attributes !== undefined && Object.keys(attributes).length > 0) return false;
  const body = bodyOf(message);
  // Cheap before the parse: only a JSON object naming claimCheck can be a pointer.
  if (typeof body === 'string' ? !body.includes('"claimCheck"') : typeof body !== 'object' || body === null) return false;
  return readClaimCheckPointer(body).ok;
}

/**
 * A pointer naming a bucket that does not exist for the reader's S3 client (S3's `NoSuchBucket`,
 * a 404 like a missing key): `OUTBOX_SQS_CLAIM_CHECK_NO_BUCKET` (`kind: 'reader'`, 500, not
 * retryable: the same message fails the same way until the deployment is fixed, so it is kept for
 * the dead-letter queue), naming the bucket in the message and the log (`logFields.bucket`). The
 * bucket was deleted, or the client reaches another account, region or endpoint than the
 * producer's: a configuration fault, not an object a lifecycle rule expired.
 */
export function noSuchBucket(bucket: string, cause: unknown): ClaimCheckError {
  return new ClaimCheckError(
    'OUTBOX_SQS_CLAIM_CHECK_NO_BUCKET',
    `claim check: bucket "${bucket}" does not exist (NoSuchBucket) for the reader's S3 client: it was deleted, or the client reaches another account, region or endpoint than the producer's — fix the client (or the producer's bucket), then redrive the message`,
    'reader',
    { cause, logFields: { bucket } },
  );
}

/**
 * The original body of a received message (see `resolveClaimCheck` in `@steadyfn/outbox/s3`):
 * fetched through `reader` and verified when the message is a claim-check pointer, decoded when
 * it was base64-encoded, otherwise the body as received. The object is read bounded by the
 * pointer's `size` (packages/lease/src/claim-check-fetch.ts): a larger one is refused before its body is read.
 * `missing` is thrown for a claim-checked message when there is no reader.
 * @throws {ClaimCheckError} `OUTBOX_SQS_CLAIM_CHECK_MISMATCH` (size or SHA-256), `_MISSING`, `_INVALID`,
 *   `_ATTRIBUTES_MISSING` (a pointer body received without message attributes), `_NO_BUCKET` (the
 *   pointer's bucket does not exist for `reader`'s S3 client: {@link noSuchBucket})
 */
export async function readClaimChecked(message: ReceivedMessage, reader: ClaimCheckReader | undefined, signal: AbortSignal | undefined, missing: () => Error): Promise<string> {
  const body = bodyOf(message);
  if (attributeOf(message, CLAIM_CHECK_ATTRIBUTE) === undefined) {
    if (pointerWithoutAttributes(message)) throw attributesNotReceived();
    return decodeSqsBody(typeof body === 'string' ? body : JSON.stringify(body), attributeOf(message, CONTENT_ENCODING_ATTRIBUTE));
  }
  const pointer = parsePointer(body);
  if (reader === undefined) throw missing();
  const { GetObjectCommand } = await reader.commands();
  let read;
  try {
    read = await readSizedObject(reader.s3, GetObjectCommand, pointer.bucket, pointer.key, pointer.size, signal);
  } catch (error) {
    // Before the 404 (S3 answers both with one): a bucket gone is a configuration fault, no lost object.
    if (errorCode(error) === 'NoSuchBucket') throw noSuchBucket(pointer.bucket, error);
    if (httpStatus(error) === 404) throw new ClaimCheckError('OUTBOX_SQS_CLAIM_CHECK_MISSING', `claim check: object ${pointer.key} is missing`, 'object', { cause: error });
    throw error;
  }
  if (!read.ok) {
    const has = read.bytes === undefined ? `more than ${pointer.size} bytes` : `${read.bytes} bytes`;
    throw new ClaimCheckError('OUTBOX_SQS_CLAIM_CHECK_MISMATCH', `claim check: object ${pointer.key} has ${has}, the pointer says ${pointer.size}`, 'object');
  }
  if (sha256Hex(read.bytes) !== pointer.sha256) {
    throw new ClaimCheckError('OUTBOX_SQS_CLAIM_CHECK_MISMATCH', `claim check: object ${pointer.key} does not match the pointer's SHA-256`, 'object');
  }
  return Buffer.from(read.bytes.buffer, read.bytes.byteOffset, read.bytes.byteLength).toString('utf8');
}
