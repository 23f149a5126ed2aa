/**
 * `@steadyfn/outbox/s3`: the S3 claim check — `s3ClaimCheck()` for `sqsSender()`'s
 * `claimCheck` and the inbox's `claimCheck`, and `resolveClaimCheck()` for a consumer of your
 * own. Its own entry so that only a function that uses it reaches `@aws-sdk/client-s3` (an
 * optional peer, loaded on first use): a bundle of the root `@steadyfn/outbox` needs no S3 SDK
 * installed and no `--external` flag.
 *
 * @packageDocumentation
 */
import { awsClientOption, checkKnownKeys, invalidOption, isRecord, keysOf } from '@steadyfn/handler/internal';
import {
  checkClaimCheckFields,
  missingClaimCheck,
  readClaimChecked,
  type ClaimCheck,
  type ClaimCheckOptions,
  type ClaimCheckReader,
  type ReceivedMessage,
  type S3ClaimCheckCommands,
  type S3Sender,
} from './sqs/claim-check.js';

export type { ClaimCheck, ClaimCheckOptions, ClaimCheckReader, S3ClaimCheckCommands } from './sqs/claim-check.js';

let sdk: Promise<S3ClaimCheckCommands> | undefined;
/** `@aws-sdk/client-s3`, loaded on the first claim check stored or read (not when this entry loads). */
const commands = (): Promise<S3ClaimCheckCommands> => (sdk ??= import('@aws-sdk/client-s3'));

const CLAIM_CHECK_KEYS = keysOf<ClaimCheckOptions>({ s3: true, bucket: true, prefix: true, thresholdBytes: true });

/**
 * An S3 claim check: messages too large for the queue are stored in `bucket` (written with
 * `If-None-Match: *`; a retry adopts an object with the same bytes, refuses one that differs)
 * and the SQS message carries a pointer (bucket, key, size, SHA-256) that the consumer verifies.
 * Give it to `sqsSender({ claimCheck })`; give `s3ClaimCheck({ s3 })` (no bucket: each pointer
 * names its own) to `inbox({ claimCheck })` to read claim-checked bodies.
 *
 * @param options.s3 - An `S3Client` from `@aws-sdk/client-s3` (cached by `@steadyfn/connections` or your own).
 * @param options.bucket - Where objects are stored; required by `sqsSender()`.
 * @param options.prefix - Key prefix (key = prefix + message id; prefix + the id's SHA-256 in hex
 *   when that would pass S3's 1024-byte key limit), at most 960 bytes (UTF-8). @default 'claims/'
 * @param options.thresholdBytes - Store every message larger than this. @default the queue's `MaximumMessageSize`
 * @returns A claim check (its `commands` load `@aws-sdk/client-s3` on first use).
 * @throws {ConfigurationError} `CONFIG_INVALID` naming the option: options that are not an object
 *   (field `options`), an unknown key, an `s3` that is not an S3 client (an `SQSClient`), a bucket
 *   S3 does not accept, a `prefix` that is not a string or is over 960 bytes, a `thresholdBytes` out of 0–1 MiB.
 * @example
 * import { S3Client } from '@aws-sdk/client-s3';
 * import { sqsSender } from '@steadyfn/outbox/sqs';
 * import { s3ClaimCheck } from '@steadyfn/outbox/s3';
 *
 * const sender = sqsSender({ client: sqs, queueUrl, claimCheck: s3ClaimCheck({ s3: new S3Client({}), bucket: 'events-large' }) });
 */
export function s3ClaimCheck(options: ClaimCheckOptions): ClaimCheck;
/**
 * A claim check that only reads (the inbox's `claimCheck`): no bucket — each pointer names its
 * own — so nothing is stored, and `prefix` / `thresholdBytes` (which only say how to store) are
 * refused.
 *
 * @param options.s3 - An `S3Client` from `@aws-sdk/client-s3` that reads the producer's claim-check bucket.
 * @returns A claim-check reader (its `commands` load `@aws-sdk/client-s3` on first use).
 * @throws {ConfigurationError} `CONFIG_INVALID` naming the option: options that are not an object
 *   (field `options`), an unknown key, an `s3` that is not an S3 client, a `prefix` or
 *   `thresholdBytes` without `bucket`.
 * @example
 * import { S3Client } from '@aws-sdk/client-s3';
 * import { inbox } from '@steadyfn/outbox';
 * import { s3ClaimCheck } from '@steadyfn/outbox/s3';
 *
 * const reading = inbox({ store, consumer: 'billing', claimCheck: s3ClaimCheck({ s3: new S3Client({}) }) });
 */
