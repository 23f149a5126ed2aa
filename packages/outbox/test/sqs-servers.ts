/**
 * The SQS servers the SQS layer is proven on — moto (SQS_ENDPOINT), fauxqs (SQS_ALT_ENDPOINT)
 * and ElasticMQ (SQS_ELASTICMQ_ENDPOINT), all started by test/services/services.sh — and small
 * helpers to make uniquely named queues and read everything back.
 */
import { randomBytes } from 'node:crypto';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import { S3Client, CreateBucketCommand } from '@aws-sdk/client-s3';

export type ServerName = 'moto' | 'fauxqs' | 'elasticmq';

export interface SqsServer {
  name: ServerName;
  endpoint: string;
}

/**
 * The servers a test suite runs on, once per server: moto and fauxqs; with `elasticmq: true`
 * ElasticMQ too. ElasticMQ runs the conformance suites (the sender, its call classification,
 * delivery retries, the watchdog, the relay over a missing queue and after a store outage); not
 * the suites built on a queue's `MaximumMessageSize` or on removing its `RedrivePolicy`, which
 * ElasticMQ 1.7.1 does not keep (claim check, stale limits, redrive changes).
 */
export function sqsServers(options: { elasticmq?: boolean } = {}): SqsServer[] {
  const servers: SqsServer[] = [
    { name: 'moto', endpoint: process.env.SQS_ENDPOINT ?? 'http://127.0.0.1:15000' },
    { name: 'fauxqs', endpoint: process.env.SQS_ALT_ENDPOINT ?? 'http://127.0.0.1:15300' },
  ];
  if (options.elasticmq === true) servers.push({ name: 'elasticmq', endpoint: process.env.SQS_ELASTICMQ_ENDPOINT ?? 'http://127.0.0.1:15400' });
  return servers;
}

/** The endpoint of one server by name. */
export function sqsEndpoint(name: ServerName): string {
  return sqsServers({ elasticmq: true }).find((s) => s.name === name)!.endpoint;
}

const credentials = { accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'test', secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'test' };
const region = process.env.AWS_REGION ?? 'us-east-1';

/** An SQS client for `endpoint`; SDK retries off so the sender's own retries are what is measured. */
export function sqsClient(endpoint: string, maxAttempts = 1): SQSClient {
  return new SQSClient({ endpoint, region, credentials, maxAttempts });
}

export function s3Client(endpoint = process.env.S3_ENDPOINT ?? 'http://127.0.0.1:15000'): S3Client {
  return new S3Client({ endpoint, region, credentials, forcePathStyle: true });
}

export const suffix = (): string => randomBytes(4).toString('hex');

/** Creates a queue with `MaximumMessageSize` = `maxBytes`; returns its URL. */
export async function createQueue(client: SQSClient, name: string, options: { maxBytes: number; fifo?: boolean }): Promise<string> {
  const answer = await client.send(
    new CreateQueueCommand({
      QueueName: `${name}-${suffix()}${options.fifo ? '.fifo' : ''}`,
      Attributes: { MaximumMessageSize: String(options.maxBytes), ...(options.fifo ? { FifoQueue: 'true' } : {}) },
    }),
  );
  return answer.QueueUrl!;
}

export async function deleteQueue(client: SQSClient, queueUrl: string): Promise<void> {
  await client.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch(() => undefined);
}

export async function createBucket(s3: S3Client, name: string): Promise<string> {
  const bucket = `${name}-${suffix()}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

/**
 * Receives (and deletes) until `count` messages arrived or `timeoutMs` passed. FIFO queues hand
 * out a group's next message only after the previous one is deleted, so each batch is deleted
 * before the next receive.
 */
export async function receiveAll(client: SQSClient, queueUrl: string, count: number, timeoutMs = 10_000): Promise<Message[]> {
  const out: Message[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < count && Date.now() < deadline) {
    const answer = await client.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, VisibilityTimeout: 600, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'] }),
    );
    const got = answer.Messages ?? [];
    out.push(...got);
    if (got.length > 0) {
      await client.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: got.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.ReceiptHandle! })) }));
    }
    if (got.length === 0) await new Promise((r) => setTimeout(r, 50));
  }
  return out;
}
