/**
 * An SQS queue as a streaming source: archive what flows through it. Messages are received
 * (long poll), archived, and deleted only once their object is in S3. A stream that has not
 * run for longer than the queue's retention (`MessageRetentionPeriod`) may have lost messages:
 * that is a gap. Order is SQS's (not guaranteed on standard queues); the position of a message
 * is its sent time and id.
 */
import { checkKnownKeys, intOption, invalidOption, stringOption, keysOf } from '@steadyfn/handler/internal';
import pRetry, { AbortError } from 'p-retry';
import type { S3Sender } from '../../s3/client.js';
import type { PulledBatch, StreamRecord, StreamSource } from '../types.js';
import { envelopesToBatch } from './outbox.js';

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
}

/** An entry of `DeleteMessageBatch`'s `Failed` list. */
interface DeleteFailure {
  Id?: string;
  Code?: string;
  SenderFault?: boolean;
}

/**
 * Deletes `entries`, then deletes again those SQS listed under `Failed` on its own side
 * (`SenderFault: false`), with backoff (p-retry, 3 retries); an entry that failed by the
 * sender's fault (an invalid receipt handle) is not retried. Resolves to what still failed.
 */
async function retryFailedDeletes<E extends { Id: string }>(entries: E[], deleteBatch: (batch: E[]) => Promise<DeleteFailure[]>, signal?: AbortSignal): Promise<DeleteFailure[]> {
  const permanent: DeleteFailure[] = [];
  let transient: DeleteFailure[] = [];
  let pending = entries;
  const left = new Error('deletes failed on the server side');
  await pRetry(
    async () => {
      let failed: DeleteFailure[];
      try {
        failed = await deleteBatch(pending);
      } catch (error) {
        // The request itself failed: the run's error, as before (typed by the stream run).
        throw new AbortError(error as Error);
      }
      permanent.push(...failed.filter((f) => f.SenderFault === true));
      transient = failed.filter((f) => f.SenderFault !== true);
      pending = pending.filter((e) => transient.some((f) => f.Id === e.Id));
      if (pending.length > 0) throw left;
    },
    { retries: 3, minTimeout: 100, maxTimeout: 1000, ...(signal ? { signal } : {}) },
  ).catch((error: unknown) => {
    // Retries spent: what is left is reported (logged), not thrown: the records are archived.
    if (error !== left) throw error;
  });
  return [...permanent, ...transient];
}

interface Received {
  MessageId?: string;
  ReceiptHandle?: string;
  Body?: string;
  Attributes?: Record<string, string>;
}

/**
 * An SQS source.
 *
 * @example
 * const source = sqsSource({ client: new SQSClient({}), queueUrl });
 * @throws {ConfigurationError} a missing client or queue URL
 */
export function sqsSource(options: SqsSourceOptions): StreamSource {
  checkKnownKeys('sqsSource', '', options, keysOf<SqsSourceOptions>({ client: true, queueUrl: true, waitTimeSeconds: true, visibilityTimeoutSeconds: true, envelopes: true }));
  if (options === null || typeof options !== 'object' || !options.client || typeof options.client.send !== 'function') invalidOption('sqsSource', 'client', 'an SQSClient', options?.client);
  const queueUrl = stringOption('sqsSource', 'queueUrl', options.queueUrl);
  const wait = intOption('sqsSource', 'waitTimeSeconds', options.waitTimeSeconds, 1, 0, 20);
  const visibility = intOption('sqsSource', 'visibilityTimeoutSeconds', options.visibilityTimeoutSeconds, 300, 1, 43_200);
  const handles = new Map<string, string>();
  let retentionMs: number | undefined;
  const sdk = () => import('@aws-sdk/client-sqs');

  return {
    kind: 'sqs',
    async pull(from, max, signal): Promise<PulledBatch> {
      const { ReceiveMessageCommand, GetQueueAttributesCommand } = await sdk();
      const send = (command: unknown) => options.client.send(command, signal ? { abortSignal: signal } : undefined);
      if (retentionMs === undefined) {
        const attrs = (await send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['MessageRetentionPeriod'] }))) as { Attributes?: Record<string, string> };
        retentionMs = Number(attrs.Attributes?.MessageRetentionPeriod ?? 345_600) * 1000;
      }
      const gap = from.lastRunAt !== undefined && Date.now() - Date.parse(from.lastRunAt) > retentionMs ? `the stream last ran ${from.lastRunAt}, longer ago than the queue's retention (${retentionMs / 1000} s)` : undefined;
      const records: StreamRecord[] = [];
      let drained = false;
      while (records.length < max) {
        // A queue that never goes quiet would keep this loop going past the invocation: stop
        // by `returnBy`, and never long-poll beyond it.
        const leftMs = from.returnBy === undefined ? Number.POSITIVE_INFINITY : from.returnBy - Date.now();
        if (leftMs <= 0 && records.length > 0) break;
        const waitSeconds = Math.max(0, Math.min(wait, Math.floor(leftMs / 1000)));
        const out = (await send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: Math.min(10, max - records.length), WaitTimeSeconds: waitSeconds, VisibilityTimeout: visibility, MessageSystemAttributeNames: ['SentTimestamp'] }),
        )) as { Messages?: Received[] };
        const messages = out.Messages ?? [];
        for (const m of messages) {
          if (!m.MessageId || !m.ReceiptHandle) continue;
          const sent = Number(m.Attributes?.SentTimestamp ?? Date.now());
          const position = `${String(sent).padStart(15, '0')}-${m.MessageId}`;
          handles.set(position, m.ReceiptHandle);
          let payload: unknown = m.Body;
          try {
            payload = JSON.parse(m.Body ?? '');
          } catch {
            // Not JSON: archived as text.
          }
          records.push({ id: m.MessageId, position, time: new Date(sent).toISOString(), op: 'event', payload });
        }
        if (messages.length === 0) {
          drained = true;
          break;
        }
      }
      // By sent time, keeping the order SQS delivered within a millisecond (the sort is stable): a
      // FIFO group's messages sent in one SendMessageBatch (an outbox relay's) share a
      // SentTimestamp, and a tie broken by MessageId (random) reordered them.
      const sentOf = (r: StreamRecord): string => r.position.slice(0, 15);
      records.sort((a, b) => (sentOf(a) < sentOf(b) ? -1 : sentOf(a) > sentOf(b) ? 1 : 0));
      if (options.envelopes) {
        const batch = envelopesToBatch(records.map((r) => ({ envelope: r.payload, position: r.position })), from.state, drained);
        const gaps = [gap, batch.gap].filter((g): g is string => g !== undefined);
        return { ...batch, ...(gaps.length > 0 ? { gap: gaps.join('; ') } : {}) };
      }
      return { records, drained, ...(gap ? { gap } : {}) };
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
    },  };
}
