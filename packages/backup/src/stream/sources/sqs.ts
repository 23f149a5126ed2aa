/**
 * An SQS queue as a streaming source: archive what flows through it. Messages are received
 * (long poll), archived, and deleted only once their object is in S3. A stream that has not
 * run for longer than the queue's retention (`MessageRetentionPeriod`) may have lost messages:
 * that is a gap. Order is SQS's (not guaranteed on standard queues); the position of a message
 * is its sent time and id. Bodies are archived as their producer wrote them: claim checks
 * fetched and verified, base64 decoded (sqs-claim-check.ts). A message that cannot be read is
 * left on the queue while the rest of its batch is archived, and the run then throws its
 * typed error (see `sqsSource`).
 */
import { awsClientOption, checkKnownKeys, intOption, invalidOption, isRecord, stringOption, keysOf } from '@steadyfn/handler/internal';
import { SourceRecordInvalidError, type BackupError } from '../../errors.js';
import type { S3Sender } from '../../s3/client.js';
import type { PulledBatch, StreamRecord, StreamSource } from '../types.js';
import { envelopesToBatch } from './outbox.js';
import { CLAIM_CHECK_ATTRIBUTE, CONTENT_ENCODING_ATTRIBUTE, readSqsBody, READER_EXPECTED, type SqsClaimCheckReader, type Unreadable } from './sqs-claim-check.js';
import { retryFailedDeletes, type DeleteFailure } from './sqs-deletes.js';

export type { SqsClaimCheckReader } from './sqs-claim-check.js';

/** Options of `sqsSource()`. */
export interface SqsSourceOptions {
  /** An `SQSClient` (or anything with its `send`). */
  client: S3Sender;
  queueUrl: string;
  /** Long-poll wait per receive, seconds (0–20). @default 1 */
  waitTimeSeconds?: number;
  /** Visibility timeout while a message is buffered, seconds. @default 300 */
  visibilityTimeoutSeconds?: number;
  /**
   * Message bodies are `@steadyfn/outbox` envelopes (the queue its relay sends to): archived as
   * changes (`change.after` → upsert, `delete` → delete) with the per-aggregate `seq` checked.
   * Use a FIFO queue (`MessageGroupId` = the aggregate): a standard queue may deliver one
   * aggregate's events out of order — a `seq` skipped ahead reads as a gap (the timeline breaks)
   * only while the sink tracks that aggregate; an older event arriving late is archived after
   * the newer one, and a restore orders one aggregate's events by `seq`. @default false
   */
  envelopes?: boolean;
  /**
   * Reads claim-checked messages (attribute `steadyfn.claimCheck`: `@steadyfn/outbox`'s
   * `sqsSender` with `claimCheck` stored the body in S3): `s3ClaimCheck({ s3 })` from
   * `@steadyfn/outbox/s3` — the reader the outbox's inbox takes — or `{ s3 }`, with an
   * `S3Client` that reads the claim-check bucket. The object is fetched and checked against the
   * pointer's size and SHA-256, and the body it holds is archived. Without it, a claim-checked
   * message is `SqsClaimCheckError` `BACKUP_SQS_CLAIM_CHECK_NO_READER` (field `claimCheck`),
   * left on the queue while the rest of its batch is archived. @default none
   */
  claimCheck?: SqsClaimCheckReader;
}

interface Received {
  MessageId?: string;
  ReceiptHandle?: string;
  Body?: string;
  Attributes?: Record<string, string>;
  MessageAttributes?: Record<string, { StringValue?: string }>;
}

/** A received message that could not be read: left on the queue (never deleted). */
interface Held {
  position: string;
  unreadable: Unreadable;
}

/** The error of the first message held, listing every message held (position and code, never a body). */
function heldError(held: Held[]): BackupError {
  return held[0]!.unreadable.error(held.map((h) => ({ key: h.position, message: `${h.unreadable.code}: ${h.unreadable.reason}` })));
}

function notAnEnvelope(position: string, problem: string): Unreadable {
  const message = `sqsSource(): the SQS message at position ${position} is not an outbox envelope (${problem}); it was left on the queue and the rest of its batch archived`;
  return { code: 'BACKUP_SOURCE_RECORD_INVALID', reason: `not an outbox envelope (${problem})`, error: (problems) => new SourceRecordInvalidError(message, problems) };
}

/** Checks the `claimCheck` option. @throws {ConfigurationError} naming `claimCheck`, `claimCheck.s3` or `claimCheck.commands` */
function claimCheckOption(value: unknown): SqsClaimCheckReader | undefined {
  if (value === undefined) return undefined;
  if (!isRecord(value)) invalidOption('sqsSource', 'claimCheck', READER_EXPECTED, value);
  awsClientOption('sqsSource', 'claimCheck.s3', value.s3, 'S3', "an S3Client that reads the producer's claim-check bucket");
  if (value.commands !== undefined && typeof value.commands !== 'function') invalidOption('sqsSource', 'claimCheck.commands', 'a function giving { GetObjectCommand } (as s3ClaimCheck() makes)', value.commands);
  return value as unknown as SqsClaimCheckReader;
}