export function s3ClaimCheck(options: { s3: S3Sender }): ClaimCheckReader;
export function s3ClaimCheck(options: Omit<ClaimCheckOptions, 'bucket'> & { bucket?: string }): ClaimCheckReader {
  if (!isRecord(options)) invalidOption('s3ClaimCheck', 'options', 'an object { s3, bucket?, prefix?, thresholdBytes? }', options);
  checkKnownKeys('s3ClaimCheck', '', options, CLAIM_CHECK_KEYS);
  checkClaimCheckFields('s3ClaimCheck', '', options, true);
  if (options.bucket === undefined) {
    // Without a bucket nothing is stored: a prefix or a threshold would be silently ignored.
    for (const field of ['prefix', 'thresholdBytes'] as const) {
      if (options[field] !== undefined) invalidOption('s3ClaimCheck', field, 'left out without "bucket": a claim check without a bucket only reads (each pointer names its own key); give "bucket" to store', options[field]);
    }
  }
  return { ...options, commands };
}

const RESOLVE_KEYS = keysOf<{ s3?: S3Sender; signal?: AbortSignal }>({ s3: true, signal: true });

/**
 * The original body of a received message: fetched from S3 and verified when the message is a
 * claim-check pointer (attribute `steadyfn.claimCheck`), decoded when it was base64-encoded
 * (attribute `steadyfn.contentEncoding` = `base64`), otherwise the body as received. The object
 * is read no further than the pointer's `size` (a ranged GET; its full size checked before its
 * body is read; the body read as a stream that stops past `size`): a larger object is refused,
 * never loaded.
 *
 * Both attributes must reach it: an `@aws-sdk/client-sqs` `ReceiveMessage` returns no message
 * attributes unless asked, so receive with
 * `MessageAttributeNames: ['steadyfn.claimCheck', 'steadyfn.contentEncoding']` (or `['All']`).
 * A Lambda SQS event always carries them. A pointer body that arrives with no message attributes
 * at all is refused (`OUTBOX_SQS_CLAIM_CHECK_ATTRIBUTES_MISSING`) rather than returned as the
 * body; a base64 body without its attribute cannot be told and is returned as received.
 *
 * @param message - The message as `@steadyfn/handler` (body + string attributes), the SQS SDK
 *   (`Body`, `MessageAttributes`) or a Lambda SQS event record (`body`, `messageAttributes`) gives it.
 * @param options.s3 - Client for the claim-check bucket; needed only for claim-check messages.
 * @param options.signal - Aborts the S3 read (e.g. `ctx.signal`).
 * @returns The body as the producer passed it to `send()`.
 * @throws {ClaimCheckError} `OUTBOX_SQS_CLAIM_CHECK_MISMATCH` when the object's size or SHA-256
 *   differ from the pointer's (a larger object without reading it), `OUTBOX_SQS_CLAIM_CHECK_MISSING` when it is gone (`kind: 'object'`,
 *   status 500), `OUTBOX_SQS_CLAIM_CHECK_INVALID` for a malformed pointer (`kind: 'pointer'`, 400),
 *   `OUTBOX_SQS_CLAIM_CHECK_NO_READER` for a missing `s3` client (`kind: 'reader'`, 500, logged
 *   with `field: 's3'`: the deployment's fault, not the message's), `OUTBOX_SQS_CLAIM_CHECK_ATTRIBUTES_MISSING`
 *   for a pointer body received without message attributes (`kind: 'reader'`, 500; the message
 *   names the `MessageAttributeNames` to receive with), `OUTBOX_SQS_CLAIM_CHECK_NO_BUCKET` when the
 *   pointer's bucket does not exist for `s3` (S3's `NoSuchBucket`: `kind: 'reader'`, 500, the bucket
 *   named in the message and logged as `bucket` — fix the client or the producer's bucket, then redrive).
 * @throws {ConfigurationError} `CONFIG_INVALID` when `options` is not an object (field `options`), `s3` is a client of
 *   another AWS service (an `SQSClient`), or for an unknown option key.
 * @example
 * import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
 * import { resolveClaimCheck } from '@steadyfn/outbox/s3';
 * const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MessageAttributeNames: ['steadyfn.claimCheck', 'steadyfn.contentEncoding'] }));
 * for (const message of Messages) console.log(await resolveClaimCheck(message, { s3 }));
 */
export async function resolveClaimCheck(message: ReceivedMessage, options: { s3?: S3Sender; signal?: AbortSignal } = {}): Promise<string> {
  if (!isRecord(options)) invalidOption('resolveClaimCheck', 'options', 'an object { s3?, signal? }', options);
  checkKnownKeys('resolveClaimCheck', '', options, RESOLVE_KEYS);
  if (options.s3 !== undefined) awsClientOption('resolveClaimCheck', 's3', options.s3, 'S3', 'an S3Client from @aws-sdk/client-s3');
  const reader = options.s3 === undefined ? undefined : { s3: options.s3, commands };
  return readClaimChecked(message, reader, options.signal, () =>
    missingClaimCheck('resolveClaimCheck', 's3', "an S3Client that reads the producer's claim-check bucket"),
  );
}
