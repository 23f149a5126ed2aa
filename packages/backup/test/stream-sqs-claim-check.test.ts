/**
 * `sqsSource` meets what `@steadyfn/outbox`'s `sqsSender` puts on a queue (moto S3; SQS on moto
 * and fauxqs): claim-check pointers (resolved through the reader the inbox takes, checked
 * against size and SHA-256, the real envelope archived) and base64 bodies (decoded). A message
 * that cannot be read is left on the queue while its batch-mates are archived and deleted, and
 * the run throws its typed error: the stream is never stuck behind it.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { v7 as uuidv7 } from 'uuid';
import { describe, expect, it } from 'vitest';
import { s3ClaimCheck } from '@steadyfn/outbox/s3';
import { sqsSender } from '@steadyfn/outbox/sqs';
import type { Sender } from '@steadyfn/outbox';
import { ConfigurationError, SourceRecordInvalidError, SqsClaimCheckError, streamBackup, type OutboxEnvelope, type StreamRecord } from '../src/index.js';
import { sqsSource, type SqsSourceOptions } from '../src/sqs.js';
import { loadStreamCheckpoint, replayObjects, timelineObjects } from '../src/restore/replay.js';
import { requireService } from '../../../test/services/env.js';
import { freshBucket, S3_SERVERS, unique } from './support.js';

const SQS_SERVERS = [
  { name: 'moto', service: 'sqs' as const, env: 'SQS_ENDPOINT' },
  { name: 'fauxqs', service: 'sqs-alt' as const, env: 'SQS_ALT_ENDPOINT' },
];

function envelope(aggregateId: string, seq: number, payload: unknown = {}): OutboxEnvelope {
  return { id: uuidv7(), type: 'OrderSaved', aggregateType: 'orders', aggregateId, seq, payload, occurredAt: new Date().toISOString(), change: { op: seq === 1 ? 'insert' : 'update', after: { seq } } };
}

/** Every record archived by stream `name` (timeline 1). */
async function archived(storage: { client: never; bucket: string; prefix: string }, name: string): Promise<StreamRecord[]> {
  const out: StreamRecord[] = [];
  const checkpoint = await loadStreamCheckpoint(storage, name);
  await replayObjects(storage, await timelineObjects(storage, checkpoint, 1, 0), async (records) => void out.push(...records));
  return out;
}

