/**
 * The inbox's view of its queue's redrive policy: how many receives a message gets before SQS
 * moves it to the dead-letter queue (`RedrivePolicy.maxReceiveCount`, read with
 * `GetQueueAttributes` once and cached, as `sqsSender` caches `MaximumMessageSize`). A message
 * carries no trace of it, so the inbox can only learn it from the queue: `inbox({ queue })`.
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

/** The receive limit reader: `undefined` when the queue has no redrive policy or it could not be read. */
export type ReceiveLimit = (log: Logger, signal: AbortSignal | undefined) => Promise<number | undefined>;

/** Checks `inbox({ queue })` and gives its reader, or `undefined` when the option is left out. */
export function receiveLimitOf(owner: string, queue: unknown): ReceiveLimit | undefined {
  if (queue === undefined) return undefined;
  if (!isRecord(queue)) invalidOption(owner, 'queue', 'an object { client, queueUrl }', queue);
  checkKnownKeys(owner, 'queue', queue, keysOf<InboxQueueOptions>({ client: true, queueUrl: true }));
  awsClientOption(owner, 'queue.client', queue.client, 'SQS', 'an SQSClient from @aws-sdk/client-sqs (to read the queue\'s RedrivePolicy)');
  const { queueUrl } = queueUrlOption(owner, 'queue.queueUrl', queue.queueUrl);
  const client = queue.client as SQSClient;
  let known: Promise<number | undefined> | undefined;
  return (log, signal) => {
    known ??= client
      .send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] }), signal === undefined ? undefined : { abortSignal: signal })
      .then((answer) => maxReceiveCountOf(answer.Attributes?.RedrivePolicy))
      .catch((error: unknown) => {
        // Not cached: the next gap asks again. Meanwhile maxGapRetries applies as configured.
        known = undefined;
        log.warn('inbox could not read the queue\'s RedrivePolicy; maxGapRetries applies as configured', { cause: error instanceof Error ? error.name : typeof error });
        return undefined;
      });
    return known;
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
