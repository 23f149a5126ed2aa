/**
 * Review (try-to-break) finding on a stream run that meets a gap, with `sqsSource`: a stream
 * that last ran longer ago than the queue's retention. The source says so on each pull of the
 * run (the run hands every pull the same `lastRunAt`), and the run broke the timeline on each
 * one — a run of several pulls left a new timeline per pull for one gap. And what a run had
 * buffered before a gap was written to the old timeline without being acknowledged: the SQS
 * messages were never deleted, came back after their visibility timeout and were archived again.
 * One gap must break the timeline once, and what was written must be acknowledged.
 */
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, describe, expect, it } from 'vitest';
import { streamBackup } from '../src/index.js';
import { sqsSource } from '../src/sqs.js';
import { serializeStreamCheckpoint, type StreamCheckpoint } from '../src/stream/checkpoint.js';
import { requireService } from '../../../test/services/env.js';
import { closeMongo, freshBucket, S3_SERVERS, unique } from './support.js';

afterAll(closeMongo);

describe.each(S3_SERVERS)('a stream run after an idle longer than the queue’s retention, on $name', (server) => {
  // Each S3 server is paired with one of the two SQS servers, as in stream-sources.test.ts.
  const sqsServer = server.name === 'moto' ? { name: 'moto', service: 'sqs' as const, env: 'SQS_ENDPOINT' } : { name: 'fauxqs', service: 'sqs-alt' as const, env: 'SQS_ALT_ENDPOINT' };

  it(`breaks the timeline once and deletes every message it archived (${sqsServer.name})`, async () => {
    await requireService(sqsServer.service);
    const s3 = await freshBucket(server);
    const sqs = new SQSClient({ endpoint: process.env[sqsServer.env], region: process.env.AWS_REGION ?? 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: unique('idle').replace(/[^a-z0-9-]/g, ''), Attributes: { MessageRetentionPeriod: '60' } }));
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'idle' };
    try {
      // Several pulls in one run: two messages a pull, a buffer that holds them all.
      const job = streamBackup({ name: 'q', source: sqsSource({ client: sqs, queueUrl: QueueUrl!, waitTimeSeconds: 0 }), target: storage, maxRecords: 2 });
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify({ n: 0 }) }));
      expect(await job.run()).toMatchObject({ records: 1, timeline: 1 });
      // The stream last ran two minutes ago (the queue keeps messages 60 s): its checkpoint says so.
      const key = 'idle/streams/q/checkpoint.json';
      const checkpoint = JSON.parse(await (await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }))).Body!.transformToString()) as StreamCheckpoint;
      checkpoint.updatedAt = new Date(Date.now() - 120_000).toISOString();
      // Sealed again (a new self-checksum), as a sink two minutes ago would have written it.
      await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: serializeStreamCheckpoint(checkpoint) }));

      for (let i = 1; i <= 5; i++) await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify({ n: i }) }));
      const run = await job.run();
      expect(run).toMatchObject({ timelineBroken: true, snapshotRequired: true, timeline: 2, records: 5 });
      const left = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
      expect(Number(left.Attributes!.ApproximateNumberOfMessages) + Number(left.Attributes!.ApproximateNumberOfMessagesNotVisible)).toBe(0);
    } finally {
      await sqs.send(new DeleteQueueCommand({ QueueUrl }));
      await s3.drop();
    }
  });
});
