/**
 * S3 and SQS handles against moto. These clients speak HTTP: there is no thaw ping (the
 * SDK opens a new socket when a kept-alive one is gone and retries socket errors), so what
 * is tested is that one client is built and reused, and that reuse keeps working.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { handler } from '@steadyfn/handler';
import { closeAll, connections } from '../src/index.js';
import { s3 } from '../src/s3.js';
import { sqs } from '../src/sqs.js';
import { requireService } from '../../../test/services/env.js';
import { startProxy } from './support/proxy.js';

const bucket = `steadyfn-conn-${randomUUID().slice(0, 8)}`;
const queueName = `steadyfn-conn-${randomUUID().slice(0, 8)}`;
let queueUrl = '';

const region = (): string => process.env.AWS_REGION ?? 'us-east-1';
const s3Handle = () => s3({ config: { endpoint: process.env.S3_ENDPOINT, forcePathStyle: true, region: region() } });
const sqsHandle = () => sqs({ config: { endpoint: process.env.SQS_ENDPOINT, region: region() } });

beforeAll(async () => {
  await requireService('s3');
  await requireService('sqs');
  const setupS3 = s3Handle();
  const setupSqs = sqsHandle();
  await (await setupS3.get()).send(new CreateBucketCommand({ Bucket: bucket }));
  queueUrl = (await (await setupSqs.get()).send(new CreateQueueCommand({ QueueName: queueName }))).QueueUrl!;
  await closeAll();
});

afterEach(async () => {
  await closeAll();
});

afterAll(async () => {
  await closeAll();
});

describe('S3 and SQS handles (moto)', () => {
  it('100 warm invocations build one client each and keep working; idle time sends no ping', async () => {
    let clock = 0;
    const objects = s3({ config: { endpoint: process.env.S3_ENDPOINT, forcePathStyle: true, region: region() }, now: () => clock });
    const queue = sqs({ config: { endpoint: process.env.SQS_ENDPOINT, region: region() }, now: () => clock });
    const main = handler({ use: [connections({ objects, queue }, { closeOnSigterm: false })], logSink: () => undefined }, async (input, ctx) => {
      const key = `k${String(input)}`;
      await ctx.objects.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: String(input) }));
      // Every tenth invocation also reads back and uses the queue: fewer moto round trips.
      if (Number(input) % 10 !== 0) return String(input);
      const got = await ctx.objects.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      await ctx.queue.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: String(input) }));
      return got.Body?.transformToString();
    });
    const first = await objects.get();
    for (let i = 0; i < 100; i++) {
      // Every tenth invocation comes after a long idle gap: still no ping for HTTP clients.
      if (i % 10 === 0) clock += 600_000;
      await expect(main.invoke(i)).resolves.toBe(String(i));
    }
    expect(await objects.get()).toBe(first);
    expect(objects.stats).toMatchObject({ connects: 1, pings: 0, reconnects: 0 });
    expect(queue.stats).toMatchObject({ connects: 1, pings: 0, reconnects: 0 });
    const received = await (await queue.get()).send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }));
    expect(received.Messages?.length).toBeGreaterThan(0);
  });

  it('20 concurrent cold invocations build one client', async () => {
    const objects = s3Handle();
    const main = handler({ use: [connections({ objects }, { closeOnSigterm: false })], logSink: () => undefined }, async (input, ctx) => {
      await ctx.objects.send(new PutObjectCommand({ Bucket: bucket, Key: `c${String(input)}`, Body: 'x' }));
      return true;
    });
    await Promise.all(Array.from({ length: 20 }, (_, i) => main.invoke(i)));
    expect(objects.stats.connects).toBe(1);
  });

  it('kept-alive sockets reset between invocations: the SDK reconnects by itself, no error, same client', async () => {
    const port = Number(new URL(process.env.S3_ENDPOINT!).port);
    const proxy = await startProxy(port);
    try {
      const objects = s3({ config: { endpoint: `http://127.0.0.1:${proxy.port}`, forcePathStyle: true, region: region() } });
      const main = handler({ use: [connections({ objects }, { closeOnSigterm: false })], logSink: () => undefined }, async (input, ctx) => {
        await ctx.objects.send(new PutObjectCommand({ Bucket: bucket, Key: `r${String(input)}`, Body: 'x' }));
        return true;
      });
      for (let i = 0; i < 5; i++) {
        await expect(main.invoke(i)).resolves.toBe(true);
        proxy.resetAll();
      }
      expect(objects.stats).toMatchObject({ connects: 1, reconnects: 0 });
      expect(proxy.accepted).toBeGreaterThanOrEqual(5);
    } finally {
      await proxy.close();
    }
  });

  it('a closed handle builds a new client on next use', async () => {
    const objects = s3Handle();
    const first = await objects.get();
    await objects.close();
    const second = await objects.get();
    expect(second).not.toBe(first);
    await second.send(new PutObjectCommand({ Bucket: bucket, Key: 'after-close', Body: 'x' }));
    expect(objects.stats.connects).toBe(2);
  });
});