describe.each(SQS_SERVERS)('sqsSource and the outbox claim check (SQS on $name, S3 on moto)', (server) => {
  const setup = async (fifo: boolean) => {
    await requireService(server.service);
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const sqs = new SQSClient({ endpoint: process.env[server.env], region: process.env.AWS_REGION ?? 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const name = `${unique('cc').replace(/[^a-z0-9-]/g, '')}${fifo ? '.fifo' : ''}`;
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: fifo ? { FifoQueue: 'true' } : {} }));
    const storage = { client: s3.client as never, bucket: s3.bucket, prefix: 'cc' };
    const inQueue = async (): Promise<number> => {
      const a = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
      return Number(a.Attributes!.ApproximateNumberOfMessages) + Number(a.Attributes!.ApproximateNumberOfMessagesNotVisible);
    };
    const done = async () => {
      await sqs.send(new DeleteQueueCommand({ QueueUrl }));
      await s3.drop();
    };
    return { s3, sqs, queueUrl: QueueUrl!, storage, inQueue, done };
  };

  it("the reviewer's reproduction: a claim-checked envelope between two others is resolved, verified and archived whole", async () => {
    const { s3, sqs, queueUrl, storage, inQueue, done } = await setup(true);
    try {
      const sender = sqsSender({ client: sqs, queueUrl, claimCheck: s3ClaimCheck({ s3: s3.client, bucket: s3.bucket, prefix: 'claims/', thresholdBytes: 1000 }) });
      const events = [envelope('o1', 1), envelope('o1', 2, { blob: 'x'.repeat(5000) }), envelope('o1', 3)];
      const report = await sender.send(events.map((e) => ({ id: e.id, groupKey: 'o1', body: JSON.stringify(e) })));
      expect(report.failed).toEqual([]);
      expect(report.sent.map((s) => s.claimCheck !== undefined)).toEqual([false, true, false]);
      const job = streamBackup({ name: 'cc', source: sqsSource({ client: sqs, queueUrl, waitTimeSeconds: 0, visibilityTimeoutSeconds: 1, envelopes: true, claimCheck: s3ClaimCheck({ s3: s3.client }) }), target: storage });
      await expect(job.run()).resolves.toMatchObject({ records: 3, timelineBroken: false });
      expect(await inQueue()).toBe(0);
      const records = await archived(storage, 'cc');
      expect(records.map((r) => r.payload)).toEqual(events);
    } finally {
      await done();
    }
  });

  it('without claimCheck: the pointer is BACKUP_SQS_CLAIM_CHECK_NO_READER naming the option, its batch-mates are archived and deleted, it stays on the queue; with a reader the next run archives it', async () => {
    const { s3, sqs, queueUrl, storage, inQueue, done } = await setup(false);
    try {
      const sender = sqsSender({ client: sqs, queueUrl, claimCheck: s3ClaimCheck({ s3: s3.client, bucket: s3.bucket, thresholdBytes: 1000 }) });
      const events = [envelope('a', 1), envelope('b', 1, { blob: 'x'.repeat(5000) }), envelope('c', 1)];
      expect((await sender.send(events.map((e) => ({ id: e.id, groupKey: e.aggregateId, body: JSON.stringify(e) })))).failed).toEqual([]);
      const without = streamBackup({ name: 'nr', source: sqsSource({ client: sqs, queueUrl, waitTimeSeconds: 0, visibilityTimeoutSeconds: 1, envelopes: true }), target: storage });
      const refused = await without.run().catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(SqsClaimCheckError);
      expect(refused).toMatchObject({ code: 'BACKUP_SQS_CLAIM_CHECK_NO_READER', field: 'claimCheck', retryable: false });
      expect((refused as Error).message).toMatch(/option "claimCheck" is required/);
      expect((refused as SqsClaimCheckError).problems).toHaveLength(1);
      expect(JSON.stringify(refused)).not.toContain('xxxx');
      expect((await archived(storage, 'nr')).map((r) => (r.payload as OutboxEnvelope).aggregateId).sort()).toEqual(['a', 'c']);
      expect(await inQueue()).toBe(1); // only the claim-checked one
      await new Promise((r) => setTimeout(r, 1100)); // its visibility timeout
      const withReader = streamBackup({ name: 'nr', source: sqsSource({ client: sqs, queueUrl, waitTimeSeconds: 0, visibilityTimeoutSeconds: 1, envelopes: true, claimCheck: { s3: s3.client } }), target: storage });
      await expect(withReader.run()).resolves.toMatchObject({ records: 1, timelineBroken: false });
      expect(await inQueue()).toBe(0);
      expect((await archived(storage, 'nr')).find((r) => (r.payload as OutboxEnvelope).aggregateId === 'b')?.payload).toEqual(events[1]);
    } finally {
      await done();
    }
  });

  it('an object that does not match its pointer is BACKUP_SQS_CLAIM_CHECK_MISMATCH, one gone is BACKUP_SQS_CLAIM_CHECK_MISSING; batch-mates go through', async () => {
    const { s3, sqs, queueUrl, storage, inQueue, done } = await setup(false);
    try {
      const sender = sqsSender({ client: sqs, queueUrl, claimCheck: s3ClaimCheck({ s3: s3.client, bucket: s3.bucket, thresholdBytes: 1000 }) });
      const big = envelope('big', 1, { blob: 'y'.repeat(3000) });
      const report = await sender.send([big, envelope('small', 1)].map((e) => ({ id: e.id, groupKey: e.aggregateId, body: JSON.stringify(e) })));
      const pointer = report.sent.find((s) => s.claimCheck)!.claimCheck!;
      const original = await (await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: pointer.key }))).Body!.transformToString();
      await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: pointer.key, Body: original.replace('yyy', 'zzz') }));
      const source = sqsSource({ client: sqs, queueUrl, waitTimeSeconds: 0, visibilityTimeoutSeconds: 1, envelopes: true, claimCheck: s3ClaimCheck({ s3: s3.client }) });
      const job = streamBackup({ name: 'mm', source, target: storage });
      await expect(job.run()).rejects.toMatchObject({ code: 'BACKUP_SQS_CLAIM_CHECK_MISMATCH', name: 'SqsClaimCheckError' });
      expect((await archived(storage, 'mm')).map((r) => (r.payload as OutboxEnvelope).aggregateId)).toEqual(['small']);
      await s3.client.send(new (await import('@aws-sdk/client-s3')).DeleteObjectCommand({ Bucket: s3.bucket, Key: pointer.key }));
      await new Promise((r) => setTimeout(r, 1100));
      // Alone on the queue, nothing pulled before it: the pull throws at once.
      await expect(job.run()).rejects.toMatchObject({ code: 'BACKUP_SQS_CLAIM_CHECK_MISSING' });
      expect(await inQueue()).toBe(1);
    } finally {
      await done();
    }
  });

  it('a base64 body (sender option invalidCharacters: "base64") is decoded and archived as an envelope', async () => {
    const { sqs, queueUrl, storage, done } = await setup(true);
    try {
      const sender = sqsSender({ client: sqs, queueUrl, invalidCharacters: 'base64' });
      // U+FFFF: JSON.stringify keeps it, SQS refuses it: the sender sends the body base64-encoded.
      const odd = envelope('odd', 1, { text: 'a\uFFFFb' });
      expect((await sender.send([{ id: odd.id, groupKey: 'odd', body: JSON.stringify(odd) }])).failed).toEqual([]);
      const job = streamBackup({ name: 'b64', source: sqsSource({ client: sqs, queueUrl, waitTimeSeconds: 0, envelopes: true }), target: storage });
      await expect(job.run()).resolves.toMatchObject({ records: 1, timelineBroken: false });
      expect((await archived(storage, 'b64')).map((r) => r.payload)).toEqual([odd]);
    } finally {
      await done();
    }
  });

  it('under envelopes: false a claim-checked body is archived as the producer wrote it, not as its pointer', async () => {
    const { s3, sqs, queueUrl, storage, done } = await setup(false);
    try {
      const sender = sqsSender({ client: sqs, queueUrl, claimCheck: s3ClaimCheck({ s3: s3.client, bucket: s3.bucket, thresholdBytes: 1000 }) });
      const big = envelope('big', 1, { blob: 'x'.repeat(2000) });
      expect((await sender.send([{ id: big.id, groupKey: 'big', body: JSON.stringify(big) }])).sent[0]!.claimCheck).toBeDefined();
      const job = streamBackup({ name: 'raw', source: sqsSource({ client: sqs, queueUrl, waitTimeSeconds: 0, claimCheck: s3ClaimCheck({ s3: s3.client }) }), target: storage });
      await expect(job.run()).resolves.toMatchObject({ records: 1 });
      expect((await archived(storage, 'raw')).map((r) => r.payload)).toEqual([big]);
    } finally {
      await done();
    }
  });

  it('a body that is no envelope is left on the queue (SourceRecordInvalidError naming its position), the rest archived', async () => {
    const { sqs, queueUrl, storage, inQueue, done } = await setup(false);
    try {
      const good = envelope('g', 1);
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(good) }));
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify({ hello: 'world' }) }));
      const job = streamBackup({ name: 'ne', source: sqsSource({ client: sqs, queueUrl, waitTimeSeconds: 0, visibilityTimeoutSeconds: 1, envelopes: true }), target: storage });
      const refused = await job.run().catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(SourceRecordInvalidError);
      expect((refused as Error).message).toMatch(/left on the queue and the rest of its batch archived/);
      expect((await archived(storage, 'ne')).map((r) => r.payload)).toEqual([good]);
      expect(await inQueue()).toBe(1);
    } finally {
      await done();
    }
  });

  it('a pull that finds only unreadable messages while earlier records await their acknowledgement returns them for writing; the acknowledgement deletes them, then throws', async () => {
    const { sqs, queueUrl, inQueue, done } = await setup(false);
    try {
      const source = sqsSource({ client: sqs, queueUrl, waitTimeSeconds: 0, visibilityTimeoutSeconds: 30 });
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: '{"n":1}' }));
      const first = await source.pull({ position: null, state: undefined, lastRunAt: undefined }, 10);
      expect(first.records).toHaveLength(1);
      const pointer = JSON.stringify({ claimCheck: 1, bucket: 'b', key: 'claims/x', size: 1, sha256: 'a'.repeat(64) });
      await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: pointer, MessageAttributes: { 'steadyfn.claimCheck': { DataType: 'String', StringValue: '1' } } }));
      const second = await source.pull({ position: first.records[0]!.position, state: undefined, lastRunAt: undefined }, 10);
      expect(second).toMatchObject({ records: [], drained: true });
      await expect(source.ack!(first.records)).rejects.toMatchObject({ code: 'BACKUP_SQS_CLAIM_CHECK_NO_READER' });
      expect(await inQueue()).toBe(1); // the first deleted, the pointer kept
    } finally {
      await done();
    }
  });
});

