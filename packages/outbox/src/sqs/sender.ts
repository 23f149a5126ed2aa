/**
 * `sqsSender()`: the SQS side of the outbox relay. Validates and encodes messages, stores the
 * ones too large for the queue in S3 (claim check), packs them into byte-exact batches and sends
 * them, reporting every message as sent or failed — never "probably sent".
 */
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { awsClientOption, checkKnownKeys, intOption, invalidOption, keysOf, oneOfOption } from '@steadyfn/handler/internal';
import pLimit from 'p-limit';
import { checkClaimCheckFields, CLAIM_CHECK_ATTRIBUTE, claimCheckFromSubpath, claimCheckKey, isClaimCheckReader, pointerBody, storeClaimCheck, type ClaimCheck } from './claim-check.js';
import { classifyCallError, errorCode } from './classify.js';
import { blockGroup, deliverBatches, type Blocked, type RetrySettings } from './deliver.js';
import { SendFailureCode, SqsQueueAttributesError, SqsSendInputError } from './errors.js';
import { MAX_BATCH_ENTRIES, SERVICE_MAX_BATCH_BYTES, SERVICE_MAX_MESSAGE_BYTES, SERVICE_MIN_MESSAGE_BYTES } from './limits.js';
import { packBatches } from './pack.js';
import { messageGroupId } from './ids.js';
import { prepareMessage, type Prepared } from './prepare.js';
import { queueUrlOption } from './queue-url.js';
import { acquit, mayBeStaleLimit, refusedBySqs, toResend, type FirstPassFailure, type RefusalReason } from './stale-limit.js';
import { messageBytes } from './size.js';
import type { FailedEntry, OutboundMessage, SendOptions, SendReport } from './types.js';

