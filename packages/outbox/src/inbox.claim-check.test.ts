/**
 * An event too large for the queue travels by claim check (S3 on moto): the inbox fetches and
 * verifies it before the function runs, and refuses an object that does not match its pointer.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { handler } from '@steadyfn/handler';
import { memoryStore } from '@steadyfn/idempotency';
import { createQueue, sqsClient } from '../test/support.js';
import { createBucket, receiveAll, s3Client } from '../test/sqs-servers.js';
import { inbox } from './inbox.js';
import { prepareEvent, serializeEvent } from './envelope.js';
import { sqsSender } from './sqs.js';
import { s3ClaimCheck } from './s3.js';

const events = { Big: { aggregateType: 'doc', schema: z.object({ text: z.string() }) } };

describe('inbox with claim-checked events (moto SQS + S3)', () => {
  let sqs: SQSClient;
  let queue: { url: string; remove(): Promise<void> };
  const s3 = s3Client();
  let bucket: string;
  beforeAll(async () => {
    sqs = await sqsClient();
    queue = await createQueue(sqs, { maxMessageBytes: 262_144 });
    bucket = await createBucket(s3, 'obx-claims');
  });
  afterAll(async () => {
    await queue?.remove();
  });

  it('resolves and verifies the body; a tampered object fails the message', async () => {
    const body = serializeEvent(prepareEvent(events, { type: 'Big', aggregateId: 'd-1', payload: { text: 'x'.repeat(400_000) } }, {}), 1);
    const id = JSON.parse(body).id as string;
    const report = await sqsSender({ client: sqs, queueUrl: queue.url, claimCheck: s3ClaimCheck({ s3, bucket }) }).send([{ id, groupKey: 'd-1', body, attributes: { 'steadyfn.seq': '1' } }]);
    expect(report.sent).toHaveLength(1);
    const [message] = await receiveAll(sqs, queue.url, 1);
    const record = {
      messageId: message!.MessageId!,
      receiptHandle: 'rh',
      body: message!.Body!,
      attributes: { ApproximateReceiveCount: '1' },
      messageAttributes: Object.fromEntries(Object.entries(message!.MessageAttributes ?? {}).map(([k, v]) => [k, { stringValue: v.StringValue, dataType: 'String' }])),
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:1:q',
      awsRegion: 'us-east-1',
    };
    let seen = 0;
    const consume = handler({ use: [inbox({ store: memoryStore(), consumer: 'reader', claimCheck: s3ClaimCheck({ s3 }) })] }, async (_input, ctx) => {
      seen = (ctx.inbox.event.payload as { text: string }).text.length;
    });
    const lambda = () => ({ awsRequestId: randomUUID(), functionName: 'reader', getRemainingTimeInMillis: () => 30_000 });
    expect(await consume.aws({ Records: [record] }, lambda())).toEqual({ batchItemFailures: [] });
    expect(seen).toBe(400_000);
    // Someone replaces the object: the pointer's hash no longer matches.
    const pointer = JSON.parse(message!.Body!) as { key: string };
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: pointer.key, Body: body.replace('xxxx', 'yyyy') }));
    const tampered = handler({ use: [inbox({ store: memoryStore(), consumer: 'other', claimCheck: s3ClaimCheck({ s3 }) })] }, async () => undefined);
    const result = (await tampered.aws({ Records: [record] }, lambda())) as { batchItemFailures: unknown[] };
    expect(result.batchItemFailures).toHaveLength(1);
  });

  it('a claim-checked message reaching an inbox without `claimCheck` is logged naming the option, not as a malformed pointer', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const pointer = JSON.stringify({ claimCheck: 1, bucket, key: 'claims/x', size: 1, sha256: 'a'.repeat(64) });
    const record = {
      messageId: randomUUID(),
      receiptHandle: 'rh',
      body: pointer,
      attributes: { ApproximateReceiveCount: '1' },
      messageAttributes: { 'steadyfn.claimCheck': { stringValue: '1', dataType: 'String' } },
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:1:q',
      awsRegion: 'us-east-1',
    };
    const consume = handler({ use: [inbox({ store: memoryStore(), consumer: 'no-s3' })], logSink: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) }, async () => undefined);
    const result = (await consume.aws({ Records: [record] }, { awsRequestId: randomUUID(), functionName: 'reader', getRemainingTimeInMillis: () => 30_000 })) as { batchItemFailures: unknown[] };
    expect(result.batchItemFailures).toHaveLength(1);
    // Its own code: the deployment is to be fixed (not a malformed pointer, OUTBOX_SQS_CLAIM_CHECK_INVALID).
    expect(lines.find((l) => l.code === 'OUTBOX_SQS_CLAIM_CHECK_NO_READER')).toMatchObject({ field: 'claimCheck' });
    expect(lines.some((l) => l.code === 'OUTBOX_SQS_CLAIM_CHECK_INVALID')).toBe(false);
  });

  it("under terminalErrors 'ack': a malformed pointer (the message's own fault) is acknowledged; a reader without claimCheck (the deployment's) is kept", async () => {
    const claimChecked = (body: string) => ({
      messageId: randomUUID(),
      receiptHandle: 'rh',
      body,
      attributes: { ApproximateReceiveCount: '1' },
      messageAttributes: { 'steadyfn.claimCheck': { stringValue: '1', dataType: 'String' } },
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:1:q',
      awsRegion: 'us-east-1',
    });
    const context = () => ({ awsRequestId: randomUUID(), functionName: 'reader', getRemainingTimeInMillis: () => 30_000 });
    const malformed = claimChecked('not a pointer');
    const withReader = handler({ terminalErrors: 'ack', logSink: () => undefined, use: [inbox({ store: memoryStore(), consumer: 'ack-reader', claimCheck: s3ClaimCheck({ s3 }) })] }, async () => undefined);
    expect(await withReader.aws({ Records: [malformed] }, context())).toEqual({ batchItemFailures: [] });
    const pointer = claimChecked(JSON.stringify({ claimCheck: 1, bucket, key: 'claims/x', size: 1, sha256: 'a'.repeat(64) }));
    const noReader = handler({ terminalErrors: 'ack', logSink: () => undefined, use: [inbox({ store: memoryStore(), consumer: 'ack-no-s3' })] }, async () => undefined);
    expect(await noReader.aws({ Records: [pointer] }, context())).toEqual({ batchItemFailures: [{ itemIdentifier: pointer.messageId }] });
  });
});
