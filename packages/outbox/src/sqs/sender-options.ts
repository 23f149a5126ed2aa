/**
 * `sqsSender()`'s options: their shape and their checks, run once when the sender is made (an
 * option out of range is a `CONFIG_INVALID` naming it, before any message is sent).
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { awsClientOption, checkKnownKeys, intOption, invalidOption, keysOf, oneOfOption } from '@steadyfn/handler/internal';
import { checkClaimCheckFields, claimCheckFromSubpath, isClaimCheckReader, type ClaimCheck } from './claim-check.js';
import type { RetrySettings } from './deliver.js';
import { SERVICE_MAX_BATCH_BYTES, SERVICE_MAX_MESSAGE_BYTES, SERVICE_MIN_MESSAGE_BYTES } from './limits.js';
import { queueUrlOption } from './queue-url.js';

/** Options of `sqsSender()` (sender.ts). */
export interface SqsSenderOptions {
  /**
   * An `@aws-sdk/client-sqs` client (cached by `@steadyfn/connections` or your own). A client
   * of another AWS service (its `config.serviceId` is not `SQS`) is refused up front.
   */
  client: SQSClient;
  /** The queue's URL. */
  queueUrl: string;
  /**
   * Largest message the queue takes, in bytes as SQS counts them (body + attributes). `'auto'`
   * reads the queue's `MaximumMessageSize` with `GetQueueAttributes` on the first `send()` and
   * caches it (one call per cold start when created at module scope). The cached value is read
   * again only when a `send()` meets a size refusal it may explain — the queue's limit changed
   * while the instance was warm (SetQueueAttributes, or the queue recreated): SQS refused a
   * message larger than 1 KiB for its size (`InvalidParameterValue` whose text says so, or no
   * text; `BatchRequestTooLong`) — an `InvalidParameterValue` whose text names another reason
   * is a sender fault at once — or
   * the sender found one larger than the cached limit. Then, at most once per `send()`, the limit
   * is re-read and kept, and if it changed, the refused messages (and those of their groups held
   * behind them) are sent again against it: claim-checked when it is lower, sent as they are when
   * higher. Only a message still too large under the fresh limit fails as the sender fault it is
   * (`OUTBOX_SQS_MESSAGE_TOO_LARGE`). When the re-read fails, or the send was aborted before it,
   * the refused messages fail as no sender fault (`judged: false`), so the relay keeps them
   * pending; until the re-read succeeds, other sends and `maxMessageBytes()` go on with the cached
   * limit (a failed re-read keeps it). When SQS refuses for its
   * size a message within the limit just read — a change takes up to 60 s to reach every SQS
   * server — it fails as no sender fault, `retryable` and `judged` (sent again on a later run;
   * `relay.poison.maxAttempts` bounds it). A number is never re-read, and what SQS refuses
   * under it stays a sender fault even when the send was aborted.
   * @default 'auto'
   */
  maxMessageBytes?: number | 'auto';
  /**
   * Largest sum of message sizes in one `SendMessageBatch` call. SQS's limit is per service, not
   * per queue: 1 MiB since August 2025. Lower it (262 144) where a partition still has 256 KiB;
   * a `BatchRequestTooLong` answer also lowers it for the life of the sender.
   * @default 1_048_576
   */
  maxBatchBytes?: number;
  /**
   * FIFO queue? Default: the URL ends in `.fifo` (SQS requires that suffix for FIFO queues). A
   * value that disagrees with the URL is refused (`ConfigurationError`, field `fifo`).
   */
  fifo?: boolean;
  /**
   * At most one message of a group per `SendMessageBatch` call, so no later message of a group
   * can be accepted in the call that refused an earlier one (SQS judges a call's entries one by
   * one). Batches stay full by mixing groups; a group's next message goes in a later call, sent
   * once the call with its previous one is answered (and not at all once that one failed:
   * `OUTBOX_SQS_GROUP_BLOCKED`). Cost: a send holding n messages of one group makes at least n
   * calls, one after another (a flush of one aggregate's n events: n calls instead of
   * ⌈n/10⌉); a sweep over many aggregates keeps its batches full.
   *
   * `false` lets a group's messages share a call: fewer calls for one aggregate's run, but a
   * message SQS refuses for good (`InvalidMessageContents`, a size over a queue limit lowered
   * while the sender was warm) can be overtaken by a later one of its group taken in the same
   * call. On a FIFO queue the group then waits behind that later message for good; on a standard
   * queue the inbox handles it after `maxGapRetries` and the refused one after a redrive — the
   * relay's per-aggregate order no longer holds (README, "Guarantees").
   * @default true
   */
  onePerGroupPerBatch?: boolean;
  /**
   * Bodies with characters SQS refuses: `'reject'` fails them (`OUTBOX_SQS_INVALID_CHARACTERS`,
   * sender fault); `'base64'` sends them base64-encoded with attribute `steadyfn.contentEncoding`
   * = `base64` (`resolveClaimCheck` decodes it). Lone surrogates are always rejected.
   * @default 'reject'
   */
  invalidCharacters?: 'reject' | 'base64';
  /**
   * Store messages too large for the queue in S3 and send a pointer: a claim check made by
   * `s3ClaimCheck({ s3, bucket, prefix?, thresholdBytes? })` from `@steadyfn/outbox/s3` (the
   * entry that loads `@aws-sdk/client-s3`). A plain `{ s3, bucket }` is refused
   * (`CONFIG_INVALID`, field `claimCheck`), naming that import. Off when omitted.
   */
  claimCheck?: ClaimCheck;
  /**
   * Retries of throttled calls and server faults (p-retry, exponential backoff with full jitter):
   * `retries` — retries after the first call, integer 0–100 (default 3); `factor` — growth of the
   * wait per retry, a number ≥ 1 (default 2); `minTimeoutMs` — the first wait, integer
   * milliseconds ≥ 0 (default 50); `maxTimeoutMs` — the longest wait, integer milliseconds ≥
   * `minTimeoutMs` (default 2 000). Out of range: `CONFIG_INVALID` naming `retry.<key>`.
   * @default { retries: 3, factor: 2, minTimeoutMs: 50, maxTimeoutMs: 2000 }
   * @example sqsSender({ client, queueUrl, retry: { retries: 5, maxTimeoutMs: 5_000 } })
   */
  retry?: { retries?: number; factor?: number; minTimeoutMs?: number; maxTimeoutMs?: number };
  /**
   * `SendMessageBatch` calls in flight at once, across every `send()` of this sender (so
   * concurrent sends — a sweep's parallel rounds — share it); also S3 uploads per `send()`.
   * @default 4
   */
  concurrency?: number;
}

