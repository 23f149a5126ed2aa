/**
 * `sqsSender()`: the SQS side of the outbox relay. Validates and encodes messages, stores the
 * ones too large for the queue in S3 (claim check), packs them into byte-exact batches and sends
 * them, reporting every message as sent or failed — never "probably sent".
 */
import pLimit from 'p-limit';
import { storeClaims } from './claim-store.js';
import { blockGroup, deliverBatches, type Blocked } from './deliver.js';
import { SendFailureCode, SqsQueueAttributesError, SqsSendInputError } from './errors.js';
import { MAX_BATCH_ENTRIES } from './limits.js';
import { packBatches } from './pack.js';
import { messageGroupId } from './ids.js';
import { prepareMessage, type Prepared } from './prepare.js';
import { queueLimit } from './queue-limit.js';
import { OWNER, validateOptions, type SqsSenderOptions } from './sender-options.js';
import { acquit, mayBeStaleLimit, refusedBySqs, toResend, type FirstPassFailure, type RefusalReason } from './stale-limit.js';
import type { FailedEntry, OutboundMessage, SendOptions, SendReport } from './types.js';

export type { SqsSenderOptions } from './sender-options.js';

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

/** @throws {SqsSendInputError} `messages` is not an array of `{ id: string, body: string }`. */
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
 * refuse it) and `MessageDeduplicationId` = the message id. On every queue kind a batch holds at
 * most one message of a group (`onePerGroupPerBatch`), so a message SQS refuses for good is never
 * overtaken by a later one of its group.
 *
 * @throws {ConfigurationError} for invalid options or an unknown key (also in `retry`): `CONFIG_INVALID`, naming the option; a `claimCheck` not made by `s3ClaimCheck()`.
 * @example
 * // import { s3ClaimCheck } from '@steadyfn/outbox/s3'; import { aggregateKey } from '@steadyfn/outbox';
 * const sender = sqsSender({ client: sqs, queueUrl, claimCheck: s3ClaimCheck({ s3, bucket: 'events-large' }) });
 * const report = await sender.send([{ id: event.id, groupKey: aggregateKey(event.aggregateType, event.aggregateId), body: JSON.stringify(event) }], { signal: ctx.signal });
 * // report.sent → mark sent; report.failed with senderFault → quarantine; the rest stay pending
 */
export function sqsSender(options: SqsSenderOptions): SqsSender {
  const o = validateOptions(options);
  const claimCheck = options.claimCheck;
  const prefix = claimCheck?.prefix ?? 'claims/';
  const batchBytes = { value: o.maxBatchBytes };
  const calls = pLimit(o.concurrency);
  const limit = queueLimit(o.client, o.queueUrl, typeof options.maxMessageBytes === 'number' ? options.maxMessageBytes : undefined);
  const readMax = limit.read;
  const rereadMax = limit.reread;

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
    const batches = packBatches(sendable, { maxEntries: MAX_BATCH_ENTRIES, maxBytes: batchBytes.value, onePerGroup: o.onePerGroup });
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
