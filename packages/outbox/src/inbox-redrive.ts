/**
 * The inbox's view of its queue's redrive policy: how many receives a message gets before SQS
 * moves it to the dead-letter queue (`RedrivePolicy.maxReceiveCount`, read with
 * `GetQueueAttributes` and kept for `RECEIVE_LIMIT_MAX_AGE_MS`, read again before a gap is
 * accepted on it, as `sqsSender` re-reads `MaximumMessageSize` on the refusal a stale one would
 * cause). A message carries no trace of it, so the inbox can only learn it from the queue: `inbox({ queue })`.
 * (SQS developer guide, "Using dead-letter queues": a message is moved once its receive count
 * exceeds `maxReceiveCount`, so its last delivery is receive number `maxReceiveCount`.)
 */
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '@steadyfn/handler';
import { awsClientOption, checkKnownKeys, invalidOption, isRecord, keysOf } from '@steadyfn/handler/internal';
import { queueUrlOption } from './sqs/queue-url.js';

/** `inbox({ queue })`: the queue the consumer reads, to read its redrive policy. */
export interface InboxQueueOptions {
  /** An `SQSClient` (`@aws-sdk/client-sqs`) allowed `sqs:GetQueueAttributes` on the queue. */
  client: SQSClient;
  /** The URL (`http:` or `https:`) of the queue this consumer is triggered by. */
  queueUrl: string;
}

/**
 * How long a `RedrivePolicy` read is used before a gap reads it again, in milliseconds: the
 * window SQS itself takes to propagate an attribute change (up to 60 s), so a policy changed on a
 * warm instance (a DLQ added or removed, `maxReceiveCount` changed) is seen within about twice that.
 */
export const RECEIVE_LIMIT_MAX_AGE_MS = 60_000;

/**
 * After a `RedrivePolicy` read failed (access denied, throttled, the endpoint down), how long no
 * read is tried again, in milliseconds: the last value read (if any) applies meanwhile, so a
 * batch of gaps on a warm instance does not send one failing `GetQueueAttributes` per message.
 * The read confirming the value just before a gap is accepted on it is still sent.
 */
export const RECEIVE_LIMIT_RETRY_AFTER_MS = 10_000;

/**
 * The receive limit reader: the queue's `maxReceiveCount`, or `undefined` when the queue has no
 * redrive policy or it was never read. A value older than `RECEIVE_LIMIT_MAX_AGE_MS` is read
 * again; with `readSince` (a `performance.now()` reading), so is one read before it — the
 * caller is about to act on the value and wants it confirmed. Concurrent callers share one read.
 * A read that fails is warned about and the last value read (if any) is kept, without a read
 * for `RECEIVE_LIMIT_RETRY_AFTER_MS` (except a confirming one, with `readSince`); one cut short
 * by the caller's own `signal` is neither.
 */
export type ReceiveLimit = (log: Logger, signal: AbortSignal | undefined, readSince?: number) => Promise<number | undefined>;

/** Checks `inbox({ queue })` and gives its reader, or `undefined` when the option is left out. */
export function receiveLimitOf(owner: string, queue: unknown): ReceiveLimit | undefined {
  if (queue === undefined) return undefined;
  if (!isRecord(queue)) invalidOption(owner, 'queue', 'an object { client, queueUrl }', queue);
  checkKnownKeys(owner, 'queue', queue, keysOf<InboxQueueOptions>({ client: true, queueUrl: true }));
  awsClientOption(owner, 'queue.client', queue.client, 'SQS', 'an SQSClient from @aws-sdk/client-sqs (to read the queue\'s RedrivePolicy)');
  const { queueUrl } = queueUrlOption(owner, 'queue.queueUrl', queue.queueUrl);
  const client = queue.client as SQSClient;
  /** The last policy read and when (`performance.now()` when its read was sent). */
  let known: { receives: number | undefined; at: number } | undefined;
  let reading: Promise<number | undefined> | undefined;
  /** When the last read failed (`performance.now()`), until a read succeeds: none is tried for `RECEIVE_LIMIT_RETRY_AFTER_MS`. */
  let failedAt: number | undefined;
  const read = (log: Logger, signal: AbortSignal | undefined): Promise<number | undefined> => {
    const at = performance.now();
    const current: Promise<number | undefined> = client
      .send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] }), signal === undefined ? undefined : { abortSignal: signal })
      .then((answer) => {
        const receives = maxReceiveCountOf(answer.Attributes?.RedrivePolicy);
        if (known === undefined || known.at <= at) known = { receives, at };
        failedAt = undefined;
        return receives;
      })
      .catch((error: unknown) => {
        // Not cached as read. Meanwhile the last value read applies, or maxGapRetries as configured.
        // Cut short by this invocation's own signal (its deadline): not the queue's failure — not
        // warned, and the next gap reads again.
        if (signal?.aborted) return known?.receives;
        failedAt = performance.now();
        log.warn(`inbox could not read the queue's RedrivePolicy; ${known ? 'the last one read applies' : 'maxGapRetries applies as configured'}`, { cause: error instanceof Error ? error.name : typeof error });
        return known?.receives;
      })
      .finally(() => {
        if (reading === current) reading = undefined;
      });
    reading = current;
    return current;
  };
  return (log, signal, readSince) => {
    // A confirming read (`readSince`: a gap is about to be accepted on the value) is not held back by the pause.
    if (readSince === undefined && failedAt !== undefined && performance.now() - failedAt < RECEIVE_LIMIT_RETRY_AFTER_MS) return Promise.resolve(known?.receives);
    if (known !== undefined && performance.now() - known.at < RECEIVE_LIMIT_MAX_AGE_MS && (readSince === undefined || known.at >= readSince)) return Promise.resolve(known.receives);
    return reading ?? read(log, signal);
  };
}

/** `maxReceiveCount` of a `RedrivePolicy` attribute (JSON text), or `undefined`. */
function maxReceiveCountOf(policy: string | undefined): number | undefined {
  if (policy === undefined || policy === '') return undefined;
  try {
    const count = Number((JSON.parse(policy) as { maxReceiveCount?: unknown }).maxReceiveCount);
    return Number.isInteger(count) && count >= 1 ? count : undefined;
  } catch {
    return undefined;
  }
}