/**
 * An SQS source.
 *
 * A message whose body cannot be read — claim-checked without `claimCheck`, its object missing
 * or not the pointer's, not an outbox envelope under `envelopes: true` — is left on the queue
 * (never deleted: it comes back after the visibility timeout, and the queue's redrive policy
 * moves it to its dead-letter queue after `maxReceiveCount` receives). The pull stops there and
 * the messages read with it are archived and deleted as usual; then the run throws the first
 * such message's error (`SqsClaimCheckError`, `SourceRecordInvalidError`, or a retryable
 * `SourceReadError` for a failed S3 read), its `problems` listing every message left (position:
 * sent time and message id). One bad message thus never keeps its batch-mates in flight; on a
 * FIFO queue SQS still holds the later messages of its own message group behind it.
 *
 * @example
 * const source = sqsSource({ client: new SQSClient({}), queueUrl });
 * @throws {ConfigurationError} a missing client or queue URL, a `claimCheck` without an S3 client
 */
export function sqsSource(options: SqsSourceOptions): StreamSource {
  checkKnownKeys('sqsSource', '', options, keysOf<SqsSourceOptions>({ client: true, queueUrl: true, waitTimeSeconds: true, visibilityTimeoutSeconds: true, envelopes: true, claimCheck: true }));
  if (options === null || typeof options !== 'object' || !options.client || typeof options.client.send !== 'function') invalidOption('sqsSource', 'client', 'an SQSClient', options?.client);
  const queueUrl = stringOption('sqsSource', 'queueUrl', options.queueUrl);
  const wait = intOption('sqsSource', 'waitTimeSeconds', options.waitTimeSeconds, 1, 0, 20);
  const visibility = intOption('sqsSource', 'visibilityTimeoutSeconds', options.visibilityTimeoutSeconds, 300, 1, 43_200);
  const reader = claimCheckOption(options.claimCheck);
  /** Receipt handles of the records pulled and not yet acknowledged, by position. */
  const handles = new Map<string, string>();
  /**
   * The position of the last record the last pull returned: a run pulls on from it (the runner
   * passes it back as `from.position`); a pull from anywhere else starts a new run.
   */
  let returnedUpTo: string | null | undefined;
  /**
   * The error of messages held by the last pull, thrown by the acknowledgement of the records
   * pulled with them (`after`: the last one's position; none: the next acknowledgement).
   */
  let deferred: { error: BackupError; after: string | undefined } | undefined;
  let retentionMs: number | undefined;
  const sdk = () => import('@aws-sdk/client-sqs');

  return {
    kind: 'sqs',
    identity: () => queueIdentity(queueUrl),
    async pull(from, max, signal): Promise<PulledBatch> {
      if (deferred !== undefined || (handles.size > 0 && from.position !== returnedUpTo)) {
        // No acknowledgement took them: the run that pulled them ended (failed or cut off between
        // its pull and its acknowledgement; its records are back on the queue after the
        // visibility timeout, any held messages with them). Nothing of this run is buffered yet.
        // Kept, a warm instance's map grew by every such run, and a run whose only message could
        // not be read saw handles "awaiting" acknowledgement, deferred its error, and ended
        // without ever throwing it.
        deferred = undefined;
        handles.clear();
      }
      const { ReceiveMessageCommand, GetQueueAttributesCommand } = await sdk();
      const send = (command: unknown) => options.client.send(command, signal ? { abortSignal: signal } : undefined);
      if (retentionMs === undefined) {
        const attrs = (await send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['MessageRetentionPeriod'] }))) as { Attributes?: Record<string, string> };
        retentionMs = Number(attrs.Attributes?.MessageRetentionPeriod ?? 345_600) * 1000;
      }
      const gap = from.lastRunAt !== undefined && Date.now() - Date.parse(from.lastRunAt) > retentionMs ? `the stream last ran ${from.lastRunAt}, longer ago than the queue's retention (${retentionMs / 1000} s)` : undefined;
      const records: StreamRecord[] = [];
      const held: Held[] = [];
      let drained = false;
      // A message that cannot be read ends the pull: what was read with it is archived first.
      while (records.length < max && held.length === 0) {
        // A queue that never goes quiet would keep this loop going past the invocation: stop
        // by `returnBy`, and never long-poll beyond it.
        const leftMs = from.returnBy === undefined ? Number.POSITIVE_INFINITY : from.returnBy - Date.now();
        if (leftMs <= 0 && records.length > 0) break;
        const waitSeconds = Math.max(0, Math.min(wait, Math.floor(leftMs / 1000)));
        const out = (await send(
          new ReceiveMessageCommand({
            QueueUrl: queueUrl, MaxNumberOfMessages: Math.min(10, max - records.length), WaitTimeSeconds: waitSeconds, VisibilityTimeout: visibility,
            MessageSystemAttributeNames: ['SentTimestamp'], MessageAttributeNames: [CLAIM_CHECK_ATTRIBUTE, CONTENT_ENCODING_ATTRIBUTE],
          }),
        )) as { Messages?: Received[] };
        const messages = (out.Messages ?? []).filter((m): m is Received & { MessageId: string; ReceiptHandle: string } => !!m.MessageId && !!m.ReceiptHandle);
        const bodies = await Promise.all(messages.map((m) => readSqsBody(m, reader, signal)));
        messages.forEach((m, n) => {
          const sent = Number(m.Attributes?.SentTimestamp ?? Date.now());
          const position = `${String(sent).padStart(15, '0')}-${m.MessageId}`;
          const read = bodies[n]!;
          if (!read.ok) return void held.push({ position, unreadable: read });
          handles.set(position, m.ReceiptHandle);
          let payload: unknown = read.text;
          try {
            payload = JSON.parse(read.text);
          } catch {
            // Not JSON: archived as text.
          }
          records.push({ id: m.MessageId, position, time: new Date(sent).toISOString(), op: 'event', payload });
        });
        if ((out.Messages ?? []).length === 0) {
          drained = true;
          break;
        }
      }
      // By sent time, keeping the order SQS delivered within a millisecond (the sort is stable): a
      // FIFO group's messages sent in one SendMessageBatch (an outbox relay's) share a
      // SentTimestamp, and a tie broken by MessageId (random) reordered them.
      const sentOf = (r: StreamRecord): string => r.position.slice(0, 15);
      records.sort((a, b) => (sentOf(a) < sentOf(b) ? -1 : sentOf(a) > sentOf(b) ? 1 : 0));
      let batch: PulledBatch = { records, drained, ...(gap ? { gap } : {}) };
      if (options.envelopes) {
        const onInvalid = (position: string, problem: string): void => {
          handles.delete(position);
          held.push({ position, unreadable: notAnEnvelope(position, problem) });
        };
        const converted = envelopesToBatch(records.map((r) => ({ envelope: r.payload, position: r.position })), from.state, drained, onInvalid);
        const gaps = [gap, converted.gap].filter((g): g is string => g !== undefined);
        batch = { ...converted, ...(gaps.length > 0 ? { gap: gaps.join('; ') } : {}) };
      }
      if (batch.records.length > 0) returnedUpTo = batch.records.at(-1)!.position;
      if (held.length === 0) return batch;
      const error = heldError(held);
      // Nothing to archive before the error, and nothing pulled earlier awaits its acknowledgement.
      if (batch.records.length === 0 && handles.size === 0) throw error;
      // `drained`: the run writes what it holds now, and the acknowledgement throws.
      deferred = { error, after: batch.records.at(-1)?.position };
      return { ...batch, drained: true };
    },
    async ack(records, signal, log) {
      const { DeleteMessageBatchCommand } = await sdk();
      const stillFailed: DeleteFailure[] = [];
      for (let i = 0; i < records.length; i += 10) {
        const entries = records
          .slice(i, i + 10)
          .map((r, n) => ({ Id: String(n), ReceiptHandle: handles.get(r.position) }))
          .filter((e): e is { Id: string; ReceiptHandle: string } => e.ReceiptHandle !== undefined);
        if (entries.length > 0) {
          const deleteBatch = async (batch: typeof entries): Promise<DeleteFailure[]> => {
            const out = (await options.client.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: batch }), signal ? { abortSignal: signal } : undefined)) as { Failed?: DeleteFailure[] };
            return out.Failed ?? [];
          };
          stillFailed.push(...(await retryFailedDeletes(entries, deleteBatch, signal)));
        }
        for (const r of records.slice(i, i + 10)) handles.delete(r.position);
      }
      if (stillFailed.length > 0) {
        // Ids (the entry's place in its batch), codes and fault only: never a body or receipt handle.
        log?.warn('sqsSource: messages archived but not deleted; they come back after the visibility timeout and are archived again (a restore drops the repeats by id)', {
          notDeleted: stillFailed.length,
          failures: stillFailed.slice(0, 10).map((f) => ({ id: f.Id, code: f.Code, senderFault: f.SenderFault })),
        });
      }
      const pending = deferred;
      if (pending !== undefined && (pending.after === undefined || records.some((r) => r.position === pending.after))) {
        deferred = undefined;
        throw pending.error;
      }
    },
  };
}

/**
 * A queue's identity for the stream checkpoint: `<account>/<name>`, the last two segments of its
 * URL — the same queue whichever endpoint form the URL has (`sqs.<region>.amazonaws.com`, the
 * legacy `<region>.queue.amazonaws.com`, a VPC endpoint); the whole URL when it has no such path.
 */
function queueIdentity(queueUrl: string): string {
  const path = URL.canParse(queueUrl) ? new URL(queueUrl).pathname.split('/').filter((p) => p !== '') : [];
  return path.length >= 2 ? path.slice(-2).join('/') : queueUrl;
}