/** The name refusals and input errors give the sender by. */
export const OWNER = 'sqsSender';
const SENDER_KEYS = keysOf<SqsSenderOptions>({
  client: true,
  queueUrl: true,
  maxMessageBytes: true,
  maxBatchBytes: true,
  fifo: true,
  onePerGroupPerBatch: true,
  invalidCharacters: true,
  claimCheck: true,
  retry: true,
  concurrency: true,
});

/**
 * `options` checked, with their defaults filled in.
 * @throws {ConfigurationError} `CONFIG_INVALID` naming the option (also in `retry` and `claimCheck`).
 */
export function validateOptions(options: SqsSenderOptions) {
  if (typeof options !== 'object' || options === null) invalidOption(OWNER, 'options', 'an object', options);
  checkKnownKeys(OWNER, '', options, SENDER_KEYS);
  checkKnownKeys(OWNER, 'retry', options.retry, keysOf<NonNullable<SqsSenderOptions['retry']>>({ retries: true, factor: true, minTimeoutMs: true, maxTimeoutMs: true }));
  const { client } = options;
  awsClientOption(OWNER, 'client', client, 'SQS', 'an SQSClient from @aws-sdk/client-sqs');
  const { queueUrl, fifo: urlIsFifo } = queueUrlOption(OWNER, 'queueUrl', options.queueUrl);
  const max = options.maxMessageBytes;
  if (max !== undefined && max !== 'auto' && (typeof max !== 'number' || !Number.isInteger(max) || max < SERVICE_MIN_MESSAGE_BYTES || max > SERVICE_MAX_MESSAGE_BYTES)) {
    invalidOption(OWNER, 'maxMessageBytes', `'auto' or an integer from ${SERVICE_MIN_MESSAGE_BYTES} to ${SERVICE_MAX_MESSAGE_BYTES} (bytes)`, max);
  }
  const maxBatchBytes = intOption(OWNER, 'maxBatchBytes', options.maxBatchBytes, SERVICE_MAX_BATCH_BYTES, SERVICE_MIN_MESSAGE_BYTES);
  if (options.fifo !== undefined && typeof options.fifo !== 'boolean') invalidOption(OWNER, 'fifo', 'a boolean', options.fifo);
  // SQS names every FIFO queue with the `.fifo` suffix: a `fifo` that disagrees with the URL
  // would send FIFO fields to a standard queue (or leave them out for a FIFO one) — every send fails.
  if (options.fifo !== undefined && options.fifo !== urlIsFifo) {
    invalidOption(OWNER, 'fifo', urlIsFifo ? 'true or left out: the queue URL ends in .fifo (a FIFO queue)' : 'false or left out: the queue URL does not end in .fifo (SQS FIFO queue names end in .fifo)', options.fifo);
  }
  if (options.onePerGroupPerBatch !== undefined && typeof options.onePerGroupPerBatch !== 'boolean') invalidOption(OWNER, 'onePerGroupPerBatch', 'a boolean', options.onePerGroupPerBatch);
  const invalidCharacters = oneOfOption(OWNER, 'invalidCharacters', options.invalidCharacters, ['reject', 'base64'] as const, 'reject');
  const claim = options.claimCheck;
  if (claim !== undefined) {
    // A plain { s3, bucket } (the option before 0.1) has no S3 commands: the root loads no S3 SDK.
    if (!isClaimCheckReader(claim)) claimCheckFromSubpath(OWNER, 'claimCheck', 'claimCheck: s3ClaimCheck({ s3, bucket })', claim);
    checkClaimCheckFields(OWNER, 'claimCheck.', claim, false);
  }
  const r = options.retry ?? {};
  if (typeof r !== 'object' || r === null) invalidOption(OWNER, 'retry', 'an object { retries?, factor?, minTimeoutMs?, maxTimeoutMs? }', r);
  const retry: RetrySettings = {
    retries: intOption(OWNER, 'retry.retries', r.retries, 3, 0, 100),
    factor: r.factor ?? 2,
    minTimeoutMs: intOption(OWNER, 'retry.minTimeoutMs', r.minTimeoutMs, 50, 0),
    maxTimeoutMs: intOption(OWNER, 'retry.maxTimeoutMs', r.maxTimeoutMs, 2_000, 0),
  };
  if (typeof retry.factor !== 'number' || !(retry.factor >= 1)) invalidOption(OWNER, 'retry.factor', 'a number ≥ 1', retry.factor);
  if (retry.maxTimeoutMs < retry.minTimeoutMs) invalidOption(OWNER, 'retry.maxTimeoutMs', `an integer ≥ retry.minTimeoutMs (${retry.minTimeoutMs})`, retry.maxTimeoutMs);
  const concurrency = intOption(OWNER, 'concurrency', options.concurrency, 4, 1, 64);
  // One per group on every queue kind: on a standard queue too, a later message taken beside a
  // refused one would leave ahead of it (the inbox then applies it first once its gap retries run out).
  const onePerGroup = options.onePerGroupPerBatch ?? true;
  return { client, queueUrl, maxBatchBytes, invalidCharacters, retry, concurrency, fifo: urlIsFifo, onePerGroup };
}
