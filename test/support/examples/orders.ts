/**
 * What every provider's orders example is checked against: the local services it runs on (a
 * queue, a bucket and a key prefix of its own), the order it places, and reads of the state
 * it leaves behind (Redis hashes, SQS, the backup's objects in S3).
 */
import { randomUUID } from 'node:crypto';
import { CreateBucketCommand, DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Redis } from 'ioredis';
import { requireService } from '../../services/env.js';

export const ORDER = { customerId: 'c-1', items: [{ sku: 'tea-42', qty: 2 }, { sku: 'mug-7', qty: 1 }] };
/** 2 × 650 + 1 × 1200, from the catalog `npm run seed` writes. */
export const ORDER_TOTAL = 2500;
export const WORKFLOW_EVENTS = ['OrderPlaced', 'OrderValidated', 'OrderPaid', 'OrderDispatched'];

export interface OrdersEnv {
  prefix: string;
  queueUrl: string;
  queueArn: string;
  bucket: string;
  /** The environment the functions run with. */
  env: NodeJS.ProcessEnv;
  redis: Redis;
  sqs: SQSClient;
  s3: S3Client;
  /** The `status` field of an order's hash. */
  status(orderId: string): Promise<string | null>;
  /** Keys under this run's prefix matching `pattern` (after the prefix). */
  keys(pattern: string): Promise<string[]>;
  /** Sends a message body to the order-events queue (a redelivery). */
  send(body: string): Promise<void>;
  /** Objects under the backups prefix: key and size. */
  backupObjects(): Promise<Array<{ key: string; size: number }>>;
  readJson(key: string): Promise<any>;
  dispose(): Promise<void>;
}

const aws = () => ({ region: process.env.AWS_REGION ?? 'us-east-1', endpoint: process.env.SQS_ENDPOINT, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });

/** A prefix, an order-events queue and a backup bucket of this test's own, on the shared services. */
export async function ordersEnv(label: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<OrdersEnv> {
  await Promise.all([requireService('redis'), requireService('sqs'), requireService('s3')]);
  const id = `${label}-${randomUUID().slice(0, 8)}`.toLowerCase();
  const redis = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: 2 });
  const sqs = new SQSClient(aws());
  const s3 = new S3Client({ ...aws(), endpoint: process.env.S3_ENDPOINT, forcePathStyle: true });
  // A short visibility timeout: a message a function failed comes back within the test.
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `orders-${id}`, Attributes: { VisibilityTimeout: '2' } }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  const bucket = `backups-${id}`.slice(0, 63);
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const prefix = id;
  const backupsPrefix = `${prefix}-backups/`;
  const list = async (p: string) => {
    const out: Array<{ key: string; size: number }> = [];
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: p, ...(token ? { ContinuationToken: token } : {}) }));
      for (const o of page.Contents ?? []) out.push({ key: o.Key!, size: o.Size ?? 0 });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  };
  const keys = async (pattern: string) => {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}${pattern}`, 'COUNT', 1000);
      cursor = next;
      found.push(...batch);
    } while (cursor !== '0');
    return found;
  };
  return {
    prefix,
    queueUrl: QueueUrl!,
    queueArn: Attributes!.QueueArn!,
    bucket,
    env: {
      ...process.env,
      REDIS_URL: process.env.REDIS_URL,
      ORDERS_PREFIX: prefix,
      ORDER_EVENTS_QUEUE_URL: QueueUrl,
      BACKUP_BUCKET: bucket,
      OUTBOX_SWEEP_GRACE_MS: '0',
      AWS_ENDPOINT_URL: process.env.S3_ENDPOINT,
      AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      STEADYFN_LOG_LEVEL: 'warn',
      ...extraEnv,
    },
    redis,
    sqs,
    s3,
    status: (orderId) => redis.hget(`${prefix}:order:{${orderId}}`, 'status'),
    keys,
    send: async (body) => void (await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: body }))),
    backupObjects: () => list(backupsPrefix),
    readJson: async (key) => JSON.parse(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString()),
    async dispose() {
      for (const key of await keys('*')) await redis.del(key);
      const objects = await list('');
      for (let i = 0; i < objects.length; i += 1000) await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects.slice(i, i + 1000).map((o) => ({ Key: o.key })) } }));
      await sqs.send(new DeleteQueueCommand({ QueueUrl })).catch(() => undefined);
      redis.disconnect();
      sqs.destroy();
      s3.destroy();
    },
  };
}
