/**
 * Claim check: a message too large for its queue is stored in S3 and the SQS message carries a
 * small pointer (bucket, key, size, SHA-256) instead. This module loads no S3 SDK: the commands
 * come with the claim check, made by `s3ClaimCheck()` in `@steadyfn/outbox/s3` (src/s3.ts). The object is written with
 * `If-None-Match: *`, so a retry never overwrites: it adopts an existing object only when its
 * bytes hash the same (and writes them again over it, restarting its age), and refuses one that
 * differs. The consumer verifies size and hash (claim-check-read.ts), reading no more than the
 * pointer's size (`readSizedObject`, packages/lease/src/claim-check-fetch.ts).
 * (S3 conditional writes: PutObject `If-None-Match`; 412 Precondition Failed when the key exists.)
 */
import { createHash } from 'node:crypto';
import { errorCode, httpStatus } from './classify.js';
import { awsClientOption, ConfigurationError, intOption, invalidOption, s3BucketOption, serviceIdOf } from '@steadyfn/handler/internal';
import { SERVICE_MAX_MESSAGE_BYTES } from './limits.js';
import { hasLoneSurrogate } from './chars.js';
// The wire format (pointer, verify, base64) and the bounded object read are in one place, shared
// with @steadyfn/backup.
import {
  CLAIM_CHECK_ATTRIBUTE as POINTER_ATTRIBUTE,
  CONTENT_ENCODING_ATTRIBUTE as ENCODING_ATTRIBUTE,
  readSizedObject,
  sha256Hex,
} from '@steadyfn/lease/internal';

/** S3's longest object key, in bytes of its UTF-8 encoding (S3 user guide, "Naming objects"). */
export const S3_MAX_KEY_BYTES = 1024;
/** Bytes of a SHA-256 in lowercase hex: what stands for a message id too long for the key. */
const HASHED_ID_BYTES = 64;
/** The longest claim-check `prefix`, in UTF-8 bytes: what leaves room in an S3 key for a hashed message id. */
export const MAX_CLAIM_CHECK_PREFIX_BYTES = S3_MAX_KEY_BYTES - HASHED_ID_BYTES;

/**
 * The S3 key of message `id`'s claim-check object: `prefix + id`, or, when that is over S3's
 * 1024-byte limit, `prefix` + the id's SHA-256 (lowercase hex) — never over the limit for a
 * prefix of at most {@link MAX_CLAIM_CHECK_PREFIX_BYTES} bytes (checked at options time). The
 * same id always gives the same key, so a retry finds (and adopts) the object it stored.
 */
export function claimCheckKey(prefix: string, id: string): string {
  const key = prefix + id;
  return Buffer.byteLength(key, 'utf8') <= S3_MAX_KEY_BYTES ? key : prefix + sha256Hex(Buffer.from(id, 'utf8'));
}

/** Message attribute that marks a claim-check pointer body; its value is the pointer format version. */
export const CLAIM_CHECK_ATTRIBUTE = POINTER_ATTRIBUTE;
/** Message attribute that marks a base64-encoded body (a body with characters SQS refuses). */
export const CONTENT_ENCODING_ATTRIBUTE = ENCODING_ATTRIBUTE;

/**
 * What the claim check needs of an S3 client: an `S3Client` from `@aws-sdk/client-s3` fits
 * (typed structurally so the package's types do not require that optional peer).
 */
export interface S3Sender {
  send(command: any, options?: { abortSignal?: AbortSignal }): Promise<any>;
}

/**
 * The pointer a claim-check message carries as its body (JSON, version 1):
 * `{"claimCheck":1,"bucket":"…","key":"claims/<id>","size":123456,"sha256":"<64 hex>"}`.
 */
export interface ClaimCheckPointer {
  bucket: string;
  key: string;
  /** Bytes of the stored body (its UTF-8 encoding). */
  size: number;
  /** SHA-256 of the stored bytes, lowercase hex. */
  sha256: string;
}

/**
 * Where claim-check objects go: the options of `s3ClaimCheck()` (`@steadyfn/outbox/s3`) when it
 * makes a claim check for `sqsSender()`.
 */
