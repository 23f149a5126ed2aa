/**
 * Review finding: `s3()` / `sqs()` have no thaw check, on the grounds that the SDK opens a new
 * socket when a kept-alive one is gone. That holds for a reset socket (aws.test.ts), not for a
 * silently dead one — a NAT mapping or firewall state that expired while the instance was frozen:
 * the SDK's Node handler has no socket timeout by default, so the first request after the thaw
 * was written to the dead kept-alive socket and waited for an answer that never came, until the
 * invocation's deadline (`DEADLINE_EXCEEDED`; its request, and the socket, hung on for good).
 * Now a request that comes after the client idled past `idleThresholdMs` first closes the
 * client's idle kept-alive sockets (no round trip), so it opens a new one. Within the threshold
 * the kept-alive socket is still reused.
 *
 * Against servers that keep connections alive (gofakes3 for S3, fauxqs for SQS: moto closes
 * each one after its answer, so nothing is kept alive there), behind a fault proxy that
 * blackholes the current connections. Each invocation has a deadline, so the old behaviour
 * fails as `DEADLINE_EXCEEDED` instead of hanging the test.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateQueueCommand, ListQueuesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { handler } from '@steadyfn/handler';
import { closeAll, connections } from '../src/index.js';
import { s3 } from '../src/s3.js';
import { sqs } from '../src/sqs.js';
import { requireService } from '../../../test/services/env.js';
import { eventually } from '../../../test/support/wait.js';
import { startProxy, type FaultProxy } from './support/proxy.js';

const region = 'us-east-1';
const proxies: FaultProxy[] = [];

afterEach(async () => {
  await closeAll();
  for (const proxy of proxies.splice(0)) await proxy.close();
});

async function proxyTo(variable: 'S3_ALT_ENDPOINT' | 'SQS_ALT_ENDPOINT'): Promise<FaultProxy> {
  const proxy = await startProxy(Number(new URL(process.env[variable]!).port));
  proxies.push(proxy);
  return proxy;
}

describe('an AWS client whose kept-alive socket went silently dead while the instance idled', () => {
  it('s3(): idle past the threshold, the next invocation opens a new socket and succeeds; within it the socket is reused', async () => {
    await requireService('s3-alt');
    const proxy = await proxyTo('S3_ALT_ENDPOINT');
    let clock = 0;
    const bucket = `review-idle-${randomUUID().slice(0, 8)}`;
    const files = s3({ name: 'review-s3-idle', now: () => clock, config: { endpoint: `http://127.0.0.1:${proxy.port}`, forcePathStyle: true, region } });
    const main = handler({ use: [connections({ files }, { closeOnSigterm: false })], logSink: () => undefined }, async (input, ctx) => {
      await ctx.files.send(new PutObjectCommand({ Bucket: bucket, Key: String(input), Body: 'x' }));
      return 'stored';
    });
    await (await files.get()).send(new CreateBucketCommand({ Bucket: bucket }));
    const invoke = (input: number) => main.invoke(input, { deadline: Date.now() + 5_000 }).catch((err: unknown) => (err as { code?: string }).code);

    // Warm invocations within the threshold: one kept-alive socket, reused.
    for (let i = 0; i < 3; i++) await expect(invoke(i)).resolves.toBe('stored');
    expect(proxy.accepted).toBe(1);

    clock += 600_000; // the instance was frozen for ten minutes...
    proxy.blackholeAll(); // ...and the network forgot its connection without a word
    await expect(invoke(3)).resolves.toBe('stored');
    expect(proxy.accepted).toBe(2);
    expect(files.stats).toMatchObject({ connects: 1, reconnects: 0, pings: 0 });
  });

  it('sqs(): the same', async () => {
    await requireService('sqs-alt');
    const proxy = await proxyTo('SQS_ALT_ENDPOINT');
    let clock = 0;
    const queue = sqs({ name: 'review-sqs-idle', now: () => clock, config: { endpoint: `http://127.0.0.1:${proxy.port}`, region } });
    const main = handler({ use: [connections({ queue }, { closeOnSigterm: false })], logSink: () => undefined }, async (_input, ctx) => {
      await ctx.queue.send(new ListQueuesCommand({}));
      return 'listed';
    });
    const invoke = () => main.invoke({}, { deadline: Date.now() + 5_000 }).catch((err: unknown) => (err as { code?: string }).code);

    await expect(invoke()).resolves.toBe('listed');
    await expect(invoke()).resolves.toBe('listed');
    expect(proxy.accepted).toBe(1);

    clock += 600_000;
    proxy.blackholeAll();
    await expect(invoke()).resolves.toBe('listed');
    expect(proxy.accepted).toBe(2);
  });

  it('a socket in use is never closed: a long poll in flight when a request after the threshold comes answers normally', async () => {
    await requireService('sqs-alt');
    const proxy = await proxyTo('SQS_ALT_ENDPOINT');
    let clock = 0;
    const url = (await (await sqs({ name: 'review-sqs-setup', config: { endpoint: process.env.SQS_ALT_ENDPOINT, region } }).get()).send(new CreateQueueCommand({ QueueName: `review-idle-${randomUUID().slice(0, 8)}` }))).QueueUrl!;
    // maxAttempts 1: the SDK would otherwise send a poll whose socket was closed once more, and hide it.
    const queue = sqs({ name: 'review-sqs-in-use', now: () => clock, config: { endpoint: `http://127.0.0.1:${proxy.port}`, region, maxAttempts: 1 } });
    const client = await queue.get();
    const poll = client.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 2 })); // an empty queue: answers after 2 s
    await eventually(() => proxy.accepted === 1); // the poll holds its socket
    clock += 600_000; // and started longer ago than the threshold
    await expect(client.send(new ListQueuesCommand({}))).resolves.toBeDefined();
    await expect(poll).resolves.toMatchObject({ $metadata: { httpStatusCode: 200 } });
    expect(proxy.accepted).toBe(2);
  });
});
