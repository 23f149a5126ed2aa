/**
 * fxb item 3 (SQS on moto; the claim-check reader on moto and gofakes3 S3): a claim-check
 * pointer whose **bucket** does not exist for the reader's client was reported
 * `BACKUP_SQS_CLAIM_CHECK_MISSING` ("a lifecycle rule shorter than the queue's retention?") —
 * S3 answers a missing bucket with a 404 too. It is a configuration error (the bucket deleted,
 * or the reader's client reaching another account, region or endpoint than the producer's):
 * `BACKUP_SQS_CLAIM_CHECK_NO_BUCKET`, naming the bucket. The message stays on the queue and its
 * batch-mate is archived, as for every unreadable message; a missing object in a bucket that
 * exists is still `…_MISSING`.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { streamBackup, SqsClaimCheckError, type OutboxEnvelope } from '../src/index.js';
import { sqsSource } from '../src/sqs.js';
import { loadStreamCheckpoint, replayObjects, timelineObjects } from '../src/restore/replay.js';
import { CLAIM_CHECK_ATTRIBUTE } from '../src/stream/sources/sqs-claim-check.js';
import { closeMongo, freshBucket, freshQueue, S3_SERVERS, SQS_SERVERS } from './support.js';

afterAll(closeMongo);

function pointer(bucket: string, key: string) {
  return { MessageBody: JSON.stringify({ claimCheck: 1, bucket, key, size: 10, sha256: 'a'.repeat(64) }), MessageAttributes: { [CLAIM_CHECK_ATTRIBUTE]: { DataType: 'String', StringValue: '1' } } };
}

describe.each(S3_SERVERS)('a claim-check pointer naming a bucket that does not exist (reader on $name S3)', (server) => {
  it('is BACKUP_SQS_CLAIM_CHECK_NO_BUCKET naming it, left on the queue, its batch-mate archived; a missing key stays …_MISSING', async () => {
    const reader = await freshBucket(server);
    const gone = await freshBucket(server);
    await gone.drop();
    const good: OutboxEnvelope = { id: 'e1', type: 'OrderSaved', aggregateType: 'orders', aggregateId: 'o1', seq: 1, payload: {}, occurredAt: new Date().toISOString(), change: { op: 'insert', after: { seq: 1 } } };
    const q = await freshQueue(SQS_SERVERS[0]!, 'ccbucket', [JSON.stringify(good)], 'ccb');
    try {
      await q.sqs.send(new SendMessageBatchCommand({ QueueUrl: q.queueUrl, Entries: [{ Id: 'p', ...pointer(gone.bucket, 'claims/x') }] }));
      const source = sqsSource({ client: q.sqs, queueUrl: q.queueUrl, waitTimeSeconds: 0, visibilityTimeoutSeconds: 30, envelopes: true, claimCheck: { s3: reader.client } });
      const refused = await streamBackup({ name: 'nb', source, target: q.storage }).run().catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(SqsClaimCheckError);
      expect(refused).toMatchObject({ code: 'BACKUP_SQS_CLAIM_CHECK_NO_BUCKET', retryable: false });
      expect((refused as Error).message).toContain(`claim-check bucket "${gone.bucket}" does not exist`);
      expect((refused as Error).message).not.toMatch(/lifecycle/);
      expect((refused as SqsClaimCheckError).problems).toHaveLength(1);
      expect(await q.left()).toBe(1);
      const checkpoint = await loadStreamCheckpoint(q.storage, 'nb');
      const archived: unknown[] = [];
      await replayObjects(q.storage, await timelineObjects(q.storage, checkpoint, 1, 0), async (records) => void archived.push(...records.map((r) => r.payload)));
      expect(archived).toEqual([good]);

      // The same pointer naming a bucket that exists but not the key: still an object gone.
      await q.sqs.send(new SendMessageBatchCommand({ QueueUrl: q.queueUrl, Entries: [{ Id: 'm', ...pointer(reader.bucket, 'claims/none') }] }));
      const missing = await streamBackup({ name: 'nk', source: sqsSource({ client: q.sqs, queueUrl: q.queueUrl, waitTimeSeconds: 0, visibilityTimeoutSeconds: 30, claimCheck: { s3: reader.client } }), target: q.storage })
        .run()
        .catch((e: unknown) => e);
      expect(missing).toMatchObject({ code: 'BACKUP_SQS_CLAIM_CHECK_MISSING' });
    } finally {
      await Promise.all([q.cleanup(), reader.drop()]);
    }
  });
});
