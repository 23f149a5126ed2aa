/**
 * The body of an SQS message as its producer wrote it. `@steadyfn/outbox`'s `sqsSender` sends
 * some messages otherwise than as their body: too large for the queue (or over its claim-check
 * `thresholdBytes`), the body goes to S3 and the message carries a pointer
 * `{"claimCheck":1,"bucket","key","size","sha256"}` with attribute `steadyfn.claimCheck`; a body
 * holding characters SQS refuses goes base64-encoded with `steadyfn.contentEncoding: base64`.
 * This module undoes both, as the outbox's inbox does (`readClaimChecked` in
 * packages/outbox/src/sqs/claim-check.ts): the object is fetched and checked against the
 * pointer's size and SHA-256 before it is archived. The wire format itself (pointer, verify,
 * base64) and the object's read are the one module both use, `@steadyfn/lease/internal`
 * (packages/lease/src/claim-check-pointer.ts, claim-check-fetch.ts): the object is read no
 * further than the pointer's `size` (a ranged GET, its total size checked before the body, a
 * body cut past `size`), so a forged pointer or a swapped huge object costs a backup run no
 * more memory than the pointer claims. This module only makes the backup's errors of it.
 * No `@steadyfn/outbox` import (backup does not depend on it): the reader is taken structurally.
 */
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { CLAIM_CHECK_ATTRIBUTE as POINTER_ATTRIBUTE, CONTENT_ENCODING_ATTRIBUTE as ENCODING_ATTRIBUTE, claimCheckMismatch, decodeSqsBody, readClaimCheckPointer, readSizedObject } from '@steadyfn/lease/internal';
import { BackupError, sourceErrorOf, type BackupProblem } from '../../errors.js';
import { isNotFound, type S3Sender } from '../../s3/client.js';
import { isNoSuchBucket } from '../../s3/missing-bucket.js';

/** Message attribute marking a claim-check pointer body (`@steadyfn/outbox`'s `CLAIM_CHECK_ATTRIBUTE`). */
export const CLAIM_CHECK_ATTRIBUTE = POINTER_ATTRIBUTE;
/** Message attribute marking a base64-encoded body (`@steadyfn/outbox`'s `CONTENT_ENCODING_ATTRIBUTE`). */
export const CONTENT_ENCODING_ATTRIBUTE = ENCODING_ATTRIBUTE;

/**
 * Reads claim-checked bodies for `sqsSource({ claimCheck })`. `s3ClaimCheck({ s3 })` from
 * `@steadyfn/outbox/s3` is one (the reader the outbox's inbox takes); so is a plain `{ s3 }`.
 */
export interface SqsClaimCheckReader {
  /** An `S3Client` that can read the producer's claim-check bucket (each pointer names its bucket and key). */
  readonly s3: S3Sender;
  /**
   * Gives the `GetObjectCommand` to send with `s3` (`s3ClaimCheck()`'s loads the producer's
   * `@aws-sdk/client-s3`). @default this package's `@aws-sdk/client-s3`
   */
  readonly commands?: () => Promise<{ GetObjectCommand: new (input: any) => unknown }>;
}

/** The stable codes of {@link SqsClaimCheckError}. */
export type SqsClaimCheckCode =
  | 'BACKUP_SQS_CLAIM_CHECK_NO_READER'
  | 'BACKUP_SQS_CLAIM_CHECK_INVALID'
  | 'BACKUP_SQS_CLAIM_CHECK_MISSING'
  | 'BACKUP_SQS_CLAIM_CHECK_NO_BUCKET'
  | 'BACKUP_SQS_CLAIM_CHECK_MISMATCH';

/**
 * A claim-checked SQS message `sqsSource` could not archive; not retryable as is. Codes:
 * `BACKUP_SQS_CLAIM_CHECK_NO_READER` — the source has no `claimCheck` option (`field` names it,
 * `expected` says what to pass): fix the deployment, then redrive the dead-letter queue;
 * `BACKUP_SQS_CLAIM_CHECK_INVALID` — the pointer body is malformed; `BACKUP_SQS_CLAIM_CHECK_MISSING`
 * — the object is gone (expired by a lifecycle rule?); `BACKUP_SQS_CLAIM_CHECK_NO_BUCKET` — the
 * bucket the pointer names does not exist for the reader's client (`NoSuchBucket`: deleted, or
 * the client reaches another account, region or endpoint than the producer's — a configuration
 * error, not a lost object); `BACKUP_SQS_CLAIM_CHECK_MISMATCH` — its
 * size or SHA-256 is not the pointer's. Such a message is left on the queue while the rest of
 * its batch is archived (see `sqsSource`); `problems` lists each message left (its position:
 * sent time and message id), never a body.
 */
export class SqsClaimCheckError extends BackupError {
  override readonly name = 'SqsClaimCheckError';
  declare readonly code: SqsClaimCheckCode;
  /** The option at fault (`claimCheck`), for `BACKUP_SQS_CLAIM_CHECK_NO_READER`. */
  readonly field?: string;
  /** What that option must be. */
  readonly expected?: string;
  constructor(code: SqsClaimCheckCode, message: string, options: { problems?: BackupProblem[]; field?: string; expected?: string } = {}) {
    super(code, message, { problems: options.problems ?? [] });
    if (options.field !== undefined) this.field = options.field;
    if (options.expected !== undefined) this.expected = options.expected;
  }
}

