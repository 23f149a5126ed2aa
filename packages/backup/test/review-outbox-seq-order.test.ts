/**
 * Review (try-to-break) finding: a restore applied each document's last-ARRIVED change and never
 * looked at the envelope's per-aggregate `seq`. The sink keeps a `seq` at or below the last one
 * seen (a repeat, dropped by id on restore) — but one with a new event id is an older event
 * that arrived late (a standard SQS queue reorders; a relay's batch can arrive in any order),
 * and `restoreStream` / `pointInTimeRestore` wrote its older image over the newer one, silently.
 * Of one aggregate's events, the highest `seq` is now the document's last change.
 */
import { CreateQueueCommand, DeleteQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, describe, expect, it } from 'vitest';
import { mongoTarget, restoreStream, streamBackup, type OutboxEnvelope } from '../src/index.js';
import { sqsSource } from '../src/sqs.js';
import { requireService } from '../../../test/services/env.js';
import { closeMongo, freshBucket, freshDb, S3_SERVERS, unique } from './support.js';

afterAll(closeMongo);

const event = (aggregateId: string, seq: number, change: OutboxEnvelope['change']): OutboxEnvelope => ({ id: uuidv7(), type: 'OrderSaved', aggregateType: 'orders', aggregateId, seq, payload: {}, occurredAt: new Date().toISOString(), ...(change ? { change } : {}) });

describe.each(S3_SERVERS)('one aggregate’s events archived out of seq order, on $name', (server) => {
  // Each S3 server is paired with one of the two SQS servers, as in stream-sources.test.ts.
  const sqsServer = server.name === 'moto' ? { name: 'moto', service: 'sqs' as const, env: 'SQS_ENDPOINT' } : { name: 'fauxqs', service: 'sqs-alt' as const, env: 'SQS_ALT_ENDPOINT' };

  it('a relay batch with seq 2 before seq 1 (an aggregate the sink does not track yet): the restore keeps seq 2', async () => {
    const s3 = await freshBucket(server);
    const restored = await freshDb('seqorder');
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'push' };
    try {
      const push = streamBackup({ name: 'pushed', target: storage });
      // o1: seq 2 (update) before seq 1 (insert); o2: seq 2 (delete) before seq 1 (insert); o3 in order.
      const batch = [event('o1', 2, { op: 'update', after: { v: 2 } }), event('o1', 1, { op: 'insert', after: { v: 1 } }), event('o2', 2, { op: 'delete', before: { _id: 'o2' } }), event('o2', 1, { op: 'insert', after: { v: 1 } }), event('o3', 1, { op: 'insert', after: { v: 1 } }), event('o3', 2, { op: 'update', after: { v: 2 } })];
      expect(await push.append(batch)).toMatchObject({ records: 6, timelineBroken: false });
      expect(await restoreStream({ storage, stream: 'pushed', target: mongoTarget({ db: restored }) })).toMatchObject({ changes: 6 });
      expect(await restored.collection('orders').find({}).sort({ _id: 1 }).toArray()).toEqual([
        { _id: 'o1', v: 2 },
        { _id: 'o3', v: 2 },
      ]);
    } finally {
      await Promise.all([restored.dropDatabase(), s3.drop()]);
    }
  });

  it(`a standard queue (${sqsServer.name}) delivering seq 1 after seq 2 was archived: the restore keeps seq 2`, async () => {
    await requireService(sqsServer.service);
    const s3 = await freshBucket(server);
    const restored = await freshDb('seqorder');
    const sqs = new SQSClient({ endpoint: process.env[sqsServer.env], region: process.env.AWS_REGION ?? 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: unique('std').replace(/[^a-z0-9-]/g, '') }));
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'std' };
    try {
      const job = streamBackup({ name: 'queued', source: sqsSource({ client: sqs, queueUrl: QueueUrl!, waitTimeSeconds: 0, envelopes: true }), target: storage });
      const send = (e: OutboxEnvelope) => sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify(e) }));
      // The queue hands seq 2 over first (archived in one object), seq 1 later (the next object).
      await send(event('o1', 2, { op: 'update', after: { v: 2 } }));
      expect(await job.run()).toMatchObject({ records: 1, timelineBroken: false });
      await send(event('o1', 1, { op: 'insert', after: { v: 1 } }));
      expect(await job.run()).toMatchObject({ records: 1, timelineBroken: false });
      await restoreStream({ storage, stream: 'queued', target: mongoTarget({ db: restored }) });
      expect(await restored.collection('orders').find({}).toArray()).toEqual([{ _id: 'o1', v: 2 }]);
    } finally {
      await sqs.send(new DeleteQueueCommand({ QueueUrl }));
      await Promise.all([restored.dropDatabase(), s3.drop()]);
    }
  });
});
