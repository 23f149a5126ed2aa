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

/** An HTTP answer, whatever the provider's shape. */
export interface HttpAnswer {
  status: number;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: any;
}

/** How a test reaches one provider's deployment of the orders example. */
export interface OrdersDeployment {
  /** POST /orders with `input` as JSON and these headers. */
  create(input: unknown, headers: Record<string, string>): Promise<HttpAnswer>;
  /** Runs the order-events consumer until the queue holds nothing for it; the event bodies it saw, where the provider shows them. */
  consume(): Promise<string[] | undefined>;
  /** Runs a scheduled function once (a tick of its schedule); its result where the provider returns one. */
  tick(fn: 'sweepOutbox' | 'backupOrders' | 'restoreDrill'): Promise<unknown>;
  /** The end of a function's log, where the provider runs it in a process of its own: shown when a check after its run fails. */
  logs?(fn: 'sweepOutbox' | 'backupOrders' | 'restoreDrill'): string;
}

export const lowerCaseKeys = (headers: Record<string, unknown> = {}): Record<string, string> =>
  Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(', ') : String(v)]));

/**
 * The orders scenario every provider's example must pass: create an order, replay its retry,
 * refuse bad requests, run the workflow from the relayed event (delivered twice, as SQS may),
 * sweep, back up and drill. Checked in the stores, so it holds whatever a provider returns.
 */
export async function runOrdersScenario(services: OrdersEnv, deployment: OrdersDeployment, expect: typeof import('vitest').expect): Promise<{ orderId: string }> {
  const key = `k-${randomUUID()}`;
  const first = await deployment.create(ORDER, { 'idempotency-key': key });
  expect(first.status, JSON.stringify(first.body)).toBe(201);
  expect(first.body).toMatchObject({ status: 'placed', totalCents: ORDER_TOTAL });
  const orderId = first.body.orderId as string;
  const again = await deployment.create(ORDER, { 'idempotency-key': key });
  expect(again).toMatchObject({ status: 201, body: first.body });
  expect(again.headers['idempotency-replayed']).toBe('true');
  expect(await services.status(orderId)).toBe('placed');

  // Refusals: invalid input, an unknown product, no Idempotency-Key. Nothing is written.
  expect(await deployment.create({ customerId: '', items: [] }, { 'idempotency-key': `${key}-bad` })).toMatchObject({ status: 400, body: { code: 'VALIDATION_FAILED' } });
  expect(await deployment.create({ customerId: 'c-1', items: [{ sku: 'nope', qty: 1 }] }, { 'idempotency-key': `${key}-sku` })).toMatchObject({ status: 422, body: { code: 'UNKNOWN_SKU' } });
  expect(await deployment.create(ORDER, {})).toMatchObject({ status: 400, body: { code: 'IDEMPOTENCY_KEY_MISSING' } });
  expect(await services.keys(':order:*')).toHaveLength(1);

  // The commit's flush relayed OrderPlaced to SQS. Deliver it twice, as SQS may.
  const relayed = await receiveAll(services, 1);
  expect(relayed.map((b) => JSON.parse(b).type)).toEqual(['OrderPlaced']);
  await services.send(relayed[0]!);
  await services.send(relayed[0]!);

  const seen = await deployment.consume();
  const order = await services.redis.hgetall(`${services.prefix}:order:{${orderId}}`);
  expect(order).toMatchObject({ status: 'dispatched', customerId: 'c-1', totalCents: String(ORDER_TOTAL) });
  for (const step of ['validatedAt', 'paidAt', 'dispatchedAt']) expect(order[step]).toMatch(/^\d{4}-\d\d-\d\dT/);
  // Four events in all: the duplicate delivery ran no step twice (it would have written a fifth, or failed).
  expect(await services.redis.hget(`${services.prefix}:outbox:{${orderId}}:seq`, `order/${orderId}`)).toBe('4');
  if (seen) {
    expect([...new Set(seen.map((b) => JSON.parse(b).type))]).toEqual(WORKFLOW_EVENTS);
    expect(new Set(seen.map((b) => JSON.parse(b).seq))).toEqual(new Set([1, 2, 3, 4]));
  }
  expect(await receiveAll(services, 0, 3)).toEqual([]); // nothing failed and came back

  // Nothing is pending: every event left with its commit.
  await deployment.tick('sweepOutbox');
  expect(await services.keys(':outbox:*:agg:*')).toEqual([]);

  // A snapshot of the orders, then a restore drill of it.
  await deployment.tick('backupOrders');
  const objects = await services.backupObjects();
  const manifest = objects.find((o) => o.key.endsWith('/manifest.json'));
  expect(manifest, JSON.stringify(objects)).toBeDefined();
  expect(await services.readJson(manifest!.key)).toMatchObject({ datasets: [expect.objectContaining({ count: 1 })] });
  await deployment.tick('restoreDrill');
  const after = await services.backupObjects();
  const reports = after.filter((o) => o.key.includes('/drills/'));
  // A terminal failure may be acknowledged (a CloudEvent answered 204): then its log says why.
  expect(reports, `no drill report among ${JSON.stringify(after)}; the drill's log: ${deployment.logs?.('restoreDrill') ?? '(none)'}`).toHaveLength(1);
  expect(await services.readJson(reports[0]!.key)).toMatchObject({ ok: true, datasets: [expect.objectContaining({ expectedCount: 1, restoredCount: 1 })] });
  expect(await services.keys(':drill:*')).toEqual([]);
  return { orderId };
}

/** Receives (and deletes) what the queue holds: at least `atLeast` bodies, waiting up to `waitSeconds` for more. */
export async function receiveAll(services: OrdersEnv, atLeast: number, waitSeconds = 5): Promise<string[]> {
  const { ReceiveMessageCommand, DeleteMessageCommand } = await import('@aws-sdk/client-sqs');
  const bodies: string[] = [];
  const until = Date.now() + waitSeconds * 1000;
  while (Date.now() < until) {
    const { Messages = [] } = await services.sqs.send(new ReceiveMessageCommand({ QueueUrl: services.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    for (const m of Messages) {
      bodies.push(m.Body!);
      await services.sqs.send(new DeleteMessageCommand({ QueueUrl: services.queueUrl, ReceiptHandle: m.ReceiptHandle! }));
    }
    if (bodies.length >= atLeast && (atLeast > 0 || Messages.length === 0) && bodies.length > 0) break;
  }
  return bodies;
}