export interface ClaimCheckOptions {
  /**
   * An S3 client (cached by `@steadyfn/connections` or your own). A client of another AWS
   * service — an `SQSClient` has a `send` too — is refused up front (`ConfigurationError`,
   * field `s3`), read from its `config.serviceId`; an object with `send` that names
   * no service (a test double) is accepted.
   */
  s3: S3Sender;
  /**
   * Bucket; give it a lifecycle expiration longer than the longest an event can wait after its
   * send: the queue's retention plus its DLQ's. An object
   * is stored on an event's first send attempt; a later attempt (after an outage, or a quarantined
   * event redriven weeks later) writes the same bytes over it, so its age counts from the last send.
   * An S3 bucket name under S3's current rule (3-63 characters of a-z 0-9 . -, starting and
   * ending with a letter or digit, no `..`, not an IP address; directory buckets and access point
   * aliases are such names), or an access point ARN: `arn:<partition>:s3:<region>:<account>:accesspoint/<name>`,
   * a Multi-Region Access Point `arn:<partition>:s3::<account>:accesspoint/<alias>.mrap`, or an
   * S3 on Outposts access point (`arn:<partition>:s3-outposts:…:outpost/<op-…>/accesspoint/<name>`),
   * partition `aws`, `aws-cn` or `aws-us-gov`. Anything else is refused (`CONFIG_INVALID`,
   * field `bucket`) — legacy us-east-1 names from before March 2018 with capitals or `_`
   * included. Required by `sqsSender()`; a claim check that only reads (the inbox's) has none:
   * each pointer names its bucket.
   */
  bucket: string;
  /**
   * Key prefix; the key is prefix + message id, exactly: S3 keys are plain strings, so a
   * leading `/` or a `//` is kept, not normalised (`/claims//` and `claims/` name different
   * objects), and the pointer names the key as written. Some other SDKs (the AWS SDK for Go v1)
   * strip such slashes: with consumers outside `@steadyfn/outbox`, prefer a prefix without them.
   * S3 keys are at most 1024 bytes (UTF-8): when prefix + id would be longer, the key is prefix +
   * the id's SHA-256 (64 lowercase hex digits), the same for every retry. A prefix over 960 bytes
   * (UTF-8) leaves no room for that and is refused (`CONFIG_INVALID`, field `prefix`), as is
   * one holding a lone surrogate (no UTF-8 encoding, so no S3 key).
   * @default 'claims/'
   */
  prefix?: string;
  /**
   * Store in S3 every message whose size (body + attributes, as SQS counts it) exceeds this,
   * even when the queue would take it; `0` stores every message (no payload on the queue).
   * @default the queue's `MaximumMessageSize`
   */
  thresholdBytes?: number;
}

/**
 * The two commands of `@aws-sdk/client-s3` a claim check sends, handed in by `s3ClaimCheck()`
 * (`@steadyfn/outbox/s3`) so that the root entry never loads the S3 SDK. Typed structurally:
 * the package's types import no SDK.
 */
export interface S3ClaimCheckCommands {
  GetObjectCommand: new (input: any) => unknown;
  PutObjectCommand: new (input: any) => unknown;
}

/**
 * A claim check that reads claim-checked bodies (the `inbox`'s `claimCheck` option): made by
 * `s3ClaimCheck({ s3 })` from `@steadyfn/outbox/s3`.
 */
export interface ClaimCheckReader {
  /** The S3 client the objects are read (and written) with. */
  readonly s3: S3Sender;
  /** Loads the S3 SDK's commands (`@aws-sdk/client-s3`, on first use). */
  readonly commands: () => Promise<S3ClaimCheckCommands>;
}

/**
 * A claim check that stores large messages in S3 (`sqsSender()`'s `claimCheck` option), and
 * reads them back: made by `s3ClaimCheck({ s3, bucket, prefix?, thresholdBytes? })` from
 * `@steadyfn/outbox/s3`.
 */
export interface ClaimCheck extends ClaimCheckReader {
  readonly bucket: string;
  readonly prefix?: string;
  readonly thresholdBytes?: number;
}

/**
 * The error for a claim check given the way of the unreleased development versions (a plain
 * `{ s3, bucket }`, or the inbox's `s3`): it names the new call and its import. `use` is what to write instead, e.g.
 * `s3ClaimCheck({ s3, bucket })`.
 */
export function claimCheckFromSubpath(owner: string, field: string, use: string, got: unknown): never {
  const seen = describeClaimCheck(got, use);
  throw new ConfigurationError(
    `${owner}(): option "${field}" is replaced by ${use}, with s3ClaimCheck imported from '@steadyfn/outbox/s3' (the root entry loads no @aws-sdk/client-s3, so a bundle without S3 needs none); got ${seen}`,
    { field, expected: `${use} (import { s3ClaimCheck } from '@steadyfn/outbox/s3')` },
  );
}

