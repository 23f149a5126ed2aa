/**
 * `inboxQueue()`: the inbox's `queue` option on SQS — reads the queue's `RedrivePolicy` with
 * `GetQueueAttributes`. In `@steadyfn/outbox/sqs` (it loads `@aws-sdk/client-sqs`), so an
 * inbox without it — a consumer triggered by the queue, never calling SQS — needs no SQS SDK.
 */
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { awsClientOption, checkKnownKeys, invalidOption, isRecord, keysOf } from '@steadyfn/handler/internal';
import type { InboxQueue } from '../inbox-redrive.js';
import { queueUrlOption } from './queue-url.js';

/** Options of {@link inboxQueue}. */
export interface InboxQueueOptions {
  /** An `SQSClient` (`@aws-sdk/client-sqs`) allowed `sqs:GetQueueAttributes` on the queue. */
  client: SQSClient;
  /** The URL (`http:` or `https:`) of the queue this consumer is triggered by. */
  queueUrl: string;
}

const OWNER = 'inboxQueue';

/**
 * The queue an inbox's consumer is triggered by, for `inbox({ queue })`: with it, a seq gap
 * reads the queue's `RedrivePolicy` (its `maxReceiveCount`) so an event is handled on its last
 * receive instead of going to the DLQ unhandled (see `InboxOptions.queue`).
 *
 * @param options.client - An `SQSClient` allowed `sqs:GetQueueAttributes` on the queue.
 * @param options.queueUrl - The queue's URL (`http:` or `https:`).
 * @returns What `inbox({ queue })` takes.
 * @throws {ConfigurationError} `CONFIG_INVALID` naming the option: options that are not an
 *   object (field `options`), an unknown key, a `client` that is not an SQS client, a
 *   `queueUrl` that is not a queue URL.
 * @example
 * import { inbox } from '@steadyfn/outbox';
 * import { inboxQueue } from '@steadyfn/outbox/sqs';
 *
 * inbox({ store, consumer: 'shipping', queue: inboxQueue({ client: sqs, queueUrl }) });
 */
export function inboxQueue(options: InboxQueueOptions): InboxQueue {
  if (!isRecord(options)) invalidOption(OWNER, 'options', 'an object { client, queueUrl }', options);
  checkKnownKeys(OWNER, '', options, keysOf<InboxQueueOptions>({ client: true, queueUrl: true }));
  awsClientOption(OWNER, 'client', options.client, 'SQS', "an SQSClient from @aws-sdk/client-sqs (to read the queue's RedrivePolicy)");
  const { queueUrl } = queueUrlOption(OWNER, 'queueUrl', options.queueUrl);
  const client = options.client;
  return {
    queueUrl,
    async redrivePolicy(signal) {
      const answer = await client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] }), signal === undefined ? undefined : { abortSignal: signal });
      return answer.Attributes?.RedrivePolicy;
    },
  };
}