/** Options of {@link sqsSender}. */
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
   * At most one message of a group per batch, so no later message of a group can be accepted in
   * the same call as an earlier one SQS refused (SQS judges a batch's entries one by one). On a
   * FIFO queue that would put the later message ahead of the earlier one in its group for good
   * — the group then waits behind it, so no consumer can restore the order — hence the FIFO
   * default. On a standard queue the inbox's `seq` check restores order, and full batches are
   * worth more. Costs fill (calls) when one group has many pending messages.
   * @default true on a FIFO queue, false on a standard queue
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

/** What {@link sqsSender} returns. */
export interface SqsSender {
  /**
   * Sends `messages`; resolves with what happened to each one. Never rejects for an answer of
   * SQS or S3 once sending began: those are `failed` entries.
   *
   * @throws {SqsSendInputError} `messages` is not an array of `{ id: string, body: string }` (nothing sent).
   * @throws {SqsQueueAttributesError} `maxMessageBytes: 'auto'` and the queue's attributes could not be read (nothing sent).
   */
  send(messages: ReadonlyArray<OutboundMessage>, options?: SendOptions): Promise<SendReport>;
  /** Whether the queue is FIFO, as the sender treats it. */
  readonly fifo: boolean;
  /** The queue's message size limit in bytes as the sender holds it (reads it when `'auto'` and not read yet; see `SqsSenderOptions.maxMessageBytes` for when it is read again). */
  maxMessageBytes(options?: SendOptions): Promise<number>;
}

const OWNER = 'sqsSender';
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

function validateOptions(options: SqsSenderOptions) {
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
  return { client, queueUrl, maxBatchBytes, invalidCharacters, retry, concurrency, fifo: urlIsFifo };
}

/** The ordering group of a message as `Prepared.group` holds it; `undefined` when it has none (or an unusable one). */
function groupOf(message: OutboundMessage, fifo: boolean): string | undefined {
  if (typeof message.groupKey !== 'string' || message.groupKey === '') return undefined;
  return fifo ? messageGroupId(message.groupKey) : message.groupKey;
}

/** Sums for `SendReport.fill`, over every pass of one `send()`. */
interface Counters {
  entries: number;
  bytes: number;
  limitBytes: number;
}

interface ClaimRun {
  claimCheck: ClaimCheck;
  prefix: string;
  maxMessageBytes: number;
  concurrency: number;
  early: (id: string, index: number, group: string | undefined, f: Omit<FailedEntry, 'id'>) => void;
}

/**
 * Stores the bodies marked for a claim check in S3 (in parallel) and turns each into a pointer
 * message; a message whose store failed leaves `ready` as a failed entry. Keeps `ready`'s order.
 */
async function storeClaims(ready: Prepared[], run: ClaimRun, signal: AbortSignal | undefined): Promise<void> {
  const limit = pLimit(run.concurrency);
  const claims = ready.filter((p) => p.claimBody !== undefined);
  const outcomes = await Promise.all(claims.map((p) => limit(() => storeClaimCheck(run.claimCheck, claimCheckKey(run.prefix, p.id), p.claimBody!, signal))));
  const failedIds = new Set<Prepared>();
  claims.forEach((p, i) => {
    const outcome = outcomes[i]!;
    if (!outcome.ok) {
      failedIds.add(p);
      const code = outcome.conflict ? SendFailureCode.claimCheckConflict : SendFailureCode.claimCheckFailed;
      const message = outcome.conflict ? `claim-check object ${claimCheckKey(run.prefix, p.id)} exists with different content` : `storing the claim-check object failed (${outcome.code})`;
      return run.early(p.id, p.index, p.group, { code, senderFault: outcome.conflict, retryable: outcome.retryable, judged: outcome.conflict, message });
    }
    p.body = pointerBody(outcome.pointer);
    p.attributes = { ...p.attributes, [CLAIM_CHECK_ATTRIBUTE]: '1' };
    p.bytes = messageBytes(p.body, p.attributes);
    p.claimCheck = outcome.pointer;
    delete p.claimBody;
    if (p.bytes > run.maxMessageBytes) {
      failedIds.add(p);
      run.early(p.id, p.index, p.group, { code: SendFailureCode.tooLarge, senderFault: true, retryable: false, judged: true, message: `even as a claim-check pointer the message is ${p.bytes} bytes (its attributes are too large)` });
    }
  });
  if (failedIds.size > 0) ready.splice(0, ready.length, ...ready.filter((p) => !failedIds.has(p)));
}

function checkInput(messages: unknown): asserts messages is ReadonlyArray<OutboundMessage> {
  if (!Array.isArray(messages)) throw new SqsSendInputError(`${OWNER}.send(): messages must be an array`, 'messages', 'an array of { id, body }');
  messages.forEach((m: unknown, i) => {
    const rec = m as { id?: unknown; body?: unknown } | null;
    if (typeof rec !== 'object' || rec === null || typeof rec.id !== 'string' || typeof rec.body !== 'string') {
      throw new SqsSendInputError(`${OWNER}.send(): messages[${i}] must have a string id and a string body`, `messages.${i}`, '{ id: string, body: string }');
    }
  });
}

/**
 * Creates the sender the outbox relay uses to move events to one SQS queue.
 *
 * Batches hold at most 10 messages and at most `maxBatchBytes` bytes; each message at most the
 * queue's `MaximumMessageSize`, counted as SQS counts it: body + each attribute's name, data type
 * and value (UTF-8 bytes). On FIFO queues `MessageGroupId` = the group key (hashed when SQS would
 * refuse it) and `MessageDeduplicationId` = the message id.
 *
 * @throws {ConfigurationError} for invalid options or an unknown key (also in `retry`): `CONFIG_INVALID`, naming the option; a `claimCheck` not made by `s3ClaimCheck()`.
 * @example
 * // import { s3ClaimCheck } from '@steadyfn/outbox/s3';
 * const sender = sqsSender({ client: sqs, queueUrl, claimCheck: s3ClaimCheck({ s3, bucket: 'events-large' }) });
 * const report = await sender.send([{ id: event.id, groupKey: event.aggregateId, body: JSON.stringify(event) }], { signal: ctx.signal });
 * // report.sent → mark sent; report.failed with senderFault → quarantine; the rest stay pending
 */
export function sqsSender(options: SqsSenderOptions): SqsSender {
  const o = validateOptions(options);
  const claimCheck = options.claimCheck;
  const prefix = claimCheck?.prefix ?? 'claims/';
  const batchBytes = { value: o.maxBatchBytes };
  const calls = pLimit(o.concurrency);
  let queueMax: Promise<number> | undefined = typeof options.maxMessageBytes === 'number' ? Promise.resolve(options.maxMessageBytes) : undefined;

  /** One `GetQueueAttributes` for `MaximumMessageSize`; a failure becomes {@link SqsQueueAttributesError}. */
  const fetchMax = (signal?: AbortSignal): Promise<number> =>
    o.client
      .send(new GetQueueAttributesCommand({ QueueUrl: o.queueUrl, AttributeNames: ['MaximumMessageSize'] }), signal === undefined ? undefined : { abortSignal: signal })
      .then((answer) => {
        const value = Number(answer.Attributes?.MaximumMessageSize);
        return Number.isInteger(value) && value >= SERVICE_MIN_MESSAGE_BYTES ? value : SERVICE_MAX_MESSAGE_BYTES;
      })
      .catch((error: unknown) => {
        const verdict = classifyCallError(error);
        throw new SqsQueueAttributesError(errorCode(error), verdict.kind === 'retry', error);
      });

  /** The cached limit, or the first read shared by every caller until it settles (a failed one is not cached). */
  const readMax = (signal?: AbortSignal): Promise<number> => {
    if (queueMax !== undefined) return queueMax;
    const reading: Promise<number> = fetchMax(signal).catch((error: unknown) => {
      if (queueMax === reading) queueMax = undefined;
      throw error;
    });
    queueMax = reading;
    return reading;
  };

  /** The re-read in flight and the cached value it would replace; `undefined` when none is. */
  let rereading: { replaces: Promise<number>; reading: Promise<number> } | undefined;

  /**
   * Re-reads the limit after a refusal the cached one may explain. Concurrent sends that used
   * the same cached value share one `GetQueueAttributes`; a fixed `maxMessageBytes` is never
   * re-read. Meanwhile every other caller (`send()`, `maxMessageBytes()`) goes on with the cached
   * value: it is replaced only once the re-read succeeds, and kept when it fails.
   */
  const rereadMax = (used: Promise<number>, signal?: AbortSignal): Promise<number> | undefined => {
    if (typeof options.maxMessageBytes === 'number') return undefined;
    if (rereading?.replaces === used) return rereading.reading;
    // Another send's re-read already replaced `used`: its fresh value.
    if (queueMax !== used) return readMax(signal);
    const reading: Promise<number> = fetchMax(signal).then(
      (value) => {
        if (rereading?.reading === reading) rereading = undefined;
        if (queueMax === used) queueMax = reading;
        return value;
      },
      (error: unknown) => {
        if (rereading?.reading === reading) rereading = undefined;
        throw error;
      },
    );
    rereading = { replaces: used, reading };
    return reading;
  };

  /**
   * One pass over `messages` against `maxMessageBytes`: prepares, claim-checks, packs and
   * delivers them, recording every outcome in `report`. Returns this pass's failures with the
   * input position, group and whether a stale limit could explain each.
   */
  const pass = async (messages: ReadonlyArray<OutboundMessage>, maxMessageBytes: number, signal: AbortSignal | undefined, report: SendReport, counters: Counters): Promise<FirstPassFailure[]> => {
    const firstFailure = report.failed.length;
    const claimThresholdBytes = claimCheck === undefined ? undefined : Math.min(claimCheck.thresholdBytes ?? maxMessageBytes, maxMessageBytes);
    const ctx = { fifo: o.fifo, maxMessageBytes, claimThresholdBytes, invalidCharacters: o.invalidCharacters };

    // Groups whose earlier message failed: their later messages are not sent in this call.
    const blocked: Blocked = new Map();
    const early = (id: string, index: number, group: string | undefined, f: Omit<FailedEntry, 'id'>): void => {
      report.failed.push({ id, ...f });
      blockGroup(blocked, group, id, index);
    };
    const seen = new Set<string>();
    const ready: Prepared[] = [];
    messages.forEach((message, index) => {
      if (seen.has(message.id)) return report.failed.push({ id: message.id, code: SendFailureCode.duplicateId, senderFault: true, retryable: false, judged: true, message: 'the same id appeared earlier in this call' });
      seen.add(message.id);
      const prepared = prepareMessage(message, index, ctx);
      if ('code' in prepared) return early(prepared.id, index, groupOf(message, o.fifo), prepared);
      ready.push(prepared);
    });
    if (claimCheck !== undefined) await storeClaims(ready, { claimCheck, prefix, maxMessageBytes, concurrency: o.concurrency, early }, signal);

    const sendable = ready;
    // What SQS's answers say each refusal was for: a size refusal may be a stale limit's, another never is.
    const refusedFor = new Map<string, RefusalReason>();
    const batches = packBatches(sendable, { maxEntries: MAX_BATCH_ENTRIES, maxBytes: batchBytes.value, onePerGroup: options.onePerGroupPerBatch ?? o.fifo });
    await deliverBatches(
      batches.map((b) => b.map((i) => sendable[i]!)),
      { client: o.client, queueUrl: o.queueUrl, fifo: o.fifo, retry: o.retry, limit: calls, signal, batchBytes, refusedFor },
      report,
      blocked,
      counters,
    );
    if (report.failed.length === firstFailure) return [];
    // Ids are unique past the duplicates (which are never sent again): the first occurrence's place.
    const indexOf = new Map<string, number>();
    messages.forEach((m, i) => (indexOf.has(m.id) ? undefined : indexOf.set(m.id, i)));
    const bytesOf = new Map(sendable.map((p) => [p.id, p.bytes]));
    return report.failed.slice(firstFailure).map((failure) => {
      const index = indexOf.get(failure.id)!;
      return { failure, index, group: groupOf(messages[index]!, o.fifo), suspect: mayBeStaleLimit(failure, bytesOf.get(failure.id), refusedFor.get(failure.id)) };
    });
  };

  const send = async (messages: ReadonlyArray<OutboundMessage>, sendOptions: SendOptions = {}): Promise<SendReport> => {
    checkInput(messages);
    const { signal } = sendOptions;
    const cached = readMax(signal);
    const maxMessageBytes = await cached;
    const report: SendReport = { sent: [], failed: [], batches: 0, bytes: 0, fill: { entries: 0, bytes: 0 }, retries: 0, splits: 0 };
    const counters: Counters = { entries: 0, bytes: 0, limitBytes: 0 };
    const failures = await pass(messages, maxMessageBytes, signal, report, counters);
    // A size refusal the cached limit may explain: re-read it, at most once per send(). Aborted,
    // no re-read: nothing judged the suspects under the queue's real limit, so no sender fault.
    if (failures.some((f) => f.suspect)) {
      if (signal?.aborted === true) {
        // A fixed limit is never re-read: the refusal stands as it was judged.
        if (typeof options.maxMessageBytes !== 'number') acquit(failures, (f) => f.suspect, { retryable: true, judged: false, message: `refused for its size under the cached MaximumMessageSize (${maxMessageBytes} bytes); the send was aborted before the limit could be read again` });
      } else await resendUnderFreshLimit(messages, failures, maxMessageBytes, cached, signal, report, counters);
    }
    if (report.batches > 0) report.fill = { entries: counters.entries / (report.batches * MAX_BATCH_ENTRIES), bytes: counters.bytes / counters.limitBytes };
    return report;
  };

  /**
   * Re-reads the queue's limit; when it changed, sends again (one more pass, against the fresh
   * limit) the messages a size refusal held back, replacing their failures in `report`. When
   * the limit cannot be read, those failures are no longer the sender's fault: nothing judged
   * them under the queue's real limit, so they stay pending instead of being quarantined.
   * When SQS refuses for its size a message within the limit just read (the limit unchanged
   * on the first pass, or any on the second), the change has not reached every SQS server yet
   * (up to 60 s): no sender fault, retried later (`judged`, so `relay.poison.maxAttempts`
   * still bounds a message SQS keeps refusing).
   */
  const resendUnderFreshLimit = async (messages: ReadonlyArray<OutboundMessage>, failures: FirstPassFailure[], used: number, cached: Promise<number>, signal: AbortSignal | undefined, report: SendReport, counters: Counters): Promise<void> => {
    const again = rereadMax(cached, signal);
    if (again === undefined) return;
    let fresh: number;
    try {
      fresh = await again;
    } catch (error) {
      const code = error instanceof SqsQueueAttributesError ? error.sqsCode : 'Unknown';
      const retryable = error instanceof SqsQueueAttributesError ? error.retryable : true;
      acquit(failures, (f) => f.suspect, { retryable, judged: false, message: `refused for its size under the cached MaximumMessageSize, and the queue's attributes could not be read again (${code})` });
      return;
    }
    const unpropagated = { retryable: true, judged: true, message: `SQS refused it for its size, yet the queue's MaximumMessageSize reads ${fresh} bytes, which it fits: a limit change not yet propagated (up to 60 s); sent again later` };
    if (fresh === used) return acquit(failures, refusedBySqs, unpropagated);
    const resend = toResend(failures);
    if (resend.length === 0) return;
    const dropped = new Set(resend.map((f) => f.failure));
    report.failed.splice(0, report.failed.length, ...report.failed.filter((f) => !dropped.has(f)));
    const second = await pass(
      resend.map((f) => messages[f.index]!),
      fresh,
      signal,
      report,
      counters,
    );
    acquit(second, refusedBySqs, unpropagated);
  };

  return { send, fifo: o.fifo, maxMessageBytes: (opts = {}) => readMax(opts.signal) };
}