/** What arrived where a claim check belongs, in words (never its values). */
function describeClaimCheck(got: unknown, use: string): string {
  if (got === null) return 'null';
  if (Array.isArray(got)) return 'an array';
  if (typeof got !== 'object') return typeof got;
  const value = got as { send?: unknown; s3?: unknown; commands?: unknown };
  if (typeof value.send === 'function') {
    const service = serviceIdOf(got);
    if (service === undefined || service === 'S3') return `an S3 client itself: wrap it, ${use.slice(use.indexOf(':') + 1).trim()}`;
    return `a client for ${service} (its config.serviceId is "${service}"), not a claim check`;
  }
  const s3 = value.s3 === null ? 'null' : typeof value.s3;
  // isClaimCheckReader() failed with commands a function: s3 is not an object.
  if (typeof value.commands === 'function') return `an object with commands whose "s3" is ${s3 === 'undefined' ? 'missing' : s3 === 'null' ? 'null' : `a ${s3}`}, not an S3Client`;
  if (value.commands !== undefined) return `an object whose "commands" is not a function`;
  if (value.s3 === undefined) return 'an object without s3 or commands';
  return 'an object with s3 but without commands (a plain { s3, ... }, not made by s3ClaimCheck)';
}

/** What a claim-check `prefix` must be (the refusal's "expected"). */
const PREFIX_EXPECTED = `a string of at most ${MAX_CLAIM_CHECK_PREFIX_BYTES} bytes (UTF-8)`;
/** What a claim-check `prefix` holding a lone surrogate must be instead (the refusal's "expected"). */
const PREFIX_WELL_FORMED = 'a well-formed string: no lone surrogate (S3 object keys are UTF-8)';

/**
 * Checks a claim check's fields (`s3`, `bucket` unless `bucket` is optional, `prefix`,
 * `thresholdBytes`), naming each as `<at><field>`: `s3ClaimCheck()` checks its options with `at`
 * `''`, `sqsSender()` its `claimCheck` with `'claimCheck.'`.
 * @throws {ConfigurationError} `CONFIG_INVALID` naming the field (a `prefix` over
 *   {@link MAX_CLAIM_CHECK_PREFIX_BYTES} bytes included, and one holding a lone surrogate,
 *   U+D800–U+DFFF unpaired: it has no UTF-8 encoding, and an S3 key is UTF-8 — the SDK would
 *   send U+FFFD in its place, so the object would land under another key than the pointer names).
 */
export function checkClaimCheckFields(owner: string, at: string, claim: Partial<ClaimCheckOptions>, bucketOptional: boolean): void {
  awsClientOption(owner, `${at}s3`, claim.s3, 'S3', 'an S3Client from @aws-sdk/client-s3');
  if (!bucketOptional || claim.bucket !== undefined) s3BucketOption(owner, `${at}bucket`, claim.bucket, { accessPoints: true });
  if (claim.prefix !== undefined && typeof claim.prefix !== 'string') invalidOption(owner, `${at}prefix`, PREFIX_EXPECTED, claim.prefix);
  if (typeof claim.prefix === 'string' && hasLoneSurrogate(claim.prefix)) {
    // Not quoted either, nor the position: only that it is there.
    throw new ConfigurationError(`${owner}(): option "${at}prefix" must be ${PREFIX_WELL_FORMED}; got a string holding one`, { field: `${at}prefix`, expected: PREFIX_WELL_FORMED });
  }
  const prefixBytes = typeof claim.prefix === 'string' ? Buffer.byteLength(claim.prefix, 'utf8') : 0;
  if (prefixBytes > MAX_CLAIM_CHECK_PREFIX_BYTES) {
    // The value is not quoted: a key prefix may carry a tenant or path the log should not.
    throw new ConfigurationError(
      `${owner}(): option "${at}prefix" must be ${PREFIX_EXPECTED}; got a string of ${prefixBytes} bytes (S3 keys are at most ${S3_MAX_KEY_BYTES} bytes, and the key is the prefix + the message id or its ${HASHED_ID_BYTES}-character SHA-256)`,
      { field: `${at}prefix`, expected: PREFIX_EXPECTED },
    );
  }
  intOption(owner, `${at}thresholdBytes`, claim.thresholdBytes, 0, 0, SERVICE_MAX_MESSAGE_BYTES);
}

