// The demo's own view of the local services: a queue, a bucket and a key prefix of its own
// per provider (so runs never meet), the catalog the examples' `npm run seed` writes, and
// reads of what the functions left behind. Its clients are marked, so they are not counted.
import { randomUUID } from 'node:crypto';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, DeleteMessageCommand, DeleteQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Redis } from 'ioredis';
import { DEMO } from './instrument.mjs';

const CATALOG = {
  'tea-42': { name: 'Assam tea, 250 g', priceCents: 650 },
  'mug-7': { name: 'Stoneware mug', priceCents: 1200 },
  'pot-1': { name: 'Cast iron teapot', priceCents: 4500 },
};

const mark = (client) => Object.assign(client, { [DEMO]: true });

/** Sets up a prefix, an order-events queue and a backup bucket for `label`; `env` is what the functions are configured with. */
export async function openStores(label) {
  const id = `demo-${label}-${randomUUID().slice(0, 8)}`;
  const aws = { region: process.env.AWS_REGION ?? 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
  const redis = mark(new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: 2 }));
  const sqs = mark(new SQSClient({ ...aws, endpoint: process.env.SQS_ENDPOINT }));
  const s3 = mark(new S3Client({ ...aws, endpoint: process.env.S3_ENDPOINT, forcePathStyle: true }));
  const { QueueUrl: queueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `orders-${id}`, Attributes: { VisibilityTimeout: '2' } }));
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  const bucket = id;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  // What `npm run seed` does: the catalog, then its version.
  await redis.set(`${id}:catalog`, JSON.stringify(CATALOG));
  await redis.incr(`${id}:catalog:version`);

  const list = async (prefix) => {
    const out = [];
    let token;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
      for (const o of page.Contents ?? []) out.push({ key: o.Key, size: o.Size ?? 0 });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  };
  const keys = async (pattern) => {
    const found = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${id}${pattern}`, 'COUNT', 1000);
      cursor = next;
      found.push(...batch);
    } while (cursor !== '0');
    return found;
  };
  return {
    queueUrl,
    queueArn: Attributes.QueueArn,
    sqs,
    env: {
      ORDERS_PREFIX: id,
      ORDER_EVENTS_QUEUE_URL: queueUrl,
      BACKUP_BUCKET: bucket,
      OUTBOX_SWEEP_GRACE_MS: '0',
      AWS_ENDPOINT_URL: process.env.S3_ENDPOINT,
      AWS_REGION: aws.region,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    },
    order: (orderId) => redis.hgetall(`${id}:order:{${orderId}}`),
    /** How many events the order's outbox history holds. */
    eventCount: async (orderId) => Number(await redis.hget(`${id}:outbox:{${orderId}}:seq`, `order/${orderId}`)),
    pendingEvents: () => keys(':outbox:*:agg:*'),
    drillLeftovers: () => keys(':drill:*'),
    orders: () => keys(':order:*'),
    backupObjects: () => list(`${id}-backups/`),
    readJson: async (key) => JSON.parse(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body.transformToString()),
    /** Takes what the queue holds (waiting up to `waitSeconds` for the first message). */
    async take(waitSeconds = 5) {
      const bodies = [];
      for (let round = 0; round < waitSeconds; round++) {
        const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
        for (const m of Messages) {
          bodies.push(m.Body);
          await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
        }
        if (bodies.length > 0 && Messages.length === 0) break;
      }
      return bodies;
    },
    send: (body) => sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body })),
    async close() {
      for (const key of await keys('*')) await redis.del(key);
      const objects = await list('');
      for (let i = 0; i < objects.length; i += 1000) await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects.slice(i, i + 1000).map((o) => ({ Key: o.key })) } }));
      await s3.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined);
      await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch(() => undefined);
      redis.disconnect();
      sqs.destroy();
      s3.destroy();
    },
  };
}
