/**
 * The other streaming sources on their real servers: a FerretDB collection tailed by a
 * watermark (soft deletes as tombstones, late commits caught by the overlapping re-read, no
 * duplicates in a restore), an SQS queue on moto (archived, then deleted from the queue; the
 * retention rule marks a gap; on moto and on fauxqs), and outbox envelopes handed in by a relay (push mode; a `seq`
 * jump breaks the timeline).
 */
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { EJSON } from 'bson';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, describe, expect, it } from 'vitest';
import { parseEnvelope, type EventEnvelope } from '@steadyfn/outbox';
import { mongoTarget, mongoWatermarkSource, restoreStream, streamBackup, TimelineGapError, type LogLike, type OutboxEnvelope } from '../src/index.js';
import { sqsSource } from '../src/sqs.js';
import { loadStreamCheckpoint, replayObjects, timelineObjects } from '../src/restore/replay.js';
import { requireService } from '../../../test/services/env.js';
import { closeMongo, freshBucket, freshDb, S3_SERVERS, unique } from './support.js';

afterAll(closeMongo);

// Test documents with _ids of any type.
type Doc = { _id: any; [field: string]: any };

describe.each(S3_SERVERS)('stream sources on $name', (server) => {
  it('tails a collection by watermark: updates, tombstones, late commits inside the overlap', async () => {
    const s3 = await freshBucket(server);
    const db = await freshDb('wm');
    const restored = await freshDb('wmr');
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'wm' };
    let clock = Date.parse('2026-01-01T10:00:00Z');
    try {
      const items = db.collection<Doc>('items');
      const at = (s: number) => new Date(Date.parse('2026-01-01T10:00:00Z') + s * 1000);
      await items.insertMany(Array.from({ length: 50 }, (_, i) => ({ _id: i, v: 1, updatedAt: at(i) })));
      const job = streamBackup({ name: 'wm', source: mongoWatermarkSource({ db, collection: 'items', deletedField: 'deletedAt', lagMs: 5_000, overlapMs: 30_000, batchSize: 20, now: () => clock }), target: storage });
      clock = at(60).getTime();
      expect((await job.run()).records).toBe(50);
      // Updates, a tombstone, and a late commit whose watermark is older than the checkpoint (inside the overlap).
      await items.updateOne({ _id: 3 } as never, { $set: { v: 2, updatedAt: at(70) } });
      await items.updateOne({ _id: 4 } as never, { $set: { deletedAt: at(71), updatedAt: at(71) } });
      await items.insertOne({ _id: 'late', v: 1, updatedAt: at(40) });
      clock = at(120).getTime();
      expect((await job.run()).records).toBe(3);
      clock = at(125).getTime();
      expect((await job.run()).records).toBe(0); // nothing archived twice
      const result = await restoreStream({ storage, stream: 'wm', target: mongoTarget({ db: restored }) });
      expect(result.duplicates).toBe(0);
      const live = (await items.find({ deletedAt: { $exists: false } }).sort({ _id: 1 }).toArray()).map((d) => EJSON.stringify(d));
      const back = (await restored.collection('items').find({}).sort({ _id: 1 }).toArray()).map((d) => EJSON.stringify(d));
      expect(back).toEqual(live);
    } finally {
      await Promise.all([db.dropDatabase(), restored.dropDatabase(), s3.drop()]);
    }
  });

  // Each S3 server is paired with one of the two SQS servers: moto with moto, gofakes3 with fauxqs.
  const sqsServer = server.name === 'moto' ? { name: 'moto', service: 'sqs' as const, env: 'SQS_ENDPOINT' } : { name: 'fauxqs', service: 'sqs-alt' as const, env: 'SQS_ALT_ENDPOINT' };

  it(`archives an SQS queue (${sqsServer.name}) and deletes messages only once they are in S3; a stream idle past retention is a gap`, async () => {
    await requireService(sqsServer.service);
    const s3 = await freshBucket(server);
    const sqs = new SQSClient({ endpoint: process.env[sqsServer.env], region: process.env.AWS_REGION ?? 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: unique('arch').replace(/[^a-z0-9-]/g, ''), Attributes: { MessageRetentionPeriod: '60' } }));
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'sqs' };
    try {
      for (let i = 0; i < 35; i++) await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify({ n: i }) }));
      const job = streamBackup({ name: 'q', source: sqsSource({ client: sqs, queueUrl: QueueUrl!, waitTimeSeconds: 0 }), target: storage });
      const first = await job.run();
      expect(first.records).toBe(35);
      const left = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
      expect(Number(left.Attributes!.ApproximateNumberOfMessages) + Number(left.Attributes!.ApproximateNumberOfMessagesNotVisible)).toBe(0);
      const checkpoint = await loadStreamCheckpoint(storage, 'q');
      const bodies: number[] = [];
      await replayObjects(storage, await timelineObjects(storage, checkpoint, 1, 0), async (records) => void bodies.push(...records.map((r) => (r.payload as { n: number }).n)));
      expect(bodies.sort((a, b) => a - b)).toEqual(Array.from({ length: 35 }, (_, i) => i));
      // A stream that last ran longer ago than the queue keeps messages: the source reports a gap.
      const source = sqsSource({ client: sqs, queueUrl: QueueUrl!, waitTimeSeconds: 0 });
      const pulled = await source.pull({ position: null, state: undefined, lastRunAt: new Date(Date.now() - 120_000).toISOString() }, 10);
      expect(pulled.gap).toMatch(/retention/);
    } finally {
      await sqs.send(new DeleteQueueCommand({ QueueUrl }));
      await s3.drop();
    }
  });

  it(`archives @steadyfn/outbox envelopes from the FIFO queue its relay sends to (${sqsServer.name}) and restores their state`, async () => {
    await requireService(sqsServer.service);
    const s3 = await freshBucket(server);
    const restored = await freshDb('sqsenv');
    const sqs = new SQSClient({ endpoint: process.env[sqsServer.env], region: process.env.AWS_REGION ?? 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${unique('env').replace(/[^a-z0-9-]/g, '')}.fifo`, Attributes: { FifoQueue: 'true' } }));
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'sqsenv' };
    try {
      const expected = new Map<string, unknown>();
      for (let i = 0; i < 30; i++) {
        const id = `o${i % 6}`;
        const seq = Math.floor(i / 6) + 1;
        const deleted = i >= 24 && i % 2 === 0;
        const envelope: OutboxEnvelope = { id: uuidv7(), type: deleted ? 'OrderDeleted' : 'OrderSaved', aggregateType: 'orders', aggregateId: id, seq, payload: {}, occurredAt: new Date().toISOString(), schemaVersion: 1, change: deleted ? { op: 'delete' } : { op: seq === 1 ? 'insert' : 'update', after: { total: i } } };
        // The real package accepts it, and its type is ours.
        const parsed = parseEnvelope(JSON.stringify(envelope));
        expect(parsed.ok).toBe(true);
        const real: EventEnvelope = (parsed as { event: EventEnvelope }).event;
        const asOurs: OutboxEnvelope = real;
        if (deleted) expected.delete(id);
        else expected.set(id, { _id: id, total: i });
        await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify(asOurs), MessageGroupId: id, MessageDeduplicationId: envelope.id }));
      }
      const job = streamBackup({ name: 'relayed', source: sqsSource({ client: sqs, queueUrl: QueueUrl!, waitTimeSeconds: 0, envelopes: true }), target: storage });
      expect(await job.run()).toMatchObject({ records: 30, timelineBroken: false });
      await restoreStream({ storage, stream: 'relayed', target: mongoTarget({ db: restored }) });
      const docs = await restored.collection('orders').find({}).sort({ _id: 1 }).toArray();
      expect(docs).toEqual([...expected.values()].sort((a, b) => String((a as { _id: string })._id).localeCompare(String((b as { _id: string })._id))));
    } finally {
      await sqs.send(new DeleteQueueCommand({ QueueUrl }));
      await Promise.all([restored.dropDatabase(), s3.drop()]);
    }
  });

  it(`an outbox seq gap pulled from the FIFO queue (${sqsServer.name}) breaks the timeline; its aggregate id stays out of the log and of TimelineGapError's message and problems`, async () => {
    await requireService(sqsServer.service);
    const s3 = await freshBucket(server);
    const restored = await freshDb('sqsgap');
    const sqs = new SQSClient({ endpoint: process.env[sqsServer.env], region: process.env.AWS_REGION ?? 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${unique('gap').replace(/[^a-z0-9-]/g, '')}.fifo`, Attributes: { FifoQueue: 'true' } }));
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'sqsgap' };
    // Application data: an aggregate id the logs must not carry.
    const secretId = `cust-${unique('id')}`;
    const logged: string[] = [];
    const log: LogLike = { info: (m, f) => void logged.push(m + JSON.stringify(f ?? {})), warn: (m, f) => void logged.push(m + JSON.stringify(f ?? {})), error: (m, f) => void logged.push(m + JSON.stringify(f ?? {})) };
    const send = async (seq: number) => {
      const envelope: OutboxEnvelope = { id: uuidv7(), type: 'Saved', aggregateType: 'accounts', aggregateId: secretId, seq, payload: {}, occurredAt: new Date().toISOString(), change: { op: seq === 1 ? 'insert' : 'update', after: { seq } } };
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify(envelope), MessageGroupId: secretId, MessageDeduplicationId: envelope.id }));
    };
    try {
      const job = streamBackup({ name: 'gapped', source: sqsSource({ client: sqs, queueUrl: QueueUrl!, waitTimeSeconds: 0, envelopes: true }), target: storage });
      await send(1);
      expect(await job.run({ log })).toMatchObject({ records: 1, timelineBroken: false });
      await send(3); // seq 2 never arrived: a gap
      expect(await job.run({ log })).toMatchObject({ timelineBroken: true, timeline: 2 });
      expect(logged.some((l) => l.startsWith('stream backup timeline broken'))).toBe(true);
      for (const line of logged) expect(line).not.toContain(secretId);
      const refused = await restoreStream({ storage, stream: 'gapped', timeline: 1, until: Date.now(), target: mongoTarget({ db: restored }) }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(TimelineGapError);
      expect(refused).toMatchObject({ code: 'BACKUP_TIMELINE_GAP', reason: expect.stringContaining(secretId) });
      expect((refused as Error).message).toMatch(/timeline 1 broke at .*a target after that needs a newer snapshot/);
      expect((refused as Error).message).not.toContain(secretId);
      expect(JSON.stringify((refused as TimelineGapError).problems)).not.toContain(secretId);
    } finally {
      await sqs.send(new DeleteQueueCommand({ QueueUrl }));
      await Promise.all([restored.dropDatabase(), s3.drop()]);
    }
  });

  it('push mode: outbox batches handed in by a relay; a retried batch is dropped by id on replay; a seq jump breaks the timeline', async () => {
    const s3 = await freshBucket(server);
    const storage = { client: s3.client, bucket: s3.bucket, prefix: 'push' };
    try {
      const envelope = (id: string, seq: number): OutboxEnvelope => ({ id: uuidv7(), type: 'Saved', aggregateType: 'carts', aggregateId: id, seq, payload: {}, occurredAt: new Date().toISOString(), change: { op: 'update', after: { seq } } });
      const job = streamBackup({ name: 'relay', target: storage });
      const batch = [envelope('c1', 1), envelope('c1', 2), envelope('c2', 1)];
      expect(await job.append(batch)).toMatchObject({ objects: 1, records: 3, timelineBroken: false });
      // The relay retries the same batch (it never got our answer): archived again, dropped by id on replay.
      await job.append(batch);
      const checkpoint = await loadStreamCheckpoint(storage, 'relay');
      const replayed = await replayObjects(storage, await timelineObjects(storage, checkpoint, 1, 0), async () => undefined);
      expect(replayed).toEqual({ records: 3, duplicates: 3, stale: 0, objects: 2 });
      expect(await job.append([envelope('c1', 3)])).toMatchObject({ timelineBroken: false });
      expect(await job.append([envelope('c1', 5)])).toMatchObject({ timelineBroken: true, snapshotRequired: true, timeline: 2 });
    } finally {
      await s3.drop();
    }
  });
});