/** What `claimCheck` must be (the NO_READER error's `expected`). */
export const READER_EXPECTED = "s3ClaimCheck({ s3 }) from '@steadyfn/outbox/s3' (or { s3 }), with an S3Client that reads the producer's claim-check bucket";

/** A received message whose body could not be read: the error to throw, built with every such message of the run as `problems`. */
export interface Unreadable {
  code: string;
  reason: string;
  error: (problems: BackupProblem[]) => BackupError;
}

/** A message read, or why not. */
export type ReadBody = { ok: true; text: string } | ({ ok: false } & Unreadable);

function claimCheckFailure(code: SqsClaimCheckCode, reason: string, extra: { field?: string; expected?: string } = {}): ReadBody {
  const message = `sqsSource(): ${reason}; the message was left on the queue and the rest of its batch archived`;
  return { ok: false, code, reason, error: (problems) => new SqsClaimCheckError(code, message, { problems, ...extra }) };
}

/**
 * The body of a received message as its producer wrote it (UTF-8 text): fetched through
 * `reader` and verified when the message is a claim-check pointer, decoded when base64-encoded,
 * else the body as received. Never throws for the message's sake: what cannot be read comes back
 * as `ok: false` with the error to throw (an S3 read that failed otherwise than 404 is the
 * source's `SourceReadError`, retryable).
 */
export async function readSqsBody(
  message: { Body?: string; MessageAttributes?: Record<string, { StringValue?: string }> },
  reader: SqsClaimCheckReader | undefined,
  signal: AbortSignal | undefined,
): Promise<ReadBody> {
  const body = message.Body ?? '';
  const attribute = (name: string): string | undefined => message.MessageAttributes?.[name]?.StringValue;
  if (attribute(CLAIM_CHECK_ATTRIBUTE) === undefined) {
    return { ok: true, text: decodeSqsBody(body, attribute(CONTENT_ENCODING_ATTRIBUTE)) };
  }
  const read = readClaimCheckPointer(body);
  if (!read.ok) return claimCheckFailure('BACKUP_SQS_CLAIM_CHECK_INVALID', 'a claim-check pointer needs claimCheck 1, bucket, key, size (bytes) and sha256 (64 hex digits)');
  if (reader === undefined) {
    return claimCheckFailure('BACKUP_SQS_CLAIM_CHECK_NO_READER', `option "claimCheck" is required to archive a claim-checked message (attribute ${CLAIM_CHECK_ATTRIBUTE}): pass ${READER_EXPECTED}`, { field: 'claimCheck', expected: READER_EXPECTED });
  }
  const { pointer } = read;
  let stored: Uint8Array;
  try {
    const Get = reader.commands ? (await reader.commands()).GetObjectCommand : GetObjectCommand;
    const object = await readSizedObject(reader.s3, Get, pointer.bucket, pointer.key, pointer.size, signal);
    if (!object.ok) return sizeMismatch(pointer, object.bytes);
    stored = object.bytes;
  } catch (error) {
    if (signal?.aborted) throw signal.reason ?? error;
    // Before isNotFound (S3 answers both with a 404): a bucket gone is no object a lifecycle rule expired.
    if (isNoSuchBucket(error)) return claimCheckFailure('BACKUP_SQS_CLAIM_CHECK_NO_BUCKET', noBucketReason(pointer.bucket));
    if (isNotFound(error)) return claimCheckFailure('BACKUP_SQS_CLAIM_CHECK_MISSING', `claim-check object ${pointer.key} is missing (a lifecycle rule shorter than the queue's retention?)`);
    const failed = sourceErrorOf(error, `sqsSource: reading claim-check object ${pointer.key}`);
    return { ok: false, code: failed.code, reason: 'reading the claim-check object failed', error: () => failed };
  }
  const mismatch = claimCheckMismatch(stored, pointer);
  if (mismatch?.problem === 'size') return sizeMismatch(pointer, mismatch.bytes);
  if (mismatch?.problem === 'sha256') return claimCheckFailure('BACKUP_SQS_CLAIM_CHECK_MISMATCH', `claim-check object ${pointer.key} does not match the pointer's SHA-256`);
  return { ok: true, text: Buffer.from(stored).toString('utf8') };
}

/** Why a pointer's bucket cannot be read: it does not exist for the reader's S3 client. */
function noBucketReason(bucket: string): string {
  return `claim-check bucket "${bucket}" does not exist (NoSuchBucket) for the claimCheck reader's S3 client: it was deleted, or the client reaches another account, region or endpoint than the producer's — fix the claimCheck option's client (or the producer's bucket), then redrive the message`;
}

/** An object whose size is not the pointer's (`bytes` undefined: reading stopped past the pointer's size). */
function sizeMismatch(pointer: { key: string; size: number }, bytes: number | undefined): ReadBody {
  const has = bytes === undefined ? `more than ${pointer.size} bytes` : `${bytes} bytes`;
  return claimCheckFailure('BACKUP_SQS_CLAIM_CHECK_MISMATCH', `claim-check object ${pointer.key} has ${has}, the pointer says ${pointer.size}`);
}
