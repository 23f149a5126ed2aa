/**
 * Review (try-to-break) finding on `sqsSource({ envelopes: true })`, the FIFO queue an
 * `@steadyfn/outbox` relay sends to. The relay sends with `SendMessageBatch`, so the events of
 * a batch share one `SentTimestamp` (milliseconds). The source sorted what it received by
 * `SentTimestamp`, then by `MessageId` — a random UUID — which reordered one aggregate's events
 * of the same millisecond: a `seq` seen going backwards broke the timeline for nothing
 * (`snapshotRequired`), and the archive held the events out of order, so a restore applied an
 * older `change.after` last. The order the FIFO queue delivers must be kept.
 */
import { CreateQueueCommand, DeleteQueueCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, describe, expect, it } from 'vitest';
import { mongoTarget, restoreStream, streamBackup, type OutboxEnvelope } from '../src/index.js';
import { sqsSource } from '../src/sqs.js';
import { loadStreamCheckpoint, replayObjects, timelineObjects } from '../src/restore/replay.js';
import { requireService } from '../../../test/services/env.js';
import { closeMongo, freshBucket, freshDb, S3_SERVERS, unique } from './support.js';

afterAll(closeMongo);

describe.each(S3_SERVERS)('an outbox relay’s FIFO queue sent in batches, on $name', (server) => {
  // Each S3 server is paired with one of the two SQS servers, as in stream-sources.test.ts.
  const sqsServer = server.name === 'moto' ? { name: 'moto', service: 'sqs' as const, env: 'SQS_ENDPOINT' } : { name: 'fauxqs', service: 'sqs-alt' as const, env: 'SQS_ALT_ENDPOINT' };

  it(`keeps each aggregate's events in the order the queue delivers them (${sqsServer.name}): no timeline break, the last change restored`, async () => {
    await requireService(sqsServer.service);
    const s3 = await freshBucket(server);
    const restored = await freshDb('sqsfifo');
    const sqs = new SQSClient({ endpoint: process.env[sqsServer.env], region: process.env.AWS_REGION ?? 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${unique('fifo').replace(/[^a-z0-9-]/g, '')}.fifo`, Attributes: { FifoQueue: 'true' } }));
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'fifo' };
    try {
      // Two relay batches of ten events each, one aggregate per batch, as the relay sends them.
      const sent: OutboxEnvelope[] = [];
      for (const aggregateId of ['o1', 'o2']) {
        const batch = Array.from({ length: 10 }, (_, i): OutboxEnvelope => ({ id: uuidv7(), type: 'OrderSaved', aggregateType: 'orders', aggregateId, seq: i + 1, payload: {}, occurredAt: new Date().toISOString(), change: { op: i === 0 ? 'insert' : 'update', after: { v: i + 1 } } }));
        sent.push(...batch);
        await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: batch.map((e, i) => ({ Id: `m${i}`, MessageBody: JSON.stringify(e), MessageGroupId: aggregateId, MessageDeduplicationId: e.id })) }));
      }
      const job = streamBackup({ name: 'relayed', source: sqsSource({ client: sqs, queueUrl: QueueUrl!, waitTimeSeconds: 0, envelopes: true }), target: storage });
      expect(await job.run()).toMatchObject({ records: 20, timelineBroken: false, timeline: 1 });

      // Archived in the queue's order per aggregate.
      const checkpoint = await loadStreamCheckpoint(storage, 'relayed');
      const archived: string[] = [];
      await replayObjects(storage, await timelineObjects(storage, checkpoint, 1, 0), async (records) => void archived.push(...records.map((r) => r.id)));
      for (const aggregateId of ['o1', 'o2']) {
        const ids = sent.filter((e) => e.aggregateId === aggregateId).map((e) => e.id);
        expect(archived.filter((id) => ids.includes(id))).toEqual(ids);
      }
      await restoreStream({ storage, stream: 'relayed', target: mongoTarget({ db: restored }) });
      expect(await restored.collection('orders').find({}).sort({ _id: 1 }).toArray()).toEqual([
        { _id: 'o1', v: 10 },
        { _id: 'o2', v: 10 },
      ]);
    } finally {
      await sqs.send(new DeleteQueueCommand({ QueueUrl }));
      await Promise.all([restored.dropDatabase(), s3.drop()]);
    }
  });
});
