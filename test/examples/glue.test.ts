/**
 * examples/glue on AWS Lambda, installed from the packed packages with npm outside the
 * workspace, run by the real runtime interface client against moto's S3 (with real bucket
 * notifications to SQS), SQS, Redis and FerretDB: an upload becomes a thumbnail (Jimp), the
 * thumbnail a Redis record with its event (outbox), the event a search document in MongoDB
 * (inbox). Unbundled (ESM) and the `npm run build` bundles in ESM and CommonJS.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, PutBucketNotificationConfigurationCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireService } from '../services/env.js';
import { deploymentDir, installExample, type InstalledExample } from '../support/examples/install.js';
import { deleteMessages, mapQueue, receive, sqsRecordOf, startLambda, type LambdaFunction } from '../support/examples/lambda.js';
import { startAllOrNone } from '../support/examples/processes.js';

type Json = Record<string, any>;
const FUNCTIONS = ['makeThumbnail', 'recordThumbnail', 'indexImage'] as const;

let example: InstalledExample;
/** Task roots: the installed folder, and a root holding each bundle alone. */
const taskRoots: Record<string, string> = {};
beforeAll(async () => {
  await Promise.all([requireService('redis'), requireService('mongodb'), requireService('s3'), requireService('sqs')]);
  example = await installExample('glue');
  taskRoots.src = example.dir;
  // Built one after the other (one dist/), then run side by side.
  for (const build of ['esm', 'cjs'] as const) {
    await example.npmRun('build', build === 'cjs' ? ['--format=cjs'] : []);
    taskRoots[build] = deploymentDir(join(example.dir, 'dist'), [build === 'cjs' ? 'index.cjs' : 'index.mjs']);
  }
}, 300_000);
afterAll(() => example?.dispose());

/** Width and height from a PNG's IHDR chunk. */
const pngSize = (png: Buffer) => ({ width: png.readUInt32BE(16), height: png.readUInt32BE(20) });