describe('push mode: the relay\'s sender wrapped as the README shows (moto SQS + S3)', () => {
  it('archives what SQS accepted, chained across concurrent sends; failed entries are left for the relay to send again', async () => {
    await requireService('sqs');
    const s3 = await freshBucket(S3_SERVERS[0]!);
    const sqs = new SQSClient({ endpoint: process.env.SQS_ENDPOINT, region: process.env.AWS_REGION ?? 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `${unique('push').replace(/[^a-z0-9-]/g, '')}.fifo`, Attributes: { FifoQueue: 'true' } }));
    const storage = { client: s3.client as never, bucket: s3.bucket, prefix: 'push' };
    try {
      const job = streamBackup({ name: 'pushed', target: storage });
      const queue = sqsSender({ client: sqs, queueUrl: QueueUrl! });
      let appended: Promise<unknown> = Promise.resolve();
      const archivingSender: Sender = {
        fifo: queue.fifo,
        maxMessageBytes: (options) => queue.maxMessageBytes(options),
        async send(messages, options) {
          const report = await queue.send(messages, options);
          const accepted = new Set(report.sent.map((entry) => entry.id));
          const envelopes = messages.filter((m) => accepted.has(m.id)).map((m) => JSON.parse(m.body) as OutboxEnvelope);
          if (envelopes.length === 0) return report;
          const append = appended.then(() => job.append(envelopes, options?.signal ? { signal: options.signal } : {}));
          appended = append.catch(() => undefined);
          await append;
          return report;
        },
      };
      const a = [envelope('a', 1), envelope('a', 2)];
      const b = [envelope('b', 1)];
      // A message without a group on a FIFO queue is refused by the sender: not archived.
      const refused = envelope('c', 1);
      const reports = await Promise.all([
        archivingSender.send(a.map((e) => ({ id: e.id, groupKey: 'a', body: JSON.stringify(e) }))),
        archivingSender.send([...b.map((e) => ({ id: e.id, groupKey: 'b', body: JSON.stringify(e) })), { id: refused.id, body: JSON.stringify(refused) }]),
      ]);
      expect(reports[1]!.failed.map((f) => f.id)).toEqual([refused.id]);
      const records = await archived(storage, 'pushed');
      expect(records.map((r) => (r.payload as OutboxEnvelope).id).sort()).toEqual([...a, ...b].map((e) => e.id).sort());
    } finally {
      await sqs.send(new DeleteQueueCommand({ QueueUrl }));
      await s3.drop();
    }
  });
});