/** `value` is a claim check made by `s3ClaimCheck()` (or one with the same shape). */
export function isClaimCheckReader(value: unknown): value is ClaimCheckReader {
  return typeof value === 'object' && value !== null && typeof (value as ClaimCheckReader).commands === 'function' && typeof (value as ClaimCheckReader).s3 === 'object';
}


/** The pointer body, as sent. */
export function pointerBody(pointer: ClaimCheckPointer): string {
  return JSON.stringify({ claimCheck: 1, bucket: pointer.bucket, key: pointer.key, size: pointer.size, sha256: pointer.sha256 });
}

/** Outcome of storing one claim-check object. */
export type StoreOutcome = { ok: true; pointer: ClaimCheckPointer; adopted: boolean } | { ok: false; conflict: boolean; code: string; retryable: boolean };

/**
 * Writes `body` (UTF-8) to `bucket/key` unless the key exists. When it exists, reads it back
 * (at most `body`'s size: a larger object is refused unread, lease's claim-check-fetch.ts): identical
 * bytes are adopted (a retry after a crash), different bytes are a conflict. An adopted object
 * is written again with the same bytes, content type, metadata and SHA-256 checksum, so that its
 * age — what a lifecycle expiration counts — starts again from this send: an event that sat
 * pending for weeks (an outage, a redriven quarantine) would otherwise reach the queue with an
 * object about to expire. The write is conditional on the ETag read (`If-Match`, S3 conditional
 * writes): an object replaced in between is not overwritten (412), and the send is retried. (Not
 * CopyObject onto itself: its `x-amz-copy-source` header carries the key URL-encoded, up to 3 KB
 * for a 1024-byte key, which gofakes3 refuses as `MetadataTooLarge`; the bytes are in hand anyway.)
 */
export async function storeClaimCheck(options: ClaimCheck, key: string, body: string, signal?: AbortSignal): Promise<StoreOutcome> {
  const { PutObjectCommand, GetObjectCommand } = await options.commands();
  const bytes = Buffer.from(body, 'utf8');
  const digest = createHash('sha256').update(bytes).digest();
  const pointer: ClaimCheckPointer = { bucket: options.bucket, key, size: bytes.length, sha256: digest.toString('hex') };
  const abort = signal === undefined ? undefined : { abortSignal: signal };
  try {
    await options.s3.send(
      new PutObjectCommand({ Bucket: options.bucket, Key: key, Body: bytes, IfNoneMatch: '*', ContentType: 'application/octet-stream', ChecksumSHA256: digest.toString('base64') }),
      abort,
    );
    return { ok: true, pointer, adopted: false };
  } catch (error) {
    if (httpStatus(error) !== 412) return { ok: false, conflict: false, code: errorCode(error), retryable: isRetryableS3(error) };
  }
  try {
    const existing = await readSizedObject(options.s3, GetObjectCommand, options.bucket, key, bytes.length, signal);
    if (!existing.ok || sha256Hex(existing.bytes) !== pointer.sha256) return { ok: false, conflict: true, code: 'PreconditionFailed', retryable: false };
    // The same bytes written again over the object read (If-Match: its ETag): a new object, so a new age.
    await options.s3.send(
      new PutObjectCommand({
        Bucket: options.bucket,
        Key: key,
        Body: bytes,
        ...(existing.eTag === undefined ? {} : { IfMatch: existing.eTag }),
        ContentType: existing.contentType ?? 'application/octet-stream',
        ...(existing.metadata === undefined ? {} : { Metadata: existing.metadata }),
        ChecksumSHA256: digest.toString('base64'),
      }),
      abort,
    );
    return { ok: true, pointer, adopted: true };
  } catch (error) {
    // A 412 here: the object changed between the read and the rewrite — read again on the retry.
    return { ok: false, conflict: false, code: errorCode(error), retryable: httpStatus(error) === 412 || isRetryableS3(error) };
  }
}

function isRetryableS3(error: unknown): boolean {
  const status = httpStatus(error);
  return status === undefined || status >= 500 || status === 409 || status === 429;
}

// The consumer side (reading a received message) lives in claim-check-read.ts; re-exported here for the modules that import it from this one.
export { missingClaimCheck, parsePointer, readClaimChecked, type ReceivedMessage } from './claim-check-read.js';
