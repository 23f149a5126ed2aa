/**
 * The inbox's view of its queue's redrive policy: how many receives a message gets before SQS
 * moves it to the dead-letter queue (`RedrivePolicy.maxReceiveCount`, read with
 * `GetQueueAttributes` and kept for `RECEIVE_LIMIT_MAX_AGE_MS`, read again before a gap is
 * accepted on it, as `sqsSender` re-reads `MaximumMessageSize` on the refusal a stale one would
 * cause). A message carries no trace of it, so the inbox can only learn it from the queue: `inbox({ queue })`.
 * (SQS developer guide, "Using dead-letter queues": a message is moved once its receive count
 * exceeds `maxReceiveCount`, so its last delivery is receive number `maxReceiveCount`.)
 */
import type { Logger } from '@steadyfn/handler';
import { ConfigurationError, invalidOption, isRecord } from '@steadyfn/handler/internal';

/**
 * The queue an inbox's consumer reads, for `inbox({ queue })`: `inboxQueue({ client, queueUrl })`
 * from `@steadyfn/outbox/sqs` makes one (the root entry loads no SQS SDK).
 */
export interface InboxQueue {
  /** The queue's URL. */
  readonly queueUrl: string;
  /**
   * Reads the queue's `RedrivePolicy` attribute (the JSON text SQS keeps, e.g.
   * `{"deadLetterTargetArn":"…","maxReceiveCount":"5"}`); `undefined` when the queue has none.
   * Rejects when it cannot be read; honours `signal`.
   */
  redrivePolicy(signal?: AbortSignal): Promise<string | undefined>;
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
  if (isRecord(queue) && typeof queue.redrivePolicy !== 'function' && ('client' in queue || 'queueUrl' in queue)) {
    // The unreleased development form `{ client, queueUrl }`: reading the policy needs the SQS SDK, in its own entry now.
    throw new ConfigurationError(
      `${owner}(): option "queue" is replaced by queue: inboxQueue({ client, queueUrl }), with inboxQueue imported from '@steadyfn/outbox/sqs' (the root entry loads no @aws-sdk/client-sqs, so an inbox-only bundle needs none); got the plain object { client, queueUrl }`,
      { field: 'queue', expected: "inboxQueue({ client, queueUrl }) (import { inboxQueue } from '@steadyfn/outbox/sqs')" },
    );
  }
  if (!isRecord(queue) || typeof queue.redrivePolicy !== 'function') invalidOption(owner, 'queue', "inboxQueue({ client, queueUrl }) from '@steadyfn/outbox/sqs'", queue);
  const source = queue as unknown as InboxQueue;
  /** The last policy read and when (`performance.now()` when its read was sent). */
  let known: { receives: number | undefined; at: number } | undefined;
  let reading: Promise<number | undefined> | undefined;
  /** When the last read failed (`performance.now()`), until a read succeeds: none is tried for `RECEIVE_LIMIT_RETRY_AFTER_MS`. */
  let failedAt: number | undefined;
  const read = (log: Logger, signal: AbortSignal | undefined): Promise<number | undefined> => {
    const at = performance.now();
    const current: Promise<number | undefined> = Promise.resolve()
      .then(() => source.redrivePolicy(signal))
      .then((policy) => {
        const receives = maxReceiveCountOf(policy);
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