async function setUp(label: string) {
  const id = `glue-${label}-${randomUUID().slice(0, 8)}`;
  const aws = { region: 'us-east-1', endpoint: process.env.S3_ENDPOINT, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };
  const s3 = new S3Client({ ...aws, forcePathStyle: true });
  const sqs = new SQSClient(aws);
  const queue = async (name: string) => {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${id}-${name}`, Attributes: { VisibilityTimeout: '2' } }));
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    return { url: QueueUrl!, arn: Attributes!.QueueArn! };
  };
  const [uploads, thumbnails, events] = await Promise.all([queue('uploads'), queue('thumbnails'), queue('image-events')]);
  await s3.send(new CreateBucketCommand({ Bucket: id }));
  // The bucket's own notifications, as template.yaml configures them: each prefix to its queue.
  await s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: id,
      NotificationConfiguration: {
        QueueConfigurations: [
          { QueueArn: uploads.arn, Events: ['s3:ObjectCreated:*'], Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'uploads/' }] } } },
          { QueueArn: thumbnails.arn, Events: ['s3:ObjectCreated:*'], Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'thumbnails/' }] } } },
        ],
      },
    }),
  );
  const redis = new Redis(process.env.REDIS_URL!);
  const mongo = new MongoClient(process.env.MONGODB_URI!);
  const searchDb = id.replace(/-/g, '_');
  const env = {
    ...process.env,
    REDIS_URL: process.env.REDIS_URL,
    MONGODB_URI: process.env.MONGODB_URI,
    SEARCH_DB: searchDb,
    IMAGE_EVENTS_QUEUE_URL: events.url,
    GLUE_PREFIX: id,
    AWS_ENDPOINT_URL: process.env.S3_ENDPOINT,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    STEADYFN_LOG_LEVEL: 'warn',
  };
  return {
    id, s3, sqs, redis, mongo, env, uploads, thumbnails, events, search: () => mongo.db(searchDb).collection<{ _id: string } & Json>('search'),
    async object(key: string) {
      const out = await s3.send(new GetObjectCommand({ Bucket: id, Key: key })).catch(() => undefined);
      return out ? Buffer.from(await out.Body!.transformToByteArray()) : undefined;
    },
    async dispose() {
      const { Contents = [] } = await s3.send(new ListObjectsV2Command({ Bucket: id }));
      if (Contents.length) await s3.send(new DeleteObjectsCommand({ Bucket: id, Delete: { Objects: Contents.map((c) => ({ Key: c.Key! })) } }));
      await s3.send(new DeleteBucketCommand({ Bucket: id })).catch(() => undefined);
      for (const q of [uploads, thumbnails, events]) await sqs.send(new DeleteQueueCommand({ QueueUrl: q.url })).catch(() => undefined);
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${id}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length) await redis.del(...keys);
      } while (cursor !== '0');
      await mongo.db(searchDb).dropDatabase().catch(() => undefined);
      redis.disconnect();
      await mongo.close();
      s3.destroy();
      sqs.destroy();
    },
  };
}

describe.concurrent.each([
  { variant: 'unbundled (ESM, with node_modules)', build: undefined },
  { variant: 'bundled with esbuild as ESM', build: 'esm' },
  { variant: 'bundled with esbuild as CommonJS', build: 'cjs' },
] as const)('examples/glue $variant', ({ build }) => {
  it('turns an upload into a thumbnail, a record with its event, and a search document', async () => {
    const env = await setUp(build ?? 'src');
    let fns: Record<(typeof FUNCTIONS)[number], LambdaFunction> | undefined;
    try {
      const started = await startAllOrNone(FUNCTIONS.map((name) => startLambda(taskRoots[build ?? 'src']!, `index.${name}`, env.env)));
      fns = Object.fromEntries(FUNCTIONS.map((name, i) => [name, started[i]])) as NonNullable<typeof fns>;
      const lambda = (fn: LambdaFunction) => async (event: unknown) => {
        const result = await fn.invoke(event);
        expect(result.outcome, fn.output()).toBe('response');
        return result.body as Json;
      };

      // An upload: S3 notifies the uploads queue (after its s3:TestEvent, which is acknowledged).
      const original = readFileSync(join(example.dir, 'samples/red-teapot.png'));
      await env.s3.send(new PutObjectCommand({ Bucket: env.id, Key: 'uploads/red-teapot.png', Body: original, ContentType: 'image/png' }));
      await mapQueue(env.sqs, env.uploads.url, env.uploads.arn, lambda(fns.makeThumbnail), async () => (await env.object('thumbnails/red-teapot.png')) !== undefined);
      const thumb = (await env.object('thumbnails/red-teapot.png'))!;
      expect(pngSize(original)).toEqual({ width: 480, height: 360 });
      expect(pngSize(thumb)).toEqual({ width: 160, height: 120 });

      // The thumbnail's own notification: the record and its event, in one write.
      const notices = await mapQueue(env.sqs, env.thumbnails.url, env.thumbnails.arn, lambda(fns.recordThumbnail), async () => (await env.redis.keys(`${env.id}:image:*`)).length > 0);
      const [recordKey] = await env.redis.keys(`${env.id}:image:*`);
      const record = await env.redis.hgetall(recordKey!);
      expect(record).toMatchObject({ source: 'uploads/red-teapot.png', thumbnail: 'thumbnails/red-teapot.png', title: 'red teapot', width: '160', height: '120' });

      // The event updates the search index.
      const events = await mapQueue(env.sqs, env.events.url, env.events.arn, lambda(fns.indexImage), async () => (await env.search().countDocuments()) > 0);
      expect(events.map((b) => JSON.parse(b))).toEqual([expect.objectContaining({ type: 'ImageRecorded', seq: 1, change: expect.objectContaining({ op: 'insert', after: expect.objectContaining({ imageId: record.imageId }) }) })]);
      expect(await env.search().findOne({ _id: record.imageId })).toMatchObject({ title: 'red teapot', terms: ['red', 'teapot'], thumbnail: { key: 'thumbnails/red-teapot.png', width: 160, height: 120 } });

      // S3 notifies again (it may): the record is written once, no second event.
      const notice = notices.find((b) => b.includes('thumbnails'))!;
      const again = await lambda(fns.recordThumbnail)({ Records: [sqsRecordOf({ MessageId: randomUUID(), ReceiptHandle: 'r', Body: notice }, env.thumbnails.arn)] });
      expect(again).toEqual({ batchItemFailures: [] });
      expect(await receive(env.sqs, env.events.url, 2)).toEqual([]);
      expect(await env.redis.hget(`${env.id}:outbox:{${record.imageId}}:seq`, `image/${record.imageId}`)).toBe('1');

      // Not an image: a terminal failure, reported for the queue's dead-letter queue.
      await env.s3.send(new PutObjectCommand({ Bucket: env.id, Key: 'uploads/notes.txt', Body: 'not a picture' }));
      const [message] = await receive(env.sqs, env.uploads.url, 5);
      const failed = await lambda(fns.makeThumbnail)({ Records: [sqsRecordOf(message!, env.uploads.arn)] });
      expect(failed).toEqual({ batchItemFailures: [{ itemIdentifier: message!.MessageId }] });
      await deleteMessages(env.sqs, env.uploads.url, [message!]);
    } finally {
      if (fns) await Promise.all(Object.values(fns).map((f) => f.stop()));
      await env.dispose();
    }
  }, 240_000);
});

it('examples/glue keeps two uploads that differ only in their extension apart: a thumbnail, a record and a search document each', async () => {
  const env = await setUp('same-name');
  let fns: Record<(typeof FUNCTIONS)[number], LambdaFunction> | undefined;
  try {
    const started = await startAllOrNone(FUNCTIONS.map((name) => startLambda(taskRoots.src!, `index.${name}`, env.env)));
    fns = Object.fromEntries(FUNCTIONS.map((name, i) => [name, started[i]])) as NonNullable<typeof fns>;
    const lambda = (fn: LambdaFunction) => async (event: unknown) => {
      const result = await fn.invoke(event);
      expect(result.outcome, fn.output()).toBe('response');
      return result.body as Json;
    };
    // The same picture as PNG and as JPEG (encoded with the example's own Jimp).
    const png = readFileSync(join(example.dir, 'samples/red-teapot.png'));
    const toJpeg = "import { createJimp } from '@jimp/core'; import jpeg from '@jimp/js-jpeg'; import png from '@jimp/js-png'; const J = createJimp({ formats: [png, jpeg] }); const i = await J.read(Buffer.from(process.argv[1], 'base64')); process.stdout.write((await i.getBuffer('image/jpeg')).toString('base64'));";
    const jpeg = Buffer.from(execFileSync(process.execPath, ['--input-type=module', '-e', toJpeg, png.toString('base64')], { cwd: example.dir, encoding: 'utf8' }), 'base64');
    await env.s3.send(new PutObjectCommand({ Bucket: env.id, Key: 'uploads/teapot.png', Body: png, ContentType: 'image/png' }));
    await env.s3.send(new PutObjectCommand({ Bucket: env.id, Key: 'uploads/teapot.jpg', Body: jpeg, ContentType: 'image/jpeg' }));
    const count = (bodies: string[], text: string) => bodies.filter((b) => b.includes(text)).length;
    await mapQueue(env.sqs, env.uploads.url, env.uploads.arn, lambda(fns.makeThumbnail), (bodies) => count(bodies, '"Records"') >= 2);
    await mapQueue(env.sqs, env.thumbnails.url, env.thumbnails.arn, lambda(fns.recordThumbnail), (bodies) => count(bodies, '"Records"') >= 2);
    await mapQueue(env.sqs, env.events.url, env.events.arn, lambda(fns.indexImage), (bodies) => bodies.length >= 1);
    const documents = await env.search().find().toArray();
    expect(documents.map((d) => d.source).sort()).toEqual(['uploads/teapot.jpg', 'uploads/teapot.png']);
    expect(new Set(documents.map((d) => d.thumbnail.key)).size).toBe(2);
    for (const d of documents) expect(await env.object(d.thumbnail.key)).toBeDefined();
  } finally {
    if (fns) await Promise.all(Object.values(fns).map((f) => f.stop()));
    await env.dispose();
  }
}, 240_000);