describe('sqsSource claimCheck option', () => {
  const sqs = new SQSClient({ region: 'us-east-1' });
  it("takes @steadyfn/outbox's s3ClaimCheck reader (and a plain { s3 }); refuses what is not one, naming the field", async () => {
    const { S3Client } = await import('@aws-sdk/client-s3');
    const s3 = new S3Client({ region: 'us-east-1' });
    const reader: SqsSourceOptions['claimCheck'] = s3ClaimCheck({ s3 });
    expect(() => sqsSource({ client: sqs, queueUrl: 'q', claimCheck: reader! })).not.toThrow();
    expect(() => sqsSource({ client: sqs, queueUrl: 'q', claimCheck: { s3 } })).not.toThrow();
    const refused = (value: unknown) => {
      try {
        sqsSource({ client: sqs, queueUrl: 'q', claimCheck: value as never });
      } catch (error) {
        return error;
      }
      return undefined;
    };
    expect(refused('s3')).toMatchObject({ code: 'CONFIG_INVALID', field: 'claimCheck' });
    expect(refused({ s3: sqs })).toMatchObject({ code: 'CONFIG_INVALID', field: 'claimCheck.s3' });
    expect(refused({ s3, commands: 'x' })).toBeInstanceOf(ConfigurationError);
  });
});
